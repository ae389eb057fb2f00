package main

import (
	"encoding/binary"
	"errors"
	"math/big"
	"time"
)

// The Go types of the corpus. src/gob/corpus.test.ts declares the same types with plugwire's
// go.* schema, case by case.

// AllKinds has one field of every basic kind gob carries.
type AllKinds struct {
	B    bool
	I    int
	I8   int8
	I16  int16
	I32  int32
	I64  int64
	U    uint
	U8   uint8
	U16  uint16
	U32  uint32
	U64  uint64
	Uptr uintptr
	F32  float32
	F64  float64
	C64  complex64
	C128 complex128
	S    string
	Bs   []byte
}

type Inner struct {
	A int
	B []string
}

type Outer struct {
	Name  string
	Inner Inner
	Ptr   *Inner
	Items []Inner
}

type Base struct {
	ID   int
	Note string
}

// Derived embeds Base: gob sends it as a field named Base.
type Derived struct {
	Base
	Extra string
}

// Hidden has unexported fields, which gob never sends.
type Hidden struct {
	Public string
	secret int
	inner  Inner
}

type Pointers struct {
	P    *int
	Q    *string
	R    *Inner
	S    *Inner
	PP   **int
	Zero *int
}

// Node is recursive, through a slice and through a pointer.
type Node struct {
	Value    int
	Children []Node
	Next     *Node
}

type Maps struct {
	Counts map[string]int
	Lists  map[int][]string
	Nested map[string]map[string]bool
	Empty  map[string]int
	Nil    map[string]int
}

type Arrays struct {
	Ints  [3]int
	Bytes [4]byte
	Pairs [2]Inner
	None  [0]int
}

type Any struct {
	Value any
	List  []any
	Map   map[string]any
	None  any
}

type Wrapper struct {
	Label string
	Inner any
}

type Times struct {
	UTC     time.Time
	Fixed   time.Time
	Seconds time.Time
	West    time.Time
	Zero    time.Time
	Ptr     *time.Time
}

type Bigs struct {
	A *big.Int
	B big.Int
	C *big.Int
	D *big.Int
}

type Celsius float64
type Tags []string
type Registry map[string]Tags

type Named struct {
	Temp Celsius
	Tags Tags
	Reg  Registry
}

// Point marshals itself with encoding.BinaryMarshaler: gob carries its bytes.
type Point struct{ X, Y int32 }

func (p Point) MarshalBinary() ([]byte, error) {
	out := make([]byte, 8)
	binary.BigEndian.PutUint32(out, uint32(p.X))
	binary.BigEndian.PutUint32(out[4:], uint32(p.Y))
	return out, nil
}

func (p *Point) UnmarshalBinary(b []byte) error {
	if len(b) != 8 {
		return errors.New("Point: want 8 bytes")
	}
	p.X = int32(binary.BigEndian.Uint32(b))
	p.Y = int32(binary.BigEndian.Uint32(b[4:]))
	return nil
}

type Shape struct {
	Name   string
	Origin Point
	Path   []Point
}

type Manifest struct {
	Name    string
	Version string
	Tags    []string
	Meta    map[string]int
}

// Request and Response are net/rpc's headers, as gob sends them.
type Request struct {
	ServiceMethod string
	Seq           uint64
}

type Response struct {
	ServiceMethod string
	Seq           uint64
	Error         string
}

type Big struct {
	Text  string
	Items []int64
	Blob  []byte
}

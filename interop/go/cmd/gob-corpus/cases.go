package main

import (
	"encoding/gob"
	"math"
	"math/big"
	"strings"
	"time"
)

// A corpus case: values encoded in order on one gob stream (one Encoder).
type gobCase struct {
	name string
	// kinds lists what the case covers, for the corpus description.
	kinds []string
	// deterministic: Go writes the same bytes every run (false only for maps of several entries).
	deterministic bool
	values        func() []any
}

func init() {
	gob.Register(Inner{})
	gob.Register(Wrapper{})
	gob.Register(&Base{})
	gob.Register([]any{})
	gob.Register(map[string]any{})
}

func intp(v int) *int              { return &v }
func strp(v string) *string        { return &v }
func timep(t time.Time) *time.Time { return &t }

var (
	plus0530 = time.FixedZone("IST", 5*3600+30*60)
	plusSecs = time.FixedZone("LMT", 3600+30)
	west     = time.FixedZone("NST", -(3*3600 + 30*60))
	instant  = time.Date(2024, 2, 29, 13, 14, 15, 123456789, time.UTC)
)

func allKinds() AllKinds {
	return AllKinds{
		B: true, I: -42, I8: -128, I16: 32767, I32: math.MinInt32, I64: math.MinInt64,
		U: 42, U8: 255, U16: 65535, U32: math.MaxUint32, U64: math.MaxUint64, Uptr: 0xdeadbeef,
		F32: 1.5, F64: math.Pi, C64: complex(1, -2), C128: complex(-1.5, 0.25),
		S: "héllo, wörld ✓", Bs: []byte{0, 1, 2, 254, 255},
	}
}

func bigInts() *Bigs {
	b := &Bigs{A: big.NewInt(1234567890123), C: nil}
	b.B.SetInt64(-77)
	d, _ := new(big.Int).SetString("-123456789012345678901234567890", 10)
	b.D = d
	return b
}

func node() Node {
	return Node{Value: 1, Children: []Node{{Value: 2}, {Value: 3, Children: []Node{{Value: 4}}}},
		Next: &Node{Value: 5, Next: &Node{Value: 6}}}
}

var cases = []gobCase{
	{"bool", []string{"bool"}, true, func() []any { return []any{true, false} }},
	{"ints", []string{"int", "int8", "int16", "int32", "int64"}, true, func() []any {
		return []any{int(-1), int8(-128), int16(32767), int32(math.MinInt32), int64(math.MinInt64), int64(math.MaxInt64), int(0), int(1 << 40)}
	}},
	{"uints", []string{"uint", "uint8", "uint16", "uint32", "uint64", "uintptr"}, true, func() []any {
		return []any{uint(0), uint8(255), uint16(65535), uint32(math.MaxUint32), uint64(math.MaxUint64), uintptr(12345), uint64(1 << 53)}
	}},
	{"floats", []string{"float32", "float64"}, true, func() []any {
		return []any{float32(1.5), math.Pi, math.Inf(1), math.Inf(-1), math.Copysign(0, -1), 1e300, float32(math.MaxFloat32), 5e-324, 2.0, float64(0)}
	}},
	{"complex", []string{"complex64", "complex128"}, true, func() []any {
		return []any{complex64(complex(1, 2)), complex(-1.5, -0.25), complex128(0)}
	}},
	{"strings", []string{"string"}, true, func() []any {
		return []any{"", "hello", "héllo wörld ✓ 🎉", strings.Repeat("x", 300)}
	}},
	{"bytes", []string{"[]byte"}, true, func() []any { return []any{[]byte{}, []byte{0, 1, 2, 255}} }},
	{"all-kinds", []string{"struct", "every basic kind"}, true, func() []any { return []any{allKinds()} }},
	{"zero-struct", []string{"struct", "zero values omitted"}, true, func() []any { return []any{AllKinds{}} }},
	{"nested", []string{"nested struct", "slice of struct", "pointer to struct"}, true, func() []any {
		return []any{Outer{Name: "o", Inner: Inner{A: 1, B: []string{"x", "y"}}, Ptr: &Inner{A: 2},
			Items: []Inner{{A: 3}, {}, {B: []string{"z"}}}}}
	}},
	{"embedded", []string{"embedded struct"}, true, func() []any {
		return []any{Derived{Base: Base{ID: 7, Note: "base"}, Extra: "more"}}
	}},
	{"unexported", []string{"unexported fields"}, true, func() []any {
		return []any{Hidden{Public: "seen", secret: 42, inner: Inner{A: 1}}}
	}},
	{"pointers", []string{"pointers", "nil pointer", "pointer to zero", "double pointer"}, true, func() []any {
		p := intp(9)
		return []any{Pointers{P: intp(5), Q: strp(""), R: nil, S: &Inner{A: 8}, PP: &p, Zero: intp(0)}}
	}},
	{"recursive", []string{"recursive type"}, true, func() []any { return []any{node()} }},
	{"map-one", []string{"map", "map of slices", "map of maps", "empty map", "nil map"}, true, func() []any {
		return []any{Maps{Counts: map[string]int{"a": 1}, Lists: map[int][]string{-3: {"p", "q"}},
			Nested: map[string]map[string]bool{"k": {"t": true}}, Empty: map[string]int{}}}
	}},
	{"map-many", []string{"map (several entries)"}, false, func() []any {
		return []any{map[string]int{"one": 1, "two": 2, "three": 3}, map[int]Inner{1: {A: 1}, 2: {B: []string{"b"}}}}
	}},
	{"arrays", []string{"array", "[N]byte", "array of struct", "empty array"}, true, func() []any {
		return []any{Arrays{Ints: [3]int{1, 0, 3}, Bytes: [4]byte{1, 2, 3, 200}, Pairs: [2]Inner{{A: 1}, {}}}, [2]string{"a", "b"}}
	}},
	{"interfaces", []string{"interface", "registered struct", "basic names", "nil interface", "[]interface {}", "map[string]interface {}"}, true, func() []any {
		return []any{Any{Value: Inner{A: 1, B: []string{"i"}}, List: []any{int(1), "two", nil, 3.5, []byte{4}, &Base{ID: 5}},
			Map: map[string]any{"k": []any{true, uint8(7)}}}}
	}},
	{"nested-interfaces", []string{"interface in interface", "types defined mid-value"}, true, func() []any {
		return []any{Wrapper{Label: "outer", Inner: Wrapper{Label: "middle", Inner: Inner{A: 3}}},
			Wrapper{Label: "again", Inner: Wrapper{Label: "known", Inner: Inner{A: 4}}}}
	}},
	{"top-interface", []string{"interface at top level"}, true, func() []any {
		var x any = Inner{A: 9}
		var y any = "str"
		var z any
		return []any{&x, &y, &z}
	}},
	{"times", []string{"time.Time", "zone offsets", "version 2 (offset seconds)", "zero time", "*time.Time"}, true, func() []any {
		return []any{Times{UTC: instant, Fixed: instant.In(plus0530), Seconds: instant.In(plusSecs), West: instant.In(west),
			Ptr: timep(time.Date(1969, 7, 20, 20, 17, 40, 0, time.UTC))}, instant, time.Time{}}
	}},
	{"big-int", []string{"big.Int", "*big.Int"}, true, func() []any { return []any{bigInts()} }},
	{"named", []string{"named basic", "named slice", "named map"}, true, func() []any {
		return []any{Named{Temp: 21.5, Tags: Tags{"a", "b"}, Reg: Registry{"r": {"x"}}}}
	}},
	{"binary-marshaler", []string{"BinaryMarshaler"}, true, func() []any {
		return []any{Shape{Name: "tri", Origin: Point{1, -2}, Path: []Point{{0, 0}, {3, 4}}}}
	}},
	{"manifest", []string{"the docs' example"}, true, func() []any {
		return []any{Manifest{Name: "kv", Version: "1.2.3", Tags: []string{"store"}, Meta: map[string]int{"shards": 4}}}
	}},
	{"stream", []string{"several values on one stream", "types sent once"}, true, func() []any {
		return []any{Request{"Plugin.Put", 0}, Inner{A: 1}, Request{"Plugin.Get", 1}, "reply",
			Response{"Plugin.Put", 0, ""}, Response{"Plugin.Get", 1, "not found"}, Inner{A: 2}}
	}},
	{"top-composites", []string{"slice at top level", "map at top level", "slice of struct"}, true, func() []any {
		return []any{[]int{1, 2, 3}, []string{"a"}, []Inner{{A: 1}}, map[string]string{"k": "v"}, [][]int{{1}, {}, {2, 3}}}
	}},
	{"large", []string{"long string", "long slice", "multi-byte counts"}, true, func() []any {
		items := make([]int64, 1000)
		for i := range items {
			items[i] = int64(i*i) - 5000
		}
		blob := make([]byte, 70000)
		for i := range blob {
			blob[i] = byte(i * 7)
		}
		return []any{Big{Text: strings.Repeat("gob ", 5000), Items: items, Blob: blob}}
	}},
}

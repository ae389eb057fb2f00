package main

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// The service both sides of the interop tests implement (Go here, TypeScript in
// src/rpc/netrpc/interop.test.ts): every method shape a go-plugin net/rpc interface uses, with
// the argument and reply kinds the tests need.

type AddArgs struct {
	A, B int64
}

type PutRequest struct {
	Key   string
	Value []byte
}

type Address struct {
	Street string
	Zip    uint32
}

type Person struct {
	Name    string
	Age     int
	Admin   bool
	Score   float64
	Tags    []string
	Attrs   map[string]int64
	Home    *Address
	Created time.Time
}

// Plugin is registered as "Plugin", the name go-plugin's net/rpc servers use.
type Plugin struct {
	mu    sync.Mutex
	store map[string][]byte
}

func newPlugin() *Plugin { return &Plugin{store: map[string][]byte{}} }

// Greet is go-plugin's examples/basic Greeter method.
func (p *Plugin) Greet(args any, reply *string) error {
	*reply = "Hello!"
	return nil
}

func (p *Plugin) Echo(args string, reply *string) error {
	*reply = args
	return nil
}

func (p *Plugin) Add(args AddArgs, reply *int64) error {
	*reply = args.A + args.B
	return nil
}

func (p *Plugin) Put(args PutRequest, reply *any) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.store[args.Key] = args.Value
	return nil
}

func (p *Plugin) Get(key string, reply *[]byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	value, ok := p.store[key]
	if !ok {
		return fmt.Errorf("key not found: %s", key)
	}
	*reply = value
	return nil
}

// Fail returns its argument as the error text.
func (p *Plugin) Fail(message string, reply *string) error {
	return errors.New(message)
}

// Birthday returns the person one year older, tagged "seen", with a default home.
func (p *Plugin) Birthday(args Person, reply *Person) error {
	*reply = args
	reply.Age++
	reply.Tags = append(append([]string{}, args.Tags...), "seen")
	if reply.Home == nil {
		reply.Home = &Address{Street: "Main St", Zip: 12345}
	}
	reply.Created = args.Created.Add(time.Hour)
	return nil
}

// Sum adds a slice.
func (p *Plugin) Sum(args []int64, reply *int64) error {
	for _, v := range args {
		*reply += v
	}
	return nil
}

// Sleep answers after args milliseconds (concurrency, deadlines, late replies).
func (p *Plugin) Sleep(ms int64, reply *int64) error {
	time.Sleep(time.Duration(ms) * time.Millisecond)
	*reply = ms
	return nil
}

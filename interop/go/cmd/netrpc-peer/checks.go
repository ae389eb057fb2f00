package main

import (
	"fmt"
	"net/rpc"
	"sync"
	"time"
)

// runChecks calls a net/rpc server implementing service.go's Plugin (our TypeScript server in
// the tests) the way a Go host would, and prints what came back: one {"event": "check"} each,
// with the reply or the error text, for the test to compare.
func runChecks(client *rpc.Client) {
	runSequence(client)
	// An argument of the wrong type: the server must answer an error and stay in sync.
	var wrong int64
	check(client, "wrongArgs", "Plugin.Add", "not a struct", &wrong)
	var after string
	check(client, "afterErrors", "Plugin.Echo", "still in sync", &after)
	concurrent(client)
}

func check(client *rpc.Client, name, method string, args any, reply any) {
	err := client.Call(method, args, reply)
	event := map[string]any{"event": "check", "name": name}
	if err != nil {
		event["error"] = err.Error()
	} else {
		event["reply"] = reply
	}
	emit(event)
}

// runSequence is the part of the checks whose bytes are the same from any correct peer: one
// call after another, no Go-specific error texts. The tests compare our bytes with Go's on it.
func runSequence(client *rpc.Client) {
	var s string
	check(client, "greet", "Plugin.Greet", new(any), &s)
	var echo string
	check(client, "echo", "Plugin.Echo", "héllo, wörld ✓", &echo)
	var sum int64
	check(client, "add", "Plugin.Add", AddArgs{A: 40, B: 2}, &sum)
	var negative int64
	check(client, "addNegative", "Plugin.Add", AddArgs{A: -5, B: 3}, &negative)
	var put any
	check(client, "put", "Plugin.Put", PutRequest{Key: "k", Value: []byte{1, 2, 3}}, &put)
	var got []byte
	check(client, "get", "Plugin.Get", "k", &got)
	var missing []byte
	check(client, "getMissing", "Plugin.Get", "nope", &missing)
	var failed string
	check(client, "fail", "Plugin.Fail", "boom", &failed)
	var none string
	check(client, "unknownMethod", "Plugin.Nope", "x", &none)
	check(client, "unknownService", "Nope.Greet", "x", &none)
	var person Person
	check(client, "birthday", "Plugin.Birthday", Person{
		Name:    "Ada",
		Age:     36,
		Score:   99.5,
		Tags:    []string{"math"},
		Attrs:   map[string]int64{"engines": 2},
		Created: time.Date(1815, 12, 10, 0, 0, 0, 0, time.UTC),
	}, &person)
	var total int64
	check(client, "sum", "Plugin.Sum", []int64{1, 2, 3, 4, 1 << 40}, &total)
}

// concurrent makes 64 calls at once and reports how many came back with their own reply
// (replies matched by sequence number). Half of them sleep on the server, longest first, so the
// answers come back in another order than the calls went out.
func concurrent(client *rpc.Client) {
	const calls = 64
	var wg sync.WaitGroup
	var mu sync.Mutex
	matched := 0
	var problems []string
	for i := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			var got, want string
			if i%2 == 0 {
				want = fmt.Sprintf("call %d", i)
				err = client.Call("Plugin.Echo", want, &got)
			} else {
				ms := int64(calls - i)
				var slept int64
				err = client.Call("Plugin.Sleep", ms, &slept)
				got, want = fmt.Sprint(slept), fmt.Sprint(ms)
			}
			mu.Lock()
			defer mu.Unlock()
			if err == nil && got == want {
				matched++
			} else {
				problems = append(problems, fmt.Sprintf("call %d: got %q, want %q, error %v", i, got, want, err))
			}
		}()
	}
	wg.Wait()
	emit(map[string]any{"event": "check", "name": "concurrent", "reply": matched, "problems": problems})
}

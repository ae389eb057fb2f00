// Command netrpc-peer is a plain Go net/rpc peer (the standard library's net/rpc with its gob
// codec, no go-plugin) for plugwire's net/rpc interop tests (src/rpc/netrpc/interop.test.ts) and
// its bench rows. As a server it serves the Plugin service of service.go on every connection it
// accepts; as a client it dials once and runs the checks of checks.go or a benchmark.
//
// Events go to stdout as JSON lines ({"event": ...}). A server exits when its stdin closes, so
// it never outlives the test that started it.
//
//	netrpc-peer -listen unix:/tmp/s.sock                    # serve until stdin closes
//	netrpc-peer -dial unix:/tmp/s.sock -checks              # run every check, one event each
//	netrpc-peer -dial unix:/tmp/s.sock -sequence            # only the sequential ones
//	netrpc-peer -dial unix:/tmp/s.sock -bench seq -n 5000   # sequential Plugin.Echo latency
//	netrpc-peer -dial unix:/tmp/s.sock -bench par -n 50000 -inflight 64
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/rpc"
	"os"
	"strings"
	"sync"
)

var stdout sync.Mutex

// emit prints one JSON event line.
func emit(fields map[string]any) {
	line, err := json.Marshal(fields)
	if err != nil {
		line, _ = json.Marshal(map[string]any{"event": "error", "error": err.Error()})
	}
	stdout.Lock()
	defer stdout.Unlock()
	fmt.Fprintln(os.Stdout, string(line))
}

func fail(err error) {
	emit(map[string]any{"event": "error", "error": err.Error()})
	os.Exit(1)
}

// splitAddress turns "unix:/path" or "tcp:host:port" into net.Listen/Dial arguments.
func splitAddress(address string) (string, string) {
	network, rest, ok := strings.Cut(address, ":")
	if !ok {
		fail(fmt.Errorf("address %q: want unix:/path or tcp:host:port", address))
	}
	return network, rest
}

func main() {
	listen := flag.String("listen", "", "unix:/path or tcp:host:port to serve the Plugin service on")
	dial := flag.String("dial", "", "unix:/path or tcp:host:port of a net/rpc server to call")
	checks := flag.Bool("checks", false, "with -dial: run every check and print one event each")
	sequence := flag.Bool("sequence", false, "with -dial: run only the checks made one after another")
	bench := flag.String("bench", "", "with -dial: seq (sequential latency) or par (calls/s in flight)")
	n := flag.Int("n", 5000, "calls a benchmark makes")
	inflight := flag.Int("inflight", 64, "calls in flight for -bench par")
	flag.Parse()

	switch {
	case *listen != "":
		serve(*listen)
	case *dial != "":
		client := dialServer(*dial)
		defer client.Close()
		if *checks {
			runChecks(client)
		} else if *sequence {
			runSequence(client)
		}
		if *bench != "" {
			runBench(client, *bench, *n, *inflight)
		}
		emit(map[string]any{"event": "done"})
	default:
		fail(fmt.Errorf("give -listen or -dial"))
	}
}

func serve(address string) {
	network, where := splitAddress(address)
	listener, err := net.Listen(network, where)
	if err != nil {
		fail(err)
	}
	server := rpc.NewServer()
	if err := server.RegisterName("Plugin", newPlugin()); err != nil {
		fail(err)
	}
	go func() {
		// The test holds our stdin: once it closes (the test ended or died), so do we.
		_, _ = io.Copy(io.Discard, os.Stdin)
		if network == "unix" {
			os.Remove(where)
		}
		listener.Close()
		os.Exit(0)
	}()
	emit(map[string]any{"event": "listening", "address": address})
	for {
		conn, err := listener.Accept()
		if err != nil {
			return // the listener closed: stdin ended, and os.Exit follows
		}
		go server.ServeConn(conn)
	}
}

func dialServer(address string) *rpc.Client {
	network, where := splitAddress(address)
	conn, err := net.Dial(network, where)
	if err != nil {
		fail(err)
	}
	return rpc.NewClient(conn)
}

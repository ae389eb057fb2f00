// Command counter-host is go-plugin's examples/bidirectional host (same shared package, same
// Put: a fresh NextId and AcceptAndServe for every call) with AutoMTLS and GRPCBrokerMultiplex
// as flags, and several calls in one session:
//
//	counter-host [-automtls] [-mux] [-puts N] [-timeout D] -- plugin [args...]
//
// It runs Put("c", 1) N times, then Get("c"), and prints the value ("N" when the plugin starts
// from an empty directory). Failures print "Error: ..." and exit 1; a call that does not return
// within -timeout fails the run instead of hanging it.
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"time"

	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/go-plugin/examples/bidirectional/shared"
)

type addHelper struct{}

func (*addHelper) Sum(a, b int64) (int64, error) { return a + b, nil }

func main() {
	autoMTLS := flag.Bool("automtls", false, "ClientConfig.AutoMTLS")
	mux := flag.Bool("mux", false, "ClientConfig.GRPCBrokerMultiplex")
	puts := flag.Int("puts", 3, "Put calls in the session")
	timeout := flag.Duration("timeout", 20*time.Second, "limit for each call")
	flag.Parse()
	if flag.NArg() == 0 {
		fail("usage: counter-host [-automtls] [-mux] [-puts N] -- plugin [args...]")
	}
	log.SetOutput(io.Discard)

	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:     shared.Handshake,
		Plugins:             shared.PluginMap,
		Cmd:                 exec.Command(flag.Arg(0), flag.Args()[1:]...),
		AllowedProtocols:    []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:            *autoMTLS,
		GRPCBrokerMultiplex: *mux,
	})
	defer client.Kill()

	within := func(what string, call func() error) {
		done := make(chan error, 1)
		fmt.Fprintf(os.Stderr, "counter-host: %s\n", what)
		go func() { done <- call() }()
		select {
		case err := <-done:
			if err != nil {
				client.Kill()
				fail(fmt.Sprintf("%s: %v", what, err))
			}
		case <-time.After(*timeout):
			client.Kill()
			fail(fmt.Sprintf("%s: no answer within %v", what, *timeout))
		}
	}

	var counter shared.Counter
	within("start", func() error {
		rpc, err := client.Client()
		if err != nil {
			return err
		}
		raw, err := rpc.Dispense("counter")
		if err != nil {
			return err
		}
		counter = raw.(shared.Counter)
		return nil
	})
	for i := 1; i <= *puts; i++ {
		within(fmt.Sprintf("put #%d", i), func() error { return counter.Put("c", 1, &addHelper{}) })
	}
	var value int64
	within("get", func() error {
		var err error
		value, err = counter.Get("c")
		return err
	})
	client.Kill()
	fmt.Println(value)
}

func fail(message string) {
	fmt.Println("Error:", message)
	os.Exit(1)
}

// Command yamux-peer is a hashicorp/yamux (v0.1.2, the version go-plugin v1.8.0 uses) peer for
// plugwire's yamux interop tests (src/mux). It runs one yamux session, as client or server, on a
// connection it dials or accepts, and serves every stream the other side opens with a tiny line
// protocol (see commands.go). With -streams it also opens streams itself and checks their echo.
//
// Events go to stdout as JSON lines ({"event": ...}); yamux's own log goes to stderr. The
// program exits when the session ends.
//
//	yamux-peer -role server -listen unix:/tmp/s.sock        # wait for one connection
//	yamux-peer -role client -dial unix:/tmp/s.sock -streams 64 -size 1048576
//	yamux-peer -raw -listen unix:/tmp/s.sock                 # no yamux: the connection is one "stream"
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/yamux"
)

type config struct {
	role        string
	listen      string
	dial        string
	raw         bool
	window      uint
	keepAliveMs int
	backlog     int
	streams     int
	size        int
}

var stdout sync.Mutex

// emit prints one JSON event line.
func emit(fields map[string]any) {
	line, _ := json.Marshal(fields)
	stdout.Lock()
	defer stdout.Unlock()
	fmt.Fprintln(os.Stdout, string(line))
}

func main() {
	cfg := config{}
	flag.StringVar(&cfg.role, "role", "server", "yamux role: client or server")
	flag.StringVar(&cfg.listen, "listen", "", "unix:/path or tcp:host:port to accept one connection on")
	flag.StringVar(&cfg.dial, "dial", "", "unix:/path or tcp:host:port to connect to")
	flag.BoolVar(&cfg.raw, "raw", false, "no yamux: serve the connection itself with the line protocol")
	flag.UintVar(&cfg.window, "window", 0, "MaxStreamWindowSize (0: yamux default, 256 KiB)")
	flag.IntVar(&cfg.keepAliveMs, "keepalive-ms", 0, "KeepAliveInterval in ms (0: yamux default, 30 s)")
	flag.IntVar(&cfg.backlog, "backlog", 0, "AcceptBacklog (0: yamux default, 256)")
	flag.IntVar(&cfg.streams, "streams", 0, "open this many concurrent echo streams and report")
	flag.IntVar(&cfg.size, "size", 1024, "bytes sent on each -streams stream")
	flag.Parse()
	if err := run(cfg); err != nil {
		emit(map[string]any{"event": "fatal", "error": err.Error()})
		os.Exit(1)
	}
}

func splitAddress(address string) (string, string, error) {
	network, addr, ok := strings.Cut(address, ":")
	if !ok || (network != "unix" && network != "tcp") {
		return "", "", fmt.Errorf("address %q is not unix:/path or tcp:host:port", address)
	}
	return network, addr, nil
}

func connect(cfg config) (net.Conn, error) {
	if cfg.dial != "" {
		network, addr, err := splitAddress(cfg.dial)
		if err != nil {
			return nil, err
		}
		conn, err := net.Dial(network, addr)
		if err == nil {
			emit(map[string]any{"event": "connected"})
		}
		return conn, err
	}
	if cfg.listen == "" {
		return nil, errors.New("one of -listen and -dial is required")
	}
	network, addr, err := splitAddress(cfg.listen)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen(network, addr)
	if err != nil {
		return nil, err
	}
	defer ln.Close()
	emit(map[string]any{"event": "listening", "address": ln.Addr().String()})
	conn, err := ln.Accept()
	if err == nil {
		emit(map[string]any{"event": "connected"})
	}
	return conn, err
}

func run(cfg config) error {
	conn, err := connect(cfg)
	if err != nil {
		return err
	}
	if cfg.raw {
		handle(nil, conn, 0)
		return nil
	}

	yc := yamux.DefaultConfig()
	if cfg.window != 0 {
		yc.MaxStreamWindowSize = uint32(cfg.window)
	}
	if cfg.keepAliveMs != 0 {
		yc.KeepAliveInterval = time.Duration(cfg.keepAliveMs) * time.Millisecond
	}
	if cfg.backlog != 0 {
		yc.AcceptBacklog = cfg.backlog
	}
	var session *yamux.Session
	switch cfg.role {
	case "client":
		session, err = yamux.Client(conn, yc)
	case "server":
		session, err = yamux.Server(conn, yc)
	default:
		err = fmt.Errorf("-role must be client or server, not %q", cfg.role)
	}
	if err != nil {
		return err
	}
	emit(map[string]any{"event": "session", "role": cfg.role})

	if cfg.streams > 0 {
		go func() { report(echoLoad(session, cfg.streams, cfg.size)) }()
	}
	for {
		waitHold()
		stream, err := session.AcceptStream()
		if err != nil {
			emit(map[string]any{"event": "session-closed", "error": errorText(err)})
			return nil
		}
		go handle(session, stream, stream.StreamID())
	}
}

func errorText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/yamux"
)

// The line protocol: a stream's first line is a command; replies are single lines.
//
//	echo               copy everything back; close (FIN) after the peer's FIN
//	sink               read to EOF; reply "<bytes> <sha256 hex>"
//	discard            read to EOF; reply "<bytes>" (for throughput runs)
//	source <n>         send n bytes of pattern(); close
//	gated-sink         like sink, but read nothing until some stream sends "open-gate"
//	open-gate          release every gated-sink; reply "ok"
//	expect-reset       read to EOF or an error; emit {"event":"read-error"} (error "" at EOF); close
//	goaway             session.GoAway(); reply "ok"
//	ping               session.Ping(); reply "ok <rtt µs>"
//	open-echo <n>      open a stream to the peer, send n bytes of pattern() and FIN, read the echo
//	                   to EOF and compare; reply "ok <stream id>" or "error <text>"
//	num-streams        reply session.NumStreams()
//	hold-accept        reply "held"; the accept loop takes at most one more stream until this
//	                   stream's FIN (so the backlog fills and hashicorp/yamux refuses with RST)
//	close-session      session.Close() (no reply)

var (
	gateOnce sync.Once
	gate     = make(chan struct{})

	holdMu sync.Mutex
	hold   chan struct{} // non-nil while a hold-accept stream is open
)

// waitHold blocks the accept loop while a hold-accept stream is open.
func waitHold() {
	holdMu.Lock()
	h := hold
	holdMu.Unlock()
	if h != nil {
		<-h
	}
}

// pattern is the byte at offset i of every generated payload (the TS tests use the same formula).
func pattern(i int) byte { return byte(i % 251) }

func fill(buf []byte, offset int) {
	for i := range buf {
		buf[i] = pattern(offset + i)
	}
}

// block holds pattern(0..) over a multiple of 251 bytes, so writing it again and again (or a
// prefix of it last) produces the pattern without computing it per byte.
var block = func() []byte {
	b := make([]byte, 251*256)
	fill(b, 0)
	return b
}()

// writePattern writes n pattern bytes.
func writePattern(w io.Writer, n int) error {
	for sent := 0; sent < n; {
		chunk := block[:min(len(block), n-sent)]
		if _, err := w.Write(chunk); err != nil {
			return err
		}
		sent += len(chunk)
	}
	return nil
}

// handle serves one stream (or, with -raw, the connection) per the line protocol.
func handle(session *yamux.Session, conn net.Conn, id uint32) {
	r := bufio.NewReader(conn)
	line, err := r.ReadString('\n')
	if err != nil {
		emit(map[string]any{"event": "stream-error", "id": id, "error": errorText(err)})
		conn.Close()
		return
	}
	fields := strings.Fields(line)
	if len(fields) == 0 {
		fields = []string{""}
	}
	emit(map[string]any{"event": "stream", "id": id, "command": strings.TrimSpace(line)})
	reply := func(format string, args ...any) {
		fmt.Fprintf(conn, format+"\n", args...)
	}
	switch fields[0] {
	case "echo":
		_, err := io.Copy(conn, r)
		if err != nil {
			emit(map[string]any{"event": "stream-error", "id": id, "error": err.Error()})
		}
	case "sink", "gated-sink":
		if fields[0] == "gated-sink" {
			<-gate
		}
		h := sha256.New()
		n, err := io.Copy(h, r)
		if err != nil {
			emit(map[string]any{"event": "stream-error", "id": id, "error": err.Error()})
		}
		reply("%d %s", n, hex.EncodeToString(h.Sum(nil)))
	case "discard":
		n, err := io.Copy(io.Discard, r)
		if err != nil {
			emit(map[string]any{"event": "stream-error", "id": id, "error": err.Error()})
		}
		reply("%d", n)
	case "source":
		n, _ := strconv.Atoi(arg(fields, 1))
		if err := writePattern(conn, n); err != nil {
			emit(map[string]any{"event": "stream-error", "id": id, "error": err.Error()})
		}
	case "open-gate":
		gateOnce.Do(func() { close(gate) })
		reply("ok")
	case "expect-reset":
		_, err := io.Copy(io.Discard, r)
		emit(map[string]any{"event": "read-error", "id": id, "error": errorText(err)})
	case "goaway":
		if err := session.GoAway(); err != nil {
			reply("error %s", err)
		} else {
			reply("ok")
		}
	case "ping":
		rtt, err := session.Ping()
		if err != nil {
			reply("error %s", err)
		} else {
			reply("ok %d", rtt.Microseconds())
		}
	case "open-echo":
		n, _ := strconv.Atoi(arg(fields, 1))
		streamID, err := openEcho(session, n)
		if err != nil {
			reply("error %s", err)
		} else {
			reply("ok %d", streamID)
		}
	case "hold-accept":
		h := make(chan struct{})
		holdMu.Lock()
		hold = h
		holdMu.Unlock()
		reply("held")
		_, _ = io.Copy(io.Discard, r)
		holdMu.Lock()
		hold = nil
		holdMu.Unlock()
		close(h)
	case "num-streams":
		reply("%d", session.NumStreams())
	case "close-session":
		session.Close()
		return
	default:
		reply("error unknown command %q", fields[0])
	}
	conn.Close()
}

func arg(fields []string, i int) string {
	if i < len(fields) {
		return fields[i]
	}
	return ""
}

// openEcho opens a stream to the peer (which echoes), sends n bytes, and checks what comes back.
func openEcho(session *yamux.Session, n int) (uint32, error) {
	stream, err := session.OpenStream()
	if err != nil {
		return 0, err
	}
	defer stream.Close()
	errs := make(chan error, 1)
	go func() {
		if err := writePattern(stream, n); err != nil {
			errs <- err
			return
		}
		errs <- stream.Close() // FIN: the peer's echo ends after it
	}()
	got, err := io.ReadAll(stream)
	if err != nil {
		return 0, err
	}
	if err := <-errs; err != nil {
		return 0, err
	}
	if err := checkPattern(got, n); err != nil {
		return 0, err
	}
	return stream.StreamID(), nil
}

func checkPattern(got []byte, n int) error {
	if len(got) != n {
		return fmt.Errorf("echo returned %d bytes, want %d", len(got), n)
	}
	want := make([]byte, n)
	fill(want, 0)
	if !bytes.Equal(got, want) {
		return errors.New("echo returned different bytes")
	}
	return nil
}

type loadReport struct {
	ok      bool
	streams int
	bytes   int
	ms      float64
	err     error
}

// echoLoad opens k streams at once, sends size bytes on each (then FIN) and checks the echoes.
func echoLoad(session *yamux.Session, k, size int) loadReport {
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, k)
	for range k {
		wg.Go(func() {
			if _, err := openEcho(session, size); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	rep := loadReport{ok: true, streams: k, bytes: k * size, ms: float64(time.Since(start).Microseconds()) / 1000}
	if err := <-errs; err != nil {
		rep.ok = false
		rep.err = err
	}
	return rep
}

func report(rep loadReport) {
	emit(map[string]any{
		"event":   "report",
		"ok":      rep.ok,
		"streams": rep.streams,
		"bytes":   rep.bytes,
		"ms":      rep.ms,
		"error":   errorText(rep.err),
	})
}

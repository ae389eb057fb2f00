package main

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"plugwire.dev/interop/gen/fixturepb"
)

// Benchmarks run against the already started session, whose start-up doubles as warm-up for
// process caches; each also makes untimed calls first (-warmup, default 100) so connections and
// buffers are hot and a JIT-compiled peer (a TS plugin) is measured in its steady state.

const defaultWarmupCalls = 100

func warmupCalls(s *session) int { return orDefault(s.cfg.warmup, defaultWarmupCalls) }

func orDefault(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

func warmUp(ctx context.Context, fx fixturepb.FixtureClient, size, calls int) error {
	msg := &fixturepb.EchoMessage{Payload: make([]byte, size)}
	for range calls {
		if _, err := fx.Echo(ctx, msg); err != nil {
			return fmt.Errorf("warm-up Echo: %w", err)
		}
	}
	return nil
}

// latencyStats summarises per-call durations in microseconds.
func latencyStats(samples []time.Duration) map[string]any {
	slices.Sort(samples)
	var total time.Duration
	for _, d := range samples {
		total += d
	}
	pick := func(q float64) time.Duration { return samples[int(q*float64(len(samples)-1))] }
	return map[string]any{
		"medianUs": us(pick(0.5)),
		"p99Us":    us(pick(0.99)),
		"meanUs":   us(total / time.Duration(len(samples))),
		"minUs":    us(samples[0]),
		"maxUs":    us(samples[len(samples)-1]),
	}
}

// benchUnary: -n sequential Echo calls with a -size byte payload (defaults 2000 and 64).
func benchUnary(ctx context.Context, s *session) (any, error) {
	n, size := orDefault(s.cfg.n, 2000), orDefault(s.cfg.size, 64)
	tc, err := s.testClients()
	if err != nil {
		return nil, err
	}
	if err := warmUp(ctx, tc.Fixture, size, warmupCalls(s)); err != nil {
		return nil, err
	}
	msg := &fixturepb.EchoMessage{Payload: make([]byte, size)}
	samples := make([]time.Duration, n)
	for i := range samples {
		t0 := time.Now()
		if _, err := tc.Fixture.Echo(ctx, msg); err != nil {
			return nil, fmt.Errorf("Echo: %w", err)
		}
		samples[i] = time.Since(t0)
	}
	result := latencyStats(samples)
	result["n"], result["size"] = n, size
	return result, nil
}

// benchThroughput: -concurrency callers (default 4) issue Echo(-size, default 64) for
// -duration-ms (default 2000); reports completed calls per second. With -warmup-ms the same
// callers first run untimed for that long, after the sequential warm-up calls.
func benchThroughput(ctx context.Context, s *session) (any, error) {
	conc, size := orDefault(s.cfg.concurrency, 4), orDefault(s.cfg.size, 64)
	dur := time.Duration(orDefault(s.cfg.durationMs, 2000)) * time.Millisecond
	tc, err := s.testClients()
	if err != nil {
		return nil, err
	}
	if err := warmUp(ctx, tc.Fixture, size, warmupCalls(s)); err != nil {
		return nil, err
	}
	msg := &fixturepb.EchoMessage{Payload: make([]byte, size)}
	if s.cfg.warmupMs > 0 {
		warm := time.Duration(s.cfg.warmupMs) * time.Millisecond
		if _, _, err := callConcurrently(ctx, tc.Fixture, msg, conc, warm); err != nil {
			return nil, fmt.Errorf("warm-up Echo: %w", err)
		}
	}
	calls, elapsed, err := callConcurrently(ctx, tc.Fixture, msg, conc, dur)
	if err != nil {
		return nil, fmt.Errorf("Echo: %w", err)
	}
	return map[string]any{
		"concurrency": conc,
		"size":        size,
		"durationMs":  ms(elapsed),
		"calls":       calls,
		"callsPerSec": float64(calls) / elapsed.Seconds(),
	}, nil
}

// callConcurrently runs conc callers of Echo(msg) for dur: the calls completed, the time taken.
func callConcurrently(ctx context.Context, fx fixturepb.FixtureClient, msg *fixturepb.EchoMessage, conc int, dur time.Duration) (int64, time.Duration, error) {
	var calls atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	stop := time.Now().Add(dur)
	t0 := time.Now()
	for range conc {
		wg.Go(func() {
			for time.Now().Before(stop) {
				if _, err := fx.Echo(ctx, msg); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				calls.Add(1)
			}
		})
	}
	wg.Wait()
	return calls.Load(), time.Since(t0), firstErr
}

// benchLarge: -n sequential Echo calls (default 20) with a -size byte payload (default 4 MiB).
// mibPerSec counts the payload once per call although it travels both ways.
func benchLarge(ctx context.Context, s *session) (any, error) {
	n, size := orDefault(s.cfg.n, 20), orDefault(s.cfg.size, 4<<20)
	tc, err := s.testClients()
	if err != nil {
		return nil, err
	}
	payload := make([]byte, size)
	for i := range payload {
		payload[i] = byte(i)
	}
	msg := &fixturepb.EchoMessage{Payload: payload}
	// Untimed calls first (-warmup, default 2): large buffers and flow-control windows grow on
	// first use, and a Node peer's code is optimised only after it has run a while.
	for range orDefault(s.cfg.warmup, 2) {
		if _, err := tc.Fixture.Echo(ctx, msg); err != nil {
			return nil, fmt.Errorf("warm-up Echo(%d bytes): %w", size, err)
		}
	}
	t0 := time.Now()
	for range n {
		resp, err := tc.Fixture.Echo(ctx, msg)
		if err != nil {
			return nil, fmt.Errorf("Echo(%d bytes): %w", size, err)
		}
		if len(resp.GetPayload()) != size {
			return nil, fmt.Errorf("Echo returned %d bytes, want %d", len(resp.GetPayload()), size)
		}
	}
	elapsed := time.Since(t0)
	return map[string]any{
		"n":         n,
		"size":      size,
		"totalMs":   ms(elapsed),
		"mibPerSec": float64(n) * float64(size) / (1 << 20) / elapsed.Seconds(),
	}, nil
}

// benchStream: -n messages (default 10000) of -size bytes (default 64) through one EchoStream,
// sending and receiving concurrently; reports messages echoed per second.
func benchStream(ctx context.Context, s *session) (any, error) {
	n, size := orDefault(s.cfg.n, 10000), orDefault(s.cfg.size, 64)
	tc, err := s.testClients()
	if err != nil {
		return nil, err
	}
	if _, err := pumpEchoStream(ctx, tc.Fixture, warmupCalls(s), size); err != nil {
		return nil, fmt.Errorf("warm-up EchoStream: %w", err)
	}
	elapsed, err := pumpEchoStream(ctx, tc.Fixture, n, size)
	if err != nil {
		return nil, fmt.Errorf("EchoStream: %w", err)
	}
	return map[string]any{
		"n":              n,
		"size":           size,
		"totalMs":        ms(elapsed),
		"messagesPerSec": float64(n) / elapsed.Seconds(),
	}, nil
}

func pumpEchoStream(ctx context.Context, fx fixturepb.FixtureClient, n, size int) (time.Duration, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // also unblocks the sender if receiving fails
	stream, err := fx.EchoStream(ctx)
	if err != nil {
		return 0, err
	}
	msg := &fixturepb.EchoMessage{Payload: make([]byte, size)}
	t0 := time.Now()
	sendErr := make(chan error, 1)
	go func() {
		for range n {
			if err := stream.Send(msg); err != nil {
				sendErr <- err
				return
			}
		}
		sendErr <- stream.CloseSend()
	}()
	for i := range n {
		if _, err := stream.Recv(); err != nil {
			return 0, fmt.Errorf("receiving message %d: %w", i, err)
		}
	}
	elapsed := time.Since(t0)
	return elapsed, <-sendErr
}

// benchStart: -n times (default 5) launch a fresh plugin with the same configuration and time
// spawn -> handshake -> first successful RPC (a health Ping), then Kill it (not timed).
func benchStart(ctx context.Context, s *session) (any, error) {
	n := orDefault(s.cfg.n, 5)
	samples := make([]time.Duration, 0, n)
	for range n {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		extra := newSession(s.cfg)
		t0 := time.Now()
		err := extra.start()
		if err == nil {
			err = extra.rpc.Ping()
		}
		elapsed := time.Since(t0)
		extra.kill()
		if err != nil {
			return nil, fmt.Errorf("start %d: %w", len(samples)+1, err)
		}
		samples = append(samples, elapsed)
	}
	sorted := slices.Clone(samples)
	slices.Sort(sorted)
	list := make([]float64, len(samples))
	for i, d := range samples {
		list[i] = ms(d)
	}
	return map[string]any{
		"n":         n,
		"samplesMs": list,
		"medianMs":  ms(sorted[len(sorted)/2]),
		"minMs":     ms(sorted[0]),
		"maxMs":     ms(sorted[len(sorted)-1]),
	}, nil
}

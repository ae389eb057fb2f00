package main

import (
	"fmt"
	"os"
	"os/exec"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

var benchN, benchInflight, benchDurationMs, benchWarmup int

// runBench measures Plugin.GetManifest on one plugin over go-plugin's net/rpc protocol, as the
// post's host calls it: "seq" one call after another (latency), "par" with -inflight calls
// outstanding for -duration-ms (throughput). It prints one JSON line and returns the exit status.
func runBench(mode string, command []string) int {
	if len(command) == 0 {
		fmt.Fprintln(os.Stderr, "iglu-host -bench: the plugin command follows --")
		return 2
	}
	pl, err := loadPlugin(exec.Command(command[0], command[1:]...), command[0])
	if err != nil {
		emit(map[string]any{"event": "error", "error": err.Error()})
		return 1
	}
	defer pl.client.Kill()
	call := func() error {
		_, err := pl.Plugin.GetManifest()
		return err
	}
	for range benchWarmup {
		if err := call(); err != nil {
			emit(map[string]any{"event": "error", "error": err.Error()})
			return 1
		}
	}
	var result map[string]any
	switch mode {
	case "seq":
		result, err = sequential(call)
	case "par":
		result, err = parallel(call)
	default:
		err = fmt.Errorf("-bench %q: want seq or par", mode)
	}
	if err != nil {
		emit(map[string]any{"event": "error", "error": err.Error()})
		return 1
	}
	result["event"] = "bench"
	result["protocol"] = string(pl.client.Protocol())
	emit(result)
	return 0
}

func sequential(call func() error) (map[string]any, error) {
	samples := make([]time.Duration, benchN)
	start := time.Now()
	for i := range samples {
		t0 := time.Now()
		if err := call(); err != nil {
			return nil, err
		}
		samples[i] = time.Since(t0)
	}
	elapsed := time.Since(start)
	sort.Slice(samples, func(a, b int) bool { return samples[a] < samples[b] })
	us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1000 }
	// The rank rule of bench/stats.ts and goplugin-host: index floor(q × (n − 1)).
	pick := func(q float64) time.Duration { return samples[int(q*float64(len(samples)-1))] }
	return map[string]any{
		"n":        benchN,
		"medianUs": us(pick(0.5)),
		"p99Us":    us(pick(0.99)),
		"meanUs":   us(elapsed) / float64(benchN),
	}, nil
}

func parallel(call func() error) (map[string]any, error) {
	var calls atomic.Int64
	var failure atomic.Value
	deadline := time.Now().Add(time.Duration(benchDurationMs) * time.Millisecond)
	var wg sync.WaitGroup
	start := time.Now()
	for range benchInflight {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				if err := call(); err != nil {
					failure.Store(err)
					return
				}
				calls.Add(1)
			}
		}()
	}
	wg.Wait()
	if err, ok := failure.Load().(error); ok {
		return nil, err
	}
	elapsed := time.Since(start)
	return map[string]any{
		"inflight":    benchInflight,
		"calls":       calls.Load(),
		"callsPerSec": float64(calls.Load()) / elapsed.Seconds(),
	}, nil
}

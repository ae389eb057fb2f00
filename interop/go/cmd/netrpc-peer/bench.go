package main

import (
	"fmt"
	"net/rpc"
	"sort"
	"sync"
	"time"
)

// runBench measures Plugin.Echo("ping") calls: "seq" one after another (latency), "par" with
// `inflight` calls outstanding at all times (throughput). One warm-up round is not counted.
func runBench(client *rpc.Client, mode string, n, inflight int) {
	call := func() time.Duration {
		var reply string
		start := time.Now()
		if err := client.Call("Plugin.Echo", "ping", &reply); err != nil {
			fail(err)
		}
		return time.Since(start)
	}
	for range 200 {
		call()
	}
	switch mode {
	case "seq":
		samples := make([]time.Duration, n)
		start := time.Now()
		for i := range samples {
			samples[i] = call()
		}
		elapsed := time.Since(start)
		sort.Slice(samples, func(a, b int) bool { return samples[a] < samples[b] })
		emit(map[string]any{
			"event":     "bench",
			"mode":      mode,
			"calls":     n,
			"meanUs":    float64(elapsed.Microseconds()) / float64(n),
			"p50Us":     float64(samples[n/2].Nanoseconds()) / 1000,
			"p99Us":     float64(samples[n*99/100].Nanoseconds()) / 1000,
			"callsPerS": float64(n) / elapsed.Seconds(),
		})
	case "par":
		var wg sync.WaitGroup
		per := n / inflight
		start := time.Now()
		for range inflight {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range per {
					call()
				}
			}()
		}
		wg.Wait()
		elapsed := time.Since(start)
		emit(map[string]any{
			"event":     "bench",
			"mode":      mode,
			"calls":     per * inflight,
			"inflight":  inflight,
			"callsPerS": float64(per*inflight) / elapsed.Seconds(),
		})
	default:
		fail(fmt.Errorf("-bench %q: want seq or par", mode))
	}
}

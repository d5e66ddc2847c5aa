package soak_test

import (
	"context"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"time"
)

// stats counts what happened during a run, by name.
type stats struct {
	mu sync.Mutex
	n  map[string]int
}

func newStats() *stats { return &stats{n: make(map[string]int)} }

func (s *stats) add(name string, d int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n[name] += d
}

// with returns the names starting with prefix, sorted, and their counts.
func (s *stats) with(prefix string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for k, v := range s.n {
		if strings.HasPrefix(k, prefix) {
			out = append(out, strings.TrimPrefix(k, prefix)+"="+itoa(v))
		}
	}
	sort.Strings(out)
	return out
}

// strike queues one random fault at the fake of provider name: it hits whichever call of
// that fake comes next (any merchant's, or a webhook handler's fetch), as a provider's
// outage would.
func (w *world) strike(r *rand.Rand, name string) {
	c := w.faults[name]
	switch x := r.IntN(100); {
	case x < 35:
		status := []int{500, 502, 503, 504}[r.IntN(4)]
		c.FailNext(1+r.IntN(2), status)
		w.stats.add("fault "+name+" 5xx", 1)
	case x < 55:
		c.FailNext(1+r.IntN(3), 429)
		w.stats.add("fault "+name+" 429", 1)
	case x < 80:
		c.DropNext(1)
		w.stats.add("fault "+name+" drop", 1)
	default:
		c.MalformedNext(1)
		w.stats.add("fault "+name+" malformed", 1)
	}
}

// maybeStrike strikes name's fake with probability faultRate. The merchant's steps call it
// before their first attempt only: striking before repeats too would feed back (a fault
// that fails a token fetch shared by every waiting caller makes them all repeat and strike
// again) into a storm no provider makes.
func (w *world) maybeStrike(r *rand.Rand, name string) {
	if r.Float64() < faultRate {
		w.strike(r, name)
	}
}

// faultRate is the chance of a fault before each step of a payment.
const faultRate = 0.25

// slowAnswers changes every fake's latency every 25 ms until ctx ends: mostly none, often a
// few milliseconds, and now and then longer than the clients' per-attempt timeout.
func (w *world) slowAnswers(ctx context.Context, seed uint64) {
	var wg sync.WaitGroup
	for i, name := range providerNames {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, uint64(1000+i)))
			c := w.faults[name]
			t := time.NewTicker(25 * time.Millisecond)
			defer t.Stop()
			defer c.SetLatency(0)
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
				switch x := r.IntN(100); {
				case x < 2:
					c.SetLatency(latencySpike)
					w.stats.add("latency "+name+" spike", 1)
				case x < 30:
					c.SetLatency(time.Duration(1+r.IntN(15)) * time.Millisecond)
					w.stats.add("latency "+name+" slow", 1)
				default:
					c.SetLatency(0)
				}
			}
		}()
	}
	wg.Wait()
}

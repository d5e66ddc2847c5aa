package ratelimit

import (
	"context"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// BenchmarkWaitNoWait is the cost of a Wait that never has to wait, beside x/time/rate's. The
// window is 1 ns with room for 64 starts, which no 64 calls fit into; the bucket refills one
// token per nanosecond, which no call outpaces.
func BenchmarkWaitNoWait(b *testing.B) {
	sliding, err := New(64, time.Nanosecond)
	if err != nil {
		b.Fatal(err)
	}
	limiters := []struct {
		name string
		l    waiter
	}{
		{"sliding", sliding},
		{"x-time-rate", rate.NewLimiter(rate.Limit(1e9), 64)},
	}
	ctx := context.Background()
	for _, lim := range limiters {
		b.Run(lim.name, func(b *testing.B) {
			for b.Loop() {
				if err := lim.l.Wait(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(lim.name+"/parallel", func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := lim.l.Wait(ctx); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkSustained measures, with 40 callers hammering Wait, the sustained rate of a limiter of
// 10 per second and the most starts any 1-second window saw (EchelonPay refuses the 11th). One
// iteration lasts about 3 seconds; run it with -benchtime=1x.
func BenchmarkSustained(b *testing.B) {
	const limit, callers = 10, 40
	newSliding := func(margin time.Duration) func() waiter {
		return func() waiter {
			l, err := New(limit, time.Second, WithMargin(margin))
			if err != nil {
				b.Fatal(err)
			}
			return l
		}
	}
	limiters := []struct {
		name string
		new  func() waiter
	}{
		{"sliding/margin=0", newSliding(0)},
		{"sliding/margin=40ms", newSliding(40 * time.Millisecond)},
		{"x-time-rate/burst=10", func() waiter { return rate.NewLimiter(limit, limit) }},
	}
	for _, lim := range limiters {
		b.Run(lim.name, func(b *testing.B) {
			var ratePerSec float64
			most := 0
			for range b.N {
				// Three whole groups of limit starts after the first group: the rate is taken
				// from the first start after the initial burst every limiter allows to the
				// last, over a whole number of groups, so that a sliding window's bunching
				// does not bias it.
				want := 3*limit + 1
				starts := hammer(b, lim.new(), callers, time.Minute, want)
				if len(starts) < want {
					b.Fatalf("%d starts in a minute, want %d", len(starts), want)
				}
				ratePerSec = float64(want-1-limit) / starts[want-1].Sub(starts[limit]).Seconds()
				most = max(most, maxInWindow(starts, time.Second))
			}
			b.ReportMetric(0, "ns/op") // one iteration is a fixed amount of work, not a cost
			b.ReportMetric(ratePerSec, "req/s")
			b.ReportMetric(float64(most), "max/window")
		})
	}
}

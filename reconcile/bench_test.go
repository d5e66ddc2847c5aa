package reconcile_test

import (
	"context"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/reconcile"
)

// BenchmarkPass is one pass over 10,000 watched payments, each read once (a provider in
// memory, no rate limit) and found still pending in a state processed already: what a pass
// costs beyond the provider's reads, per payment (ns/payment, and the allocations).
func BenchmarkPass(b *testing.B) {
	const n = 10_000
	ctx := context.Background()
	p := newStub("stub")
	ids := make([]string, n)
	for i := range ids {
		ids[i] = "pay-" + strconv.Itoa(i)
		p.set(ids[i], paykit.StatusPending)
	}
	clk := newClock()
	rec, err := reconcile.New(p, paykit.NewMemoryDedupStore(0), func(context.Context, *paykit.Notification) error { return nil },
		reconcile.WithClock(clk), reconcile.WithLimiter(paykit.NoLimit), reconcile.WithBackoff(time.Minute, time.Minute), reconcile.WithMaxAge(1<<62))
	if err != nil {
		b.Fatal(err)
	}
	for _, id := range ids {
		if err := rec.Watch(ctx, id); err != nil {
			b.Fatal(err)
		}
	}
	clk.Advance(time.Minute)
	if _, err := rec.RunOnce(ctx); err != nil { // the first pass runs fn for "pending"
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		clk.Advance(time.Minute)
		pass, err := rec.RunOnce(ctx)
		if err != nil || pass.Polls != n {
			b.Fatalf("pass %+v, %v", pass, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/payment")
}

// BenchmarkMemoryStorePerEntry measures the in-memory watch list's memory per payment:
// 100,000 ids of 36 bytes (a UUID) watched.
func BenchmarkMemoryStorePerEntry(b *testing.B) {
	const n = 100_000
	ctx := context.Background()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = "0f8c2d1e-5b7a-4c3d-9e2f-" + strconv.Itoa(100000000000+i)
	}
	for range b.N {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		s := reconcile.NewMemoryStore(0)
		for _, id := range ids {
			_ = s.Add(ctx, id, t0, t0.Add(time.Minute))
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "B/entry")
		runtime.KeepAlive(s)
	}
}

package redisstore_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/reconcile"
	"github.com/paykit/paykit/redisstore"
)

// BenchmarkWatchStorePass is one pass of a Reconciler over 10,000 payments watched in Redis
// (a provider in memory, no rate limit, every state processed already): the Redis watch
// list's and dedupe store's cost per payment, and Redis's memory per watched payment.
func BenchmarkWatchStorePass(b *testing.B) {
	const n = 10_000
	srv := startRedis(b)
	rdb := srv.Client(b)
	ctx := context.Background()
	p := newWatchProvider()
	clk := &watchClock{now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	rec, err := reconcile.New(p, redisstore.NewDedupStore(rdb), func(context.Context, *paykit.Notification) error { return nil },
		reconcile.WithStore(redisstore.NewWatchStore(rdb)), reconcile.WithClock(clk), reconcile.WithLimiter(paykit.NoLimit),
		reconcile.WithBackoff(time.Minute, time.Minute), reconcile.WithMaxAge(1<<62), reconcile.WithWorkers(8))
	if err != nil {
		b.Fatal(err)
	}
	used := func() int64 {
		v, err := rdb.MemoryUsage(ctx, "{paykit:watch}:entries").Result()
		if err != nil {
			b.Fatal(err)
		}
		d, _ := rdb.MemoryUsage(ctx, "{paykit:watch}:due").Result()
		s, _ := rdb.MemoryUsage(ctx, "{paykit:watch}:since").Result()
		return v + d + s
	}
	for i := range n {
		id := "0f8c2d1e-5b7a-4c3d-9e2f-" + strconv.Itoa(100000000000+i)
		p.set(id, paykit.StatusPending)
		if err := rec.Watch(ctx, id); err != nil {
			b.Fatal(err)
		}
	}
	clk.Advance(time.Minute)
	if _, err := rec.RunOnce(ctx); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		clk.Advance(time.Minute)
		pass, err := rec.RunOnce(ctx)
		if err != nil || pass.Polls != n {
			b.Fatalf("pass %+v, %v", pass, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/payment")
	b.ReportMetric(float64(used())/n, "redis-B/entry")
}

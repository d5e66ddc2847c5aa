package redisstore_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/internal/ratelimit"
	"github.com/paykit/paykit/redisstore"
)

// roundTrips is a go-redis hook counting the round trips a client makes: one per command,
// one per pipeline or transaction.
type roundTrips struct{ n atomic.Int64 }

func (r *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }
func (r *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		r.n.Add(1)
		return next(ctx, cmd)
	}
}
func (r *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		r.n.Add(1)
		return next(ctx, cmds)
	}
}

// benchClient is a client of a fresh local redis-server that counts its round trips; the
// scripts are loaded first, so that the count is the steady state's.
func benchClient(b *testing.B) (*redis.Client, *roundTrips) {
	b.Helper()
	srv := startRedis(b)
	rdb := srv.Client(b)
	warm := redisstore.NewDedupStore(rdb)
	if _, err := warm.Claim(context.Background(), "warm"); err != nil {
		b.Fatal(err)
	}
	if err := warm.Finish(context.Background(), "warm", true); err != nil {
		b.Fatal(err)
	}
	if err := redisstore.NewLimiter(rdb, "warm", 1, time.Second).Wait(context.Background()); err != nil {
		b.Fatal(err)
	}
	rt := &roundTrips{}
	rdb.AddHook(rt)
	return rdb, rt
}

// BenchmarkClaimFinish is one notification's dedupe: Claim of a new key, then Finish
// (processed), on Redis beside the in-memory store.
func BenchmarkClaimFinish(b *testing.B) {
	ctx := context.Background()
	run := func(b *testing.B, s paykit.DedupStore) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			key := "8:ecredits|event|" + strconv.Itoa(i)
			if done, err := s.Claim(ctx, key); err != nil || done {
				b.Fatalf("Claim = %v, %v", done, err)
			}
			if err := s.Finish(ctx, key, true); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("memory", func(b *testing.B) { run(b, paykit.NewMemoryDedupStore(0)) })
	b.Run("redis", func(b *testing.B) {
		rdb, rt := benchClient(b)
		s := redisstore.NewDedupStore(rdb)
		rt.n.Store(0)
		run(b, s)
		b.ReportMetric(float64(rt.n.Load())/float64(b.N), "roundtrips/op")
	})
}

// BenchmarkLimiterWait is the cost of a Wait that does not have to wait (a limit far above
// the rate reached), on Redis beside the local sliding-window limiter: what the limiter adds
// to every request.
func BenchmarkLimiterWait(b *testing.B) {
	ctx := context.Background()
	run := func(b *testing.B, l paykit.Limiter) {
		b.ReportAllocs()
		for b.Loop() {
			if err := l.Wait(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
	// Limits and windows far above the rate a loop reaches, the local limiter's window short
	// because it keeps a slot per start.
	const limit = 1 << 16
	b.Run("local", func(b *testing.B) {
		l, err := ratelimit.New(limit, time.Millisecond)
		if err != nil {
			b.Fatal(err)
		}
		run(b, l)
	})
	b.Run("redis", func(b *testing.B) {
		rdb, rt := benchClient(b)
		// A window of 10 ms keeps the sorted set small (a few hundred starts).
		l := redisstore.NewLimiter(rdb, "bench", limit, 10*time.Millisecond)
		rt.n.Store(0)
		run(b, l)
		b.ReportMetric(float64(rt.n.Load())/float64(b.N), "roundtrips/op")
	})
}

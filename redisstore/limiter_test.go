package redisstore_test

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/internal/logbuf"
	"github.com/paykit/paykit/redisstore"
)

// scriptWatch is a go-redis hook that sees the limiter script's answers: the Redis time of
// every start it granted and the number of times it ran. It observes through go-redis's
// public hook API, so the limiter carries nothing for its tests.
type scriptWatch struct {
	mu      sync.Mutex
	granted []int64 // µs of Redis's clock
	runs    int
}

func (w *scriptWatch) DialHook(next redis.DialHook) redis.DialHook { return next }
func (w *scriptWatch) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func (w *scriptWatch) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		name := cmd.Name()
		if err != nil || (name != "evalsha" && name != "eval") {
			return err
		}
		if !strings.Contains(cmd.String(), ":limit:{") {
			return err
		}
		res, ok := cmd.(*redis.Cmd)
		if !ok {
			return err
		}
		vals, _ := res.Int64Slice()
		w.mu.Lock()
		defer w.mu.Unlock()
		w.runs++
		if len(vals) == 2 && vals[0] == 0 {
			w.granted = append(w.granted, vals[1])
		}
		return err
	}
}

func (w *scriptWatch) snapshot() (granted []int64, runs int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.granted), w.runs
}

// maxInWindow is the largest number of times in any half-open interval [t, t+window).
func maxInWindow(times []int64, window int64) int {
	times = slices.Clone(times)
	slices.Sort(times)
	most, j := 0, 0
	for i := range times {
		for times[i]-times[j] >= window {
			j++
		}
		most = max(most, i-j+1)
	}
	return most
}

func TestMaxInWindow(t *testing.T) {
	t.Parallel()
	assert.Equal(t, 0, maxInWindow(nil, 10))
	assert.Equal(t, 2, maxInWindow([]int64{0, 9, 10, 19}, 10))
	assert.Equal(t, 3, maxInWindow([]int64{0, 1, 2, 10, 30}, 10))
	assert.Equal(t, 3, maxInWindow([]int64{20, 0, 25, 29}, 10))
}

// Many callers on three replicas share one window: by Redis's clock, never more than limit
// starts in any window, and every start a caller was granted is one the script counted.
func TestLimiterWindowAcrossReplicas(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	const limit, window = 5, 200 * time.Millisecond
	watch := &scriptWatch{}
	var limiters []paykit.Limiter
	for range 3 {
		rdb := srv.Client(t)
		rdb.AddHook(watch)
		limiters = append(limiters, redisstore.NewLimiter(rdb, "shared", limit, window))
	}
	ctx, cancel := context.WithTimeout(guardCtx(t), 1500*time.Millisecond)
	defer cancel()
	var starts atomic.Int64
	var wg sync.WaitGroup
	for i := range 24 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				if err := limiters[i%len(limiters)].Wait(ctx); err != nil {
					assert.ErrorIs(t, err, context.DeadlineExceeded)
					return
				}
				starts.Add(1)
			}
		}()
	}
	wg.Wait()
	granted, _ := watch.snapshot()
	require.EqualValues(t, starts.Load(), len(granted), "every start a caller got was counted in Redis")
	require.GreaterOrEqual(t, len(granted), 2*limit, "the run spanned more than one window")
	most := maxInWindow(granted, window.Microseconds())
	require.LessOrEqual(t, most, limit, "starts in one window")
	t.Logf("limiter: %d starts by 24 callers on 3 replicas in 1.5 s; at most %d in any %v (limit %d)", len(granted), most, window, limit)
}

// A caller that must wait is told how long by the script and sleeps that long: it does not
// ask Redis again and again.
func TestLimiterDoesNotSpin(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	ctx := guardCtx(t)
	watch := &scriptWatch{}
	rdb := srv.Client(t)
	rdb.AddHook(watch)
	l := redisstore.NewLimiter(rdb, "spin", 2, 300*time.Millisecond)
	require.NoError(t, l.Wait(ctx))
	require.NoError(t, l.Wait(ctx))
	_, before := watch.snapshot()
	require.NoError(t, l.Wait(ctx)) // waits about 300 ms
	_, after := watch.snapshot()
	// One run says how long to wait, one grants after the wait; one more at most if Redis's
	// wall clock slewed behind the sleep's monotonic clock.
	assert.LessOrEqual(t, after-before, 3, "script runs for one waiting start")
	assert.GreaterOrEqual(t, after-before, 2)
}

func TestLimiterHonoursContext(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	ctx := guardCtx(t)
	l := redisstore.NewLimiter(srv.Client(t), "ctx", 1, time.Hour)
	require.NoError(t, l.Wait(ctx))

	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	errs := make(chan error, 3)
	for range 3 { // one asks Redis and sleeps, two queue behind it
		go func() { errs <- l.Wait(short) }()
	}
	for range 3 {
		select {
		case err := <-errs:
			require.ErrorIs(t, err, context.DeadlineExceeded)
		case <-ctx.Done():
			t.Fatal("a waiting caller ignored its context")
		}
	}
	canceled, cancel2 := context.WithCancel(ctx)
	cancel2()
	require.ErrorIs(t, l.Wait(canceled), context.Canceled)
}

func TestLimiterKey(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	ctx := guardCtx(t)
	rdb := srv.Client(t)
	require.NoError(t, redisstore.NewLimiter(rdb, "echelon:M1", 10, time.Second, redisstore.WithPrefix("shop:")).Wait(ctx))
	keys, err := rdb.Keys(ctx, "*").Result()
	require.NoError(t, err)
	require.Equal(t, []string{"shop:limit:{echelon:M1}"}, keys)
	ttl, err := rdb.PTTL(ctx, keys[0]).Result()
	require.NoError(t, err)
	assert.True(t, ttl > time.Second && ttl <= 2040*time.Millisecond, "an idle window is dropped soon, got %v", ttl)
}

func TestNewLimiterRefusesImpossibleLimits(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		limit  int
		window time.Duration
	}{{0, time.Second}, {-1, time.Second}, {10, 0}, {10, -time.Second}} {
		err := redisstore.NewLimiter(redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}), "k", tc.limit, tc.window).Wait(context.Background())
		require.ErrorIs(t, err, paykit.ErrInvalidRequest, "limit %d, window %v", tc.limit, tc.window)
	}
}

// When Redis cannot be reached the limiter falls back to a local limit of the same size,
// logging a warning, and returns to Redis when it answers again.
func TestLimiterFallsBackAndReturns(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	ctx := guardCtx(t)
	var logs logbuf.Buffer
	rdb := srv.Client(t)
	l := redisstore.NewLimiter(rdb, "fallback", 3, time.Second,
		redisstore.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))))
	require.NoError(t, l.Wait(ctx))
	srv.Stop()

	for range 3 {
		require.NoError(t, l.Wait(ctx), "payments keep flowing without Redis")
	}
	require.Contains(t, logs.String(), "level=WARN msg=\"redisstore: Redis cannot be reached")
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, l.Wait(short), context.DeadlineExceeded, "the local limit is the same: a fourth start in the window waits")

	srv.Restart()
	require.Eventually(t, func() bool {
		if err := l.Wait(ctx); err != nil {
			return false
		}
		n, err := rdb.ZCard(ctx, "paykit:limit:{fallback}").Result()
		return err == nil && n > 0
	}, guard, 10*time.Millisecond, "the limiter counts in Redis again")
	require.Contains(t, logs.String(), "Redis answers again")
}

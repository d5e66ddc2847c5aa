package redisstore_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/internal/logbuf"
	"github.com/paykit/paykit/redisstore"
)

// startLog records when Wait granted each start, on this process's monotonic clock: the
// checks below count starts per window from these times, whichever way (Redis or the
// local fallback) each start was counted.
type startLog struct {
	base time.Time
	mu   sync.Mutex
	at   []int64 // µs since base
}

func newStartLog() *startLog { return &startLog{base: time.Now()} }

// wait calls l.Wait and records the start when it was granted.
func (s *startLog) wait(ctx context.Context, l paykit.Limiter) error {
	err := l.Wait(ctx)
	if err == nil {
		s.mu.Lock()
		s.at = append(s.at, time.Since(s.base).Microseconds())
		s.mu.Unlock()
	}
	return err
}

func (s *startLog) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.at)
}

// requireWithinLimit fails when any window-long interval holds more than limit starts.
func (s *startLog) requireWithinLimit(t *testing.T, limit int, window time.Duration) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	most := maxInWindow(s.at, window.Microseconds())
	require.LessOrEqual(t, most, limit, "starts in one %v window, across Redis and the local fallback; starts at (µs) %v", window, s.at)
	t.Logf("%d starts, at most %d in any %v (limit %d)", len(s.at), most, window, limit)
}

// fastFailingClient is a client of srv that does not retry a failed command, so that the
// limiter finds Redis gone as fast as a merchant's client could: the fallback must keep the
// window however quickly it happens.
func fastFailingClient(t *testing.T, srv *redisServer) *redis.Client {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// A full window of starts through Redis, then Redis dies: the local fallback must not start
// another full window at once (it did: 20 starts in 408 ms).
func TestLimiterFallbackKeepsTheWindow(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	ctx := guardCtx(t)
	const limit, window = 10, time.Second
	l := redisstore.NewLimiter(fastFailingClient(t, srv), "fall", limit, window)
	log := newStartLog()
	for range limit {
		require.NoError(t, log.wait(ctx, l))
	}
	srv.Stop()
	for range limit {
		require.NoError(t, log.wait(ctx, l), "payments keep flowing without Redis")
	}
	log.requireWithinLimit(t, limit, window)
}

// Starts counted locally while Redis was down, then Redis comes back (empty, as after a
// restart without persistence) while starts go on: the shared window must count the local
// starts still inside it (it did not: 11 in one window).
func TestLimiterReturnKeepsTheWindow(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	ctx := guardCtx(t)
	const limit, window = 10, time.Second
	watch := &scriptWatch{}
	rdb := fastFailingClient(t, srv)
	rdb.AddHook(watch)
	l := redisstore.NewLimiter(rdb, "return", limit, window)
	log := newStartLog()
	require.NoError(t, log.wait(ctx, l))
	srv.Stop()
	for range limit + 1 { // a window and one more start, counted locally
		require.NoError(t, log.wait(ctx, l))
	}
	srv.Restart()
	_, runs := watch.snapshot()
	// Starts go on without a pause until two windows' worth were granted by Redis again.
	for {
		require.NoError(t, log.wait(ctx, l))
		granted, _ := watch.snapshot()
		if len(granted) >= 1+2*limit {
			break
		}
	}
	_, after := watch.snapshot()
	require.Greater(t, after, runs, "the limiter asked Redis again")
	log.requireWithinLimit(t, limit, window)
}

// Redis blips: a full window through Redis, Redis dies and comes back empty at once. The
// fallback assumed a full window, and the return to Redis must tell Redis so, or the
// restarted Redis grants a start beside the window it forgot. The window (3 s) is longer
// than the limiter's probe interval (1 s), so the limiter is back on Redis before it ends.
func TestLimiterBlipKeepsTheWindow(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	ctx := guardCtx(t)
	const limit, window = 3, 3 * time.Second
	var logs logbuf.Buffer
	l := redisstore.NewLimiter(fastFailingClient(t, srv), "blip", limit, window,
		redisstore.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	log := newStartLog()
	for range limit {
		require.NoError(t, log.wait(ctx, l))
	}
	srv.Stop()
	// This caller finds Redis gone and falls back; it gives up before the window ends.
	short, cancel := context.WithTimeout(ctx, 2*time.Second)
	err := log.wait(short, l)
	cancel()
	require.Contains(t, logs.String(), "Redis cannot be reached", "the limiter fell back")
	if err == nil {
		log.requireWithinLimit(t, limit, window) // it was granted: it must not break the window
	}
	srv.Restart()
	// Callers come and go with short deadlines until one is granted: the limiter probes
	// Redis meanwhile and returns to it.
	for log.len() < limit+1 {
		short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		err := log.wait(short, l)
		cancel()
		if err != nil {
			require.ErrorIs(t, err, context.DeadlineExceeded)
		}
	}
	log.requireWithinLimit(t, limit, window)
}

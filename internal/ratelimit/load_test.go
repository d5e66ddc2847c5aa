package ratelimit

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"
)

// waiter is what paykit.Limiter asks for; both this package's Limiter and x/time/rate's have it.
type waiter interface {
	Wait(ctx context.Context) error
}

// hammer has callers goroutines call l.Wait in a loop, each noting time.Now() when Wait
// returns, until want starts are noted (want 0: no count) or d has passed. It returns the
// starts in order. tb fails if the callers do not all stop within guard after that.
func hammer(tb testing.TB, l waiter, callers int, d time.Duration, want int) []time.Time {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var (
		mu     sync.Mutex
		starts []time.Time
		wg     sync.WaitGroup
	)
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for l.Wait(ctx) == nil {
				now := time.Now()
				mu.Lock()
				starts = append(starts, now)
				if want > 0 && len(starts) >= want {
					cancel()
				}
				mu.Unlock()
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d + guard):
		tb.Fatal("callers still waiting after their context ended")
	}
	slices.SortFunc(starts, func(a, b time.Time) int { return a.Compare(b) })
	return starts
}

// maxInWindow is the largest number of the sorted starts that fall in one half-open interval
// [t, t+window). Checking the intervals that begin at a start is enough: any interval can slide
// right to its first start without losing one.
func maxInWindow(starts []time.Time, window time.Duration) int {
	most, j := 0, 0
	for i := range starts {
		for j < len(starts) && starts[j].Sub(starts[i]) < window {
			j++
		}
		most = max(most, j-i)
	}
	return most
}

func TestMaxInWindow(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1000, 0)
	at := func(ms ...int) []time.Time {
		var s []time.Time
		for _, m := range ms {
			s = append(s, t0.Add(time.Duration(m)*time.Millisecond))
		}
		return s
	}
	tests := []struct {
		name   string
		starts []time.Time
		want   int
	}{
		{"none", nil, 0},
		{"one", at(0), 1},
		{"exactly a window apart", at(0, 1000, 2000), 1},
		{"just under a window apart", at(0, 999), 2},
		{"together", at(5, 5, 5), 3},
		{"the busiest window is in the middle", at(0, 900, 1100, 1200, 1850, 2500), 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, maxInWindow(tt.starts, time.Second))
		})
	}
}

// observeMargin is the margin the real-clock tests give their limiters: the one the Limiter's doc
// recommends for EchelonPay. A start is measured by the caller's time.Now() after Wait returns,
// which on a loaded machine can come well after the limiter counted it, just as a request reaches
// the server after a network delay. With six race-enabled test binaries and two busy loops on two
// cores, that delay reached 21.5 ms: with no margin or a 20 ms one, measured starts k and k+limit
// came out up to 2 ms and 1.5 ms short of a window although the limiter had spaced them correctly.
// The exact boundary is tested on the fake clock.
const observeMargin = 40 * time.Millisecond

// TestLoadNeverExceedsLimit: 40 callers hammering the limiter EchelonPay uses (10 per second with
// a 40 ms margin) for 3 seconds never get more than 10 starts into one second, measured where
// the caller sees them.
func TestLoadNeverExceedsLimit(t *testing.T) {
	t.Parallel()
	l, err := New(10, time.Second, WithMargin(observeMargin))
	require.NoError(t, err)
	starts := hammer(t, l, 40, 3*time.Second, 0)
	// The check means something only once the window has had to slide.
	require.Greater(t, len(starts), 10)
	assert.LessOrEqual(t, maxInWindow(starts, time.Second), 10)
	t.Logf("%d starts; closest start to the 10th next: %v", len(starts), minGap(starts, 10))
}

// TestTokenBucketExceedsLimit documents why x/time/rate is not used for EchelonPay: a bucket
// of 10 per second with burst 10 lets about 20 requests start within one second.
func TestTokenBucketExceedsLimit(t *testing.T) {
	t.Parallel()
	starts := hammer(t, rate.NewLimiter(10, 10), 40, 1500*time.Millisecond, 0)
	most := maxInWindow(starts, time.Second)
	assert.Greater(t, most, 10)
	t.Logf("%d starts; at most %d in one second", len(starts), most)
}

// TestCancelUnderLoad: callers whose deadlines end while they are queued get
// context.DeadlineExceeded, and the others still never exceed the limit.
func TestCancelUnderLoad(t *testing.T) {
	t.Parallel()
	const (
		limit  = 5
		window = 200 * time.Millisecond
	)
	l, err := New(limit, window, WithMargin(observeMargin))
	require.NoError(t, err)
	stop := time.Now().Add(1500 * time.Millisecond)
	var (
		mu       sync.Mutex
		starts   []time.Time
		timeouts int
		wg       sync.WaitGroup
	)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Deadlines from 5 to 100 ms against a queue that takes about 900 ms to drain:
			// most calls time out while queued, some at its head.
			patience := time.Duration(5+5*(i%20)) * time.Millisecond
			for time.Now().Before(stop) {
				ctx, cancel := context.WithTimeout(context.Background(), patience)
				err := l.Wait(ctx)
				now := time.Now()
				cancel()
				mu.Lock()
				switch {
				case err == nil:
					starts = append(starts, now)
				case errors.Is(err, context.DeadlineExceeded):
					timeouts++
				default:
					t.Errorf("Wait: %v", err)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	slices.SortFunc(starts, func(a, b time.Time) int { return a.Compare(b) })
	require.Greater(t, len(starts), limit)
	require.Positive(t, timeouts)
	assert.LessOrEqual(t, maxInWindow(starts, window), limit)
	assert.Zero(t, queued(l), "a waiter was left in the queue")
	t.Logf("%d starts, %d timeouts; closest start to the %dth next: %v", len(starts), timeouts, limit, minGap(starts, limit))
}

// minGap is the shortest time between a start and the limit-th next (a diagnostic: how close
// the limiter came to the window).
func minGap(starts []time.Time, limit int) time.Duration {
	gap := time.Duration(-1)
	for i := 0; i+limit < len(starts); i++ {
		if d := starts[i+limit].Sub(starts[i]); gap < 0 || d < gap {
			gap = d
		}
	}
	return gap
}

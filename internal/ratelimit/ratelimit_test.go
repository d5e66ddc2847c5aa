package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// guard only turns a hang into a failure; nothing here is expected to take that long.
const guard = 10 * time.Second

// result is what a waiter started by goWait reports.
type result struct {
	id  int
	err error
	at  time.Time // the fake clock's time when Wait returned
}

// goWait calls l.Wait(ctx) in a goroutine and reports on out.
func goWait(ctx context.Context, l *Limiter, clk *fakeClock, id int, out chan<- result) {
	go func() {
		err := l.Wait(ctx)
		out <- result{id: id, err: err, at: clk.Now()}
	}()
}

// recv returns the next result, failing the test if none comes within guard.
func recv(t *testing.T, out <-chan result) result {
	t.Helper()
	select {
	case r := <-out:
		return r
	case <-time.After(guard):
		t.Fatal("no waiter returned")
		return result{}
	}
}

// queued is the number of callers waiting in l's queue.
func queued(l *Limiter) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.queue)
}

// waitFor blocks until cond holds, polling; guard bounds it.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	require.Eventually(t, cond, guard, time.Millisecond, what)
}

// newFake returns a limiter on a fake clock.
func newFake(t *testing.T, limit int, window time.Duration, opts ...Option) (*Limiter, *fakeClock) {
	t.Helper()
	clk := newFakeClock()
	l, err := New(limit, window, append(opts, WithClock(clk))...)
	require.NoError(t, err)
	return l, clk
}

// takeNow makes n calls that must start at once, without queueing.
func takeNow(t *testing.T, l *Limiter, n int) {
	t.Helper()
	// The fake clock will not move, so a call that waits would wait for ever.
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	for range n {
		require.NoError(t, l.Wait(ctx))
	}
	require.Zero(t, queued(l))
}

// lastStart is the time l counted its latest start at.
func lastStart(l *Limiter) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.starts[(l.oldest+l.limit-1)%l.limit]
}

func TestNewRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		limit  int
		window time.Duration
		opts   []Option
	}{
		{"limit 0", 0, time.Second, nil},
		{"negative limit", -1, time.Second, nil},
		{"window 0", 10, 0, nil},
		{"negative window", 10, -time.Second, nil},
		{"negative margin", 10, time.Second, []Option{WithMargin(-time.Nanosecond)}},
		{"margin overflows", 10, time.Second, []Option{WithMargin(math.MaxInt64)}},
		{"nil clock", 10, time.Second, []Option{WithClock(nil)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l, err := New(tt.limit, tt.window, tt.opts...)
			require.Error(t, err)
			assert.Nil(t, l)
			assert.Contains(t, err.Error(), "ratelimit:")
		})
	}
}

func TestNewAccepts(t *testing.T) {
	t.Parallel()
	l, err := New(1, time.Nanosecond, WithMargin(0), nil, WithClock(newFakeClock()))
	require.NoError(t, err)
	require.NotNil(t, l)
	assert.Equal(t, time.Nanosecond, l.span)

	// The last WithMargin wins rather than adding up.
	l, err = New(10, time.Second, WithMargin(time.Second), WithMargin(40*time.Millisecond))
	require.NoError(t, err)
	assert.Equal(t, 1040*time.Millisecond, l.span)
}

// TestWindowBoundary: once limit requests have started together, the next starts exactly
// window+margin later, not a nanosecond sooner.
func TestWindowBoundary(t *testing.T) {
	t.Parallel()
	tests := []struct {
		limit  int
		margin time.Duration
	}{
		{1, 0},
		{3, 0},
		{10, 0},
		{10, 40 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("limit=%d,margin=%v", tt.limit, tt.margin), func(t *testing.T) {
			t.Parallel()
			l, clk := newFake(t, tt.limit, time.Second, WithMargin(tt.margin))
			t0 := clk.Now()
			takeNow(t, l, tt.limit)

			out := make(chan result, 1)
			goWait(context.Background(), l, clk, 0, out)
			waitFor(t, "the waiter sets its timer", func() bool { return clk.pending() == 1 })
			clk.Advance(time.Second + tt.margin - time.Nanosecond)
			// No timer is due, so nothing can have woken: the checks are not a race.
			require.Equal(t, 1, clk.pending(), "the waiter's timer fired before window+margin")
			require.Empty(t, out, "started before window+margin had passed")
			clk.Advance(time.Nanosecond)
			r := recv(t, out)
			require.NoError(t, r.err)
			assert.Equal(t, t0.Add(time.Second+tt.margin), r.at)
			assert.Equal(t, t0.Add(time.Second+tt.margin), lastStart(l), "the start counted")
		})
	}
}

// TestSlidingWindow: the window slides with each start rather than resetting on a boundary.
func TestSlidingWindow(t *testing.T) {
	t.Parallel()
	l, clk := newFake(t, 2, time.Second)
	t0 := clk.Now()
	takeNow(t, l, 1)
	clk.Advance(300 * time.Millisecond)
	takeNow(t, l, 1)

	out := make(chan result, 2)
	goWait(context.Background(), l, clk, 2, out)
	waitFor(t, "third waiter queued", func() bool { return queued(l) == 1 })
	goWait(context.Background(), l, clk, 3, out)
	waitFor(t, "fourth waiter queued", func() bool { return queued(l) == 2 })

	for _, want := range []time.Duration{time.Second, 1300 * time.Millisecond} {
		waitFor(t, "the head sets its timer", func() bool { return clk.pending() == 1 })
		clk.Advance(t0.Add(want).Sub(clk.Now()) - time.Nanosecond)
		require.Empty(t, out, "started before %v", want)
		clk.Advance(time.Nanosecond)
		r := recv(t, out)
		require.NoError(t, r.err)
		assert.Equal(t, t0.Add(want), r.at)
	}
}

// TestFIFO: waiters start in the order they called Wait.
func TestFIFO(t *testing.T) {
	t.Parallel()
	const n = 8
	l, clk := newFake(t, 1, time.Second)
	t0 := clk.Now()
	takeNow(t, l, 1)

	out := make(chan result, n)
	for i := range n {
		goWait(context.Background(), l, clk, i, out)
		// Wait until this one is queued so that the order of the calls is known.
		waitFor(t, "waiter queued", func() bool { return queued(l) == i+1 })
	}
	for i := range n {
		waitFor(t, "the head sets its timer", func() bool { return clk.pending() == 1 })
		clk.Advance(time.Second)
		r := recv(t, out)
		require.NoError(t, r.err)
		assert.Equal(t, i, r.id, "start %d went to waiter %d", i, r.id)
		assert.Equal(t, t0.Add(time.Duration(i+1)*time.Second), r.at)
	}
	assert.Zero(t, queued(l))
}

// TestNoOvertaking: a caller that comes while others wait queues behind them even when a start
// is free at that moment (the head's timer is late), so the head is not starved.
func TestNoOvertaking(t *testing.T) {
	t.Parallel()
	l, clk := newFake(t, 1, time.Second)
	t0 := clk.Now()
	takeNow(t, l, 1)

	out := make(chan result, 2)
	goWait(context.Background(), l, clk, 0, out)
	waitFor(t, "the head sets its timer", func() bool { return clk.pending() == 1 })
	clk.Shift(time.Second) // a start is free, but the head has not woken yet
	goWait(context.Background(), l, clk, 1, out)
	waitFor(t, "the newcomer queues or starts", func() bool { return queued(l) == 2 || len(out) > 0 })
	require.Empty(t, out, "the newcomer overtook the head")

	clk.Fire()
	r := recv(t, out)
	require.NoError(t, r.err)
	assert.Equal(t, 0, r.id)
	assert.Equal(t, t0.Add(time.Second), r.at)
	waitFor(t, "the newcomer sets its timer", func() bool { return clk.pending() == 1 })
	clk.Advance(time.Second)
	r = recv(t, out)
	require.NoError(t, r.err)
	assert.Equal(t, 1, r.id)
	assert.Equal(t, t0.Add(2*time.Second), r.at)
}

// TestCancel: a cancelled waiter returns ctx.Err() at once, counts no start and leaves its turn
// to the next waiter at the time it would have had it.
func TestCancel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		cancel int // which of the three queued waiters is cancelled
	}{
		{"head", 0},
		{"middle", 1},
		{"last", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l, clk := newFake(t, 1, time.Second)
			t0 := clk.Now()
			takeNow(t, l, 1)

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			out := make(chan result, 3)
			for i := range 3 {
				c := context.Background()
				if i == tt.cancel {
					c = ctx
				}
				goWait(c, l, clk, i, out)
				waitFor(t, "waiter queued", func() bool { return queued(l) == i+1 })
			}
			waitFor(t, "the head sets its timer", func() bool { return clk.pending() == 1 })

			cancel()
			r := recv(t, out)
			assert.Equal(t, tt.cancel, r.id)
			require.ErrorIs(t, r.err, context.Canceled)
			assert.Equal(t, t0, r.at, "returned only once the clock moved")
			waitFor(t, "the cancelled waiter left the queue", func() bool { return queued(l) == 2 })

			// The two others start one window apart from t0, as if the cancelled one had
			// never come: its turn is not lost, and it took no start.
			for k := 1; k <= 2; k++ {
				waitFor(t, "the head sets its timer", func() bool { return clk.pending() == 1 })
				clk.Advance(time.Second)
				r := recv(t, out)
				require.NoError(t, r.err)
				assert.NotEqual(t, tt.cancel, r.id)
				assert.Equal(t, t0.Add(time.Duration(k)*time.Second), r.at)
			}
			assert.Zero(t, queued(l))
			assert.Zero(t, clk.pending(), "a timer was left running")
		})
	}
}

// TestDoneContext: a context that has already ended gets its error, even when a start is
// free, and does not use that start.
func TestDoneContext(t *testing.T) {
	t.Parallel()
	l, clk := newFake(t, 1, time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, l.Wait(ctx), context.Canceled)

	t0 := clk.Now()
	takeNow(t, l, 1) // the only start of the window is still free
	out := make(chan result, 1)
	goWait(context.Background(), l, clk, 0, out)
	waitFor(t, "the waiter sets its timer", func() bool { return clk.pending() == 1 })
	clk.Advance(time.Second)
	r := recv(t, out)
	require.NoError(t, r.err)
	assert.Equal(t, t0.Add(time.Second), r.at)
}

// TestDeadlineWhileWaiting uses the real clock: waiters whose deadline passes while queued
// return context.DeadlineExceeded and leave nothing behind.
func TestDeadlineWhileWaiting(t *testing.T) {
	t.Parallel()
	l, err := New(1, time.Hour)
	require.NoError(t, err)
	require.NoError(t, l.Wait(context.Background()))

	const n = 5
	errs := make(chan error, n)
	for range n {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
			defer cancel()
			errs <- l.Wait(ctx)
		}()
	}
	for range n {
		select {
		case err := <-errs:
			require.True(t, errors.Is(err, context.DeadlineExceeded), "got %v", err)
		case <-time.After(guard):
			t.Fatal("a waiter did not return after its deadline")
		}
	}
	assert.Zero(t, queued(l))
}

package ratelimit

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Fill makes the window full now: the next start comes window+margin later, however few
// starts were counted before, and starts counted later than now keep their time.
func TestFill(t *testing.T) {
	t.Parallel()
	l, clk := newFake(t, 3, time.Second, WithMargin(40*time.Millisecond))
	takeNow(t, l, 1)
	clk.Advance(500 * time.Millisecond)
	filled := clk.Now()
	l.Fill()
	assert.Equal(t, []time.Duration{0, 0, 0}, l.Recent(), "three starts counted now")

	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	out := make(chan result, 1)
	goWait(ctx, l, clk, 1, out)
	waitFor(t, "the caller waits", func() bool { return clk.pending() == 1 })
	clk.Advance(1040*time.Millisecond - time.Nanosecond)
	require.Equal(t, 1, clk.pending(), "no start before window+margin after Fill")
	clk.Advance(time.Nanosecond)
	r := recv(t, out)
	require.NoError(t, r.err)
	assert.Equal(t, filled.Add(1040*time.Millisecond), r.at)
	// The other two slots were filled at the same time: they are free now as well.
	takeNow(t, l, 2)
}

// A caller already waiting when Fill runs wakes at its old time, finds the window full and
// waits again instead of starting.
func TestFillDelaysAWaiter(t *testing.T) {
	t.Parallel()
	l, clk := newFake(t, 1, time.Second)
	takeNow(t, l, 1)
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	out := make(chan result, 1)
	goWait(ctx, l, clk, 1, out)
	waitFor(t, "the caller waits", func() bool { return clk.pending() == 1 })
	clk.Shift(500 * time.Millisecond)
	l.Fill()
	filled := clk.Now()
	clk.Advance(500 * time.Millisecond) // the waiter's first timer fires
	waitFor(t, "the caller waits again", func() bool { return clk.pending() == 1 })
	select {
	case r := <-out:
		t.Fatalf("started at %v, within the window Fill counted", r.at)
	default:
	}
	clk.Advance(500 * time.Millisecond)
	r := recv(t, out)
	require.NoError(t, r.err)
	assert.Equal(t, filled.Add(time.Second), r.at)
}

// Recent lists the starts still inside window+margin, oldest first, as ages.
func TestRecent(t *testing.T) {
	t.Parallel()
	l, clk := newFake(t, 4, time.Second, WithMargin(100*time.Millisecond))
	assert.Empty(t, l.Recent(), "no start yet")
	takeNow(t, l, 1)
	clk.Advance(600 * time.Millisecond)
	takeNow(t, l, 2)
	clk.Advance(400 * time.Millisecond)
	assert.Equal(t, []time.Duration{time.Second, 400 * time.Millisecond, 400 * time.Millisecond}, l.Recent())
	clk.Advance(100 * time.Millisecond)
	assert.Equal(t, []time.Duration{500 * time.Millisecond, 500 * time.Millisecond}, l.Recent(),
		"a start window+margin old no longer counts")
}

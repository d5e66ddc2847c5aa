// Package ratelimit provides a sliding-window rate limiter: at most limit requests start in any
// window-long interval. It is the default limiter of the EchelonPay client (DESIGN.md, reliability
// rule 3) and the fallback of a shared limiter whose store is unreachable.
//
// A token bucket (golang.org/x/time/rate) cannot keep that promise: a full bucket of burst 10
// refilling at 10/s lets 10 requests through at once and about 10 more within the same second,
// and EchelonPay, which counts arrivals in a sliding 1-second window, answers 429 past 10.
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"
)

// Limiter lets at most limit requests start in any half-open interval of window+margin (see
// WithMargin), a start being the moment Wait returns nil: each start comes at least
// window+margin after the one limit places before it. Callers that must wait are served in the
// order they called Wait. It is safe for concurrent use and runs no goroutine of its own; build
// one with New.
//
// For EchelonPay (10 requests per second, counted by the server in a sliding 1-second window
// when the requests arrive) use
//
//	New(10, time.Second, WithMargin(40*time.Millisecond))
//
// The margin absorbs the network: a request starts at the client when Wait returns but reaches
// the server a variable moment later, so two starts exactly one window apart may arrive less
// than a window apart. 40 ms covers the usual jitter on warm connections and still sustains
// 10 per 1.04 s = 9.6 requests/s, above the 9.5 the SDK must hold (a margin past about 50 ms
// would not). A request that first has to dial and shake hands may arrive later still; that
// rare case ends as a 429, which the transport always retries.
type Limiter struct {
	limit  int
	margin time.Duration
	span   time.Duration // window + margin: the shortest time between a start and the limit-th next
	clock  Clock

	mu sync.Mutex
	// starts is a ring of the last limit start times; oldest indexes the earliest of them,
	// which is the one the next start must be span after. Zero times, never used yet, are
	// far enough in the past to allow a start.
	starts []time.Time
	oldest int
	// queue holds one channel per waiting caller, in arrival order. Only the head may start
	// next; its channel is closed when it becomes the head.
	queue []chan struct{}
}

// Clock is the time source of a Limiter; tests swap it with WithClock for one they advance by
// hand.
type Clock interface {
	Now() time.Time
	// NewTimer returns a channel that receives once d has passed, and a function that stops
	// the timer.
	NewTimer(d time.Duration) (<-chan time.Time, func() bool)
}

// Option configures a Limiter built by New.
type Option func(*Limiter)

// WithMargin adds d to the shortest time between a start and the limit-th next, to absorb the
// variable delay between a start at the client and its arrival at the server. d must not be
// negative.
func WithMargin(d time.Duration) Option { return func(l *Limiter) { l.margin = d } }

// WithClock makes the Limiter read the time and set its timers through c instead of the time
// package.
func WithClock(c Clock) Option { return func(l *Limiter) { l.clock = c } }

// New returns a Limiter that lets at most limit requests start in any window-long interval
// (widened by WithMargin). It returns an error, never panics, when limit < 1, window <= 0, the
// margin is negative or the clock is nil.
func New(limit int, window time.Duration, opts ...Option) (*Limiter, error) {
	if limit < 1 || window <= 0 {
		return nil, fmt.Errorf("ratelimit: New needs limit >= 1 and window > 0, got %d and %v", limit, window)
	}
	l := &Limiter{limit: limit, clock: realClock{}}
	for _, o := range opts {
		if o != nil {
			o(l)
		}
	}
	if l.margin < 0 || l.margin > math.MaxInt64-window {
		return nil, fmt.Errorf("ratelimit: WithMargin needs a margin >= 0 that fits beside the window, got %v", l.margin)
	}
	l.span = window + l.margin
	if l.clock == nil {
		return nil, errors.New("ratelimit: WithClock needs a clock, got nil")
	}
	l.starts = make([]time.Time, limit)
	return l, nil
}

// Wait blocks until the caller may start a request, then counts that start. A caller whose ctx
// ends first returns ctx.Err() at once and counts nothing: a waiter holds no reservation, only
// a place in the queue, so the turn it leaves goes to the next waiter at the same time it would
// have had it and the limit still holds.
func (l *Limiter) Wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	if len(l.queue) == 0 {
		if now := l.clock.Now(); !now.Before(l.nextStart()) {
			l.record(now)
			l.mu.Unlock()
			return nil
		}
	}
	turn := make(chan struct{})
	l.queue = append(l.queue, turn)
	if len(l.queue) == 1 {
		close(turn)
	}
	l.mu.Unlock()

	select {
	case <-turn:
	case <-ctx.Done():
		l.leave(turn)
		return ctx.Err()
	}
	// This caller is the head now; nobody else records a start until it leaves, so the time
	// it waits for can only move later (Fill). The loop guards against that and against a
	// timer that fires early.
	for {
		l.mu.Lock()
		now, at := l.clock.Now(), l.nextStart()
		if !now.Before(at) {
			// The start is taken under the lock from the same reading that was checked, so a
			// late timer only makes starts later, never closer together.
			l.record(now)
			l.removeLocked(turn)
			l.mu.Unlock()
			return nil
		}
		l.mu.Unlock()
		fired, stop := l.clock.NewTimer(at.Sub(now))
		select {
		case <-fired:
		case <-ctx.Done():
			stop()
			l.leave(turn)
			return ctx.Err()
		}
	}
}

// Fill counts the window as full now: every start counted before now is moved to now, as if
// limit requests had just started, so the next start comes window+margin from now (a waiter
// already sleeping sees the later time when it wakes and waits again). A limiter shared
// through a store that fails falls back to a local one and fills it: the others may have
// used the whole of the last window there, and it cannot ask how much.
func (l *Limiter) Fill() {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.Now()
	// From oldest on, the ring is in time order, so the starts moved form a prefix of it and
	// it stays in order.
	for i := range l.limit {
		j := (l.oldest + i) % l.limit
		if l.starts[j].Before(now) {
			l.starts[j] = now
		}
	}
}

// Recent returns how long ago each start still inside the window (window+margin) happened,
// oldest first, those counted by Fill included: what a shared limiter returning to its store
// must count there.
func (l *Limiter) Recent() []time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.Now()
	var ages []time.Duration
	for i := range l.limit {
		t := l.starts[(l.oldest+i)%l.limit]
		if t.IsZero() {
			continue
		}
		if age := now.Sub(t); age < l.span {
			ages = append(ages, max(age, 0))
		}
	}
	return ages
}

// nextStart is the earliest time the next start may happen. l.mu must be held.
func (l *Limiter) nextStart() time.Time { return l.starts[l.oldest].Add(l.span) }

// record counts a start at t. l.mu must be held.
func (l *Limiter) record(t time.Time) {
	l.starts[l.oldest] = t
	l.oldest = (l.oldest + 1) % l.limit
}

// leave takes a cancelled waiter out of the queue.
func (l *Limiter) leave(turn chan struct{}) {
	l.mu.Lock()
	l.removeLocked(turn)
	l.mu.Unlock()
}

// removeLocked takes turn out of the queue and, when it was the head, hands the turn to the next
// waiter. l.mu must be held.
func (l *Limiter) removeLocked(turn chan struct{}) {
	i := slices.Index(l.queue, turn)
	if i < 0 {
		return
	}
	l.queue = slices.Delete(l.queue, i, i+1)
	if i == 0 && len(l.queue) > 0 {
		close(l.queue[0])
	}
}

// realClock is the time package.
type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) NewTimer(d time.Duration) (<-chan time.Time, func() bool) {
	t := time.NewTimer(d)
	return t.C, t.Stop
}

// Package token caches a bearer token and refreshes it before it expires. One refresh runs at
// a time however many callers need a token (singleflight), and there is no background
// goroutine: a refresh happens inside the call that finds the token due.
package token

import (
	"context"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// Token is a bearer token and the moment it stops being valid.
type Token struct {
	Value     string
	ExpiresAt time.Time
}

// FetchFunc asks the provider for a new token.
type FetchFunc func(ctx context.Context) (Token, error)

// MaxMargin is the longest a token is refreshed ahead of its expiry. A token is refreshed
// min(MaxMargin, a tenth of its lifetime) before ExpiresAt, so a short-lived token is not
// refreshed on every call.
const MaxMargin = 60 * time.Second

// fetchTimeout bounds one fetch, which runs without its first caller's cancellation.
const fetchTimeout = 60 * time.Second

// Source hands out a cached token, fetching a new one when none is cached, when the cached one
// is due, or after Invalidate. It is safe for concurrent use.
type Source struct {
	fetch FetchFunc
	group singleflight.Group
	// now is the clock, time.Now outside tests; a field rather than a package variable so
	// that tests moving time can run in parallel.
	now func() time.Time
	// Test hooks, nil outside tests: afterMiss runs when a caller found no usable token,
	// before it asks for a fetch; beforeWait runs once it waits for the fetch's result.
	afterMiss, beforeWait func()

	// observe, when set (ObserveFetches), is told of each wait for a fetch.
	observe func(ctx context.Context, waited time.Duration, shared bool, err error)

	mu      sync.Mutex
	current Token
	renewAt time.Time
}

// ObserveFetches makes s call fn whenever a caller of Token found no usable token and waited
// for a fetch (shared: the fetch served more callers than this one), with how long it waited and
// the fetch's error, in the caller's goroutine and with its ctx. Call it before s is used.
func (s *Source) ObserveFetches(fn func(ctx context.Context, waited time.Duration, shared bool, err error)) {
	s.observe = fn
}

// NewSource returns a Source that gets its tokens from fetch.
func NewSource(fetch FetchFunc) *Source { return &Source{fetch: fetch, now: time.Now} }

// cached returns the cached token when one is held and not yet due.
func (s *Source) cached() (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.current.Value != "" && s.now().Before(s.renewAt) {
		return s.current.Value, true
	}
	return "", false
}

// Token returns a valid token, fetching one if needed. Concurrent callers share one fetch.
// When a refresh ahead of expiry fails while the cached token is still valid, Token returns
// that token, and the next call tries the refresh again.
func (s *Source) Token(ctx context.Context) (string, error) {
	if v, ok := s.cached(); ok {
		return v, nil
	}
	if s.afterMiss != nil {
		s.afterMiss()
	}
	if s.observe != nil {
		start := time.Now()
		v, shared, err := s.wait(ctx)
		s.observe(ctx, time.Since(start), shared, err)
		return v, err
	}
	v, _, err := s.wait(ctx)
	return v, err
}

// wait gets a token through the fetch group: it starts a fetch or joins the one running
// (shared), and waits for it or for ctx's end.
func (s *Source) wait(ctx context.Context) (string, bool, error) {

	// The fetch runs without the first caller's cancellation, so that one impatient caller
	// cannot fail the fetch for everyone waiting on it; each caller still stops waiting when
	// its own context ends.
	ch := s.group.DoChan("token", func() (any, error) {
		// A caller that found the token due may reach DoChan only after another caller's
		// fetch has finished and left the group; the token that fetch stored serves it.
		if v, ok := s.cached(); ok {
			return v, nil
		}
		fetchCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fetchTimeout)
		defer cancel()
		start := s.now()
		t, err := s.fetch(fetchCtx)
		s.mu.Lock()
		defer s.mu.Unlock()
		if err != nil {
			// The refresh ran ahead of expiry: a token that is still valid beats an error.
			if s.current.Value != "" && s.now().Before(s.current.ExpiresAt) {
				return s.current.Value, nil
			}
			return "", err
		}
		margin := min(max(t.ExpiresAt.Sub(start)/10, 0), MaxMargin)
		s.current = t
		s.renewAt = t.ExpiresAt.Add(-margin)
		if t.ExpiresAt.IsZero() {
			// No expiry given: keep the token until the provider refuses it (a 401 calls
			// Invalidate), rather than fetching a new one for every call.
			s.renewAt = time.Unix(1<<62, 0)
		}
		return t.Value, nil
	})
	if s.beforeWait != nil {
		s.beforeWait()
	}
	select {
	case res := <-ch:
		if res.Err != nil {
			return "", res.Shared, res.Err
		}
		return res.Val.(string), res.Shared, nil
	case <-ctx.Done():
		return "", false, ctx.Err()
	}
}

// Fresh reports whether value is the cached token and not yet due for refresh. A caller that
// got value and then waited (for its turn on a rate limiter) asks before sending it: a token
// that became due meanwhile, or was invalidated, is better fetched again than sent into a
// likely 401 or an expiry in flight.
func (s *Source) Fresh(value string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return value != "" && s.current.Value == value && s.now().Before(s.renewAt)
}

// Invalidate drops the cached token if it is still value, e.g. after the provider answered
// 401 to it. A token refreshed meanwhile by another caller is kept, so a burst of 401s on one
// stale token causes one refresh, not one each.
func (s *Source) Invalidate(value string) {
	s.mu.Lock()
	if s.current.Value == value {
		s.current = Token{}
	}
	s.mu.Unlock()
}

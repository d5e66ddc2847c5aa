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

// now is swappable so tests can move time.
var now = time.Now

// Source hands out a cached token, fetching a new one when none is cached, when the cached one
// is due, or after Invalidate. It is safe for concurrent use.
type Source struct {
	fetch FetchFunc
	group singleflight.Group

	mu      sync.Mutex
	current Token
	renewAt time.Time
}

// NewSource returns a Source that gets its tokens from fetch.
func NewSource(fetch FetchFunc) *Source { return &Source{fetch: fetch} }

// Token returns a valid token, fetching one if needed. Concurrent callers share one fetch.
func (s *Source) Token(ctx context.Context) (string, error) {
	s.mu.Lock()
	if s.current.Value != "" && now().Before(s.renewAt) {
		v := s.current.Value
		s.mu.Unlock()
		return v, nil
	}
	s.mu.Unlock()

	// The fetch runs without the first caller's cancellation, so that one impatient caller
	// cannot fail the fetch for everyone waiting on it; each caller still stops waiting when
	// its own context ends.
	ch := s.group.DoChan("token", func() (any, error) {
		fetchCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 60*time.Second)
		defer cancel()
		start := now()
		t, err := s.fetch(fetchCtx)
		if err != nil {
			return "", err
		}
		margin := min(max(t.ExpiresAt.Sub(start)/10, 0), MaxMargin)
		s.mu.Lock()
		s.current = t
		s.renewAt = t.ExpiresAt.Add(-margin)
		s.mu.Unlock()
		return t.Value, nil
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return "", res.Err
		}
		return res.Val.(string), nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
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

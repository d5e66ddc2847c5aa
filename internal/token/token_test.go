package token

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// guard bounds every wait in these tests; it only turns a hang into a failure.
const guard = 10 * time.Second

// fakeClock is a clock the test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// fakeIssuer issues tokens "t1", "t2", … valid for lifetime from the clock's now, and counts
// its fetches. When gate is set, each fetch first signals entered and then waits for gate.
type fakeIssuer struct {
	clock    *fakeClock
	lifetime time.Duration
	fetches  atomic.Int64
	fail     atomic.Pointer[error]

	gate    chan struct{}
	entered chan struct{}
}

func (f *fakeIssuer) fetch(ctx context.Context) (Token, error) {
	n := f.fetches.Add(1)
	if f.entered != nil {
		f.entered <- struct{}{}
	}
	if f.gate != nil {
		<-f.gate
	}
	if err := ctx.Err(); err != nil {
		return Token{}, fmt.Errorf("fetch context ended: %w", err)
	}
	if e := f.fail.Load(); e != nil {
		return Token{}, *e
	}
	return Token{Value: fmt.Sprintf("t%d", n), ExpiresAt: f.clock.Now().Add(f.lifetime)}, nil
}

func newTestSource(f *fakeIssuer) *Source {
	s := NewSource(f.fetch)
	s.now = f.clock.Now
	return s
}

// concurrentTokens calls s.Token from n goroutines that start together and returns what
// each got.
func concurrentTokens(t *testing.T, s *Source, n int) ([]string, []error) {
	t.Helper()
	vals := make([]string, n)
	errs := make([]error, n)
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			vals[i], errs[i] = s.Token(context.Background())
		}()
	}
	ready.Wait()
	close(start)
	waitGroup(t, &done)
	return vals, errs
}

// overlapFetch makes the next fetch of f wait until n callers of s wait for a fetch's
// result, so that all n overlap one fetch. Call it before starting the callers.
func overlapFetch(t *testing.T, s *Source, f *fakeIssuer, n int) {
	t.Helper()
	var waiting sync.WaitGroup
	waiting.Add(n)
	s.beforeWait = waiting.Done
	gate := make(chan struct{})
	f.gate = gate
	go func() {
		waiting.Wait()
		close(gate)
	}()
}

func waitGroup(t *testing.T, wg *sync.WaitGroup) {
	t.Helper()
	ch := make(chan struct{})
	go func() { wg.Wait(); close(ch) }()
	select {
	case <-ch:
	case <-time.After(guard):
		t.Fatal("callers did not return")
	}
}

func requireAll(t *testing.T, vals []string, errs []error, want string) {
	t.Helper()
	for i := range vals {
		if errs[i] != nil || vals[i] != want {
			t.Fatalf("caller %d got (%q, %v), want (%q, nil)", i, vals[i], errs[i], want)
		}
	}
}

func TestConcurrentCallersShareOneFetch(t *testing.T) {
	t.Parallel()
	f := &fakeIssuer{clock: newFakeClock(), lifetime: time.Hour}
	s := newTestSource(f)
	overlapFetch(t, s, f, 100)
	vals, errs := concurrentTokens(t, s, 100)
	requireAll(t, vals, errs, "t1")
	if got := f.fetches.Load(); got != 1 {
		t.Fatalf("fetches = %d, want 1", got)
	}
}

// TestLateCallerUsesStoredToken covers a caller that found no token, then reached the fetch
// only after another caller's fetch had finished: it must get that token, not fetch again.
func TestLateCallerUsesStoredToken(t *testing.T) {
	t.Parallel()
	f := &fakeIssuer{clock: newFakeClock(), lifetime: time.Hour}
	s := newTestSource(f)
	missed := make(chan struct{})
	proceed := make(chan struct{})
	var calls atomic.Int64
	s.afterMiss = func() {
		if calls.Add(1) == 1 {
			close(missed)
			<-proceed
		}
	}
	late := make(chan string, 1)
	go func() {
		v, err := s.Token(context.Background())
		if err != nil {
			v = "error: " + err.Error()
		}
		late <- v
	}()
	select {
	case <-missed:
	case <-time.After(guard):
		t.Fatal("the late caller did not miss the cache")
	}
	if v, err := s.Token(context.Background()); err != nil || v != "t1" {
		t.Fatalf("Token = (%q, %v), want t1", v, err)
	}
	close(proceed)
	select {
	case v := <-late:
		if v != "t1" {
			t.Fatalf("late caller got %q, want t1", v)
		}
	case <-time.After(guard):
		t.Fatal("late caller did not return")
	}
	if got := f.fetches.Load(); got != 1 {
		t.Fatalf("fetches = %d, want 1", got)
	}
}

func TestRefreshBeforeExpiry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		lifetime, margin time.Duration
	}{
		{time.Hour, 60 * time.Second},        // capped at MaxMargin
		{10 * time.Minute, 60 * time.Second}, // a tenth is exactly MaxMargin
		{100 * time.Second, 10 * time.Second},
		{5 * time.Second, 500 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.lifetime.String(), func(t *testing.T) {
			t.Parallel()
			clock := newFakeClock()
			f := &fakeIssuer{clock: clock, lifetime: tt.lifetime}
			s := newTestSource(f)
			t0 := clock.Now()
			if v, err := s.Token(context.Background()); err != nil || v != "t1" {
				t.Fatalf("first Token = (%q, %v), want t1", v, err)
			}
			renewAt := t0.Add(tt.lifetime - tt.margin)

			clock.Set(renewAt.Add(-time.Nanosecond))
			vals, errs := concurrentTokens(t, s, 100)
			requireAll(t, vals, errs, "t1")
			if got := f.fetches.Load(); got != 1 {
				t.Fatalf("just before the refresh point: fetches = %d, want 1", got)
			}

			clock.Set(renewAt)
			vals, errs = concurrentTokens(t, s, 100)
			requireAll(t, vals, errs, "t2")
			if got := f.fetches.Load(); got != 2 {
				t.Fatalf("at the refresh point: fetches = %d, want 2", got)
			}
		})
	}
}

func TestInvalidateRefreshesOnce(t *testing.T) {
	t.Parallel()
	f := &fakeIssuer{clock: newFakeClock(), lifetime: time.Hour}
	s := newTestSource(f)
	old, err := s.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// A burst of 401s on the same token: every caller invalidates it, then asks again.
	overlapFetch(t, s, f, 100)
	var done sync.WaitGroup
	vals := make([]string, 100)
	errs := make([]error, 100)
	for i := range vals {
		done.Add(1)
		go func() {
			defer done.Done()
			s.Invalidate(old)
			vals[i], errs[i] = s.Token(context.Background())
		}()
	}
	waitGroup(t, &done)
	requireAll(t, vals, errs, "t2")
	if got := f.fetches.Load(); got != 2 {
		t.Fatalf("fetches = %d, want 2 (the first and one refresh)", got)
	}
}

func TestInvalidateReplacedTokenDoesNothing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		invalidate string
	}{
		{"replaced token", "t1"},
		{"never issued", "bogus"},
		{"empty", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := &fakeIssuer{clock: newFakeClock(), lifetime: time.Hour}
			s := newTestSource(f)
			ctx := context.Background()
			if _, err := s.Token(ctx); err != nil {
				t.Fatal(err)
			}
			s.Invalidate("t1")
			if v, err := s.Token(ctx); err != nil || v != "t2" {
				t.Fatalf("after Invalidate(t1): Token = (%q, %v), want t2", v, err)
			}
			s.Invalidate(tt.invalidate)
			if v, err := s.Token(ctx); err != nil || v != "t2" {
				t.Fatalf("after Invalidate(%q): Token = (%q, %v), want t2", tt.invalidate, v, err)
			}
			if got := f.fetches.Load(); got != 2 {
				t.Fatalf("fetches = %d, want 2", got)
			}
		})
	}
}

func TestFetchErrorReachesEveryCallerAndNextCallRetries(t *testing.T) {
	t.Parallel()
	f := &fakeIssuer{clock: newFakeClock(), lifetime: time.Hour}
	errBoom := errors.New("boom")
	f.fail.Store(&errBoom)
	s := newTestSource(f)

	vals, errs := concurrentTokens(t, s, 50)
	for i := range errs {
		if !errors.Is(errs[i], errBoom) || vals[i] != "" {
			t.Fatalf("caller %d got (%q, %v), want the fetch error", i, vals[i], errs[i])
		}
	}
	failed := f.fetches.Load()
	if failed < 1 || failed > 50 {
		t.Fatalf("fetches = %d, want between 1 and 50", failed)
	}

	f.fail.Store(nil)
	v, err := s.Token(context.Background())
	if err != nil || v == "" {
		t.Fatalf("after the error: Token = (%q, %v), want a token", v, err)
	}
	if got := f.fetches.Load(); got != failed+1 {
		t.Fatalf("fetches = %d, want %d (one new attempt)", got, failed+1)
	}
}

func TestFailedEarlyRefreshKeepsValidToken(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	f := &fakeIssuer{clock: clock, lifetime: time.Hour}
	s := newTestSource(f)
	t0 := clock.Now()
	ctx := context.Background()
	if _, err := s.Token(ctx); err != nil {
		t.Fatal(err)
	}
	errBoom := errors.New("boom")
	f.fail.Store(&errBoom)

	// Past the refresh point, before expiry: the refresh fails, the valid token serves.
	clock.Set(t0.Add(time.Hour - time.Second))
	if v, err := s.Token(ctx); err != nil || v != "t1" {
		t.Fatalf("refresh failing before expiry: Token = (%q, %v), want (t1, nil)", v, err)
	}
	if got := f.fetches.Load(); got != 2 {
		t.Fatalf("fetches = %d, want 2 (the refresh was tried)", got)
	}
	// At expiry the old token is no use: the error comes through.
	clock.Set(t0.Add(time.Hour))
	if _, err := s.Token(ctx); !errors.Is(err, errBoom) {
		t.Fatalf("refresh failing at expiry: err = %v, want boom", err)
	}
	// An invalidated token is not handed out again either.
	f.fail.Store(nil)
	v, err := s.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f.fail.Store(&errBoom)
	s.Invalidate(v)
	if _, err := s.Token(ctx); !errors.Is(err, errBoom) {
		t.Fatalf("after Invalidate with a failing fetch: err = %v, want boom", err)
	}
}

func TestCancelledCallerReturnsWhileFetchGoesOn(t *testing.T) {
	t.Parallel()
	f := &fakeIssuer{
		clock:    newFakeClock(),
		lifetime: time.Hour,
		gate:     make(chan struct{}),
		entered:  make(chan struct{}, 1),
	}
	s := newTestSource(f)

	ctx, cancel := context.WithCancel(context.Background())
	impatient := make(chan error, 1)
	go func() {
		_, err := s.Token(ctx)
		impatient <- err
	}()
	select {
	case <-f.entered:
	case <-time.After(guard):
		t.Fatal("fetch did not start")
	}
	patient := make(chan string, 1)
	go func() {
		v, err := s.Token(context.Background())
		if err != nil {
			v = "error: " + err.Error()
		}
		patient <- v
	}()

	cancel()
	select {
	case err := <-impatient:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled caller got %v, want context.Canceled", err)
		}
	case <-time.After(guard):
		t.Fatal("cancelled caller did not return while the fetch was held")
	}

	close(f.gate)
	select {
	case v := <-patient:
		if v != "t1" {
			t.Fatalf("other caller got %q, want t1 from the fetch the cancelled caller started", v)
		}
	case <-time.After(guard):
		t.Fatal("other caller did not return")
	}
	if got := f.fetches.Load(); got != 1 {
		t.Fatalf("fetches = %d, want 1", got)
	}
	if v, err := s.Token(context.Background()); err != nil || v != "t1" {
		t.Fatalf("cached afterwards: Token = (%q, %v), want t1", v, err)
	}
}

// TestFresh: Fresh holds for the cached token until its refresh point, and not for a token that
// is due, replaced, invalidated or never issued; a token kept after a failed early refresh is
// valid but not fresh.
func TestFresh(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	f := &fakeIssuer{clock: clock, lifetime: 100 * time.Second} // margin 10 s
	s := newTestSource(f)
	t0 := clock.Now()
	ctx := context.Background()

	assert.False(t, s.Fresh(""), "empty, nothing cached")
	assert.False(t, s.Fresh("t1"), "nothing cached yet")
	v, err := s.Token(ctx)
	require.NoError(t, err)
	require.Equal(t, "t1", v)

	steps := []struct {
		name  string
		at    time.Duration // since t0
		value string
		want  bool
	}{
		{"just fetched", 0, "t1", true},
		{"another value", 0, "t2", false},
		{"empty", 0, "", false},
		{"just before the refresh point", 90*time.Second - time.Nanosecond, "t1", true},
		{"at the refresh point", 90 * time.Second, "t1", false},
		{"within the margin", 95 * time.Second, "t1", false},
		{"expired", 100 * time.Second, "t1", false},
	}
	for _, st := range steps {
		clock.Set(t0.Add(st.at))
		assert.Equal(t, st.want, s.Fresh(st.value), st.name)
	}

	// A failed early refresh hands out the still-valid token, which stays due.
	clock.Set(t0.Add(95 * time.Second))
	errBoom := errors.New("boom")
	f.fail.Store(&errBoom)
	v, err = s.Token(ctx)
	require.NoError(t, err)
	require.Equal(t, "t1", v)
	assert.False(t, s.Fresh("t1"), "kept after a failed refresh, but due")

	f.fail.Store(nil)
	v, err = s.Token(ctx)
	require.NoError(t, err)
	require.Equal(t, "t3", v) // t2 was the failed fetch
	assert.True(t, s.Fresh("t3"))
	assert.False(t, s.Fresh("t1"), "replaced")
	s.Invalidate("t3")
	assert.False(t, s.Fresh("t3"), "invalidated")
}

// A token that comes without an expiry is kept until the provider refuses it, instead of
// being fetched again for every call.
func TestTokenWithoutExpiryIsKeptUntilInvalidated(t *testing.T) {
	t.Parallel()
	var fetches atomic.Int64
	s := NewSource(func(context.Context) (Token, error) {
		n := fetches.Add(1)
		return Token{Value: fmt.Sprintf("t%d", n)}, nil
	})
	ctx := context.Background()
	for range 5 {
		v, err := s.Token(ctx)
		require.NoError(t, err)
		require.Equal(t, "t1", v)
	}
	assert.True(t, s.Fresh("t1"))
	assert.Equal(t, int64(1), fetches.Load())
	s.Invalidate("t1")
	v, err := s.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, "t2", v)
}

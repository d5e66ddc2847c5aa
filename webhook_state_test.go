package paykit

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A notification without a signed key is claimed under the fetched state: the unsigned
// words of a replay cannot make fn run again, and a real change of state always does.
func TestWebhookUnsignedNotificationsKeyOnFetchedState(t *testing.T) {
	t.Parallel()
	steps := []struct {
		name      string
		status    Status
		captured  int64
		body      string
		wantBody  string
		wantCalls int64
	}{
		{"pending", StatusPending, 0, note("pay-1", "Pending", ""), "ok\n", 1},
		{"replay with another word, same state", StatusPending, 0, note("pay-1", "Settled", ""), "already processed\n", 1},
		{"paid", StatusSucceeded, 1000, note("pay-1", "Settled", ""), "ok\n", 2},
		{"redelivery of the paid one", StatusSucceeded, 1000, note("pay-1", "Settled", ""), "already processed\n", 2},
		{"replay of the pending one after payment", StatusSucceeded, 1000, note("pay-1", "Pending", ""), "already processed\n", 2},
		{"a capture changes only the amount", StatusPartiallyCaptured, 500, note("pay-1", "x", ""), "ok\n", 3},
		{"a second capture of the same status", StatusPartiallyCaptured, 700, note("pay-1", "x", ""), "ok\n", 4},
	}
	p := newStub()
	var c fnCounter
	h := NewWebhookHandler(p, c.fn)
	for _, st := range steps {
		p.set(func(p *stubProvider) { p.status, p.captured = st.status, st.captured })
		code, body := deliver(t, h, st.body, goodSig)
		require.Equal(t, http.StatusOK, code, st.name)
		assert.Equal(t, st.wantBody, body, st.name)
		require.Equal(t, st.wantCalls, c.calls.Load(), st.name)
	}
	// fn saw the fetched state, never the notification's own word.
	c.mu.Lock()
	defer c.mu.Unlock()
	require.Len(t, c.seen, 4)
	assert.Equal(t, StatusPending, c.seen[0].Payment.Status)
	assert.Equal(t, StatusSucceeded, c.seen[1].Payment.Status)
	assert.Equal(t, int64(700), c.seen[3].Payment.Captured.Amount)
}

// Copies of an unsigned notification arriving at once run fn once.
func TestWebhookUnsignedConcurrentCopies(t *testing.T) {
	t.Parallel()
	p := newStub()
	var c fnCounter
	h := NewWebhookHandler(p, c.fn)
	const copies = 40
	var wg sync.WaitGroup
	codes := make(chan int, copies)
	for range copies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, _ := deliver(t, h, note("pay-9", "Settled", ""), goodSig)
			codes <- code
		}()
	}
	wg.Wait()
	close(codes)
	for code := range codes {
		assert.Equal(t, http.StatusOK, code)
	}
	assert.Equal(t, int64(1), c.calls.Load())
}

// bodyProvider is a stub whose ParseNotification reads its body with ReadNotificationBody,
// as the provider packages do.
type bodyProvider struct {
	*stubProvider
	got int
}

func (p *bodyProvider) ParseNotification(r *http.Request) (*Notification, error) {
	body, err := ReadNotificationBody(r)
	if err != nil {
		return nil, err
	}
	p.got = len(body)
	return &Notification{Provider: p.name, PaymentID: "pay-1", DedupKey: "k"}, nil
}

// WithMaxBodyBytes reaches the provider's parser: a 2 MiB notification under a 4 MiB limit
// is read whole, and ReadNotificationBody bounds direct callers by the default.
func TestReadNotificationBodyFollowsTheHandlerLimit(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", 2<<20)

	p := &bodyProvider{stubProvider: newStub()}
	var c fnCounter
	h := NewWebhookHandler(p, c.fn, WithMaxBodyBytes(4<<20))
	code, _ := deliver(t, h, big, goodSig)
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, len(big), p.got)

	small := NewWebhookHandler(&bodyProvider{stubProvider: newStub()}, c.fn, WithMaxBodyBytes(1<<20))
	code, _ = deliver(t, small, big, goodSig)
	assert.Equal(t, http.StatusRequestEntityTooLarge, code)

	// Outside a handler the default applies.
	r := httptest.NewRequest(http.MethodPost, "/", io.NopCloser(strings.NewReader(big)))
	_, err := ReadNotificationBody(r)
	require.ErrorIs(t, err, ErrInvalidRequest)
	r = httptest.NewRequest(http.MethodPost, "/", strings.NewReader(big[:DefaultMaxBodyBytes]))
	body, err := ReadNotificationBody(r)
	require.NoError(t, err)
	assert.Len(t, body, DefaultMaxBodyBytes)
}

// The memory store drops processed keys in the order they expire, at the next claim: its cost
// does not grow with the number of keys it keeps.
func TestMemoryDedupStorePrunesInOrder(t *testing.T) {
	saved := now
	t.Cleanup(func() { now = saved })
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := t0
	now = func() time.Time { return clock }
	ctx := context.Background()
	s := NewMemoryDedupStore(time.Hour).(*memoryDedupStore)
	for i, key := range []string{"k0", "k1", "k2"} {
		clock = t0.Add(time.Duration(i) * time.Minute)
		_, err := s.Claim(ctx, key)
		require.NoError(t, err)
		require.NoError(t, s.Finish(ctx, key, true))
	}
	clock = t0.Add(time.Hour + time.Minute + time.Second) // k0 and k1 are past the retention
	done, err := s.Claim(ctx, "new")
	require.NoError(t, err)
	require.False(t, done)
	s.mu.Lock()
	_, k0 := s.entries["k0"]
	_, k1 := s.entries["k1"]
	_, k2 := s.entries["k2"]
	left := len(s.done)
	s.mu.Unlock()
	assert.False(t, k0)
	assert.False(t, k1)
	assert.True(t, k2)
	assert.Equal(t, 1, left)
}

package paykit

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// caseVariants returns id with its letters in n other cases.
func caseVariants(id string, n int) []string {
	var out []string
	for mask := 1; len(out) < n; mask++ {
		b := []byte(id)
		bit := 0
		for i, c := range b {
			if c >= 'a' && c <= 'z' {
				if mask&(1<<bit) != 0 {
					b[i] = c - 'a' + 'A'
				}
				bit++
			}
		}
		out = append(out, string(b))
	}
	return out
}

// A provider that compares ids ignoring case (eCredits) verifies every case variant of a
// notification; the handler keys on the fetched payment's canonical id, so none of the
// replays runs fn again, and fn sees the canonical id.
func TestWebhookReplayInAnotherCaseRunsFnOnce(t *testing.T) {
	t.Parallel()
	const id = "70df7b42-2926-4fa7-8fed-c5805f823167"
	for _, viaRouter := range []bool{false, true} {
		p := newStub()
		p.name = "stub"
		p.set(func(p *stubProvider) { p.lower = true })
		var mu sync.Mutex
		var seen []string
		fn := func(_ context.Context, n *Notification) error {
			mu.Lock()
			defer mu.Unlock()
			seen = append(seen, n.PaymentID)
			return nil
		}
		var h http.Handler
		path := "/notify"
		if viaRouter {
			r, err := NewRouter([]Provider{p}, []Route{{Name: "all", Providers: []string{"stub"}}})
			require.NoError(t, err)
			h = r.WebhookHandler("/webhooks", fn)
			path = "/webhooks/stub"
		} else {
			h = NewWebhookHandler(p, fn)
		}
		for _, v := range append([]string{id}, caseVariants(id, 6)...) {
			req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(note(v, "paid", "")))
			req.Header.Set(sigHdr, goodSig)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			require.Equal(t, http.StatusOK, rec.Code, "router=%v id=%s: %s", viaRouter, v, rec.Body)
		}
		assert.Equal(t, []string{id}, seen, "router=%v: fn must run once, with the canonical id", viaRouter)
	}
}

func TestNewWebhookHandlerPanicsOnNil(t *testing.T) {
	t.Parallel()
	fn := func(context.Context, *Notification) error { return nil }
	var typedNil *stubProvider
	assert.PanicsWithValue(t, "paykit: NewWebhookHandler: the provider is nil (*paykit.stubProvider)", func() { NewWebhookHandler(typedNil, fn) })
	assert.Panics(t, func() { NewWebhookHandler(nil, fn) })
	assert.PanicsWithValue(t, "paykit: NewWebhookHandler: fn is nil", func() { NewWebhookHandler(newStub(), nil) })
}

func TestNewRouterRefusesTypedNil(t *testing.T) {
	t.Parallel()
	var typedNil *stubProvider
	for _, ps := range [][]Provider{{nil}, {typedNil}, {newStub(), typedNil}} {
		r, err := NewRouter(ps, []Route{{Name: "all", Providers: []string{"stub"}}})
		require.ErrorIs(t, err, ErrInvalidRequest)
		assert.Nil(t, r)
		assert.Contains(t, err.Error(), "nil")
	}
}

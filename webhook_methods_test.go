package paykit

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A GET (a browser, a health check) of a notify URL is answered 405 with Allow: POST, before
// the body is read or the provider asked; it used to be parsed and answered 400.
func TestWebhookHandlerRefusesOtherMethods(t *testing.T) {
	t.Parallel()
	for _, method := range []string{http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodPatch} {
		t.Run(method, func(t *testing.T) {
			t.Parallel()
			p := newStub()
			var c fnCounter
			h := NewWebhookHandler(p, c.fn)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(method, "/notify", strings.NewReader(note("pay-1", "PAID", "k1"))))
			assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)
			assert.Equal(t, "POST", rec.Header().Get("Allow"))
			assert.Zero(t, p.parses.Load(), "the provider is not asked")
			assert.Zero(t, p.gets.Load())
			assert.Zero(t, c.calls.Load())
		})
	}
}

// getNotifier is a provider that notifies with GET too, as Entrecard does
// (paykit.NotificationMethoder).
type getNotifier struct{ *stubProvider }

func (getNotifier) NotificationMethods() []string {
	return []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut}
}

// Entrecard's results come as a GET of the notify URL: its handler allows GET (and the
// other methods its ParseNotification reads) and refuses the rest with the list.
func TestWebhookHandlerAllowsEntrecardsGET(t *testing.T) {
	t.Parallel()
	p := &getNotifier{newStub()}
	var c fnCounter
	h := NewWebhookHandler(p, c.fn)
	req := httptest.NewRequest(http.MethodGet, "/notify", strings.NewReader(note("pay-1", "PAID", "k1")))
	req.Header.Set(sigHdr, goodSig)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, int64(1), c.calls.Load())
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodDelete, "/notify", nil))
	assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	assert.Equal(t, "GET, HEAD, POST, PUT", rec.Header().Get("Allow"))
}

// The Router's handler answers the same for each provider it mounts.
func TestRouterWebhookHandlerRefusesOtherMethods(t *testing.T) {
	t.Parallel()
	a := newRouteStub("a", Capabilities{Webhooks: true})
	r := newTestRouter(t, []Provider{a}, []Route{{Providers: []string{"a"}}})
	h := r.WebhookHandler("/webhooks", func(context.Context, *Notification) error { return nil })
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/webhooks/a?id=p&key=k", nil))
	assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	assert.Equal(t, "POST", rec.Header().Get("Allow"))
	assert.Empty(t, a.callLog())
}

// A dedupe store that fails answers 503 (the provider delivers again), runs nothing, and is
// logged as the store's failure, once, with the payment id.
func TestWebhookStoreFailureSaysItIsTheStore(t *testing.T) {
	t.Parallel()
	p := newStub()
	var c fnCounter
	logs := newCaptureHandler()
	storeErr := &Error{Op: "dedupe store: claim", Kind: ErrStoreUnavailable, Message: "redis", Err: errDialRefused}
	h := NewWebhookHandler(p, c.fn, WithDedupStore(&recordingStore{claimErr: storeErr}), WithWebhookLogger(slog.New(logs)))
	wantDelivery(t, h, note("pay-1", "PAID", "k1"), goodSig, http.StatusServiceUnavailable, "")
	assert.Zero(t, c.calls.Load())
	recs := logs.all()
	require.Len(t, recs, 1)
	assert.Equal(t, slog.LevelWarn, recs[0].Level)
	assert.Contains(t, recs[0].Msg, "dedupe store failed")
	assert.Equal(t, "pay-1", recs[0].Attrs["payment_id"])
	assert.Equal(t, "stub", recs[0].Attrs["provider"])
	assert.Equal(t, "paykit: dedupe store: claim: store unavailable: redis: dial tcp 127.0.0.1:6379: connect: connection refused", recs[0].Attrs["error"])

	// A provider whose own store failed while parsing (Entrecard's results) answers 503 too.
	p.set(func(p *stubProvider) {
		p.parseErr = &Error{Provider: "stub", Op: "parse notification", Kind: ErrStoreUnavailable, Message: "result store", Err: errDialRefused}
	})
	wantDelivery(t, NewWebhookHandler(p, c.fn), note("pay-1", "PAID", "k1"), goodSig, http.StatusServiceUnavailable, "")
}

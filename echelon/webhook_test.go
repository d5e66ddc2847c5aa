package echelon_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/echelon"
	"github.com/paykit/paykit/echelon/echelontest"
)

// merchant is a merchant's callback endpoints for payins and payouts, recording what the
// functions were called with.
type merchant struct {
	srv     *httptest.Server
	mu      sync.Mutex
	payins  []paykit.Status
	payouts []paykit.Status
	failing bool // the functions fail while true
}

func newMerchant(t *testing.T, c *echelon.Client, opts ...paykit.WebhookOption) *merchant {
	t.Helper()
	m := &merchant{}
	mux := http.NewServeMux()
	mux.Handle("/cb/payin", paykit.NewWebhookHandler(c, func(_ context.Context, n *paykit.Notification) error {
		m.mu.Lock()
		defer m.mu.Unlock()
		if m.failing {
			return errors.New("the merchant's database is down")
		}
		m.payins = append(m.payins, n.Payment.Status)
		return nil
	}, opts...))
	mux.Handle("/cb/payout", c.PayoutWebhookHandler(func(_ context.Context, p *echelon.Payout) error {
		m.mu.Lock()
		defer m.mu.Unlock()
		if m.failing {
			return errors.New("the merchant's database is down")
		}
		m.payouts = append(m.payouts, p.Status)
		return nil
	}, opts...))
	m.srv = httptest.NewServer(mux)
	t.Cleanup(m.srv.Close)
	return m
}

func (m *merchant) seen() (payins, payouts []paykit.Status) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]paykit.Status(nil), m.payins...), append([]paykit.Status(nil), m.payouts...)
}

func (m *merchant) setFailing(v bool) {
	m.mu.Lock()
	m.failing = v
	m.mu.Unlock()
}

// post sends a callback as EchelonPay would, to the merchant's path with query.
func (m *merchant) post(t *testing.T, pathAndQuery, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(m.srv.URL+pathAndQuery, "application/json", strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

// TestCallbackDedupe: a callback carries no signed identity, so the handler keys it on the
// fetched state: the same state runs fn once however often it is delivered; a new state runs
// it again.
func TestCallbackDedupe(t *testing.T) {
	t.Parallel()
	fake := newFake(t, echelontest.Config{})
	c := newClient(t, fake, echelon.Config{PaymentMethod: "VAPAY"})
	m := newMerchant(t, c)
	ctx := guard(t)

	_, err := c.CreatePayment(ctx, paykit.PaymentRequest{ID: "o-1", Amount: inr(10), NotifyURL: m.srv.URL + "/cb/payin"})
	require.NoError(t, err)
	require.NoError(t, fake.Process("o-1"))
	require.NoError(t, fake.WaitDelivered(ctx, "o-1"))
	status, err := fake.Redeliver(ctx, "o-1")
	require.NoError(t, err)
	assert.Equal(t, 200, status)
	payins, _ := m.seen()
	assert.Equal(t, []paykit.Status{paykit.StatusPending}, payins, "the same state once")

	_, err = fake.Pay("o-1")
	require.NoError(t, err)
	require.NoError(t, fake.WaitDelivered(ctx, "o-1"))
	_, err = fake.Redeliver(ctx, "o-1")
	require.NoError(t, err)
	payins, _ = m.seen()
	assert.Equal(t, []paykit.Status{paykit.StatusPending, paykit.StatusSucceeded}, payins, "a new state again")

	// A failing function answers 500: EchelonPay calls back, and that runs it.
	_, err = c.CreatePayment(ctx, paykit.PaymentRequest{ID: "o-2", Amount: inr(10), NotifyURL: m.srv.URL + "/cb/payin"})
	require.NoError(t, err)
	m.setFailing(true)
	require.NoError(t, fake.Fail("o-2"))
	code, _ := m.post(t, "/cb/payin", `{"idPayin":"o-2"}`)
	assert.Equal(t, 500, code)
	m.setFailing(false)
	require.NoError(t, fake.WaitDelivered(ctx, "o-2"))
	payins, _ = m.seen()
	assert.Equal(t, []paykit.Status{paykit.StatusPending, paykit.StatusSucceeded, paykit.StatusFailed}, payins)
}

func TestPayoutCallbacks(t *testing.T) {
	t.Parallel()
	fake := newFake(t, echelontest.Config{})
	c := newClient(t, fake, echelon.Config{})
	m := newMerchant(t, c)
	ctx := guard(t)

	_, err := c.CreatePayout(ctx, echelon.PayoutRequest{ID: "po-1", Amount: inr(10), Method: "BANK_TRANSFER", AccountNumber: "1", CallbackURL: m.srv.URL + "/cb/payout"})
	require.NoError(t, err)
	require.NoError(t, fake.Process("po-1"))
	require.NoError(t, fake.WaitDelivered(ctx, "po-1"))
	_, err = fake.Redeliver(ctx, "po-1")
	require.NoError(t, err)
	_, err = fake.Pay("po-1")
	require.NoError(t, err)
	require.NoError(t, fake.WaitDelivered(ctx, "po-1"))
	code, body := m.post(t, "/cb/payout", `{"idPayout":"po-1"}`)
	assert.Equal(t, 200, code)
	assert.Equal(t, "already processed", body)
	payins, payouts := m.seen()
	assert.Empty(t, payins)
	assert.Equal(t, []paykit.Status{paykit.StatusPending, paykit.StatusSucceeded}, payouts)

	// Malformed or misdirected: 400, nothing fetched.
	gets := fake.Calls("GET", echelontest.RoutePayout) + fake.Calls("GET", echelontest.RoutePayin)
	for _, body := range []string{`{"idPayin":"po-1"}`, `{}`, `not json`} {
		code, _ := m.post(t, "/cb/payout", body)
		assert.Equal(t, 400, code, body)
	}
	code, _ = m.post(t, "/cb/payin", `{"idPayout":"po-1"}`)
	assert.Equal(t, 400, code, "a payout callback at the payin endpoint")
	assert.Equal(t, gets, fake.Calls("GET", echelontest.RoutePayout)+fake.Calls("GET", echelontest.RoutePayin))

	// A fetch that fails answers 503, and fn does not run.
	fake.FailNext(10, 500, echelontest.OnRoute("GET", echelontest.RoutePayout))
	code, _ = m.post(t, "/cb/payout", `{"idPayout":"po-1"}`)
	assert.Equal(t, 503, code)
	fake.ClearFaults()
	code, _ = m.post(t, "/cb/payout", `{"idPayout":"unknown"}`)
	assert.Equal(t, 503, code, "a payout EchelonPay does not know is not acknowledged")
	_, payouts = m.seen()
	assert.Len(t, payouts, 2)
}

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	fake := newFake(t, echelontest.Config{})
	c := newClient(t, fake, echelon.Config{})
	m := newMerchant(t, c, paykit.WithMaxBodyBytes(64))
	big := `{"idPayout":"po-1","pad":"` + strings.Repeat("x", 100) + `"}`
	code, _ := m.post(t, "/cb/payout", big)
	assert.Equal(t, 413, code)
	code, _ = m.post(t, "/cb/payin", strings.Replace(big, "idPayout", "idPayin", 1))
	assert.Equal(t, 413, code)
	assert.Empty(t, fake.CallLog())
}

// TestSignedCallbackURLs: with a NotifySecret the callback URLs sent carry a signature, and a
// callback without a valid one is refused with 401 before anything is fetched.
func TestSignedCallbackURLs(t *testing.T) {
	t.Parallel()
	fake := newFake(t, echelontest.Config{})
	c := newClient(t, fake, echelon.Config{PaymentMethod: "VAPAY", NotifySecret: "notify-secret-value"})
	m := newMerchant(t, c)
	ctx := guard(t)

	_, err := c.CreatePayment(ctx, paykit.PaymentRequest{ID: "s-1", Amount: inr(10), NotifyURL: m.srv.URL + "/cb/payin?shop=7"})
	require.NoError(t, err)
	_, err = c.CreatePayout(ctx, echelon.PayoutRequest{ID: "s-2", Amount: inr(10), Method: "BANK_TRANSFER", AccountNumber: "1", CallbackURL: m.srv.URL + "/cb/payout"})
	require.NoError(t, err)
	p, _ := fake.Payin("s-1")
	u, err := url.Parse(p.CallbackURL)
	require.NoError(t, err)
	assert.Equal(t, "7", u.Query().Get("shop"), "the merchant's query is kept")
	assert.Equal(t, "s-1", u.Query().Get("paykit_id"))
	sig := u.Query().Get("paykit_sig")
	require.NotEmpty(t, sig)
	assert.NotContains(t, p.CallbackURL, "notify-secret-value")
	po, _ := fake.Payout("s-2")
	assert.Contains(t, po.CallbackURL, "paykit_id=s-2")

	// The genuine callbacks pass.
	_, err = fake.Pay("s-1")
	require.NoError(t, err)
	require.NoError(t, fake.WaitDelivered(ctx, "s-1"))
	_, err = fake.Pay("s-2")
	require.NoError(t, err)
	require.NoError(t, fake.WaitDelivered(ctx, "s-2"))
	payins, payouts := m.seen()
	assert.Equal(t, []paykit.Status{paykit.StatusSucceeded}, payins)
	assert.Equal(t, []paykit.Status{paykit.StatusSucceeded}, payouts)

	// Forged ones are refused before anything is fetched.
	fetched := func() int {
		return fake.Calls("GET", echelontest.RoutePayin) + fake.Calls("GET", echelontest.RoutePayout)
	}
	before := fetched()
	for _, tc := range []struct{ path, body string }{
		{"/cb/payin?shop=7", `{"idPayin":"s-1"}`},                                        // no signature
		{"/cb/payin?shop=7&paykit_id=s-1&paykit_sig=" + sig + "x", `{"idPayin":"s-1"}`},  // a wrong one
		{"/cb/payin?paykit_id=s-1&paykit_sig=AAAA", `{"idPayin":"s-1"}`},                 // a guessed one
		{"/cb/payin?shop=7&paykit_id=s-1&paykit_sig=" + sig, `{"idPayin":"s-9"}`},        // signed for another id
		{"/cb/payin?paykit_id=s-1&paykit_id=s-9&paykit_sig=" + sig, `{"idPayin":"s-9"}`}, // two ids
		{"/cb/payout?paykit_id=s-1&paykit_sig=" + sig, `{"idPayout":"s-2"}`},             // a payin's signature on another payout
		{"/cb/payout", `{"idPayout":"s-2"}`},                                             // no signature
	} {
		code, _ := m.post(t, tc.path, tc.body)
		assert.Equal(t, 401, code, "%s %s", tc.path, tc.body)
	}
	assert.Equal(t, before, fetched(), "nothing was fetched for a forged callback")

	// A signed callback whose body names nothing takes the signed id.
	code, body := m.post(t, "/cb/payin?shop=7&paykit_id=s-1&paykit_sig="+sig, ``)
	assert.Equal(t, 200, code)
	assert.Equal(t, "already processed", body)
}

func TestParseNotification(t *testing.T) {
	t.Parallel()
	plain, err := echelon.New(echelon.Config{MerchantCode: "M", Secret: "s"})
	require.NoError(t, err)
	for _, tc := range []struct {
		method, body string
		id           string
		kind         error
	}{
		{"POST", `{"idPayin":"p-1"}`, "p-1", nil},
		{"POST", `{"idPayin":"p-1","status":"SUCCESS","unknown":{"nested":true}}`, "p-1", nil},
		{"POST", `{"IDPAYIN":"p-1"}`, "p-1", nil},
		{"POST", `{"idPayin":42}`, "42", nil},
		{"POST", `{"idPayout":"po-1"}`, "", paykit.ErrInvalidRequest},
		{"POST", `{}`, "", paykit.ErrInvalidRequest},
		{"POST", ``, "", paykit.ErrInvalidRequest},
		{"POST", `<xml/>`, "", paykit.ErrInvalidRequest},
		{"GET", `{"idPayin":"p-1"}`, "", paykit.ErrInvalidRequest},
	} {
		r := httptest.NewRequest(tc.method, "/cb", strings.NewReader(tc.body))
		n, err := plain.ParseNotification(r)
		if tc.kind != nil {
			assert.ErrorIs(t, err, tc.kind, tc.body)
			var pe *paykit.Error
			assert.ErrorAs(t, err, &pe)
			continue
		}
		require.NoError(t, err, tc.body)
		assert.Equal(t, &paykit.Notification{Provider: "echelon", PaymentID: tc.id, Event: "payin"}, n,
			"nothing in the callback is trusted: no Status, no DedupKey")
	}
}

package ecredits_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/ecredits"
	"github.com/paykit/paykit/ecredits/ecreditstest"
	"github.com/paykit/paykit/internal/safeprint"
)

// A reloaded checkout page repeats CreatePayment with the same id. Once the customer has
// paid, the repeat must come back succeeded and offer no QR code to pay again.
func TestRepeatedCreateNeverOffersANewWayToPay(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, ecreditstest.Config{})
	ctx := ctxT(t)
	req := paykit.PaymentRequest{ID: ecredits.NewID(), Amount: paykit.Money{Amount: 1999, Currency: "EUR"}}

	first, err := c.CreatePayment(ctx, req)
	require.NoError(t, err)
	require.Equal(t, paykit.StatusPending, first.Status)
	require.NotNil(t, first.Action, "an unpaid request shows its QR code")

	again, err := c.CreatePayment(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, paykit.StatusPending, again.Status, "still unpaid: the same request again")
	assert.NotNil(t, again.Action)

	_, err = srv.Pay(req.ID)
	require.NoError(t, err)
	paid, err := c.CreatePayment(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, paykit.StatusSucceeded, paid.Status)
	assert.Nil(t, paid.Action, "a paid request offers no new way to pay")
	assert.Equal(t, req.Amount, paid.Captured)
	assert.Equal(t, req.ID, paid.ID)
	assert.Equal(t, 3, srv.Calls(http.MethodPost, ecreditstest.RouteRequests), "each create was sent")
}

func TestRepeatedCreateOfAnExpiredRequest(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, ecreditstest.Config{})
	ctx := ctxT(t)
	req := paykit.PaymentRequest{ID: ecredits.NewID(), Amount: paykit.Money{Amount: 500, Currency: "ECS"}}
	_, err := c.CreatePayment(ctx, req)
	require.NoError(t, err)
	require.NoError(t, srv.Expire(req.ID))
	again, err := c.CreatePayment(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, paykit.StatusExpired, again.Status)
	assert.Nil(t, again.Action, "an expired request offers nothing to pay")
}

// signedWebhook is a genuine eCredits webhook body: the signature covers only the id, so a
// replay may carry any status and transaction hash.
func signedWebhook(t *testing.T, id string, status int, hash string) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"requestId": id, "status": status, "transactionHash": hash,
		"signature": ecredits.Sign(ecreditstest.DefaultWebhookSecret, id), "testMode": false,
	})
	require.NoError(t, err)
	return string(b)
}

// eCredits signs only the request id. Replaying one genuine webhook with other hashes and
// statuses must not run fn again; fn runs once per fetched state.
func TestReplayedWebhookRunsFnOncePerState(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, ecreditstest.Config{})
	ctx := ctxT(t)
	var calls []paykit.Status
	h := paykit.NewWebhookHandler(c, func(_ context.Context, n *paykit.Notification) error {
		calls = append(calls, n.Payment.Status)
		return nil
	})
	post := func(body string) int {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, "/hook", strings.NewReader(body))
		require.NoError(t, err)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	pay := createPending(t, ctx, c)

	require.Equal(t, http.StatusOK, post(signedWebhook(t, pay.ID, 0, "")))
	require.Equal(t, http.StatusOK, post(signedWebhook(t, pay.ID, 1, "0xforged")), "unsigned status: still the pending state")
	require.Equal(t, []paykit.Status{paykit.StatusPending}, calls)

	_, err := srv.Pay(pay.ID)
	require.NoError(t, err)
	for i, hash := range []string{"0xa", "0xb", "0xc", "0xd", "0xe", "0xf"} {
		require.Equal(t, http.StatusOK, post(signedWebhook(t, pay.ID, i%3, hash)))
	}
	assert.Equal(t, []paykit.Status{paykit.StatusPending, paykit.StatusSucceeded}, calls, "one run per fetched state")

	n, err := c.ParseNotification(httptest.NewRequest(http.MethodPost, "/", strings.NewReader(signedWebhook(t, pay.ID, 1, "0x1"))))
	require.NoError(t, err)
	assert.Empty(t, n.DedupKey, "nothing signed identifies the event")
	assert.Empty(t, n.Status, "the body's status is not signed")
	assert.Equal(t, "Settled", n.Event)
}

// Every CreatePayment error names the payment id, also one paykit generated, so that the
// merchant can repeat the create after an ambiguous failure without making a second request.
func TestCreatePaymentErrorsCarryThePaymentID(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, ecreditstest.Config{})
	ctx := ctxT(t)

	srv.FailNext(3, http.StatusServiceUnavailable, ecreditstest.OnRoute(http.MethodPost, ecreditstest.RouteRequests))
	amount := paykit.Money{Amount: 700, Currency: "ECS"}
	_, err := c.CreatePayment(ctx, paykit.PaymentRequest{Amount: amount})
	require.ErrorIs(t, err, paykit.ErrUnavailable)
	var pe *paykit.Error
	require.ErrorAs(t, err, &pe)
	require.True(t, ecredits.IsGUID(pe.PaymentID), "generated id %q in the error", pe.PaymentID)
	assert.Contains(t, err.Error(), pe.PaymentID)
	assert.Equal(t, "create payment", pe.Op)

	pay, err := c.CreatePayment(ctx, paykit.PaymentRequest{ID: pe.PaymentID, Amount: amount})
	require.NoError(t, err)
	assert.Equal(t, pe.PaymentID, pay.ID)
	_, ok := srv.Request(pe.PaymentID)
	assert.True(t, ok)

	// Refused before sending: the id is named too.
	_, err = c.CreatePayment(ctx, paykit.PaymentRequest{Amount: paykit.Money{Amount: 1, Currency: "USD"}})
	require.ErrorIs(t, err, paykit.ErrInvalidRequest)
	require.ErrorAs(t, err, &pe)
	assert.True(t, ecredits.IsGUID(pe.PaymentID))
	_, err = c.CreatePayment(ctx, paykit.PaymentRequest{ID: "not-a-guid", Amount: amount})
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "not-a-guid", pe.PaymentID)
}

func TestNewID(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 100 {
		id := ecredits.NewID()
		require.True(t, ecredits.IsGUID(id), id)
		require.Equal(t, strings.ToLower(id), id)
		require.False(t, seen[id])
		seen[id] = true
	}
}

// Printing a client or its Config, any way, shows no secret.
func TestClientAndConfigPrintNoSecret(t *testing.T) {
	t.Parallel()
	const secret, hookSecret = "api-key-<&>\"\\-1234", "hook-secret-5678"
	cfg := ecredits.Config{ClientID: ecreditstest.DefaultClientID, Secret: secret, WebhookSecret: hookSecret, BaseURL: "https://widget.api.tst.ecredits.com"}
	c, err := ecredits.New(cfg)
	require.NoError(t, err)
	for _, v := range []any{cfg, &cfg, c, struct{ C ecredits.Config }{cfg}} {
		for _, form := range safeprint.Forms(v) {
			for _, s := range []string{"api-key", "hook-secret"} {
				assert.NotContains(t, form, s)
			}
			assert.Contains(t, form, ecreditstest.DefaultClientID)
		}
	}
}

// A valid notification larger than the default 1 MiB is read whole under a handler that
// allows more (WithMaxBodyBytes reaches the parser).
func TestLargeNotificationUnderAHigherHandlerLimit(t *testing.T) {
	t.Parallel()
	_, c := setup(t, ecreditstest.Config{})
	ctx := ctxT(t)
	pay := createPending(t, ctx, c)
	var body map[string]any
	require.NoError(t, json.Unmarshal([]byte(signedWebhook(t, pay.ID, 0, "")), &body))
	body["padding"] = strings.Repeat("p", 2<<20)
	big, err := json.Marshal(body)
	require.NoError(t, err)

	for _, tc := range []struct {
		limit int64
		want  int
	}{{4 << 20, http.StatusOK}, {0, http.StatusRequestEntityTooLarge}} {
		var opts []paykit.WebhookOption
		if tc.limit > 0 {
			opts = append(opts, paykit.WithMaxBodyBytes(tc.limit))
		}
		runs := 0
		h := paykit.NewWebhookHandler(c, func(context.Context, *paykit.Notification) error { runs++; return nil }, opts...)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(string(big))))
		assert.Equal(t, tc.want, rec.Code, "limit %d", tc.limit)
		if tc.want == http.StatusOK {
			assert.Equal(t, 1, runs)
		}
	}
}

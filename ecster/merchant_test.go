package ecster_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/ecster"
	"github.com/paykit/paykit/ecster/ecstertest"
	"github.com/paykit/paykit/internal/logbuf"
)

// replica is a second client of srv, as another replica of the merchant's backend (or this
// one after a restart) would be: it shares nothing with the first but Ecster.
func replica(t *testing.T, srv *ecstertest.Server) *ecster.Client {
	t.Helper()
	c, err := ecster.New(ecster.Config{APIKey: ecstertest.DefaultAPIKey, MerchantKey: ecstertest.DefaultMerchantKey, BaseURL: srv.URL}, fastRetry)
	require.NoError(t, err)
	return c
}

// Right after CreatePayment, before the consumer has completed the checkout (Ecster knows
// no order), the client that created the payment answers it pending with its cart key, as
// CreatePayment did; a replica that did not create it answers ErrNotFound until the order
// exists; then both read the order.
func TestGetPaymentRightAfterCreateIsPending(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, ecstertest.Config{}, ecster.Config{})
	other := replica(t, srv)
	ctx := ctxT(t)
	id := ecster.NewID()

	created, err := c.CreatePayment(ctx, request(id, 1000))
	require.NoError(t, err)
	got, err := c.GetPayment(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, created, got)
	assert.Equal(t, paykit.StatusPending, got.Status)
	require.NotNil(t, got.Action)
	assert.Equal(t, paykit.ActionClientToken, got.Action.Type)
	cart, ok := srv.Cart(id)
	require.True(t, ok)
	assert.Equal(t, cart.Key, got.Action.Token)
	assert.Empty(t, got.ProviderID, "no order yet")

	_, err = other.GetPayment(ctx, id)
	require.ErrorIs(t, err, paykit.ErrNotFound, "a replica that did not create it")

	// A repeated create replaces the cart: GetPayment shows the new key.
	again, err := c.CreatePayment(ctx, request(id, 1000))
	require.NoError(t, err)
	require.NotEqual(t, created.Action.Token, again.Action.Token)
	got, err = c.GetPayment(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, again.Action.Token, got.Action.Token)

	// An operation on the pending payment is a valid request in the wrong state for the
	// client that shows it pending; nothing is sent.
	_, err = c.Capture(ctx, id, paykit.Money{})
	require.ErrorIs(t, err, paykit.ErrUnprocessable)
	require.NotErrorIs(t, err, paykit.ErrNotFound)
	_, err = other.Capture(ctx, id, paykit.Money{})
	require.ErrorIs(t, err, paykit.ErrNotFound)
	assert.Equal(t, 0, srv.Calls(http.MethodPost, ecstertest.RouteTransactions))

	mustPay(t, srv, id)
	for name, cl := range map[string]*ecster.Client{"creator": c, "replica": other} {
		p, err := cl.GetPayment(ctx, id)
		require.NoError(t, err, name)
		assert.Equal(t, paykit.StatusAuthorized, p.Status, name)
		assert.Nil(t, p.Action, "%s: the order exists: no way to pay it again", name)
		assert.NotEmpty(t, p.ProviderID, name)
	}
}

// Payment.Reference is the reference Ecster keeps with the payment, its orderReference,
// which holds the id: the same on every call, create included, whatever the request's
// Reference (which Ecster has nowhere to keep).
func TestReferenceIsTheIDOnEveryCall(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, ecstertest.Config{}, ecster.Config{})
	ctx := ctxT(t)
	req := request(ecster.NewID(), 1000)
	req.Reference = "shop-order-1001"

	calls := 0
	keep := func(p *paykit.Payment, err error) {
		t.Helper()
		calls++
		require.NoError(t, err, "call %d", calls)
		require.Equal(t, req.ID, p.Reference, "call %d", calls)
	}
	keep(c.CreatePayment(ctx, req))
	keep(c.GetPayment(ctx, req.ID))
	mustPay(t, srv, req.ID)
	keep(c.GetPayment(ctx, req.ID))
	keep(c.CreatePayment(ctx, req)) // a repeat once the order exists
	keep(c.Capture(ctx, req.ID, sek(600)))
	keep(c.Refund(ctx, req.ID, sek(100)))
	keep(c.Cancel(ctx, req.ID))
	keep(replica(t, srv).GetPayment(ctx, req.ID))
}

// A valid operation the payment's state does not allow (a capture after a cancel: nothing
// remains) is ErrUnprocessable, with nothing sent; only a request no order could take is
// ErrInvalidRequest.
func TestCaptureAfterCancelIsUnprocessable(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, ecstertest.Config{}, ecster.Config{})
	ctx := ctxT(t)
	id := ordered(t, ctx, srv, c, 1000, ecster.OrderReady)
	_, err := c.Cancel(ctx, id)
	require.NoError(t, err)
	sent := srv.Calls(http.MethodPost, ecstertest.RouteTransactions)

	for name, do := range map[string]func() error{
		"capture all":       func() error { _, err := c.Capture(ctx, id, paykit.Money{}); return err },
		"capture some":      func() error { _, err := c.Capture(ctx, id, sek(500)); return err },
		"capture the whole": func() error { _, err := c.Capture(ctx, id, sek(1000)); return err },
		"cancel again":      func() error { _, err := c.Cancel(ctx, id); return err },
		"refund":            func() error { _, err := c.Refund(ctx, id, paykit.Money{}); return err },
	} {
		err := do()
		require.ErrorIs(t, err, paykit.ErrUnprocessable, name)
		require.NotErrorIs(t, err, paykit.ErrInvalidRequest, name)
		var pe *paykit.Error
		require.ErrorAs(t, err, &pe, name)
		assert.True(t, pe.Unprocessed, "%s: nothing sent", name)
		assert.Equal(t, id, pe.PaymentID, name)
		assert.Contains(t, err.Error(), "ANNULLED", "%s: the message names the state", name)
	}
	for name, do := range map[string]func() error{
		"capture above the order's amount": func() error { _, err := c.Capture(ctx, id, sek(1001)); return err },
		"capture in another currency":      func() error { _, err := c.Capture(ctx, id, paykit.Money{Amount: 1, Currency: "EUR"}); return err },
	} {
		err := do()
		require.ErrorIs(t, err, paykit.ErrInvalidRequest, name)
		require.NotErrorIs(t, err, paykit.ErrUnprocessable, name)
	}
	assert.Equal(t, sent, srv.Calls(http.MethodPost, ecstertest.RouteTransactions), "nothing sent")
}

// Every request about a payment names its id in the attempt's debug line (payment_id):
// carts, the order search, the order read that resolves a dropped transaction, and the
// transactions themselves.
func TestEveryRequestAboutAPaymentLogsItsID(t *testing.T) {
	t.Parallel()
	var logs logbuf.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, c := setup(t, ecstertest.Config{}, ecster.Config{}, paykit.WithLogger(logger))
	ctx := ctxT(t)
	id := ecster.NewID()

	_, err := c.CreatePayment(ctx, request(id, 1000))
	require.NoError(t, err)
	_, err = c.CreatePayment(ctx, request(id, 1000)) // PUT /v1/carts/{key}
	require.NoError(t, err)
	mustPay(t, srv, id)
	_, err = c.GetPayment(ctx, id)
	require.NoError(t, err)
	srv.DropNext(1, postTx) // the debit goes through unheard: the order is read by id
	_, err = c.Capture(ctx, id, sek(400))
	require.NoError(t, err)
	_, err = c.Refund(ctx, id, sek(100), paykit.IdempotencyKey("refund-1"))
	require.NoError(t, err)
	_, err = c.Cancel(ctx, id)
	require.NoError(t, err)

	routes := map[string]bool{}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	for _, line := range lines {
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec), line)
		if rec["msg"] != "paykit http attempt" {
			continue
		}
		assert.Equal(t, id, rec["payment_id"], "%s", line)
		path, _ := rec["path"].(string)
		routes[rec["method"].(string)+" "+routeOf(path)] = true
	}
	for _, want := range []string{"POST /v1/carts", "PUT /v1/carts/{key}", "GET /v1/orders", "GET /v1/orders/{orderId}", "POST /v1/orders/{orderId}/transactions"} {
		assert.True(t, routes[want], "%s was logged with the payment id (logged: %v)", want, routes)
	}
}

// routeOf names the route of one of the fake's paths.
func routeOf(path string) string {
	switch {
	case path == "/v1/carts" || path == "/v1/orders":
		return path
	case strings.HasPrefix(path, "/v1/carts/"):
		return ecstertest.RouteCart
	case strings.HasSuffix(path, "/transactions"):
		return ecstertest.RouteTransactions
	case strings.HasPrefix(path, "/v1/orders/"):
		return ecstertest.RouteOrder
	}
	return path
}

package entrecard_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/entrecard"
)

// Entrecard keeps no reference of the merchant's, so Payment.Reference is the payment id on
// every call: create, a repeated create, get, after the result, and for a payment known only
// from its result (after a restart). A repeat with another Reference is the same payment,
// not a conflict: the link is the same.
func TestReferenceIsThePaymentID(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := entrecard.NewMemoryStore()
	c, err := entrecard.New(entrecard.Config{SellerID: testSeller, Secret: testSecret, Store: store})
	require.NoError(t, err)

	req := validPayment()
	req.Reference = "shop-order-4711"
	created, err := c.CreatePayment(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, "order-42", created.Reference, "create")

	req.Reference = "another"
	again, err := c.CreatePayment(ctx, req)
	require.NoError(t, err, "another Reference is the same link, the same payment")
	assert.Equal(t, "order-42", again.Reference, "repeated create")
	assert.Equal(t, created.Action, again.Action)

	got, err := c.GetPayment(ctx, "order-42")
	require.NoError(t, err)
	assert.Equal(t, "order-42", got.Reference, "get")

	result := entrecard.Result{SellerID: testSeller, ID: "order-42", Total: 100, TransactionID: "100001", Status: entrecard.ResultComplete}
	_, err = c.ParseNotification(httptest.NewRequest(http.MethodGet, "https://shop.example/n?"+c.ResultQuery(result), nil))
	require.NoError(t, err)
	paid, err := c.GetPayment(ctx, "order-42")
	require.NoError(t, err)
	assert.Equal(t, paykit.StatusSucceeded, paid.Status)
	assert.Equal(t, "order-42", paid.Reference, "get after the result")

	restarted := newClient(t) // an empty memory store: the order is gone, the result arrives again
	_, err = restarted.ParseNotification(httptest.NewRequest(http.MethodGet, "https://shop.example/n?"+restarted.ResultQuery(result), nil))
	require.NoError(t, err)
	known, err := restarted.GetPayment(ctx, "order-42")
	require.NoError(t, err)
	assert.Equal(t, "order-42", known.Reference, "known only from its result")
}

// failingStore fails every call with err.
type failingStore struct{ err error }

func (s failingStore) SaveOrder(context.Context, entrecard.Order) (entrecard.Order, bool, error) {
	return entrecard.Order{}, false, s.err
}

func (s failingStore) SaveResult(context.Context, entrecard.Result) (entrecard.Result, bool, error) {
	return entrecard.Result{}, false, s.err
}

func (s failingStore) Lookup(context.Context, string) (entrecard.Entry, bool, error) {
	return entrecard.Entry{}, false, s.err
}

// A Store's outage reads once as the store's: paykit.ErrStoreUnavailable (so also
// ErrUnavailable), one "paykit:" and one "store unavailable", naming the result store and
// not Entrecard, whether the store reports it as redisstore does (a *paykit.Error of its own)
// or with a plain error; the webhook handler answers 503 so that Entrecard delivers again. A
// context that ended the call is the context's error, not an outage.
func TestStoreOutageReadsOnceAsTheStore(t *testing.T) {
	t.Parallel()
	dial := errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")
	redisLike := &paykit.Error{Op: "entrecard store: lookup", PaymentID: "order-42", Kind: paykit.ErrStoreUnavailable, Message: "redis", Err: dial}
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"redisstore's error", redisLike, `paykit: entrecard: get payment: store unavailable: result store: redis: dial tcp 127.0.0.1:6379: connect: connection refused`},
		{"a plain error", dial, `paykit: entrecard: get payment: store unavailable: result store: dial tcp 127.0.0.1:6379: connect: connection refused`},
	} {
		c, err := entrecard.New(entrecard.Config{SellerID: testSeller, Secret: testSecret, Store: failingStore{tc.err}})
		require.NoError(t, err)
		_, err = c.GetPayment(context.Background(), "order-42")
		require.ErrorIs(t, err, paykit.ErrStoreUnavailable, tc.name)
		require.ErrorIs(t, err, paykit.ErrUnavailable, tc.name)
		assert.Equal(t, tc.want, err.Error(), tc.name)
		assert.ErrorIs(t, err, dial, "%s: the cause stays visible", tc.name)

		_, err = c.CreatePayment(context.Background(), validPayment())
		require.ErrorIs(t, err, paykit.ErrStoreUnavailable, tc.name)
		assert.Equal(t, 1, strings.Count(err.Error(), "paykit:"), "%s: %s", tc.name, err)
		assert.Equal(t, 1, strings.Count(err.Error(), "store unavailable"), "%s: %s", tc.name, err)
		var pe *paykit.Error
		require.ErrorAs(t, err, &pe)
		assert.Equal(t, "order-42", pe.PaymentID, tc.name)

		result := entrecard.Result{SellerID: testSeller, ID: "order-42", Total: 100, TransactionID: "1", Status: entrecard.ResultComplete}
		h := paykit.NewWebhookHandler(c, func(context.Context, *paykit.Notification) error { return nil })
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "https://shop.example/n?"+c.ResultQuery(result), nil))
		assert.Equal(t, http.StatusServiceUnavailable, rec.Code, "%s: the result is not acknowledged", tc.name)
	}

	c, err := entrecard.New(entrecard.Config{SellerID: testSeller, Secret: testSecret, Store: failingStore{context.Canceled}})
	require.NoError(t, err)
	_, err = c.GetPayment(context.Background(), "order-42")
	require.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, paykit.ErrUnavailable, "the caller's context is no outage")
}

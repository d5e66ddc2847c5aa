package echelon_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/echelon"
	"github.com/paykit/paykit/echelon/echelontest"
)

func TestCreatePaymentDirect(t *testing.T) {
	t.Parallel()
	fake := newFake(t, echelontest.Config{})
	c := newClient(t, fake, echelon.Config{PaymentMethod: "VAPAY", PaymentOperator: "BNK_001"})
	ctx := guard(t)
	pay, err := c.CreatePayment(ctx, paykit.PaymentRequest{
		ID: "o-1", Amount: inr(5000), NotifyURL: "https://shop.example/cb?order=o-1", ReturnURL: "https://shop.example/done",
	})
	require.NoError(t, err)
	assert.Equal(t, echelon.ProviderName, pay.Provider)
	assert.Equal(t, "o-1", pay.ID)
	assert.Equal(t, "o-1", pay.ProviderID)
	assert.Equal(t, paykit.StatusPending, pay.Status)
	assert.Equal(t, "NEW", pay.ProviderStatus)
	assert.Equal(t, inr(5000), pay.Amount)
	assert.Equal(t, paykit.Money{Currency: "INR"}, pay.Captured)
	assert.WithinDuration(t, fake.Now(), pay.CreatedAt, time.Second)
	assert.False(t, pay.ExpiresAt.IsZero())

	p, ok := fake.Payin("o-1")
	require.True(t, ok)
	// A transfer: the Action holds what the customer needs to make it.
	assert.Equal(t, &paykit.Action{Type: paykit.ActionBankTransfer, Transfer: &paykit.BankTransfer{
		BankName: p.BankName, BranchName: p.BranchName, AccountNumber: p.AccountNumber, Reference: p.Reference,
		Amount: inr(5000), ExpiresAt: pay.ExpiresAt,
	}}, pay.Action)
	assert.True(t, pay.ExpiresAt.Equal(p.ExpireAt.Truncate(time.Millisecond)), "expireAt, written to the millisecond")
	assert.Equal(t, "https://shop.example/cb?order=o-1", p.CallbackURL, "sent as given without a NotifySecret")
	assert.Equal(t, "https://shop.example/done", p.ReturnURL)
	assert.Equal(t, "VAPAY", p.Method)
	assert.Equal(t, "BNK_001", p.Operator)
	native, err := c.GetPayin(ctx, "o-1")
	require.NoError(t, err)
	assert.Equal(t, p.Reference, native.Reference)
	assert.NotEmpty(t, native.Account.AccountNumber)

	// Repeated: the same payin's state, no second payin.
	again, err := c.CreatePayment(ctx, paykit.PaymentRequest{ID: "o-1", Amount: inr(5000)})
	require.NoError(t, err)
	assert.Equal(t, paykit.StatusPending, again.Status)
	_, err = fake.Pay("o-1")
	require.NoError(t, err)
	paid, err := c.CreatePayment(ctx, paykit.PaymentRequest{ID: "o-1", Amount: inr(5000)})
	require.NoError(t, err)
	assert.Equal(t, paykit.StatusSucceeded, paid.Status)
	assert.Nil(t, paid.Action, "a paid payin offers no new way to pay")
	assert.Equal(t, inr(5000), paid.Captured)
	assert.Len(t, fake.Payins(), 1)

	got, err := c.GetPayment(ctx, "o-1")
	require.NoError(t, err)
	assert.Equal(t, paid, got)
}

func TestCreatePaymentRedirect(t *testing.T) {
	t.Parallel()
	fake := newFake(t, echelontest.Config{})
	c := newClient(t, fake, echelon.Config{PaymentMethod: "EWALLET"})
	ctx := guard(t)
	pay, err := c.CreatePayment(ctx, paykit.PaymentRequest{ID: "r-1", Amount: inr(10)})
	require.NoError(t, err)
	require.NotNil(t, pay.Action)
	assert.Equal(t, paykit.ActionRedirect, pay.Action.Type)
	assert.Equal(t, "https://operator.example/pay?payin=r-1", pay.Action.URL)
	require.NoError(t, fake.Fail("r-1"))
	pay, err = c.GetPayment(ctx, "r-1")
	require.NoError(t, err)
	assert.Equal(t, paykit.StatusFailed, pay.Status)
	assert.Nil(t, pay.Action, "only a pending payin offers a way to pay")
}

func TestCreatePaymentWebApp(t *testing.T) {
	t.Parallel()
	fake := newFake(t, echelontest.Config{})
	c := newClient(t, fake, echelon.Config{})
	ctx := guard(t)
	pay, err := c.CreatePayment(ctx, paykit.PaymentRequest{ID: "TST-112233", Amount: inr(5000)})
	require.NoError(t, err)
	assert.Equal(t, paykit.StatusPending, pay.Status)
	require.NotNil(t, pay.Action)
	assert.Equal(t, paykit.ActionClientToken, pay.Action.Type)
	assert.Empty(t, pay.ProviderID)
	tokens := fake.Tokens()
	require.Len(t, tokens, 2)
	webapp := tokens[1]
	assert.Equal(t, "PAYIN_CREATE", webapp.Action)
	assert.Equal(t, "TST-112233", webapp.PaymentID)
	assert.Equal(t, &paykit.Money{Amount: 500000, Currency: "INR"}, webapp.Money)
	assert.True(t, pay.ExpiresAt.Equal(webapp.ExpiresAt))
	assert.Empty(t, fake.Payins(), "the web app creates the payin")
	got, err := c.GetPayment(ctx, "TST-112233")
	require.NoError(t, err)
	assert.Equal(t, pay, got, "pending with its token until the web app creates the payin")

	// The web app, with the token: it may not create the payin for another amount, nor
	// another payin; it may create this one.
	webApp := func(id string, amount json.Number) int {
		body, _ := json.Marshal(map[string]any{
			"paymentRequested": map[string]any{"money": map[string]any{"amount": amount, "currencyCode": "INR"}},
			"paymentMethod":    map[string]any{"paymentMethodCode": "VAPAY"},
		})
		req, _ := http.NewRequest("POST", fake.URL+"/payins/"+id, bytes.NewReader(body))
		req.Header.Set("X-API-Version", "2")
		req.Header.Set("Authorization", "Bearer "+pay.Action.Token)
		resp, err := fake.Client().Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, 403, webApp("TST-112233", "4999"))
	assert.Equal(t, 403, webApp("TST-999", "5000"))
	assert.Equal(t, 200, webApp("TST-112233", "5000"))

	// Repeated now: the payin's state, and no new token.
	again, err := c.CreatePayment(ctx, paykit.PaymentRequest{ID: "TST-112233", Amount: inr(5000)})
	require.NoError(t, err)
	assert.Equal(t, paykit.StatusPending, again.Status)
	assert.Equal(t, "TST-112233", again.ProviderID)
	require.NotNil(t, again.Action)
	assert.Equal(t, paykit.ActionBankTransfer, again.Action.Type, "the payin's own transfer details, not a new token")
	_, err = fake.Pay("TST-112233")
	require.NoError(t, err)
	paid, err := c.CreatePayment(ctx, paykit.PaymentRequest{ID: "TST-112233", Amount: inr(5000)})
	require.NoError(t, err)
	assert.Equal(t, paykit.StatusSucceeded, paid.Status)
	assert.Nil(t, paid.Action)
	assert.Len(t, fake.Tokens(), 2, "no token minted for an existing payin")

	// For another amount: a mismatch, and no token.
	_, err = c.CreatePayment(ctx, paykit.PaymentRequest{ID: "TST-112233", Amount: inr(4000)})
	assert.ErrorIs(t, err, paykit.ErrAmountMismatch)
	assert.Len(t, fake.Tokens(), 2)
}

func TestCreatePaymentErrorsNameTheID(t *testing.T) {
	t.Parallel()
	fake := newFake(t, echelontest.Config{})
	c := newClient(t, fake, echelon.Config{PaymentMethod: "VAPAY"})
	ctx := guard(t)

	// Refused locally, with a generated id.
	_, err := c.CreatePayment(ctx, paykit.PaymentRequest{Amount: paykit.Money{Currency: "INR"}})
	var pe *paykit.Error
	require.ErrorAs(t, err, &pe)
	assert.ErrorIs(t, err, paykit.ErrInvalidRequest)
	assert.Len(t, pe.PaymentID, 36)
	assert.Equal(t, echelon.ProviderName, pe.Provider)
	assert.Equal(t, "create payment", pe.Op)

	// The token could not be had.
	fake.FailNext(20, 503, echelontest.OnRoute("POST", echelontest.RouteAuthTokens))
	_, err = c.CreatePayment(ctx, paykit.PaymentRequest{ID: "e-1", Amount: inr(1)})
	require.ErrorAs(t, err, &pe)
	assert.ErrorIs(t, err, paykit.ErrUnavailable)
	assert.Equal(t, "e-1", pe.PaymentID)
	fake.ClearFaults()

	// The web-app flow's GET failed.
	web := newClient(t, fake, echelon.Config{})
	fake.FailNext(20, 500, echelontest.OnRoute("GET", echelontest.RoutePayin))
	_, err = web.CreatePayment(ctx, paykit.PaymentRequest{ID: "e-2", Amount: inr(1)})
	require.ErrorAs(t, err, &pe)
	assert.ErrorIs(t, err, paykit.ErrUnavailable)
	assert.Equal(t, "e-2", pe.PaymentID)
	assert.Equal(t, 1, len(fake.Tokens()), "no web-app token after a failed look-up")
}

func TestUnsupported(t *testing.T) {
	t.Parallel()
	c, err := echelon.New(echelon.Config{MerchantCode: "M", Secret: "s"})
	require.NoError(t, err)
	assert.Equal(t, paykit.Capabilities{Webhooks: true, Payouts: true}, c.Capabilities())
	ctx := guard(t)
	_, err1 := c.Capture(ctx, "x", inr(1))
	_, err2 := c.Refund(ctx, "x", inr(1))
	_, err3 := c.Cancel(ctx, "x")
	for _, err := range []error{err1, err2, err3} {
		var pe *paykit.Error
		require.ErrorAs(t, err, &pe)
		assert.ErrorIs(t, err, paykit.ErrUnsupported)
		assert.Equal(t, echelon.ProviderName, pe.Provider)
	}
}

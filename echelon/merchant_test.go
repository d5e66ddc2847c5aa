package echelon_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/echelon"
	"github.com/paykit/paykit/echelon/echelontest"
	"github.com/paykit/paykit/internal/logbuf"
)

// webAppCreates is EchelonPay's payment web app creating the payin id with the token of a
// web-app payment, paid by VAPAY.
func webAppCreates(t *testing.T, fake *echelontest.Server, pay *paykit.Payment) {
	t.Helper()
	body, err := json.Marshal(map[string]any{
		"paymentRequested": map[string]any{"money": map[string]any{"amount": json.Number(mustDecimal(t, pay.Amount)), "currencyCode": pay.Amount.Currency}},
		"paymentMethod":    map[string]any{"paymentMethodCode": echelontest.MethodVirtualAccount},
	})
	require.NoError(t, err)
	req, err := http.NewRequest("POST", fake.URL+"/payins/"+pay.ID, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("X-API-Version", "2")
	req.Header.Set("Authorization", "Bearer "+pay.Action.Token)
	resp, err := fake.Client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
}

func mustDecimal(t *testing.T, m paykit.Money) string {
	t.Helper()
	d, err := m.Decimal()
	require.NoError(t, err)
	return d
}

// TestWebAppPendingUntilThePayinExists: right after a web-app CreatePayment, GetPayment of the
// client that created it answers the payment pending with its PAYIN_CREATE token (not
// ErrNotFound) until the web app creates the payin; then the payin itself, with its transfer
// details. A replica that did not create it answers ErrNotFound until then. It failed before
// the fix with ErrNotFound.
func TestWebAppPendingUntilThePayinExists(t *testing.T) {
	t.Parallel()
	fake := newFake(t, echelontest.Config{})
	c := newClient(t, fake, echelon.Config{})
	replica := newClient(t, fake, echelon.Config{})
	ctx := guard(t)

	pay, err := c.CreatePayment(ctx, paykit.PaymentRequest{ID: "w-1", Amount: inr(250)})
	require.NoError(t, err)
	require.Equal(t, paykit.ActionClientToken, pay.Action.Type)
	for range 2 {
		got, err := c.GetPayment(ctx, "w-1")
		require.NoError(t, err)
		assert.Equal(t, pay, got)
		got.Action.Token = "changed by the caller"
	}
	_, err = replica.GetPayment(ctx, "w-1")
	assert.ErrorIs(t, err, paykit.ErrNotFound, "a replica does not know a payment the web app has not created")
	_, err = c.GetPayment(ctx, "w-2")
	assert.ErrorIs(t, err, paykit.ErrNotFound, "an id this client never created")

	webAppCreates(t, fake, pay)
	p, _ := fake.Payin("w-1")
	for _, client := range []*echelon.Client{c, replica} {
		got, err := client.GetPayment(ctx, "w-1")
		require.NoError(t, err)
		assert.Equal(t, paykit.StatusPending, got.Status)
		assert.Equal(t, "w-1", got.ProviderID, "the payin now")
		require.NotNil(t, got.Action)
		assert.Equal(t, paykit.ActionBankTransfer, got.Action.Type)
		assert.Equal(t, p.AccountNumber, got.Action.Transfer.AccountNumber)
	}
	_, err = fake.Pay("w-1")
	require.NoError(t, err)
	got, err := c.GetPayment(ctx, "w-1")
	require.NoError(t, err)
	assert.Equal(t, paykit.StatusSucceeded, got.Status)
	assert.Nil(t, got.Action)
}

// TestReferenceIsTheID: EchelonPay keeps no merchant reference, so Payment.Reference is the
// payment id on every call for one payment, whatever PaymentRequest.Reference said: create,
// get, the web-app flow before and after the payin exists, and the webhook's fetched payment.
func TestReferenceIsTheID(t *testing.T) {
	t.Parallel()
	fake := newFake(t, echelontest.Config{})
	direct := newClient(t, fake, echelon.Config{PaymentMethod: echelontest.MethodVirtualAccount})
	web := newClient(t, fake, echelon.Config{})
	ctx := guard(t)
	for _, tc := range []struct {
		c  *echelon.Client
		id string
	}{{direct, "ref-direct"}, {web, "ref-web"}} {
		created, err := tc.c.CreatePayment(ctx, paykit.PaymentRequest{ID: tc.id, Reference: "shop-order-77", Amount: inr(10)})
		require.NoError(t, err)
		got, err := tc.c.GetPayment(ctx, tc.id)
		require.NoError(t, err)
		assert.Equal(t, tc.id, created.Reference, "create")
		assert.Equal(t, tc.id, got.Reference, "get")
	}
	created, err := web.GetPayment(ctx, "ref-web")
	require.NoError(t, err)
	webAppCreates(t, fake, created)
	got, err := web.GetPayment(ctx, "ref-web")
	require.NoError(t, err)
	assert.Equal(t, "ref-web", got.Reference, "the payin the web app created")

	var notified *paykit.Payment
	h := paykit.NewWebhookHandler(direct, func(_ context.Context, n *paykit.Notification) error {
		notified = n.Payment
		return nil
	})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("POST", "/cb/payin", strings.NewReader(`{"idPayin":"ref-direct"}`)))
	require.Equal(t, 200, w.Code)
	require.NotNil(t, notified)
	assert.Equal(t, "ref-direct", notified.Reference, "the notification's fetched payment")
}

// TestDirectPayinActions: a direct payin the customer must act on says what to do, on
// CreatePayment and on GetPayment while it is pending: a redirect for a method paid on the
// operator's page, otherwise a bank transfer with the account, reference, amount and expiry
// EchelonPay answered; a final payin has no Action. It failed before the fix with no Action
// for transfers.
func TestDirectPayinActions(t *testing.T) {
	t.Parallel()
	fake := newFake(t, echelontest.Config{})
	ctx := guard(t)
	for _, method := range []string{echelontest.MethodVirtualAccount, echelontest.MethodOffline} {
		c := newClient(t, fake, echelon.Config{PaymentMethod: method})
		id := "act-" + method
		created, err := c.CreatePayment(ctx, paykit.PaymentRequest{ID: id, Amount: paykit.Money{Amount: 4205, Currency: "USD"}})
		require.NoError(t, err)
		p, _ := fake.Payin(id)
		want := &paykit.Action{Type: paykit.ActionBankTransfer, Transfer: &paykit.BankTransfer{
			BankName: "Echelon Test Bank", BranchName: "Main", AccountNumber: p.AccountNumber, Reference: p.Reference,
			Amount: paykit.Money{Amount: 4205, Currency: "USD"}, ExpiresAt: p.ExpireAt.Truncate(time.Millisecond).UTC(),
		}}
		require.NotEmpty(t, p.AccountNumber)
		require.NotEmpty(t, p.Reference)
		assert.Equal(t, want, created.Action, method)
		got, err := c.GetPayment(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, want, got.Action, method)

		require.NoError(t, fake.Process(id))
		got, err = c.GetPayment(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, paykit.StatusPending, got.Status)
		assert.Equal(t, want, got.Action, "still pending: still the way to pay")
		require.NoError(t, fake.Expire(id))
		got, err = c.GetPayment(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, paykit.StatusExpired, got.Status)
		assert.Nil(t, got.Action, "final: nothing for the customer to do")
	}

	c := newClient(t, fake, echelon.Config{PaymentMethod: echelontest.MethodEWallet})
	created, err := c.CreatePayment(ctx, paykit.PaymentRequest{ID: "act-ewallet", Amount: inr(10)})
	require.NoError(t, err)
	assert.Equal(t, &paykit.Action{Type: paykit.ActionRedirect, URL: "https://operator.example/pay?payin=act-ewallet"}, created.Action)

	// The amount the method asks (paymentMethodResponse.money) is what the customer transfers.
	hc, mt := mockTransport()
	mc, err := echelon.New(echelon.Config{MerchantCode: "M-1", Secret: "s", BaseURL: "https://api.test.example"},
		paykit.WithHTTPClient(hc), paykit.WithLimiter(paykit.NoLimit))
	require.NoError(t, err)
	body := string(echelontest.PayinBody(echelontest.Payin{
		ID: "p-1", Amount: inr(100), Method: "VAPAY", Status: echelontest.ProcessNew, Reference: "PAYCODE-1",
	}))
	i := strings.LastIndex(body, `"money":{"amount":100,`) // paymentMethodResponse's, after paymentRequested's
	require.Greater(t, i, strings.Index(body, "paymentMethodResponse"))
	body = body[:i] + `"money":{"amount":100.17,` + body[i+len(`"money":{"amount":100,`):]
	mt.RegisterResponder("GET", "https://api.test.example/payins/p-1", httpmock.NewStringResponder(200, body))
	got, err := mc.GetPayment(ctx, "p-1")
	require.NoError(t, err)
	assert.Equal(t, &paykit.Action{Type: paykit.ActionBankTransfer, Transfer: &paykit.BankTransfer{
		Reference: "PAYCODE-1", Amount: paykit.Money{Amount: 100_17, Currency: "INR"},
	}}, got.Action, "a payment code alone, no account")
}

// mockTransport is an http.Client given to the client, then switched to an httpmock
// transport of its own (a merchant's test would call httpmock.ActivateNonDefault, which
// switches to the global one), with a token answer registered.
func mockTransport() (*http.Client, *httpmock.MockTransport) {
	mt := httpmock.NewMockTransport()
	mt.RegisterResponder("POST", "https://api.test.example/auth-tokens", httpmock.NewBytesResponder(200, echelontest.TokenBody("mock-token")))
	return &http.Client{Transport: mt}, mt
}

// TestRequestsCarryThePaymentID: every request about a payin or a payout, the creates, their
// 409 look-ups, the GETs and the web-app token by action, logs the payment's id as
// payment_id; the others (backend tokens, payment options, balances) log none. It failed
// before the fix with no payment_id at all.
func TestRequestsCarryThePaymentID(t *testing.T) {
	t.Parallel()
	fake := newFake(t, echelontest.Config{})
	var logs logbuf.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	direct := newClient(t, fake, echelon.Config{PaymentMethod: echelontest.MethodVirtualAccount}, paykit.WithLogger(logger))
	web := newClient(t, fake, echelon.Config{}, paykit.WithLogger(logger))
	ctx := guard(t)

	_, err := direct.CreatePayment(ctx, paykit.PaymentRequest{ID: "pid-1", Amount: inr(10)})
	require.NoError(t, err)
	_, err = direct.GetPayment(ctx, "pid-1")
	require.NoError(t, err)
	fake.DropNext(1, echelontest.OnRoute("POST", echelontest.RoutePayin)) // a 409 and a look-up follow
	_, err = direct.CreatePayin(ctx, echelon.PayinRequest{ID: "pid-2", Amount: inr(10), Method: "VAPAY"})
	require.NoError(t, err)
	_, err = web.CreatePayment(ctx, paykit.PaymentRequest{ID: "pid-3", Amount: inr(10)})
	require.NoError(t, err)
	_, err = direct.CreatePayout(ctx, echelon.PayoutRequest{ID: "pid-4", Amount: inr(10), Method: "BANK_TRANSFER", AccountNumber: "1"})
	require.NoError(t, err)
	_, err = direct.GetPayout(ctx, "pid-4")
	require.NoError(t, err)
	_, err = direct.Balances(ctx, "INR")
	require.NoError(t, err)
	_, err = direct.PaymentOptions(ctx, inr(10))
	require.NoError(t, err)

	var about, others int
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var l struct {
			Msg, Op, Method, Path string
			PaymentID             *string `json:"payment_id"`
		}
		require.NoError(t, json.Unmarshal([]byte(line), &l), line)
		if l.Msg != "paykit http attempt" {
			continue
		}
		var want string
		switch {
		case strings.HasPrefix(l.Path, "/payins/pid-"), strings.HasPrefix(l.Path, "/payouts/pid-"):
			want = l.Path[strings.LastIndex(l.Path, "/")+1:]
		case l.Path == "/auth-tokens-by-action":
			want = "pid-3"
		}
		if want == "" {
			others++
			assert.Nil(t, l.PaymentID, "%s %s is about no payment", l.Method, l.Path)
			continue
		}
		about++
		if assert.NotNil(t, l.PaymentID, "%s %s (%s)", l.Method, l.Path, l.Op) {
			assert.Equal(t, want, *l.PaymentID, "%s %s", l.Method, l.Path)
		}
	}
	// pid-1 create and get; pid-2 dropped create, 409 repeat, look-up; pid-3 look-up and
	// token; pid-4 create and get.
	assert.Equal(t, 9, about, logs.String())
	assert.Equal(t, 4, others, "two backend tokens, balances, payment options")
}

// TestNoLimitWithHTTPMock: a test that mocks EchelonPay switches the client's limiter off with
// paykit.WithLimiter(paykit.NoLimit): 25 GETs go through httpmock, every one answered, and none
// waits on the default 10-per-second limiter (TestNoLimitSkipsTheMerchantLimiter checks that
// it is never made; this one that the mock sees every call).
func TestNoLimitWithHTTPMock(t *testing.T) {
	t.Parallel()
	hc := &http.Client{}
	c, err := echelon.New(echelon.Config{MerchantCode: "M-nolimit", Secret: "s", BaseURL: "https://api.test.example"},
		paykit.WithHTTPClient(hc), paykit.WithLimiter(paykit.NoLimit))
	require.NoError(t, err)
	_, mt := mockTransport()
	hc.Transport = mt // after New, as httpmock.ActivateNonDefault does
	mt.RegisterResponder("GET", "https://api.test.example/payins/p-1", httpmock.NewBytesResponder(200, echelontest.PayinBody(echelontest.Payin{
		ID: "p-1", Amount: inr(10), Method: "VAPAY", Status: echelontest.ProcessSuccess,
	})))
	ctx := guard(t)
	for range 25 {
		p, err := c.GetPayment(ctx, "p-1")
		require.NoError(t, err)
		assert.Equal(t, paykit.StatusSucceeded, p.Status)
	}
	assert.Equal(t, 26, mt.GetTotalCallCount(), "25 GETs and the token, all through the mock")
}

// TestPayoutBeyondTheBalanceIsUnprocessable: a valid payout that the merchant's balance does
// not cover now (EchelonPay answers 422) is paykit.ErrUnprocessable, not ErrInvalidRequest,
// which means the request itself is wrong (a bug to alert on).
func TestPayoutBeyondTheBalanceIsUnprocessable(t *testing.T) {
	t.Parallel()
	fake := newFake(t, echelontest.Config{Balances: []paykit.Money{{Amount: 10_00, Currency: "INR"}}})
	c := newClient(t, fake, echelon.Config{})
	_, err := c.CreatePayout(guard(t), echelon.PayoutRequest{ID: "po-big", Amount: inr(100), Method: "BANK_TRANSFER", AccountNumber: "1"})
	require.ErrorIs(t, err, paykit.ErrUnprocessable)
	assert.NotErrorIs(t, err, paykit.ErrInvalidRequest)
	var pe *paykit.Error
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "po-big", pe.PaymentID)
}

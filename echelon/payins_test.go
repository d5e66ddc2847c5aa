package echelon_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/echelon"
	"github.com/paykit/paykit/echelon/echelontest"
)

func TestMoneyOnTheWire(t *testing.T) {
	t.Parallel()
	fake := newFake(t, echelontest.Config{})
	rec, opt := recording()
	c := newClient(t, fake, echelon.Config{}, opt)
	ctx := guard(t)
	for _, tc := range []struct {
		id   string
		m    paykit.Money
		wire string
	}{
		{"m-1", paykit.Money{Amount: 1, Currency: "USD"}, `{"amount":0.01,"currencyCode":"USD"}`},
		{"m-2", paykit.Money{Amount: 4205, Currency: "USD"}, `{"amount":42.05,"currencyCode":"USD"}`},
		{"m-3", paykit.Money{Amount: 500000, Currency: "INR"}, `{"amount":5000,"currencyCode":"INR"}`},
		{"m-4", paykit.Money{Amount: 123456789012, Currency: "INR"}, `{"amount":1234567890.12,"currencyCode":"INR"}`},
	} {
		p, err := c.CreatePayin(ctx, echelon.PayinRequest{ID: tc.id, Amount: tc.m, Method: "VAPAY"})
		require.NoError(t, err, tc.id)
		assert.Equal(t, tc.m, p.Amount, "read back exactly")

		sent := rec.find("POST /payins/" + tc.id)
		require.Len(t, sent, 1)
		assert.Contains(t, string(sent[0].body), `"paymentRequested":{"money":`+tc.wire+`}`)
		got, ok := fake.Payin(tc.id)
		require.True(t, ok)
		assert.Equal(t, tc.m, got.Amount, "the fake read it exactly")
	}
}

// mockClient is a client whose requests go to httpmock, with a backend token that needs no
// fetch beyond the first.
func mockClient(t *testing.T, cfg echelon.Config) (*echelon.Client, *httpmock.MockTransport) {
	t.Helper()
	mt := httpmock.NewMockTransport()
	mt.RegisterResponder("POST", "https://api.test.example/auth-tokens", httpmock.NewStringResponder(200, `{"token":"opaque-token"}`))
	cfg.MerchantCode, cfg.Secret, cfg.BaseURL = "M-1", "secret", "https://api.test.example"
	c, err := echelon.New(cfg, paykit.WithHTTPClient(&http.Client{Transport: mt}), paykit.WithLimiter(noLimit{}),
		paykit.WithRetry(paykit.RetryPolicy{MaxAttempts: 1}))
	require.NoError(t, err)
	return c, mt
}

func payinJSON(amount, currency, status string) string {
	return `{"paymentRequested":{"money":{"amount":` + amount + `,"currencyCode":"` + currency + `"}},
		"process":{"status":"` + status + `","createdAt":"2026-03-01T12:00:00Z","processedAt":null,"isTest":false},
		"fee":{"amount":0.1,"currencyCode":"` + currency + `"},
		"paymentMethodResponse":{"idPayin":"p-1","paymentMethodCode":"OFFLINE","account":{"bankName":"B","branchName":"Br"},
		"money":{"amount":` + amount + `,"currencyCode":"` + currency + `"},"expireAt":"2026-03-02T12:00:00Z","reference":"VA112233",
		"returnUrl":"https://shop.example/back","unknownField":[1,2,3]}}`
}

func TestReadsAnswersExactly(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		amount, currency string
		want             paykit.Money
		kind             error
	}{
		{"42.05", "USD", paykit.Money{Amount: 4205, Currency: "USD"}, nil},
		{"42.050", "USD", paykit.Money{Amount: 4205, Currency: "USD"}, nil},
		{"5000", "INR", paykit.Money{Amount: 500000, Currency: "INR"}, nil},
		{"5000.00", "INR", paykit.Money{Amount: 500000, Currency: "INR"}, nil},
		{"1234567890.12", "INR", paykit.Money{Amount: 123456789012, Currency: "INR"}, nil},
		{"0.01", "USD", paykit.Money{Amount: 1, Currency: "USD"}, nil},
		{"42.051", "USD", paykit.Money{}, paykit.ErrAmountMismatch},
		{"4.205e1", "USD", paykit.Money{}, paykit.ErrUnavailable},
		{`"forty"`, "USD", paykit.Money{}, paykit.ErrUnavailable},
	} {
		c, mt := mockClient(t, echelon.Config{})
		mt.RegisterResponder("GET", "https://api.test.example/payins/p-1", httpmock.NewStringResponder(200, payinJSON(tc.amount, tc.currency, "PENDING")))
		p, err := c.GetPayin(guard(t), "p-1")
		if tc.kind != nil {
			assert.ErrorIs(t, err, tc.kind, tc.amount)
			continue
		}
		require.NoError(t, err, tc.amount)
		assert.Equal(t, tc.want, p.Amount, tc.amount)
		assert.Equal(t, tc.want, p.PayAmount, tc.amount)
		assert.Equal(t, paykit.Money{Amount: 10, Currency: tc.currency}, p.Fee)
		assert.Equal(t, "VA112233", p.Reference)
		assert.Equal(t, echelon.Account{BankName: "B", BranchName: "Br"}, p.Account)
		assert.Equal(t, "OFFLINE", p.Method)
		assert.Equal(t, "https://shop.example/back", p.ReturnURL)
		assert.Equal(t, "2026-03-02T12:00:00Z", p.ExpiresAt.UTC().Format("2006-01-02T15:04:05Z07:00"))
	}
}

func TestStatuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		word string
		want paykit.Status
	}{
		{"NEW", paykit.StatusPending}, {"PENDING", paykit.StatusPending}, {"PROCESSING", paykit.StatusPending},
		{"SUCCESS", paykit.StatusSucceeded}, {"FAILED", paykit.StatusFailed}, {"REJECTED", paykit.StatusFailed},
		{"CANCELLED", paykit.StatusCanceled}, {"EXPIRED", paykit.StatusExpired},
		{"ON_HOLD", paykit.StatusUnknown}, {"success", paykit.StatusUnknown},
	} {
		assert.Equal(t, tc.want, echelon.ProcessStatus(tc.word).PaykitStatus(), tc.word)

		c, mt := mockClient(t, echelon.Config{})
		mt.RegisterResponder("GET", "https://api.test.example/payins/p-1", httpmock.NewStringResponder(200, payinJSON("10", "INR", tc.word)))
		pay, err := c.GetPayment(guard(t), "p-1")
		require.NoError(t, err)
		assert.Equal(t, tc.want, pay.Status, tc.word)
		assert.Equal(t, tc.word, pay.ProviderStatus, "the provider's word is kept")
		if tc.want == paykit.StatusSucceeded {
			assert.Equal(t, pay.Amount, pay.Captured)
		} else {
			assert.Equal(t, paykit.Money{Currency: "INR"}, pay.Captured)
		}
	}
}

func TestAnswerAboutAnotherPayin(t *testing.T) {
	t.Parallel()
	c, mt := mockClient(t, echelon.Config{})
	mt.RegisterResponder("GET", "https://api.test.example/payins/p-2", httpmock.NewStringResponder(200, payinJSON("10", "INR", "NEW")))
	_, err := c.GetPayin(guard(t), "p-2")
	assert.ErrorIs(t, err, paykit.ErrUnavailable)
}

// TestLiteralBangPath: the '!' of /payins/!availablePaymentOptions goes on the wire as it is
// (url.PathEscape would send %21, which no operation of a token names).
func TestLiteralBangPath(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var uris []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		uris = append(uris, r.RequestURI)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/auth-tokens" {
			_, _ = w.Write([]byte(`{"token":"opaque-token"}`))
			return
		}
		_, _ = w.Write([]byte(`{"data":[{"paymentMethodCode":"VAPAY","paymentOperators":[{"code":"BNK_000","name":"Bank"}]}]}`))
	}))
	defer srv.Close()
	c, err := echelon.New(echelon.Config{MerchantCode: "M", Secret: "s", BaseURL: srv.URL}, paykit.WithLimiter(noLimit{}))
	require.NoError(t, err)
	opts, err := c.PaymentOptions(guard(t), inr(5000))
	require.NoError(t, err)
	assert.Equal(t, []echelon.PaymentOption{{Method: "VAPAY", Operators: []echelon.Operator{{Code: "BNK_000", Name: "Bank"}}}}, opts)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"/auth-tokens", "/payins/!availablePaymentOptions"}, uris)

	// Against the fake, which takes %21 for a payin id: the options came.
	fake := newFake(t, echelontest.Config{})
	opts, err = newClient(t, fake, echelon.Config{}).PaymentOptions(guard(t), inr(5000))
	require.NoError(t, err)
	require.Len(t, opts, 3)
	assert.Equal(t, "VAPAY", opts[0].Method)
}

func TestBalances(t *testing.T) {
	t.Parallel()
	fake := newFake(t, echelontest.Config{})
	c := newClient(t, fake, echelon.Config{})
	ctx := guard(t)
	got, err := c.Balances(ctx, "INR", "IDR", "EUR")
	require.NoError(t, err)
	assert.Equal(t, []echelon.Balance{{Amount: inr(100000)}, {Amount: paykit.Money{Amount: 10_000_000_00, Currency: "IDR"}}}, got)
	log := fake.CallLog()
	assert.Equal(t, "currencies=INR,IDR,EUR", log[len(log)-1].Query, "a literal comma, as the document writes it")

	all, err := c.Balances(ctx)
	require.NoError(t, err)
	assert.Len(t, all, 3)
	_, err = c.Balances(ctx, "inr")
	assert.ErrorIs(t, err, paykit.ErrInvalidRequest)
	_, err = c.Balances(ctx, "INR&x=1")
	assert.ErrorIs(t, err, paykit.ErrInvalidRequest)
}

// TestConflictAfterDroppedConnection: the create reached EchelonPay but its answer was lost;
// the repeat answers 409, and the payin that exists comes back. There is exactly one payin.
func TestConflictAfterDroppedConnection(t *testing.T) {
	t.Parallel()
	fake := newFake(t, echelontest.Config{})
	c := newClient(t, fake, echelon.Config{PaymentMethod: "VAPAY"})
	ctx := guard(t)

	fake.DropNext(1, echelontest.OnRoute("POST", echelontest.RoutePayin))
	p, err := c.CreatePayin(ctx, echelon.PayinRequest{ID: "d-1", Amount: inr(5000), Method: "VAPAY"})
	require.NoError(t, err)
	assert.Equal(t, "d-1", p.ID)
	assert.Equal(t, inr(5000), p.Amount)
	assert.Equal(t, "NEW", p.ProviderStatus)
	assert.Len(t, fake.Payins(), 1, "exactly one payin")
	var routes []string
	for _, call := range fake.CallLog() {
		if call.Route != echelontest.RouteAuthTokens {
			routes = append(routes, call.Method+" "+string(call.Fault)+" "+http.StatusText(call.Status))
		}
	}
	assert.Equal(t, []string{"POST drop ", "POST  Conflict", "GET  OK"}, routes)

	// Through the Provider too, and for payouts.
	fake.DropNext(1, echelontest.OnRoute("POST", echelontest.RoutePayin))
	pay, err := c.CreatePayment(ctx, paykit.PaymentRequest{ID: "d-2", Amount: inr(10)})
	require.NoError(t, err)
	assert.Equal(t, paykit.StatusPending, pay.Status)
	fake.DropNext(1, echelontest.OnRoute("POST", echelontest.RoutePayout))
	out, err := c.CreatePayout(ctx, echelon.PayoutRequest{ID: "d-3", Amount: inr(10), Method: "BANK_TRANSFER", AccountNumber: "1"})
	require.NoError(t, err)
	assert.Equal(t, inr(10), out.Amount)
	assert.Len(t, fake.Payins(), 2)
	assert.Len(t, fake.Payouts(), 1)
}

func TestConflictForAnotherAmount(t *testing.T) {
	t.Parallel()
	fake := newFake(t, echelontest.Config{})
	c := newClient(t, fake, echelon.Config{PaymentMethod: "VAPAY"})
	ctx := guard(t)
	_, err := c.CreatePayin(ctx, echelon.PayinRequest{ID: "c-1", Amount: inr(5000), Method: "VAPAY"})
	require.NoError(t, err)

	for name, create := range map[string]func() error{
		"payin": func() error {
			_, err := c.CreatePayin(ctx, echelon.PayinRequest{ID: "c-1", Amount: inr(5001), Method: "VAPAY"})
			return err
		},
		"payment": func() error {
			_, err := c.CreatePayment(ctx, paykit.PaymentRequest{ID: "c-1", Amount: paykit.Money{Amount: 500000, Currency: "IDR"}})
			return err
		},
	} {
		err := create()
		assert.ErrorIs(t, err, paykit.ErrAmountMismatch, name)
		assert.ErrorIs(t, err, paykit.ErrConflict, name)
		var pe *paykit.Error
		require.ErrorAs(t, err, &pe, name)
		assert.Equal(t, "c-1", pe.PaymentID, name)
	}
	_, err = c.CreatePayout(ctx, echelon.PayoutRequest{ID: "c-2", Amount: inr(10), Method: "BANK_TRANSFER", AccountNumber: "1"})
	require.NoError(t, err)
	_, err = c.CreatePayout(ctx, echelon.PayoutRequest{ID: "c-2", Amount: inr(11), Method: "BANK_TRANSFER", AccountNumber: "1"})
	assert.ErrorIs(t, err, paykit.ErrAmountMismatch)
	assert.Len(t, fake.Payins(), 1)
	assert.Len(t, fake.Payouts(), 1)
}

func TestCreateAnswerForAnotherAmount(t *testing.T) {
	t.Parallel()
	c, mt := mockClient(t, echelon.Config{})
	mt.RegisterResponder("POST", "https://api.test.example/payins/p-1", httpmock.NewStringResponder(200, payinJSON("10.01", "INR", "NEW")))
	_, err := c.CreatePayin(guard(t), echelon.PayinRequest{ID: "p-1", Amount: inr(10), Method: "VAPAY"})
	assert.ErrorIs(t, err, paykit.ErrAmountMismatch)
	var pe *paykit.Error
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "p-1", pe.PaymentID)
}

func TestPayoutCreateAnswerWithoutProcess(t *testing.T) {
	t.Parallel()
	// The document's own answer to a payout create: no process, no fee.
	c, mt := mockClient(t, echelon.Config{})
	mt.RegisterResponder("POST", "https://api.test.example/payouts/po-1", httpmock.NewStringResponder(200,
		`{"paymentRequested":{"money":{"amount":10000,"currencyCode":"IDR"}},"paymentMethodResponse":{"paymentMethodCode":"BANK_TRANSFER","idPayout":"po-1"}}`))
	out, err := c.CreatePayout(guard(t), echelon.PayoutRequest{ID: "po-1", Amount: paykit.Money{Amount: 1000000, Currency: "IDR"}, Method: "BANK_TRANSFER"})
	require.NoError(t, err)
	assert.Equal(t, &echelon.Payout{ID: "po-1", Amount: paykit.Money{Amount: 1000000, Currency: "IDR"}, Status: paykit.StatusPending}, out)

	// A GET that says nothing of the state is unknown, not pending.
	mt.RegisterResponder("GET", "https://api.test.example/payouts/po-1", httpmock.NewStringResponder(200,
		`{"paymentRequested":{"money":{"amount":10000,"currencyCode":"IDR"}}}`))
	out, err = c.GetPayout(guard(t), "po-1")
	require.NoError(t, err)
	assert.Equal(t, paykit.StatusUnknown, out.Status)
}

func TestRefusedBeforeSending(t *testing.T) {
	t.Parallel()
	fake := newFake(t, echelontest.Config{})
	c := newClient(t, fake, echelon.Config{})
	ctx := guard(t)
	for _, tc := range []struct {
		name string
		id   string // the PaymentID the error names
		call func() error
	}{
		{"payin without method", "x", func() error {
			_, err := c.CreatePayin(ctx, echelon.PayinRequest{ID: "x", Amount: inr(1)})
			return err
		}},
		{"payin of nothing", "x", func() error {
			_, err := c.CreatePayin(ctx, echelon.PayinRequest{ID: "x", Method: "VAPAY", Amount: paykit.Money{Currency: "INR"}})
			return err
		}},
		{"payin id with !", "!availablePaymentOptions", func() error {
			_, err := c.CreatePayin(ctx, echelon.PayinRequest{ID: "!availablePaymentOptions", Amount: inr(1), Method: "VAPAY"})
			return err
		}},
		{"bad callback URL", "x", func() error {
			_, err := c.CreatePayin(ctx, echelon.PayinRequest{ID: "x", Amount: inr(1), Method: "VAPAY", CallbackURL: "http://[::1"})
			return err
		}},
		{"relative return URL", "x", func() error {
			_, err := c.CreatePayin(ctx, echelon.PayinRequest{ID: "x", Amount: inr(1), Method: "VAPAY", ReturnURL: "/back"})
			return err
		}},
		{"payout without method", "x", func() error {
			_, err := c.CreatePayout(ctx, echelon.PayoutRequest{ID: "x", Amount: inr(1)})
			return err
		}},
		{"payout of another currency", "x", func() error {
			_, err := c.CreatePayout(ctx, echelon.PayoutRequest{ID: "x", Amount: paykit.Money{Amount: 1, Currency: "XYZ"}, Method: "BANK_TRANSFER"})
			return err
		}},
		{"payout to a relative callback", "x", func() error {
			_, err := c.CreatePayout(ctx, echelon.PayoutRequest{ID: "x", Amount: inr(1), Method: "BANK_TRANSFER", CallbackURL: "cb"})
			return err
		}},
		{"get empty id", "", func() error {
			_, err := c.GetPayin(ctx, "")
			return err
		}},
		{"get payout with !", "", func() error {
			_, err := c.GetPayout(ctx, "!x")
			return err
		}},
		{"options of nothing", "", func() error {
			_, err := c.PaymentOptions(ctx, paykit.Money{})
			return err
		}},
	} {
		err := tc.call()
		assert.ErrorIs(t, err, paykit.ErrInvalidRequest, tc.name)
		var pe *paykit.Error
		require.ErrorAs(t, err, &pe, tc.name)
		assert.Equal(t, echelon.ProviderName, pe.Provider, tc.name)
		assert.Equal(t, tc.id, pe.PaymentID, tc.name)
	}
	assert.Empty(t, fake.CallLog())
}

func TestGeneratedIDs(t *testing.T) {
	t.Parallel()
	fake := newFake(t, echelontest.Config{})
	c := newClient(t, fake, echelon.Config{})
	ctx := guard(t)
	p, err := c.CreatePayin(ctx, echelon.PayinRequest{Amount: inr(1), Method: "VAPAY"})
	require.NoError(t, err)
	assert.Len(t, p.ID, 36)
	_, ok := fake.Payin(p.ID)
	assert.True(t, ok)
	assert.NotEqual(t, echelon.NewID(), echelon.NewID())

	// A failed create still names the id paykit generated.
	fake.FailNext(1, 500, echelontest.OnRoute("POST", echelontest.RoutePayout))
	_, err = c.CreatePayout(ctx, echelon.PayoutRequest{Amount: inr(1), Method: "BANK_TRANSFER", AccountNumber: "1"})
	require.NoError(t, err, "a 500 is retried: the id makes the create safe to repeat")
	fake.FailNext(5, 500, echelontest.OnRoute("POST", echelontest.RoutePayout))
	_, err = c.CreatePayout(ctx, echelon.PayoutRequest{Amount: inr(1), Method: "BANK_TRANSFER", AccountNumber: "1"})
	var pe *paykit.Error
	require.ErrorAs(t, err, &pe)
	assert.ErrorIs(t, err, paykit.ErrUnavailable)
	assert.Len(t, pe.PaymentID, 36)
}

func TestErrorBodyIsRead(t *testing.T) {
	t.Parallel()
	fake := newFake(t, echelontest.Config{})
	c := newClient(t, fake, echelon.Config{})
	_, err := c.GetPayin(guard(t), "missing")
	var pe *paykit.Error
	require.ErrorAs(t, err, &pe)
	assert.ErrorIs(t, err, paykit.ErrNotFound)
	assert.Equal(t, "NOT_FOUND", pe.Code)
	assert.Equal(t, "No payin missing.", pe.Message)
	var body map[string]string
	require.NoError(t, json.Unmarshal(pe.Body, &body))
}

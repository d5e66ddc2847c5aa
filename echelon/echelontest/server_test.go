package echelontest_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/echelon/echelontest"
)

func guard(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestTokens(t *testing.T) {
	t.Parallel()
	clk := newClock()
	s := newServer(t, echelontest.Config{Now: clk.Now})

	t.Run("bad credentials", func(t *testing.T) {
		for _, body := range []map[string]any{
			{"merchantCode": echelontest.DefaultMerchantCode, "secret": "wrong", "validitySecs": 60, "operations": []string{".*"}},
			{"merchantCode": "other", "secret": echelontest.DefaultSecret, "validitySecs": 60, "operations": []string{".*"}},
			{"validitySecs": 60, "operations": []string{".*"}},
		} {
			a := call(t, s, "POST", "/auth-tokens", "", body)
			assert.Equal(t, 401, a.status)
			assert.Equal(t, "UNAUTHORIZED", a.body["code"])
		}
	})

	t.Run("claims", func(t *testing.T) {
		tok := token(t, s, "GET /payins/.*")
		c := claimsOf(t, tok)
		assert.Equal(t, echelontest.DefaultMerchantCode, c["sub"])
		assert.Equal(t, []any{"GET /payins/.*"}, c["operations"])
		assert.NotEmpty(t, c["jti"])
		exp, err := c.GetExpirationTime()
		require.NoError(t, err)
		assert.WithinDuration(t, clk.Now().Add(600*time.Second), exp.Time, 0)
	})

	t.Run("invalid requests", func(t *testing.T) {
		base := func() map[string]any {
			return map[string]any{"merchantCode": echelontest.DefaultMerchantCode, "secret": echelontest.DefaultSecret, "validitySecs": 60}
		}
		noOps := base()
		badRegex := base()
		badRegex["operations"] = []string{"GET /payins/("}
		zeroValidity := base()
		zeroValidity["operations"] = []string{".*"}
		zeroValidity["validitySecs"] = 0
		for name, body := range map[string]map[string]any{"no operations": noOps, "bad regex": badRegex, "zero validity": zeroValidity} {
			a := call(t, s, "POST", "/auth-tokens", "", body)
			assert.Equal(t, 400, a.status, name)
		}
		byAction := base()
		byAction["action"] = "PAYOUT_CREATE"
		byAction["idPayment"] = "p-1"
		assert.Equal(t, 400, call(t, s, "POST", "/auth-tokens-by-action", "", byAction).status)
		byAction["action"] = "PAYIN_INFO"
		delete(byAction, "idPayment")
		assert.Equal(t, 400, call(t, s, "POST", "/auth-tokens-by-action", "", byAction).status)
	})
}

func TestTokenRules(t *testing.T) {
	t.Parallel()
	clk := newClock()
	s := newServer(t, echelontest.Config{Now: clk.Now})
	all := token(t, s)
	a := call(t, s, "POST", "/payins/p-1", all, payinBody(42.05, "USD", ""))
	require.Equal(t, 200, a.status, string(a.raw))

	t.Run("missing or malformed", func(t *testing.T) {
		assert.Equal(t, 401, call(t, s, "GET", "/payins/p-1", "").status)
		assert.Equal(t, 401, call(t, s, "GET", "/payins/p-1", "not-a-jwt").status)
		// Signed with another key: another fake's token.
		other := newServer(t, echelontest.Config{})
		assert.Equal(t, 401, call(t, s, "GET", "/payins/p-1", token(t, other)).status)
	})

	t.Run("operations", func(t *testing.T) {
		info := token(t, s, "GET /payins/p-1")
		assert.Equal(t, 200, call(t, s, "GET", "/payins/p-1", info).status)
		for _, c := range []struct{ method, path string }{
			{"GET", "/payins/p-2"},
			{"GET", "/payins/p-1x"}, // a full match, not a prefix
			{"POST", "/payins/p-1"},
			{"GET", "/payouts/p-1"},
			{"GET", "/balances"},
		} {
			var body []any
			if c.method == "POST" {
				body = append(body, payinBody(1, "USD", ""))
			}
			a := call(t, s, c.method, c.path, info, body...)
			assert.Equal(t, 403, a.status, "%s %s", c.method, c.path)
			assert.Equal(t, "FORBIDDEN", a.body["code"])
		}
		// The query is not part of what is matched.
		balances := token(t, s, "GET /balances")
		assert.Equal(t, 200, call(t, s, "GET", "/balances?currencies=INR,IDR", balances).status)
	})

	t.Run("by action", func(t *testing.T) {
		body := map[string]any{
			"merchantCode": echelontest.DefaultMerchantCode, "secret": echelontest.DefaultSecret, "validitySecs": 600,
			"action": "PAYIN_CREATE", "idPayment": "TST-112233", "money": money(5000, "INR"),
		}
		a := call(t, s, "POST", "/auth-tokens-by-action", "", body)
		require.Equal(t, 200, a.status, string(a.raw))
		tok := a.body["token"].(string)
		assert.Equal(t, []any{"POST /payins/!availablePaymentOptions", "POST /payins/TST-112233", "GET /payins/TST-112233"}, claimsOf(t, tok)["operations"])

		assert.Equal(t, 200, call(t, s, "POST", "/payins/!availablePaymentOptions", tok, map[string]any{"money": money(5000, "INR")}).status)
		// An escaped '!' is not the action's path.
		assert.Equal(t, 404, call(t, s, "POST", "/payins/%21availablePaymentOptions", tok, map[string]any{"money": money(5000, "INR")}).status)
		// Limited to 5000 INR.
		assert.Equal(t, 403, call(t, s, "POST", "/payins/TST-112233", tok, payinBody(5001, "INR", "")).status)
		assert.Equal(t, 403, call(t, s, "POST", "/payins/TST-112233", tok, payinBody(5000, "IDR", "")).status)
		assert.Equal(t, 200, call(t, s, "POST", "/payins/TST-112233", tok, payinBody(jsonNumber("5000.00"), "INR", "")).status)
		assert.Equal(t, 200, call(t, s, "GET", "/payins/TST-112233", tok).status)
		assert.Equal(t, 403, call(t, s, "GET", "/payins/p-1", tok).status)

		issued := s.Tokens()
		last := issued[len(issued)-1]
		assert.Equal(t, echelontest.RouteAuthTokensByAction, last.Route)
		assert.Equal(t, "PAYIN_CREATE", last.Action)
		assert.Equal(t, "TST-112233", last.PaymentID)
		require.NotNil(t, last.Money)
		assert.Equal(t, paykit.Money{Amount: 500000, Currency: "INR"}, *last.Money)
	})

	t.Run("expiry, lifetime and revocation", func(t *testing.T) {
		s := newServer(t, echelontest.Config{Now: clk.Now})
		s.SetTokenLifetime(2 * time.Second)
		tok := token(t, s) // asks 600 s, cut to 2 s
		exp, err := claimsOf(t, tok).GetExpirationTime()
		require.NoError(t, err)
		assert.WithinDuration(t, s.Now().Add(2*time.Second), exp.Time, 0)
		assert.Equal(t, 404, call(t, s, "GET", "/payins/p-1", tok).status) // valid: no such payin
		s.Advance(2 * time.Second)
		assert.Equal(t, 401, call(t, s, "GET", "/payins/p-1", tok).status)

		s.SetTokenLifetime(0)
		tok = token(t, s)
		assert.Equal(t, 404, call(t, s, "GET", "/payins/p-1", tok).status)
		s.RevokeTokens()
		a := call(t, s, "GET", "/payins/p-1", tok)
		assert.Equal(t, 401, a.status)
		assert.Equal(t, "UNAUTHORIZED", a.body["code"])
		assert.Equal(t, 404, call(t, s, "GET", "/payins/p-1", token(t, s)).status)
	})
}

func TestVersionAndRoutes(t *testing.T) {
	t.Parallel()
	s := newServer(t, echelontest.Config{})
	tok := token(t, s)
	a := send(t, s, "GET", "/balances", tok, nil, false)
	assert.Equal(t, 404, a.status)
	assert.Equal(t, "NOT_FOUND", a.body["code"])
	// Also the token routes.
	a = send(t, s, "POST", "/auth-tokens", "", map[string]any{
		"merchantCode": echelontest.DefaultMerchantCode, "secret": echelontest.DefaultSecret, "validitySecs": 60, "operations": []string{".*"},
	}, false)
	assert.Equal(t, 404, a.status)

	assert.Equal(t, 404, call(t, s, "GET", "/merchant-info", tok).status)
	assert.Equal(t, 404, call(t, s, "GET", "/payins/a/b", tok).status)
	a = call(t, s, "DELETE", "/payins/p-1", tok)
	assert.Equal(t, 405, a.status)
	assert.Equal(t, "POST, GET", a.header.Get("Allow"))
	assert.Equal(t, 405, call(t, s, "GET", "/auth-tokens", "").status)
}

func TestRateWindow(t *testing.T) {
	t.Parallel()
	clk := newClock()
	s := newServer(t, echelontest.Config{Now: clk.Now, RateLimit: 10})
	tok := token(t, s) // counts: the first, at 0 ms
	for i := 2; i <= 10; i++ {
		s.Advance(100 * time.Millisecond) // the 10th at 900 ms
		require.Equal(t, 200, call(t, s, "GET", "/balances", tok).status, "request %d", i)
	}
	a := call(t, s, "GET", "/balances", tok)
	assert.Equal(t, 429, a.status, "the 11th request in the second")
	assert.Equal(t, "TOO_MANY_REQUESTS", a.body["code"])
	// Token requests are throttled like any other.
	assert.Equal(t, 429, call(t, s, "POST", "/auth-tokens", "", map[string]any{}).status)

	s.Advance(99 * time.Millisecond)
	assert.Equal(t, 429, call(t, s, "GET", "/balances", tok).status, "still within the second")
	s.Advance(time.Millisecond)
	assert.Equal(t, 200, call(t, s, "GET", "/balances", tok).status, "the first request left the window")
	assert.Equal(t, 429, call(t, s, "GET", "/balances", tok).status, "the others are still in it")

	var throttled, processed int
	for _, c := range s.CallLog() {
		switch c.Status {
		case 429:
			throttled++
		case 200:
			processed++
		}
	}
	assert.Equal(t, 4, throttled)
	assert.Equal(t, 11, processed)
}

func TestNoRateLimit(t *testing.T) {
	t.Parallel()
	s := newServer(t, echelontest.Config{RateLimit: echelontest.NoRateLimit})
	tok := token(t, s)
	for i := 0; i < 30; i++ {
		require.Equal(t, 200, call(t, s, "GET", "/balances", tok).status)
	}
}

func TestPayins(t *testing.T) {
	t.Parallel()
	clk := newClock()
	s := newServer(t, echelontest.Config{Now: clk.Now})
	tok := token(t, s)

	a := call(t, s, "POST", "/payins/order-1", tok, payinBody(json42(), "USD", "https://shop.example/cb?x=1"))
	require.Equal(t, 200, a.status, string(a.raw))
	assert.JSONEq(t, `{
		"paymentRequested": {"money": {"amount": 42.05, "currencyCode": "USD"}},
		"process": {"status": "NEW", "createdAt": "2026-03-01T12:00:00.000Z", "processedAt": null, "isTest": true},
		"fee": {"amount": 0.42, "currencyCode": "USD"},
		"paymentMethodResponse": {
			"idPayin": "order-1", "paymentMethodCode": "VAPAY", "paymentOperatorCode": "BNK_000",
			"account": {"bankName": "Echelon Test Bank", "branchName": "Main", "accountNumber": "880000000001"},
			"money": {"amount": 42.05, "currencyCode": "USD"},
			"expireAt": "2026-03-02T12:00:00.000Z", "reference": "VA000001"
		}
	}`, string(a.raw))

	get := call(t, s, "GET", "/payins/order-1", tok)
	assert.Equal(t, 200, get.status)
	assert.JSONEq(t, string(a.raw), string(get.raw))

	// A repeat of an accepted id is 409 and changes nothing, whatever its body.
	a = call(t, s, "POST", "/payins/order-1", tok, payinBody(1, "USD", ""))
	assert.Equal(t, 409, a.status)
	assert.Equal(t, "CONFLICT", a.body["code"])
	p, ok := s.Payin("order-1")
	require.True(t, ok)
	assert.Equal(t, paykit.Money{Amount: 4205, Currency: "USD"}, p.Amount)
	assert.Equal(t, "https://shop.example/cb?x=1", p.CallbackURL)
	assert.Len(t, s.Payins(), 1)

	assert.Equal(t, 404, call(t, s, "GET", "/payins/order-2", tok).status)

	// A redirect method.
	body := payinBody(5000, "INR", "")
	body["paymentMethod"] = map[string]any{"paymentMethodCode": "EWALLET"}
	a = call(t, s, "POST", "/payins/order%2F3", tok, body)
	require.Equal(t, 200, a.status, string(a.raw))
	pmr := a.body["paymentMethodResponse"].(map[string]any)
	assert.Equal(t, "order/3", pmr["idPayin"], "an escaped id is read unescaped")
	assert.Equal(t, "https://operator.example/pay?payin=order%2F3", pmr["redirectUrl"])
	assert.Nil(t, pmr["account"])
}

// json42 is 42.05 as an exact JSON number.
func json42() any { return jsonNumber("42.05") }

func TestCreateValidation(t *testing.T) {
	t.Parallel()
	s := newServer(t, echelontest.Config{})
	tok := token(t, s)
	withMethod := func(method, operator string) map[string]any {
		b := payinBody(10, "USD", "")
		b["paymentMethod"] = map[string]any{"paymentMethodCode": method, "paymentOperatorCode": operator}
		return b
	}
	for name, body := range map[string]any{
		"not json":          "{",
		"no money":          map[string]any{"paymentMethod": map[string]any{"paymentMethodCode": "VAPAY"}},
		"string amount":     payinBody("42.05", "USD", ""),
		"too many digits":   payinBody(jsonNumber("42.051"), "USD", ""),
		"exponent":          payinBody(jsonNumber("4.205e1"), "USD", ""),
		"zero":              payinBody(0, "USD", ""),
		"negative":          payinBody(-1, "USD", ""),
		"unknown currency":  payinBody(1, "XXX", ""),
		"unknown method":    withMethod("CARD", ""),
		"unknown operator":  withMethod("VAPAY", "BNK_999"),
		"relative callback": payinBody(1, "USD", "/cb"),
	} {
		a := call(t, s, "POST", "/payins/v-1", tok, body)
		assert.Equal(t, 400, a.status, name)
		assert.Equal(t, "VALIDATION_ERROR", a.body["code"], name)
	}
	assert.Empty(t, s.Payins())
}

func TestPayouts(t *testing.T) {
	t.Parallel()
	s := newServer(t, echelontest.Config{Balances: []paykit.Money{{Amount: 200_00, Currency: "USD"}}})
	tok := token(t, s)
	a := call(t, s, "POST", "/payouts/po-1", tok, payoutBody(100, "USD", ""))
	require.Equal(t, 200, a.status, string(a.raw))
	assert.JSONEq(t, `{"idPayout": "po-1", "paymentMethodCode": "BANK_TRANSFER", "paymentOperatorCode": "BNK_000",
		"account": {"accountName": "Jane Doe", "accountNumber": "1234567890"}, "emailAddress": "jane@example.com",
		"reference": "PO000001"}`, string(mustJSON(t, a.body["paymentMethodResponse"])))
	assert.Equal(t, paykit.Money{Amount: 99_00, Currency: "USD"}, s.Balance("USD"), "amount and fee taken")

	a = call(t, s, "POST", "/payouts/po-2", tok, payoutBody(100, "USD", ""))
	assert.Equal(t, 422, a.status, "the balance does not cover it")
	assert.Equal(t, "INSUFFICIENT_BALANCE", a.body["code"])
	assert.Equal(t, 409, call(t, s, "POST", "/payouts/po-1", tok, payoutBody(100, "USD", "")).status)

	require.NoError(t, s.Fail("po-1"))
	assert.Equal(t, paykit.Money{Amount: 200_00, Currency: "USD"}, s.Balance("USD"), "given back")
	get := call(t, s, "GET", "/payouts/po-1", tok)
	assert.Equal(t, "FAILED", get.body["process"].(map[string]any)["status"])

	noAccount := payoutBody(1, "USD", "")
	delete(noAccount["paymentMethod"].(map[string]any), "account")
	assert.Equal(t, 400, call(t, s, "POST", "/payouts/po-3", tok, noAccount).status)
	p, ok := s.Payout("po-1")
	require.True(t, ok)
	assert.Equal(t, "1234567890", p.AccountNumber)
	assert.Len(t, s.Payouts(), 1)
}

func TestOptionsAndBalances(t *testing.T) {
	t.Parallel()
	s := newServer(t, echelontest.Config{})
	tok := token(t, s)
	a := call(t, s, "POST", "/payins/!availablePaymentOptions", tok, map[string]any{"money": money(5000, "INR")})
	require.Equal(t, 200, a.status)
	assert.JSONEq(t, `{"data": [
		{"paymentMethodCode": "VAPAY", "paymentOperators": [{"code": "BNK_000", "name": "Echelon Test Bank"}, {"code": "BNK_001", "name": "Second Test Bank"}]},
		{"paymentMethodCode": "OFFLINE", "paymentOperators": [{"code": "BNK_000", "name": "Echelon Test Bank"}]},
		{"paymentMethodCode": "EWALLET", "paymentOperators": [{"code": "EWL_000", "name": "Test Wallet"}]}
	]}`, string(a.raw))
	assert.Equal(t, 400, call(t, s, "POST", "/payins/!availablePaymentOptions", tok, map[string]any{}).status)

	a = call(t, s, "GET", "/balances?currencies=INR,XXX,IDR", tok)
	require.Equal(t, 200, a.status)
	assert.JSONEq(t, `{"data": [{"amount": 100000, "currencyCode": "INR"}, {"amount": 10000000, "currencyCode": "IDR"}]}`, string(a.raw))
	a = call(t, s, "GET", "/balances", tok)
	assert.JSONEq(t, `{"data": [{"amount": 10000000, "currencyCode": "IDR"}, {"amount": 100000, "currencyCode": "INR"}, {"amount": 10000, "currencyCode": "USD"}]}`, string(a.raw))
}

func TestStateMachineAndCallbacks(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, 500, 204) // two failures before the 200
	s := newServer(t, echelontest.Config{})
	tok := token(t, s)
	cb := rcv.URL + "/cb/echelon?shop=7&paykit_id=p-1&paykit_sig=abc"
	require.Equal(t, 200, call(t, s, "POST", "/payins/p-1", tok, payinBody(5000, "INR", cb)).status)

	require.NoError(t, s.Process("p-1"))
	ref, err := s.Pay("p-1")
	require.NoError(t, err)
	assert.Equal(t, "VA000001", ref)
	ctx := guard(t)
	require.NoError(t, s.WaitDelivered(ctx, "p-1"))

	got := rcv.received()
	require.Len(t, got, 4, "two callbacks, two refusals")
	for _, r := range got {
		assert.Equal(t, "POST", r.method)
		assert.Equal(t, "/cb/echelon?shop=7&paykit_id=p-1&paykit_sig=abc", r.uri, "the exact callbackUrl, query kept")
		assert.JSONEq(t, `{"idPayin": "p-1"}`, string(r.body))
	}
	ds := s.Deliveries()
	require.Len(t, ds, 2)
	assert.Equal(t, "PROCESSING", ds[0].Event)
	assert.Equal(t, "SUCCESS", ds[1].Event)
	assert.True(t, ds[0].Delivered && ds[1].Delivered)
	assert.Equal(t, 4, len(ds[0].Attempts)+len(ds[1].Attempts), "each is sent until it gets 200")
	assert.Equal(t, paykit.Money{Amount: 100000_00 + 5000_00 - 50_00, Currency: "INR"}, s.Balance("INR"))

	_, err = s.Pay("p-1")
	assert.ErrorIs(t, err, echelontest.ErrFinal)
	for _, f := range []func(string) error{s.Fail, s.Expire, s.Cancel, s.Process} {
		assert.ErrorIs(t, f("p-1"), echelontest.ErrFinal)
	}
	_, err = s.Pay("nope")
	assert.ErrorIs(t, err, echelontest.ErrUnknownPayment)

	for _, c := range []struct {
		control func(string) error
		status  echelontest.ProcessStatus
	}{{s.Fail, echelontest.ProcessFailed}, {s.Expire, echelontest.ProcessExpired}, {s.Cancel, echelontest.ProcessCancelled}} {
		id := "p-" + string(c.status)
		require.Equal(t, 200, call(t, s, "POST", "/payins/"+id, tok, payinBody(1, "INR", "")).status)
		require.NoError(t, c.control(id))
		p, _ := s.Payin(id)
		assert.Equal(t, c.status, p.Status)
		assert.False(t, p.ProcessedAt.IsZero())
		// No callbackUrl and no Config.NotifyURL: nothing is sent, and WaitDelivered says so.
		assert.ErrorIs(t, s.WaitDelivered(ctx, id), echelontest.ErrNoNotifyURL)
	}

	s.Close()
	_, err = s.Pay("p-FAILED")
	assert.ErrorIs(t, err, echelontest.ErrClosed)
}

func TestConfiguredCallbackURLAndPayoutCallback(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	s := newServer(t, echelontest.Config{NotifyURL: rcv.URL + "/default"})
	tok := token(t, s)
	require.Equal(t, 200, call(t, s, "POST", "/payouts/po-1", tok, payoutBody(10, "INR", "")).status)
	_, err := s.Pay("po-1")
	require.NoError(t, err)
	require.NoError(t, s.WaitDelivered(guard(t), "po-1"))
	got := rcv.received()
	require.Len(t, got, 1)
	assert.Equal(t, "/default", got[0].uri)
	assert.JSONEq(t, `{"idPayout": "po-1"}`, string(got[0].body))
}

func TestFaults(t *testing.T) {
	t.Parallel()
	s := newServer(t, echelontest.Config{})
	tok := token(t, s)

	s.FailNext(1, 503, echelontest.OnRoute("POST", echelontest.RoutePayin), echelontest.RetryAfter("2"))
	a := call(t, s, "POST", "/payins/f-1", tok, payinBody(1, "INR", ""))
	assert.Equal(t, 503, a.status)
	assert.Equal(t, "2", a.header.Get("Retry-After"))
	assert.Equal(t, "INJECTED_FAILURE", a.body["code"])
	_, found := s.Payin("f-1")
	assert.False(t, found, "a failed call is not processed")

	s.MalformedNext(1)
	a = call(t, s, "POST", "/payins/f-1", tok, payinBody(1, "INR", ""))
	assert.Equal(t, 200, a.status)
	assert.Nil(t, a.body, "not JSON")
	_, found = s.Payin("f-1")
	assert.True(t, found, "a malformed answer's call is processed")

	s.DropNext(1, echelontest.OnRoute("POST", echelontest.RoutePayin))
	req, _ := http.NewRequest("POST", s.URL+"/payins/f-2", jsonReader(t, payinBody(1, "INR", "")))
	req.Header.Set("X-API-Version", "2")
	req.Header.Set("Authorization", "Bearer "+tok)
	_, err := s.Client().Do(req)
	require.Error(t, err)
	_, found = s.Payin("f-2")
	assert.True(t, found, "a dropped call is processed")
	log := s.CallLog()
	last := log[len(log)-1]
	assert.Equal(t, echelontest.FaultDrop, last.Fault)
	assert.Equal(t, echelontest.RoutePayin, last.Route)
	assert.Equal(t, 200, last.Handled)
	assert.Equal(t, 0, last.Status)
	assert.Equal(t, 3, s.Calls("POST", echelontest.RoutePayin))
}

func TestSetLatency(t *testing.T) {
	t.Parallel()
	s := newServer(t, echelontest.Config{})
	tok := token(t, s)
	s.SetLatency(time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", s.URL+"/balances", nil)
	req.Header.Set("X-API-Version", "2")
	req.Header.Set("Authorization", "Bearer "+tok)
	_, err := s.Client().Do(req)
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.DeadlineExceeded))
}

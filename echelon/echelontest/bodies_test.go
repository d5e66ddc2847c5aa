package echelontest_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/echelon/echelontest"
)

// TestBodiesAreTheFakesAnswers: each body builder, given the server's snapshot of a payment,
// writes byte for byte what the fake answered for it, in every state and for every kind of
// method, so that the bodies a merchant's httpmock responders send cannot drift from the fake.
func TestBodiesAreTheFakesAnswers(t *testing.T) {
	t.Parallel()
	clk := newClock()
	s := newServer(t, echelontest.Config{Now: clk.Now})
	tok := token(t, s)

	payin := func(id string, body map[string]any) {
		t.Helper()
		created := call(t, s, "POST", "/payins/"+id, tok, body)
		require.Equal(t, 200, created.status, string(created.raw))
		p, ok := s.Payin(id)
		require.True(t, ok)
		assert.Equal(t, string(created.raw), string(echelontest.PayinBody(p)), "the create's answer of %s", id)
	}
	ewallet := payinBody(5000, "INR", "https://shop.example/cb?order=2")
	ewallet["paymentMethod"] = map[string]any{"paymentMethodCode": echelontest.MethodEWallet}
	ewallet["returnUrl"] = "https://shop.example/back"
	offline := payinBody(jsonNumber("42.05"), "USD", "")
	offline["paymentMethod"] = map[string]any{"paymentMethodCode": echelontest.MethodOffline}
	payin("in-va", payinBody(1, "INR", ""))
	payin("in-ewallet", ewallet)
	payin("in-offline", offline)
	payin("in-fail", payinBody(7, "INR", ""))
	payin("in-cancel", payinBody(7, "IDR", ""))
	payin("in-expire", payinBody(7, "INR", ""))
	po := call(t, s, "POST", "/payouts/po-1", tok, payoutBody(100, "USD", "https://shop.example/po"))
	require.Equal(t, 200, po.status, string(po.raw))
	p, ok := s.Payout("po-1")
	require.True(t, ok)
	assert.Equal(t, string(po.raw), string(echelontest.PayoutBody(p)), "the payout create's answer")

	gets := func(what string) {
		t.Helper()
		for _, p := range s.Payins() {
			a := call(t, s, "GET", "/payins/"+p.ID, tok)
			require.Equal(t, 200, a.status)
			assert.Equal(t, string(a.raw), string(echelontest.PayinBody(p)), "%s %s %s", what, p.ID, p.Status)
		}
		for _, p := range s.Payouts() {
			a := call(t, s, "GET", "/payouts/"+p.ID, tok)
			require.Equal(t, 200, a.status)
			assert.Equal(t, string(a.raw), string(echelontest.PayoutBody(p)), "%s %s %s", what, p.ID, p.Status)
		}
	}
	gets("new")
	require.NoError(t, s.Process("in-va"))
	require.NoError(t, s.Process("po-1"))
	gets("processing")
	clk.mu.Lock()
	clk.t = clk.t.Add(90 * time.Second)
	clk.mu.Unlock()
	_, err := s.Pay("in-va")
	require.NoError(t, err)
	_, err = s.Pay("in-ewallet")
	require.NoError(t, err)
	_, err = s.Pay("po-1")
	require.NoError(t, err)
	require.NoError(t, s.Fail("in-fail"))
	require.NoError(t, s.Cancel("in-cancel"))
	require.NoError(t, s.Expire("in-expire"))
	gets("final")

	// The error answer of a payin that does not exist.
	a := call(t, s, "GET", "/payins/none", tok)
	require.Equal(t, 404, a.status)
	assert.Equal(t, string(a.raw), string(echelontest.ErrorBody("NOT_FOUND", "No payin none.")))

	// The token answer.
	a = call(t, s, "POST", "/auth-tokens", "", map[string]any{
		"merchantCode": echelontest.DefaultMerchantCode, "secret": echelontest.DefaultSecret,
		"validitySecs": 60, "operations": []string{"GET /balances"},
	})
	require.Equal(t, 200, a.status)
	var answer struct{ Token string }
	require.NoError(t, json.Unmarshal(a.raw, &answer))
	assert.Equal(t, string(a.raw), string(echelontest.TokenBody(answer.Token)))
}

// TestPayinBodyOfAFilledInPayin: a Payin a test fills in itself, with no fee and no times,
// still makes a whole answer: the fee 0 in the amount's currency, no expireAt, processedAt
// null.
func TestPayinBodyOfAFilledInPayin(t *testing.T) {
	t.Parallel()
	b := echelontest.PayinBody(echelontest.Payin{
		ID: "order-1", Amount: paykit.Money{Amount: 500000, Currency: "INR"}, Method: echelontest.MethodVirtualAccount,
		Status: echelontest.ProcessNew, BankName: "Echelon Test Bank", AccountNumber: "880000000001", Reference: "VA000001",
	})
	assert.JSONEq(t, `{
		"paymentRequested": {"money": {"amount": 5000, "currencyCode": "INR"}},
		"process": {"status": "NEW", "processedAt": null, "isTest": true},
		"fee": {"amount": 0, "currencyCode": "INR"},
		"paymentMethodResponse": {
			"idPayin": "order-1", "paymentMethodCode": "VAPAY",
			"account": {"bankName": "Echelon Test Bank", "accountNumber": "880000000001"},
			"money": {"amount": 5000, "currencyCode": "INR"}, "reference": "VA000001"
		}
	}`, string(b))
}

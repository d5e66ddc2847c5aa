package echelon_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/echelon"
	"github.com/paykit/paykit/echelon/echelontest"
	"github.com/paykit/paykit/internal/logbuf"
)

// TestDebugLogOfAWholeFlow: every HTTP attempt of a whole flow logged at debug level, and the
// webhook handlers' log, hold no secret, no JWT and no callback signature.
func TestDebugLogOfAWholeFlow(t *testing.T) {
	t.Parallel()
	const secret, notifySecret = "merchant-secret-0123456789", "notify-secret-0123456789"
	fake := newFake(t, echelontest.Config{Secret: secret})
	var logs logbuf.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	rec, opt := recording()
	c, err := echelon.New(echelon.Config{
		MerchantCode: echelontest.DefaultMerchantCode, Secret: secret, BaseURL: fake.URL,
		PaymentMethod: "VAPAY", NotifySecret: notifySecret,
	}, opt, paykit.WithLogger(logger), paykit.WithLimiter(noLimit{}))
	require.NoError(t, err)
	web, err := echelon.New(echelon.Config{
		MerchantCode: echelontest.DefaultMerchantCode, Secret: secret, BaseURL: fake.URL, NotifySecret: notifySecret,
	}, opt, paykit.WithLogger(logger), paykit.WithLimiter(noLimit{}))
	require.NoError(t, err)
	m := newMerchant(t, c, paykit.WithWebhookLogger(logger))
	ctx := guard(t)
	var errs []error
	keep := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}

	logger.Info("config", "config", echelon.Config{Secret: secret, NotifySecret: notifySecret}, "client", c)
	pay, err := c.CreatePayment(ctx, paykit.PaymentRequest{ID: "f-1", Amount: inr(5000), NotifyURL: m.srv.URL + "/cb/payin?shop=7"})
	require.NoError(t, err)
	_, err = fake.Pay(pay.ID)
	require.NoError(t, err)
	require.NoError(t, fake.WaitDelivered(ctx, pay.ID))
	p, _ := fake.Payin("f-1")
	cb, err := url.Parse(p.CallbackURL)
	require.NoError(t, err)
	sig := cb.Query().Get("paykit_sig")
	require.NotEmpty(t, sig)
	code, _ := m.post(t, "/cb/payin?paykit_id=f-2&paykit_sig="+sig, `{"idPayin":"f-2"}`) // forged
	assert.Equal(t, 401, code)

	webPay, err := web.CreatePayment(ctx, paykit.PaymentRequest{ID: "f-3", Amount: inr(10)})
	require.NoError(t, err)
	tok, err := c.NewToken(ctx, echelon.TokenRequest{Action: echelon.TokenPayinInfo, PaymentID: "f-1"})
	require.NoError(t, err)
	_, err = c.CreatePayout(ctx, echelon.PayoutRequest{ID: "f-4", Amount: inr(10), Method: "BANK_TRANSFER", AccountNumber: "1", CallbackURL: m.srv.URL + "/cb/payout"})
	require.NoError(t, err)
	_, err = c.Balances(ctx, "INR")
	require.NoError(t, err)
	fake.RevokeTokens() // a 401, a new token, a retry
	_, err = c.GetPayment(ctx, "f-1")
	require.NoError(t, err)
	_, err = c.CreatePayout(ctx, echelon.PayoutRequest{ID: "f-5", Amount: inr(10), Method: "CASH", AccountNumber: "1"})
	keep(err) // a 400
	fake.FailNext(3, 503, echelontest.OnRoute("GET", echelontest.RoutePayin))
	_, err = c.GetPayment(ctx, "f-1")
	keep(err)
	fake.MalformedNext(3, echelontest.OnRoute("POST", echelontest.RouteAuthTokensByAction))
	_, err = c.NewToken(ctx, echelon.TokenRequest{Action: echelon.TokenPayinInfo, PaymentID: "f-1"})
	keep(err) // a broken answer that may hold a token
	require.Len(t, errs, 3)

	// Every credential that went over the wire.
	secrets := []string{secret, notifySecret, sig, webPay.Action.Token, tok.Value}
	for _, call := range rec.all() {
		if a := call.header.Get("Authorization"); a != "" {
			secrets = append(secrets, strings.TrimPrefix(a, "Bearer "))
		}
		var answer struct{ Token string }
		if json.Unmarshal(call.answer, &answer) == nil && answer.Token != "" {
			secrets = append(secrets, answer.Token)
		}
	}
	require.Greater(t, len(secrets), 8, "several JWTs were used")

	out := logs.String()
	assert.GreaterOrEqual(t, strings.Count(out, `"msg":"paykit http attempt"`), 15, "the flow was logged")
	assert.Contains(t, out, "webhook: refused")
	for _, e := range errs {
		out += "\n" + e.Error()
		var pe *paykit.Error
		if assert.ErrorAs(t, e, &pe) {
			out += "\n" + string(pe.Body)
		}
	}
	for _, s := range secrets {
		assert.NotContains(t, out, s)
		assert.NotContains(t, out, url.QueryEscape(s))
	}
	assert.NotContains(t, out, "eyJ", "no JWT, whole or in part")
}

// TestErrorsHoldNoSecret: a refused token request names no secret in its error or its body.
func TestErrorsHoldNoSecret(t *testing.T) {
	t.Parallel()
	const secret = "merchant-secret-0123456789"
	fake := newFake(t, echelontest.Config{})
	c, err := echelon.New(echelon.Config{MerchantCode: echelontest.DefaultMerchantCode, Secret: secret, BaseURL: fake.URL}, paykit.WithLimiter(noLimit{}))
	require.NoError(t, err)
	_, err = c.Balances(context.Background())
	require.Error(t, err, "the fake knows another secret")
	assert.NotContains(t, err.Error(), secret)
	var pe *paykit.Error
	require.ErrorAs(t, err, &pe)
	assert.NotContains(t, string(pe.Body), secret)
}

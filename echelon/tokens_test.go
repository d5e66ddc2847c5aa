package echelon_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/echelon"
	"github.com/paykit/paykit/echelon/echelontest"
)

func TestBackendTokenOperations(t *testing.T) {
	t.Parallel()
	fake := newFake(t, echelontest.Config{})
	c := newClient(t, fake, echelon.Config{})
	ctx := guard(t)
	_, err := c.Balances(ctx)
	require.NoError(t, err)
	toks := fake.Tokens()
	require.Len(t, toks, 1)
	assert.Equal(t, echelontest.RouteAuthTokens, toks[0].Route)
	assert.Equal(t, []string{
		"POST /payins/!availablePaymentOptions",
		"POST /payins/[^/]+",
		"GET /payins/[^/]+",
		"POST /payouts/[^/]+",
		"GET /payouts/[^/]+",
		"GET /balances",
	}, toks[0].Operations, "exactly the calls the SDK makes")
	assert.Equal(t, 600*time.Second, toks[0].ExpiresAt.Sub(toks[0].IssuedAt.Truncate(time.Second)))
	assert.Nil(t, toks[0].Money)

	// Every call the SDK makes is allowed by it (the fake answers 403 otherwise), an id with
	// escaped characters included.
	_, err = c.PaymentOptions(ctx, inr(10))
	require.NoError(t, err)
	for _, id := range []string{"p-1", "order/7 ä?#"} {
		_, err = c.CreatePayin(ctx, echelon.PayinRequest{ID: id, Amount: inr(10), Method: "VAPAY"})
		require.NoError(t, err, id)
		_, err = c.GetPayin(ctx, id)
		require.NoError(t, err, id)
		_, err = c.CreatePayout(ctx, echelon.PayoutRequest{ID: id, Amount: inr(1), Method: "BANK_TRANSFER", AccountNumber: "1"})
		require.NoError(t, err, id)
		_, err = c.GetPayout(ctx, id)
		require.NoError(t, err, id)
	}
	_, err = c.Balances(ctx, "INR", "IDR")
	require.NoError(t, err)
	assert.Len(t, fake.Tokens(), 1, "one backend token served them all")
	p, ok := fake.Payin("order/7 ä?#")
	require.True(t, ok, "the id arrives as it was")
	assert.Equal(t, "order/7 ä?#", p.ID)
}

func TestOneTokenForConcurrentCallers(t *testing.T) {
	t.Parallel()
	fake := newFake(t, echelontest.Config{})
	fake.SetLatency(20 * time.Millisecond) // a slow token fetch, for every caller to queue behind
	c := newClient(t, fake, echelon.Config{})
	ctx := guard(t)
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.GetPayin(ctx, fmt.Sprint("none-", i))
			assert.ErrorIs(t, err, paykit.ErrNotFound)
		}()
	}
	wg.Wait()
	assert.Len(t, fake.Tokens(), 1)
	assert.Equal(t, 1, fake.Calls("POST", echelontest.RouteAuthTokens))
}

func TestTokenExpiryAndRevocation(t *testing.T) {
	t.Parallel()
	fake := newFake(t, echelontest.Config{})
	c := newClient(t, fake, echelon.Config{})
	ctx := guard(t)

	t.Run("expired", func(t *testing.T) {
		fake.SetTokenLifetime(2 * time.Second)
		_, err := c.Balances(ctx)
		require.NoError(t, err)
		before := len(fake.Tokens())
		time.Sleep(2 * time.Second) // the token's whole life: it is due, and expired at the fake
		_, err = c.Balances(ctx)
		require.NoError(t, err)
		assert.Len(t, fake.Tokens(), before+1, "a new token was fetched")
		for _, call := range fake.CallLog() {
			assert.NotEqual(t, 401, call.Status, "an expired token was sent: %s %s", call.Method, call.Path)
		}
		fake.SetTokenLifetime(0)
	})

	t.Run("revoked, under concurrency", func(t *testing.T) {
		_, err := c.Balances(ctx)
		require.NoError(t, err)
		before := len(fake.Tokens())
		fake.RevokeTokens()
		var wg sync.WaitGroup
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := c.Balances(ctx)
				assert.NoError(t, err)
			}()
		}
		wg.Wait()
		assert.Len(t, fake.Tokens(), before+1, "the 401s of one revoked token cause one new token")
	})

	t.Run("revoked, one refresh and one retry", func(t *testing.T) {
		_, err := c.Balances(ctx)
		require.NoError(t, err)
		fake.RevokeTokens()
		n := len(fake.CallLog())
		_, err = c.Balances(ctx)
		require.NoError(t, err)
		calls := fake.CallLog()[n:]
		require.Len(t, calls, 3)
		assert.Equal(t, 401, calls[0].Status)
		assert.Equal(t, echelontest.RouteAuthTokens, calls[1].Route)
		assert.Equal(t, 200, calls[2].Status)
	})
}

func TestForbiddenIsNotRetried(t *testing.T) {
	t.Parallel()
	fake := newFake(t, echelontest.Config{})
	c := newClient(t, fake, echelon.Config{})
	// A 403 (e.g. a token minted for other operations) is an answer, not a stale token.
	fake.FailNext(1, 403, echelontest.OnRoute("GET", echelontest.RoutePayin))
	_, err := c.GetPayin(guard(t), "p-1")
	var pe *paykit.Error
	require.ErrorAs(t, err, &pe)
	assert.ErrorIs(t, err, paykit.ErrUnauthorized)
	assert.Equal(t, 403, pe.StatusCode)
	assert.Equal(t, 1, fake.Calls("GET", echelontest.RoutePayin))
	assert.Len(t, fake.Tokens(), 1)
}

func TestBadCredentials(t *testing.T) {
	t.Parallel()
	fake := newFake(t, echelontest.Config{})
	c, err := echelon.New(echelon.Config{MerchantCode: echelontest.DefaultMerchantCode, Secret: "wrong-secret-value", BaseURL: fake.URL}, paykit.WithLimiter(noLimit{}))
	require.NoError(t, err)
	_, err = c.GetPayin(guard(t), "p-1")
	var pe *paykit.Error
	require.ErrorAs(t, err, &pe)
	assert.ErrorIs(t, err, paykit.ErrUnauthorized)
	assert.Equal(t, 401, pe.StatusCode)
	assert.Equal(t, "UNAUTHORIZED", pe.Code)
	assert.NotContains(t, err.Error(), "wrong-secret-value")
	assert.Equal(t, 0, fake.Calls("GET", echelontest.RoutePayin), "nothing is sent without a token")
}

func TestNewToken(t *testing.T) {
	t.Parallel()
	fake := newFake(t, echelontest.Config{})
	c := newClient(t, fake, echelon.Config{})
	ctx := guard(t)

	t.Run("by action, limited to an amount", func(t *testing.T) {
		asked := time.Now()
		tok, err := c.NewToken(ctx, echelon.TokenRequest{
			Action: echelon.TokenPayinCreate, PaymentID: "TST-112233", Amount: &paykit.Money{Amount: 500000, Currency: "INR"},
		})
		require.NoError(t, err)
		claims := jwt.MapClaims{}
		_, _, err = jwt.NewParser().ParseUnverified(tok.Value, claims)
		require.NoError(t, err)
		exp, err := claims.GetExpirationTime()
		require.NoError(t, err)
		assert.True(t, tok.ExpiresAt.Equal(exp.Time), "ExpiresAt is the exp claim")
		assert.WithinDuration(t, asked.Add(echelon.DefaultTokenValidity), tok.ExpiresAt, 2*time.Second)

		issued := fake.Tokens()
		last := issued[len(issued)-1]
		assert.Equal(t, echelontest.RouteAuthTokensByAction, last.Route)
		assert.Equal(t, "PAYIN_CREATE", last.Action)
		assert.Equal(t, "TST-112233", last.PaymentID)
		assert.Equal(t, &paykit.Money{Amount: 500000, Currency: "INR"}, last.Money)
	})

	t.Run("by operations, validity rounded up", func(t *testing.T) {
		tok, err := c.NewToken(ctx, echelon.TokenRequest{Operations: []string{"GET /payins/TST-112233"}, Validity: 1500 * time.Millisecond})
		require.NoError(t, err)
		issued := fake.Tokens()
		last := issued[len(issued)-1]
		assert.Equal(t, echelontest.RouteAuthTokens, last.Route)
		assert.Equal(t, []string{"GET /payins/TST-112233"}, last.Operations)
		assert.Equal(t, 2*time.Second, last.ExpiresAt.Sub(last.IssuedAt.Truncate(time.Second)))
		assert.True(t, tok.ExpiresAt.Equal(last.ExpiresAt))
	})

	t.Run("refused before anything is sent", func(t *testing.T) {
		n := len(fake.CallLog())
		for name, req := range map[string]echelon.TokenRequest{
			"nothing":               {},
			"action without id":     {Action: echelon.TokenPayinInfo},
			"action and operations": {Action: echelon.TokenPayinInfo, PaymentID: "x", Operations: []string{"GET /payins/x"}},
			"id without action":     {PaymentID: "x", Operations: []string{"GET /payins/x"}},
			"empty operation":       {Operations: []string{""}},
			"negative validity":     {Action: echelon.TokenPayinInfo, PaymentID: "x", Validity: -time.Second},
			"zero amount":           {Action: echelon.TokenPayinInfo, PaymentID: "x", Amount: &paykit.Money{Currency: "INR"}},
			"amount of no currency": {Action: echelon.TokenPayinInfo, PaymentID: "x", Amount: &paykit.Money{Amount: 5, Currency: "XXX"}},
		} {
			_, err := c.NewToken(ctx, req)
			assert.ErrorIs(t, err, paykit.ErrInvalidRequest, name)
		}
		assert.Len(t, fake.CallLog(), n)
	})

	t.Run("an unknown action is EchelonPay's to refuse", func(t *testing.T) {
		_, err := c.NewToken(ctx, echelon.TokenRequest{Action: "PAYOUT_CREATE", PaymentID: "x"})
		assert.ErrorIs(t, err, paykit.ErrInvalidRequest)
		var pe *paykit.Error
		require.ErrorAs(t, err, &pe)
		assert.Equal(t, 400, pe.StatusCode)
	})
}

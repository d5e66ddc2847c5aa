package ecster_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/ecster"
	"github.com/paykit/paykit/ecster/ecstertest"
)

// The custom OEN header of the tests.
const (
	hookHeader = "X-Shop-Auth"
	hookValue  = "oen-header-value-agreed"
)

// ctxT is a context bounded by a guard timeout: it only turns a hang into a failure.
func ctxT(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// fastRetry keeps retried calls quick in tests.
var fastRetry = paykit.WithRetry(paykit.RetryPolicy{MaxAttempts: 3, MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond})

// setup starts a fake and a client pointed at it. cfg may add header or secret settings;
// the credentials and BaseURL are filled in.
func setup(t *testing.T, fc ecstertest.Config, cfg ecster.Config, opts ...paykit.Option) (*ecstertest.Server, *ecster.Client) {
	t.Helper()
	srv := ecstertest.NewServer(fc)
	t.Cleanup(srv.Close)
	cfg.APIKey, cfg.MerchantKey, cfg.BaseURL = ecstertest.DefaultAPIKey, ecstertest.DefaultMerchantKey, srv.URL
	if cfg.ShopTermsURL == "" {
		cfg.ShopTermsURL = "https://shop.example/terms"
	}
	c, err := ecster.New(cfg, append([]paykit.Option{fastRetry}, opts...)...)
	require.NoError(t, err)
	return srv, c
}

func sek(a int64) paykit.Money { return paykit.Money{Amount: a, Currency: "SEK"} }

// request is a payment of amount in one row.
func request(id string, amount int64) paykit.PaymentRequest {
	return paykit.PaymentRequest{
		ID:     id,
		Amount: sek(amount),
		Items:  []paykit.Item{{Reference: "SKU-1", Name: "Goods", Quantity: 1, UnitAmount: sek(amount), VATRate: 2500}},
	}
}

// ordered creates a payment of amount and completes its checkout with status; it returns
// the payment id.
func ordered(t *testing.T, ctx context.Context, srv *ecstertest.Server, c *ecster.Client, amount int64, status ecster.OrderStatus) string {
	t.Helper()
	pay, err := c.CreatePayment(ctx, request(ecster.NewID(), amount))
	require.NoError(t, err)
	require.NoError(t, srv.CompleteCheckout(pay.ID, status))
	return pay.ID
}

// ofType returns the transactions of typ.
func ofType(txs []ecster.Transaction, typ ecster.TransactionType) []ecster.Transaction {
	var out []ecster.Transaction
	for _, tx := range txs {
		if tx.Type == typ {
			out = append(out, tx)
		}
	}
	return out
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// clientWithTransport is a client of srv whose requests go through rt.
func clientWithTransport(t *testing.T, srv *ecstertest.Server, rt http.RoundTripper) *ecster.Client {
	t.Helper()
	c, err := ecster.New(ecster.Config{APIKey: ecstertest.DefaultAPIKey, MerchantKey: ecstertest.DefaultMerchantKey, BaseURL: srv.URL},
		fastRetry, paykit.WithHTTPClient(&http.Client{Transport: rt}))
	require.NoError(t, err)
	return c
}

// clientWith is a client of srv that calls hook with every request before sending it.
func clientWith(t *testing.T, srv *ecstertest.Server, hook func(*http.Request)) *ecster.Client {
	t.Helper()
	var mu sync.Mutex
	return clientWithTransport(t, srv, roundTripFunc(func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		hook(r)
		mu.Unlock()
		return http.DefaultTransport.RoundTrip(r)
	}))
}

// mustPay completes the checkout of the payment id as the consumer (srv.Pay), failing the
// test when it cannot.
func mustPay(t *testing.T, srv *ecstertest.Server, id string) {
	t.Helper()
	_, err := srv.Pay(id)
	require.NoError(t, err)
}

// payErr is srv.Pay's error alone, for tests of its refusals.
func payErr(srv *ecstertest.Server, id string) error {
	_, err := srv.Pay(id)
	return err
}

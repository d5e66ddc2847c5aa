package ecster_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/ecster"
	"github.com/paykit/paykit/ecster/ecstertest"
)

// A gateway in front of Ecster answers 504 to the first DEBIT while the request is still on
// its way to Ecster, where it lands a moment later. A read made at once would not find it and
// the client would debit again; the client waits its retry policy's backoff first (as after
// no answer at all), finds its reference on the order, and reports the one debit.
func TestGatewayTimeoutWaitsBeforeReadingTheOrder(t *testing.T) {
	t.Parallel()
	srv := ecstertest.NewServer(ecstertest.Config{})
	t.Cleanup(srv.Close)
	target, err := url.Parse(srv.URL)
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(target)
	var once sync.Once
	landed := make(chan struct{})
	const lateBy = 100 * time.Millisecond
	gateway := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		first := false
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/transactions") {
			once.Do(func() { first = true })
		}
		if !first {
			proxy.ServeHTTP(w, r)
			return
		}
		// The gateway gives up at once; the request reaches Ecster later.
		body, _ := io.ReadAll(r.Body)
		late := r.Clone(r.Context())
		go func() {
			defer close(landed)
			time.Sleep(lateBy)
			req, _ := http.NewRequest(late.Method, srv.URL+late.URL.Path, strings.NewReader(string(body)))
			req.Header = late.Header.Clone()
			if resp, err := http.DefaultClient.Do(req); err == nil {
				b, _ := io.ReadAll(resp.Body)
				t.Logf("late: %d %s", resp.StatusCode, b)
				resp.Body.Close()
			} else {
				t.Logf("late: %v", err)
			}
		}()
		http.Error(w, "upstream timed out", http.StatusGatewayTimeout)
	}))
	t.Cleanup(gateway.Close)

	c, err := ecster.New(ecster.Config{APIKey: ecstertest.DefaultAPIKey, MerchantKey: ecstertest.DefaultMerchantKey,
		BaseURL: gateway.URL, ShopTermsURL: "https://shop.example/terms"},
		paykit.WithRetry(paykit.RetryPolicy{MaxAttempts: 3, MinWait: 4 * lateBy, MaxWait: 4 * lateBy}))
	require.NoError(t, err)
	ctx := ctxT(t)
	id := ordered(t, ctx, srv, c, 1000, ecster.OrderReady)

	p, err := c.Capture(ctx, id, sek(400))
	require.NoError(t, err)
	<-landed
	debits := ofType(srv.Transactions(id), ecster.TransactionDebit)
	assert.Len(t, debits, 1, "one capture meant, one debit")
	assert.Equal(t, sek(400), p.Captured)
}

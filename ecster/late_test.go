package ecster_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptrace"
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

// lateTransport passes requests on, except the first transaction POST: that one is taken as
// written, its caller is left without an answer until its attempt times out, and the request
// reaches Ecster a little later, as one held in a queue on its way.
type lateTransport struct {
	base   http.RoundTripper
	delay  time.Duration
	mu     sync.Mutex
	held   bool
	landed chan struct{}
}

func (l *lateTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	l.mu.Lock()
	hold := !l.held && req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/transactions")
	l.held = l.held || hold
	l.mu.Unlock()
	if !hold {
		return l.base.RoundTrip(req)
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	if tr := httptrace.ContextClientTrace(req.Context()); tr != nil && tr.WroteHeaders != nil {
		tr.WroteHeaders()
	}
	late := req.Clone(context.Background())
	late.Body = io.NopCloser(bytes.NewReader(body))
	<-req.Context().Done() // the attempt times out without an answer
	go func() {
		defer close(l.landed)
		time.Sleep(l.delay)
		if resp, err := l.base.RoundTrip(late); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}()
	return nil, req.Context().Err()
}

// A DEBIT whose attempt timed out without an answer lands a moment later. The client waits
// its retry backoff before it reads the order, finds the reference, and does not send the
// DEBIT again: one capture, one debit. (Read at once, the order would not show it yet, and
// the DEBIT sent again would make a second debit.)
func TestDebitLandingLateAfterATimeoutIsNotSentAgain(t *testing.T) {
	t.Parallel()
	fake := ecstertest.NewServer(ecstertest.Config{})
	t.Cleanup(fake.Close)
	lt := &lateTransport{base: http.DefaultTransport, delay: 30 * time.Millisecond, landed: make(chan struct{})}
	client, err := ecster.New(ecster.Config{APIKey: ecstertest.DefaultAPIKey, MerchantKey: ecstertest.DefaultMerchantKey, BaseURL: fake.URL},
		paykit.WithHTTPClient(&http.Client{Transport: lt}), paykit.WithTimeout(300*time.Millisecond),
		paykit.WithRetry(paykit.RetryPolicy{MaxAttempts: 3, MinWait: 500 * time.Millisecond, MaxWait: time.Second}))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	sek := paykit.Money{Amount: 100000, Currency: "SEK"}
	pay, err := client.CreatePayment(ctx, paykit.PaymentRequest{Amount: sek,
		Items: []paykit.Item{{Name: "Tent", Quantity: 1, UnitAmount: sek, VATRate: 2500}}})
	require.NoError(t, err)
	mustPay(t, fake, pay.ID)

	got, err := client.Capture(ctx, pay.ID, paykit.Money{Amount: 40000, Currency: "SEK"})
	require.NoError(t, err)
	<-lt.landed
	assert.Equal(t, int64(40000), got.Captured.Amount)
	debits := 0
	for _, tx := range fake.Transactions(pay.ID) {
		if tx.Type == ecster.TransactionDebit {
			debits++
		}
	}
	assert.Equal(t, 1, debits)
}

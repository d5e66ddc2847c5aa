package echelon_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/echelon"
	"github.com/paykit/paykit/echelon/echelontest"
)

// noLimit is a limiter that never waits, for tests that are not about throttling (the
// default limiter would make them last a second per ten requests).
type noLimit struct{}

func (noLimit) Wait(ctx context.Context) error { return ctx.Err() }

// countingLimiter counts the turns it gives.
type countingLimiter struct {
	mu sync.Mutex
	n  int
}

func (l *countingLimiter) Wait(ctx context.Context) error {
	l.mu.Lock()
	l.n++
	l.mu.Unlock()
	return ctx.Err()
}

func (l *countingLimiter) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n
}

// guard bounds a test that could hang.
func guard(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// newFake starts an unthrottled fake unless cfg sets a RateLimit.
func newFake(t testing.TB, cfg echelontest.Config) *echelontest.Server {
	t.Helper()
	if cfg.RateLimit == 0 {
		cfg.RateLimit = echelontest.NoRateLimit
	}
	s := echelontest.NewServer(cfg)
	t.Cleanup(s.Close)
	return s
}

// fakeConfig is a Config for the fake's default merchant.
func fakeConfig(fake *echelontest.Server) echelon.Config {
	return echelon.Config{MerchantCode: echelontest.DefaultMerchantCode, Secret: echelontest.DefaultSecret, BaseURL: fake.URL}
}

// newClient returns a client of the fake's merchant with cfg's choices, no limiter, and
// fast retries, unless opts say otherwise.
func newClient(t testing.TB, fake *echelontest.Server, cfg echelon.Config, opts ...paykit.Option) *echelon.Client {
	t.Helper()
	cfg.MerchantCode, cfg.Secret, cfg.BaseURL = echelontest.DefaultMerchantCode, echelontest.DefaultSecret, fake.URL
	all := append([]paykit.Option{
		paykit.WithLimiter(noLimit{}),
		paykit.WithRetry(paykit.RetryPolicy{MaxAttempts: 3, MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond}),
	}, opts...)
	c, err := echelon.New(cfg, all...)
	require.NoError(t, err)
	return c
}

// recorder is an http.RoundTripper that keeps a copy of every request and answer.
type recorder struct {
	mu    sync.Mutex
	next  http.RoundTripper
	calls []recorded
}

type recorded struct {
	method, uri string
	header      http.Header
	body        []byte
	status      int
	answer      []byte
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	rec := recorded{method: req.Method, uri: req.URL.RequestURI(), header: req.Header.Clone()}
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body.Close()
		rec.body = b
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	resp, err := r.next.RoundTrip(req)
	if err == nil {
		b, rerr := io.ReadAll(resp.Body)
		resp.Body.Close()
		if rerr != nil {
			return nil, rerr
		}
		rec.status, rec.answer = resp.StatusCode, b
		resp.Body = io.NopCloser(bytes.NewReader(b))
	}
	r.mu.Lock()
	r.calls = append(r.calls, rec)
	r.mu.Unlock()
	return resp, err
}

func (r *recorder) all() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recorded(nil), r.calls...)
}

// find returns the recorded calls whose "METHOD uri" starts with prefix.
func (r *recorder) find(prefix string) []recorded {
	var out []recorded
	for _, c := range r.all() {
		if strings.HasPrefix(c.method+" "+c.uri, prefix) {
			out = append(out, c)
		}
	}
	return out
}

func recording() (*recorder, paykit.Option) {
	r := &recorder{next: http.DefaultTransport}
	return r, paykit.WithHTTPClient(&http.Client{Transport: r})
}

func inr(major int64) paykit.Money { return paykit.Money{Amount: major * 100, Currency: "INR"} }

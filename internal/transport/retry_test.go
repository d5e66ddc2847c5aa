package transport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paykit/paykit"
)

// requestKinds are the three kinds of request the retry rules tell apart.
var requestKinds = []struct {
	name string
	req  func(out *payment) Request
	// repeatable: may be sent again after it may have reached the provider.
	repeatable bool
}{
	{"GET", func(out *payment) Request {
		return Request{Op: "get payment", Method: http.MethodGet, Path: "/payments/pay_123", Result: out, Repeatable: true}
	}, true},
	{"keyed create", func(out *payment) Request {
		return Request{Op: "create payment", Method: http.MethodPost, Path: "/payments/pay_123", Body: map[string]any{"amount": 4200}, Result: out, Repeatable: true}
	}, true},
	{"other POST", func(out *payment) Request {
		return Request{Op: "capture", Method: http.MethodPost, Path: "/orders/o1/transactions", Body: map[string]any{"type": "DEBIT"}, Result: out}
	}, false},
}

// failure is one way an attempt can fail.
type failure struct {
	name string
	// retried: whether a request of that kind is sent again after this failure.
	retried    func(repeatable bool) bool
	kind       error
	statusCode int
	// fail answers a request that should fail (nil for dial failures, made by the dialer).
	fail http.HandlerFunc
}

func failures(t *testing.T) []failure {
	always := func(bool) bool { return true }
	never := func(bool) bool { return false }
	ifRepeatable := func(r bool) bool { return r }
	status := func(code int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, code, map[string]string{"message": http.StatusText(code)})
		}
	}
	return []failure{
		{name: "dial failure", retried: always, kind: paykit.ErrUnavailable},
		{name: "closed after write", retried: ifRepeatable, kind: paykit.ErrUnavailable,
			fail: func(w http.ResponseWriter, r *http.Request) { hijackClose(t, w, r) }},
		{name: "429", retried: always, kind: paykit.ErrRateLimited, statusCode: 429, fail: status(429)},
		{name: "503", retried: ifRepeatable, kind: paykit.ErrUnavailable, statusCode: 503, fail: status(503)},
		{name: "400", retried: never, kind: paykit.ErrInvalidRequest, statusCode: 400, fail: status(400)},
	}
}

// TestRetryMatrix runs every request kind against every failure, once failing on every attempt
// and once failing only the first MaxAttempts-1 attempts, and checks how many attempts reached
// the server (or the dialer) and what Do returned.
func TestRetryMatrix(t *testing.T) {
	t.Parallel()
	max := fastPolicy.MaxAttempts
	for _, kind := range requestKinds {
		for _, f := range failures(t) {
			for _, recovers := range []bool{false, true} {
				name := kind.name + "/" + f.name + "/always"
				if recovers {
					name = kind.name + "/" + f.name + "/then ok"
				}
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					failFirst := int64(math.MaxInt64)
					if recovers {
						failFirst = int64(max - 1)
					}
					retried := f.retried(kind.repeatable)

					var attempts *atomic.Int64
					srv, served := newServer(t, func(w http.ResponseWriter, r *http.Request) {
						if f.fail != nil && attempts.Load() <= failFirst {
							f.fail(w, r)
							return
						}
						writeJSON(w, http.StatusOK, okPayment)
					})
					edit := func(*Config) {}
					if f.fail == nil {
						// Dial failures: the first failFirst dials go to a closed address.
						var dials atomic.Int64
						attempts = &dials
						bad, good := closedAddr(t), srv.Listener.Addr().String()
						tr := DefaultHTTPTransport().(*http.Transport)
						tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
							addr := good
							if dials.Add(1) <= failFirst {
								addr = bad
							}
							var d net.Dialer
							return d.DialContext(ctx, network, addr)
						}
						edit = func(cfg *Config) { cfg.Settings.HTTPClient = &http.Client{Transport: tr} }
					} else {
						attempts = served
					}
					c := newTestClient(t, srv.URL, edit)

					var out payment
					resp, err := c.Do(context.Background(), kind.req(&out))

					wantAttempts := int64(1)
					if retried {
						wantAttempts = int64(max)
					}
					if got := attempts.Load(); got != wantAttempts {
						t.Errorf("attempts = %d, want %d", got, wantAttempts)
					}
					if recovers && retried {
						if err != nil {
							t.Fatalf("Do: %v, want success after retries", err)
						}
						if resp.StatusCode != http.StatusOK || out != okPayment {
							t.Errorf("Do = %d %+v, want 200 %+v", resp.StatusCode, out, okPayment)
						}
						return
					}
					if err == nil {
						t.Fatalf("Do succeeded, want %v", f.kind)
					}
					if resp != nil {
						t.Errorf("Do returned a response with its error: %+v", resp)
					}
					checkKind(t, err, f.kind)
					pe := asError(t, err)
					if pe.StatusCode != f.statusCode {
						t.Errorf("StatusCode = %d, want %d", pe.StatusCode, f.statusCode)
					}
					if pe.Provider != "testprov" || pe.Op == "" {
						t.Errorf("Provider, Op = %q, %q", pe.Provider, pe.Op)
					}
				})
			}
		}
	}
}

// TestPartialWriteIsNotRetried: a request whose body was being written when the connection
// broke may have reached the provider, so a request that is not repeatable is not sent again.
func TestPartialWriteIsNotRetried(t *testing.T) {
	t.Parallel()
	for _, kind := range requestKinds {
		t.Run(kind.name, func(t *testing.T) {
			t.Parallel()
			// The handler runs once the headers are in, and hangs up without reading the
			// 32 MiB body (more than loopback socket buffers take), so the client's write of
			// the body fails part way.
			srv, served := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				conn, _, err := w.(http.Hijacker).Hijack()
				if err != nil {
					t.Errorf("hijack: %v", err)
					return
				}
				_ = conn.Close()
			})
			c := newTestClient(t, srv.URL, nil)
			req := kind.req(nil)
			req.Method = http.MethodPost
			req.Body = []byte(`{"pad":"` + strings.Repeat("x", 32<<20) + `"}`)
			_, err := c.Do(context.Background(), req)
			checkKind(t, err, paykit.ErrUnavailable)
			want := int64(1)
			if kind.repeatable {
				want = int64(fastPolicy.MaxAttempts)
			}
			if got := served.Load(); got != want {
				t.Errorf("attempts = %d, want %d", got, want)
			}
		})
	}
}

// TestRetryAfterHonoured: a Retry-After far above MaxWait is waited out in full.
func TestRetryAfterHonoured(t *testing.T) {
	t.Parallel()
	var (
		seen [2]time.Time
		hits atomic.Int64
	)
	srv, served := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if n := hits.Add(1); n <= 2 {
			seen[n-1] = time.Now()
		}
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusTooManyRequests, map[string]string{"message": "slow down"})
	})
	policy := paykit.RetryPolicy{MaxAttempts: 2, MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond}
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Settings.Retry = policy })
	_, err := c.Do(context.Background(), Request{Op: "get", Method: http.MethodGet, Path: "/x", Repeatable: true})
	checkKind(t, err, paykit.ErrRateLimited)
	pe := asError(t, err)
	if pe.StatusCode != 429 || pe.RetryAfter != time.Second {
		t.Errorf("StatusCode, RetryAfter = %d, %v, want 429, 1s", pe.StatusCode, pe.RetryAfter)
	}
	if got := served.Load(); got != 2 {
		t.Fatalf("attempts = %d, want 2", got)
	}
	// A lower bound only: a timer never fires early, so this cannot flake. MaxWait is 5ms,
	// so a gap of a second shows that Retry-After, not the policy, set the wait.
	if gap := seen[1].Sub(seen[0]); gap < time.Second {
		t.Errorf("second attempt came %v after the first, want at least the 1s of Retry-After", gap)
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		policy paykit.RetryPolicy
	}{
		{"fast", fastPolicy},
		{"default", paykit.DefaultRetryPolicy},
		{"min equals max", paykit.RetryPolicy{MaxAttempts: 5, MinWait: 50 * time.Millisecond, MaxWait: 50 * time.Millisecond}},
		{"large", paykit.RetryPolicy{MaxAttempts: 50, MinWait: time.Hour, MaxWait: 10 * time.Hour}},
		{"huge max", paykit.RetryPolicy{MaxAttempts: 50, MinWait: time.Second, MaxWait: math.MaxInt64}},
		// MinWait 0: no exponential base, so full jitter over [0, MaxWait] from the start.
		{"zero min", paykit.RetryPolicy{MaxAttempts: 3, MaxWait: 10 * time.Millisecond}},
		{"zero min, huge max", paykit.RetryPolicy{MaxAttempts: 3, MaxWait: math.MaxInt64}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := tt.policy
			for n := 1; n <= 64; n++ {
				upper := p.MaxWait
				if p.MinWait > 0 && n < 62 && p.MinWait <= p.MaxWait>>n {
					upper = p.MinWait << n
				}
				lowest, highest := time.Duration(math.MaxInt64), time.Duration(0)
				for range 2000 {
					w := backoff(p, n, 0)
					if w < p.MinWait || w > upper {
						t.Fatalf("backoff(%v, %d) = %v, want within [%v, %v]", p, n, w, p.MinWait, upper)
					}
					lowest, highest = min(lowest, w), max(highest, w)
				}
				// Full jitter: the samples spread over the range rather than sitting at
				// one end (2000 draws: missing the outer tenths by chance has p < 1e-90).
				span := upper - p.MinWait
				if span >= 10 && (lowest > p.MinWait+span/10 || highest < upper-span/10) {
					t.Errorf("backoff(%v, %d) samples span only [%v, %v] of [%v, %v]", p, n, lowest, highest, p.MinWait, upper)
				}
			}
		})
	}
}

// TestBackoffRetryAfterPrecedence: the provider's Retry-After wins over MaxWait.
func TestBackoffRetryAfterPrecedence(t *testing.T) {
	t.Parallel()
	for n := 1; n <= 5; n++ {
		if got := backoff(fastPolicy, n, 3*time.Second); got != 3*time.Second {
			t.Errorf("backoff(MaxWait 5ms, %d, Retry-After 3s) = %v, want 3s", n, got)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"1", time.Second},
		{" 120 ", 2 * time.Minute},
		{"-5", 0},
		{"999999999999", 24 * time.Hour}, // capped
		{"1.5", 0},
		{"soon", 0},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-90 * time.Second).Format(http.TimeFormat), 0},
		{now.Add(30 * time.Second).Format(time.RFC850), 30 * time.Second},
		{now.Add(45 * time.Second).Format(time.ANSIC), 45 * time.Second},
		{"Sat, 01 Mar 2025 25:00:00 GMT", 0},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			if got := ParseRetryAfter(tt.in, now); got != tt.want {
				t.Errorf("ParseRetryAfter(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

// TestMaxAttemptsOne: MaxAttempts 1 disables retries, also of GETs.
func TestMaxAttemptsOne(t *testing.T) {
	t.Parallel()
	for _, status := range []int{429, 503} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			t.Parallel()
			srv, served := newServer(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(status) })
			c := newTestClient(t, srv.URL, func(cfg *Config) {
				cfg.Settings.Retry = paykit.RetryPolicy{MaxAttempts: 1, MinWait: time.Millisecond, MaxWait: time.Millisecond}
			})
			_, err := c.Do(context.Background(), Request{Op: "get", Method: http.MethodGet, Path: "/x", Repeatable: true})
			checkKind(t, err, paykit.KindForStatus(status))
			if got := served.Load(); got != 1 {
				t.Errorf("attempts = %d, want 1", got)
			}
		})
	}
}

// signalHandler is a slog handler that reports each logged attempt on a channel, so a test
// can act once an attempt is over (its line is logged after the answer was read).
type signalHandler struct{ ch chan int64 }

func (h signalHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h signalHandler) Handle(_ context.Context, r slog.Record) error {
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "attempt" {
			select {
			case h.ch <- a.Value.Int64():
			default:
			}
		}
		return true
	})
	return nil
}
func (h signalHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h signalHandler) WithGroup(string) slog.Handler      { return h }

// TestCancelDuringBackoff: cancelling the context while Do waits out a Retry-After of 30 s
// ends the call at once. The call is the caller's cancellation (Kind context.Canceled), not a
// provider outage, and the provider's last answer stays for diagnosis.
func TestCancelDuringBackoff(t *testing.T) {
	t.Parallel()
	srv, served := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	logged := make(chan int64, 8)
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Settings.Logger = slog.New(signalHandler{logged}) })

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := doAsync(ctx, c, Request{Op: "get", Method: http.MethodGet, Path: "/x", Repeatable: true})
	go func() {
		// The first attempt's answer is in: Do is about to wait, or waiting, 30 s.
		<-logged
		cancel()
	}()
	err := await(t, done)

	if !errors.Is(err, context.Canceled) {
		t.Errorf("errors.Is(err, context.Canceled) = false: %v", err)
	}
	checkKind(t, err, nil)
	pe := asError(t, err)
	if pe.Kind != context.Canceled {
		t.Errorf("Kind = %v, want context.Canceled", pe.Kind)
	}
	if pe.StatusCode != 503 || pe.RetryAfter != 30*time.Second {
		t.Errorf("StatusCode, RetryAfter = %d, %v, want 503, 30s", pe.StatusCode, pe.RetryAfter)
	}
	if got := served.Load(); got != 1 {
		t.Errorf("attempts = %d, want 1", got)
	}
}

// TestWaitPastDeadlineNotStarted: a Retry-After that ends after the context's deadline is not
// waited out: Do answers at once with the provider's error and RetryAfter.
func TestWaitPastDeadlineNotStarted(t *testing.T) {
	t.Parallel()
	srv, served := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "60")
		w.WriteHeader(http.StatusTooManyRequests)
	})
	c := newTestClient(t, srv.URL, nil)
	// The deadline is far enough that one loopback attempt always fits (the machine is
	// shared), and far below the 60 s the provider asks for.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := await(t, doAsync(ctx, c, Request{Op: "get", Method: http.MethodGet, Path: "/x", Repeatable: true}))

	if ctx.Err() != nil {
		t.Errorf("Do returned only after the deadline: %v", err)
	}
	checkKind(t, err, paykit.ErrRateLimited)
	if errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err says the deadline passed, but Do returned before it: %v", err)
	}
	pe := asError(t, err)
	if pe.RetryAfter != 60*time.Second || pe.StatusCode != 429 {
		t.Errorf("RetryAfter, StatusCode = %v, %d, want 60s, 429", pe.RetryAfter, pe.StatusCode)
	}
	if got := served.Load(); got != 1 {
		t.Errorf("attempts = %d, want 1", got)
	}
}

// TestDeadlineEndsSlowCall: when the context's deadline ends an attempt, errors.Is sees
// context.DeadlineExceeded and no provider-failure kind, and nothing is retried after it. Attempts are counted on the
// client: whether a request reached the server before the deadline depends on the machine.
func TestDeadlineEndsSlowCall(t *testing.T) {
	t.Parallel()
	for _, kind := range requestKinds {
		t.Run(kind.name, func(t *testing.T) {
			t.Parallel()
			srv, _ := newHangingServer(t)
			var ct *countingTransport
			c := newTestClient(t, srv.URL, func(cfg *Config) { ct = withCountingTransport(cfg) })
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			err := await(t, doAsync(ctx, c, kind.req(nil)))
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("errors.Is(err, context.DeadlineExceeded) = false: %v", err)
			}
			checkKind(t, err, nil)
			if got := ct.n.Load(); got != 1 {
				t.Errorf("attempts = %d, want 1", got)
			}
		})
	}
}

// TestAttemptTimeout: Settings.Timeout bounds one attempt; the call goes on with a retry when
// the request is repeatable. Attempts are counted on the client; the timeout is long enough
// for the headers of the non-repeatable POST to be out before it ends the attempt.
func TestAttemptTimeout(t *testing.T) {
	t.Parallel()
	for _, kind := range requestKinds {
		t.Run(kind.name, func(t *testing.T) {
			t.Parallel()
			srv, _ := newHangingServer(t)
			var ct *countingTransport
			c := newTestClient(t, srv.URL, func(cfg *Config) {
				ct = withCountingTransport(cfg)
				cfg.Settings.Timeout = 500 * time.Millisecond
			})
			err := await(t, doAsync(context.Background(), c, kind.req(nil)))
			checkKind(t, err, paykit.ErrUnavailable)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("errors.Is(err, context.DeadlineExceeded) = false: %v", err)
			}
			want := int64(1)
			if kind.repeatable {
				want = int64(fastPolicy.MaxAttempts)
			}
			if got := ct.n.Load(); got != want {
				t.Errorf("attempts = %d, want %d", got, want)
			}
		})
	}
}

// TestZeroSettings: a Config whose Settings were not made by paykit.NewSettings still works:
// no zero attempt timeout, and the default retry policy.
func TestZeroSettings(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	srv, served := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		writeJSON(w, http.StatusOK, okPayment)
	})
	c, err := New(Config{Provider: "testprov", BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	var out payment
	if _, err := c.Do(context.Background(), Request{Op: "get", Method: http.MethodGet, Path: "/flaky", Result: &out, Repeatable: true}); err != nil {
		t.Fatalf("Do with zero Settings: %v", err)
	}
	if out != okPayment || served.Load() != 2 {
		t.Errorf("got %+v after %d attempts, want %+v after 2", out, served.Load(), okPayment)
	}
}

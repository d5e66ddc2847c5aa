package ecredits_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/ecredits"
	"github.com/paykit/paykit/ecredits/ecreditstest"
	"github.com/paykit/paykit/internal/logbuf"
)

var fastRetry = paykit.WithRetry(paykit.RetryPolicy{MaxAttempts: 3, MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond})

// setup starts a fake eCredits and a client pointed at it.
func setup(t *testing.T, cfg ecreditstest.Config, opts ...paykit.Option) (*ecreditstest.Server, *ecredits.Client) {
	t.Helper()
	srv := ecreditstest.NewServer(cfg)
	t.Cleanup(srv.Close)
	c, err := ecredits.New(ecredits.Config{
		ClientID:      ecreditstest.DefaultClientID,
		Secret:        ecreditstest.DefaultSecret,
		WebhookSecret: ecreditstest.DefaultWebhookSecret,
		BaseURL:       srv.URL,
	}, append([]paykit.Option{fastRetry}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

// webhookSink mounts paykit.NewWebhookHandler for c and records what fn saw.
type webhookSink struct {
	mu    sync.Mutex
	seen  []*paykit.Notification
	fails atomic.Int32 // fn fails while > 0, counting down
	srv   *httptest.Server
}

func newSink(t *testing.T, p paykit.Provider, opts ...paykit.WebhookOption) *webhookSink {
	t.Helper()
	s := &webhookSink{}
	h := paykit.NewWebhookHandler(p, func(_ context.Context, n *paykit.Notification) error {
		if s.fails.Add(-1) >= 0 {
			return errors.New("merchant database down")
		}
		s.mu.Lock()
		s.seen = append(s.seen, n)
		s.mu.Unlock()
		return nil
	}, opts...)
	s.srv = httptest.NewServer(h)
	t.Cleanup(s.srv.Close)
	return s
}

func (s *webhookSink) notifications() []*paykit.Notification {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*paykit.Notification(nil), s.seen...)
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestCheckoutEndToEnd(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, ecreditstest.Config{})
	sink := newSink(t, c)
	srv.SetNotifyURL(sink.srv.URL)
	ctx := ctxT(t)

	var p paykit.Provider = c
	pay, err := p.CreatePayment(ctx, paykit.PaymentRequest{Amount: paykit.Money{Amount: 9999, Currency: "EUR"}, Reference: "order-42"})
	if err != nil {
		t.Fatal(err)
	}
	if !ecredits.IsGUID(pay.ID) || pay.ID != strings.ToLower(pay.ID) {
		t.Fatalf("generated id %q is not a lowercase GUID", pay.ID)
	}
	if pay.Status != paykit.StatusPending || pay.Action == nil || pay.Action.Type != paykit.ActionQRCode ||
		pay.Action.QRCode != "eCreditsPayment:"+pay.ID || !strings.Contains(pay.Action.URL, pay.ID) {
		t.Fatalf("created payment = %+v, action %+v", pay, pay.Action)
	}
	if pay.Amount != (paykit.Money{Amount: 9999, Currency: "EUR"}) || pay.Reference != "order-42" || pay.ExpiresAt.IsZero() {
		t.Fatalf("created payment = %+v", pay)
	}
	if r, ok := srv.Request(pay.ID); !ok || r.AmountDue != (paykit.Money{Amount: 999900, Currency: "ECS"}) {
		t.Fatalf("fake holds %+v", r)
	}

	if _, err := srv.Pay(pay.ID); err != nil {
		t.Fatal(err)
	}
	if err := srv.WaitDelivered(ctx, pay.ID); err != nil {
		t.Fatal(err)
	}
	seen := sink.notifications()
	if len(seen) != 1 {
		t.Fatalf("fn ran %d times, want 1", len(seen))
	}
	n := seen[0]
	if n.PaymentID != pay.ID || n.Event != "Settled" || n.Status != "" || n.Payment == nil ||
		n.Payment.Status != paykit.StatusSucceeded || n.Payment.Captured != pay.Amount || n.Payment.Action != nil {
		t.Fatalf("notification = %+v, payment %+v", n, n.Payment)
	}

	// A redelivery of the same webhook is acknowledged without running fn again.
	d := srv.Deliveries()[0]
	resp, err := http.Post(sink.srv.URL, "application/json", bytes.NewReader(d.Body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || len(sink.notifications()) != 1 {
		t.Fatalf("redelivery: status %d, fn ran %d times", resp.StatusCode, len(sink.notifications()))
	}

	// Paying twice changes nothing paykit's Payment shows (the request is paid), and eCredits
	// signs only the id, so its webhook cannot be told from a replay: fn does not run again.
	// The native Payments lists both hashes, for the merchant to refund one in the Portal.
	if _, err := srv.Pay(pay.ID); err != nil {
		t.Fatal(err)
	}
	if err := srv.WaitDelivered(ctx, pay.ID); err != nil {
		t.Fatal(err)
	}
	if got := len(sink.notifications()); got != 1 {
		t.Fatalf("fn ran %d times after a second payment of the same state, want 1", got)
	}
	hashes, err := c.Payments(ctx, pay.ID)
	if err != nil || len(hashes) != 2 {
		t.Fatalf("Payments = %v, %v", hashes, err)
	}
}

// createPending creates a 1.00 ECS payment through the Provider interface.
func createPending(t *testing.T, ctx context.Context, c *ecredits.Client) *paykit.Payment {
	t.Helper()
	pay, err := c.CreatePayment(ctx, paykit.PaymentRequest{Amount: paykit.Money{Amount: 100, Currency: "ECS"}})
	if err != nil {
		t.Fatal(err)
	}
	return pay
}

func waitFor(ctx context.Context, cond func() bool) error {
	for !cond() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	return nil
}

func TestWebhookFailureIsRedelivered(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, ecreditstest.Config{})
	sink := newSink(t, c)
	sink.fails.Store(2)
	srv.SetNotifyURL(sink.srv.URL)
	ctx := ctxT(t)
	pay, err := c.CreatePayment(ctx, paykit.PaymentRequest{Amount: paykit.Money{Amount: 500, Currency: "ECS"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Pay(pay.ID); err != nil {
		t.Fatal(err)
	}
	if err := srv.WaitDelivered(ctx, pay.ID); err != nil {
		t.Fatal(err)
	}
	d := srv.Deliveries()[0]
	var codes []int
	for _, a := range d.Attempts {
		codes = append(codes, a.StatusCode)
	}
	if len(codes) != 3 || codes[0] != 500 || codes[1] != 500 || codes[2] != 200 {
		t.Fatalf("delivery attempts answered %v, want [500 500 200]", codes)
	}
	if got := len(sink.notifications()); got != 1 {
		t.Fatalf("fn succeeded %d times, want 1", got)
	}
}

func TestWebhookAnswers(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, ecreditstest.Config{})
	sink := newSink(t, c)
	ctx := ctxT(t)
	pay := createPending(t, ctx, c)
	unknown := "11111111-2222-4333-8444-555555555555"
	tests := []struct {
		name string
		body []byte
		want int
	}{
		{"signed by someone else", ecreditstest.WebhookBody("not-the-secret", ecredits.WebhookEvent{RequestID: pay.ID, Status: 1}), 401},
		{"unsigned", []byte(`{"requestId":"` + pay.ID + `","status":1}`), 401},
		{"malformed", []byte(`{"requestId":`), 400},
		{"unknown request cannot be fetched", ecreditstest.WebhookBody(ecreditstest.DefaultWebhookSecret, ecredits.WebhookEvent{RequestID: unknown, Status: 1}), 503},
		{"too large", append([]byte(`{"requestId":"`+pay.ID+`","pad":"`), bytes.Repeat([]byte("x"), paykit.DefaultMaxBodyBytes)...), 413},
		{"genuine", ecreditstest.WebhookBody(ecreditstest.DefaultWebhookSecret, ecredits.WebhookEvent{RequestID: pay.ID, Status: 0}), 200},
	}
	for _, tt := range tests {
		resp, err := http.Post(sink.srv.URL, "application/json", bytes.NewReader(tt.body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%s: status %d, want %d", tt.name, resp.StatusCode, tt.want)
		}
	}
	if got := len(sink.notifications()); got != 1 {
		t.Fatalf("fn ran %d times, want 1 (only the genuine one)", got)
	}
	if srv.Calls("GET", ecreditstest.RouteRequest) != 2 {
		// Refused notifications fetch nothing: only the unknown id and the genuine one did.
		t.Fatalf("GETs = %d, want 2", srv.Calls("GET", ecreditstest.RouteRequest))
	}
}

func TestExpiry(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, ecreditstest.Config{})
	sink := newSink(t, c)
	srv.SetNotifyURL(sink.srv.URL)
	ctx := ctxT(t)
	pay, err := c.CreatePayment(ctx, paykit.PaymentRequest{Amount: paykit.Money{Amount: 100, Currency: "EUR"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Expire(pay.ID); err != nil {
		t.Fatal(err)
	}
	if err := srv.WaitDelivered(ctx, pay.ID); err != nil {
		t.Fatal(err)
	}
	n := sink.notifications()
	if len(n) != 1 || n[0].Event != "Expired" || n[0].Payment.Status != paykit.StatusExpired || !n[0].Payment.Status.IsFinal() {
		t.Fatalf("notifications = %+v", n)
	}
	st, err := c.WaitPaid(ctx, pay.ID, &ecredits.WaitOptions{MinInterval: time.Millisecond})
	if err != nil || st != ecredits.RequestExpired {
		t.Fatalf("WaitPaid = %v, %v", st, err)
	}
}

func TestWaitPaid(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, ecreditstest.Config{})
	ctx := ctxT(t)
	pay, err := c.CreatePayment(ctx, paykit.PaymentRequest{Amount: paykit.Money{Amount: 100, Currency: "EUR"}})
	if err != nil {
		t.Fatal(err)
	}
	// Pay once WaitPaid has polled /paid at least once, so it has to poll again.
	go func() {
		_ = waitFor(ctx, func() bool { return srv.Calls("GET", ecreditstest.RouteRequestPaid) >= 1 })
		_, _ = srv.Pay(pay.ID)
	}()
	st, err := c.WaitPaid(ctx, pay.ID, &ecredits.WaitOptions{MinInterval: time.Millisecond, MaxInterval: 10 * time.Millisecond})
	if err != nil || st != ecredits.RequestSettled {
		t.Fatalf("WaitPaid = %v, %v", st, err)
	}
	if srv.Calls("GET", ecreditstest.RouteRequestPaid) < 2 {
		t.Fatal("WaitPaid did not poll again")
	}

	// A context that ends stops the wait with the context's error.
	other, err := c.CreatePayment(ctx, paykit.PaymentRequest{Amount: paykit.Money{Amount: 100, Currency: "EUR"}})
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := c.WaitPaid(short, other.ID, &ecredits.WaitOptions{MinInterval: time.Millisecond, MaxInterval: 5 * time.Millisecond}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitPaid after deadline: %v", err)
	}
}

// TestCreateRepeatAfterAmbiguousFailure: the create reached eCredits but the answer was lost
// (connection dropped, or a broken body). The retry answers 409, which is resolved by
// fetching the request: one request exists, and the caller gets it.
func TestCreateRepeatAfterAmbiguousFailure(t *testing.T) {
	t.Parallel()
	for name, fault := range map[string]func(*ecreditstest.Server){
		"dropped": func(s *ecreditstest.Server) { s.DropNext(1, ecreditstest.OnRoute("POST", ecreditstest.RouteRequests)) },
		"malformed": func(s *ecreditstest.Server) {
			s.MalformedNext(1, ecreditstest.OnRoute("POST", ecreditstest.RouteRequests))
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv, c := setup(t, ecreditstest.Config{})
			ctx := ctxT(t)
			fault(srv)
			pay, err := c.CreatePayment(ctx, paykit.PaymentRequest{Amount: paykit.Money{Amount: 1234, Currency: "EUR"}})
			if err != nil {
				t.Fatal(err)
			}
			if pay.Amount != (paykit.Money{Amount: 1234, Currency: "EUR"}) || pay.Status != paykit.StatusPending {
				t.Fatalf("payment = %+v", pay)
			}
			if got := srv.Calls("POST", ecreditstest.RouteRequests); got != 2 {
				t.Fatalf("creates sent = %d, want 2 (the lost one and the repeat)", got)
			}
			if got := srv.Calls("GET", ecreditstest.RouteRequest); got != 1 {
				t.Fatalf("fetches = %d, want 1", got)
			}
		})
	}
}

func TestRetriesAndErrors(t *testing.T) {
	t.Parallel()
	t.Run("503 on GET is retried", func(t *testing.T) {
		t.Parallel()
		srv, c := setup(t, ecreditstest.Config{})
		ctx := ctxT(t)
		pay := createPending(t, ctx, c)
		srv.FailNext(2, 503, ecreditstest.OnRoute("GET", ecreditstest.RouteRequest))
		if _, err := c.GetPayment(ctx, pay.ID); err != nil {
			t.Fatal(err)
		}
		if got := srv.Calls("GET", ecreditstest.RouteRequest); got != 3 {
			t.Fatalf("GETs = %d, want 3", got)
		}
	})
	t.Run("503 past the attempts", func(t *testing.T) {
		t.Parallel()
		srv, c := setup(t, ecreditstest.Config{})
		ctx := ctxT(t)
		srv.FailNext(5, 503, ecreditstest.OnRoute("GET", ecreditstest.RouteRequest))
		_, err := c.GetPayment(ctx, "11111111-2222-4333-8444-555555555555")
		var pe *paykit.Error
		if !errors.Is(err, paykit.ErrUnavailable) || !errors.As(err, &pe) || pe.StatusCode != 503 || pe.Provider != "ecredits" {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("not found", func(t *testing.T) {
		t.Parallel()
		_, c := setup(t, ecreditstest.Config{})
		if _, err := c.GetPayment(ctxT(t), "11111111-2222-4333-8444-555555555555"); !errors.Is(err, paykit.ErrNotFound) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("wrong credentials", func(t *testing.T) {
		t.Parallel()
		srv := ecreditstest.NewServer(ecreditstest.Config{})
		t.Cleanup(srv.Close)
		c, err := ecredits.New(ecredits.Config{ClientID: ecreditstest.DefaultClientID, Secret: "wrong-secret", BaseURL: srv.URL}, fastRetry)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.GetPayment(ctxT(t), "11111111-2222-4333-8444-555555555555")
		if !errors.Is(err, paykit.ErrUnauthorized) || strings.Contains(err.Error(), "wrong-secret") {
			t.Fatalf("err = %v", err)
		}
		if srv.Calls("", ecreditstest.RouteAuthentication) != 1 {
			t.Fatalf("authentications tried = %d, want 1 (a 401 is not retried)", srv.Calls("", ecreditstest.RouteAuthentication))
		}
	})
	t.Run("deadline", func(t *testing.T) {
		t.Parallel()
		srv, c := setup(t, ecreditstest.Config{})
		srv.SetLatency(time.Minute)
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_, err := c.GetPayment(ctx, "11111111-2222-4333-8444-555555555555")
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want DeadlineExceeded", err)
		}
	})
}

func TestTokens(t *testing.T) {
	t.Parallel()
	t.Run("100 concurrent calls authenticate once", func(t *testing.T) {
		t.Parallel()
		srv, c := setup(t, ecreditstest.Config{})
		ctx := ctxT(t)
		pay := createPending(t, ctx, c)
		// A fresh client, so that the 100 calls start with an empty token cache.
		c2, err := ecredits.New(ecredits.Config{ClientID: ecreditstest.DefaultClientID, Secret: ecreditstest.DefaultSecret, BaseURL: srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		before := srv.AuthCount()
		var wg sync.WaitGroup
		errs := make(chan error, 100)
		for range 100 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := c2.GetPayment(ctx, pay.ID); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if got := srv.AuthCount() - before; got != 1 {
			t.Fatalf("authentications = %d, want 1", got)
		}
	})
	t.Run("401 refreshes once and retries", func(t *testing.T) {
		t.Parallel()
		srv, c := setup(t, ecreditstest.Config{})
		ctx := ctxT(t)
		pay := createPending(t, ctx, c)
		srv.RevokeTokens()
		if _, err := c.GetPayment(ctx, pay.ID); err != nil {
			t.Fatal(err)
		}
		if got := srv.AuthCount(); got != 2 {
			t.Fatalf("authentications = %d, want 2", got)
		}
	})
	t.Run("expiry refreshes before a 401", func(t *testing.T) {
		t.Parallel()
		// With a 1 s token the refresh margin is 100 ms: after 1.05 s the cached token is
		// due, and the client must refresh it instead of sending it. (A shorter token, 200
		// ms, could expire while createPending was still running on a loaded machine, and
		// the 401 of that in-flight call failed the test.)
		srv, c := setup(t, ecreditstest.Config{TokenLifetime: time.Second})
		ctx := ctxT(t)
		pay := createPending(t, ctx, c)
		time.Sleep(1050 * time.Millisecond)
		before := srv.AuthCount()
		if _, err := c.GetPayment(ctx, pay.ID); err != nil {
			t.Fatal(err)
		}
		if srv.AuthCount() <= before {
			t.Fatal("the expired token was not refreshed")
		}
		for _, call := range srv.CallLog() {
			if call.Status == 401 {
				t.Fatalf("the server saw an expired token: %+v", call)
			}
		}
	})
}

// TestNothingSecretInLogs runs a whole flow with debug logging on the client and the webhook
// handler, including failures, and checks the log holds no secret, token or signature.
func TestNothingSecretInLogs(t *testing.T) {
	t.Parallel()
	var buf logbuf.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, c := setup(t, ecreditstest.Config{}, paykit.WithLogger(log))
	sink := newSink(t, c, paykit.WithWebhookLogger(log))
	sink.fails.Store(1)
	srv.SetNotifyURL(sink.srv.URL)
	ctx := ctxT(t)

	pay, err := c.CreatePayment(ctx, paykit.PaymentRequest{Amount: paykit.Money{Amount: 100, Currency: "EUR"}})
	if err != nil {
		t.Fatal(err)
	}
	srv.RevokeTokens()
	srv.FailNext(1, 503, ecreditstest.OnRoute("GET", ecreditstest.RouteRequest))
	if _, err := srv.Pay(pay.ID); err != nil {
		t.Fatal(err)
	}
	if err := srv.WaitDelivered(ctx, pay.ID); err != nil {
		t.Fatal(err)
	}
	forged := ecreditstest.WebhookBody("forger", ecredits.WebhookEvent{RequestID: pay.ID, Status: 1})
	if resp, err := http.Post(sink.srv.URL, "application/json", bytes.NewReader(forged)); err == nil {
		resp.Body.Close()
	}
	tok, err := c.Authenticate(ctx)
	if err != nil {
		t.Fatal(err)
	}

	out := buf.String()
	if !strings.Contains(out, `"attempt"`) || !strings.Contains(out, "/api/v1/requests") {
		t.Fatalf("the debug log is missing the attempts:\n%s", out)
	}
	for name, secret := range map[string]string{
		"api key":            ecreditstest.DefaultSecret,
		"webhook secret":     ecreditstest.DefaultWebhookSecret,
		"a token":            tok.Token,
		"a JWT":              "eyJ",
		"the signature":      ecredits.Sign(ecreditstest.DefaultWebhookSecret, pay.ID),
		"a forged signature": ecredits.Sign("forger", pay.ID),
	} {
		if strings.Contains(out, secret) {
			t.Errorf("the log holds %s", name)
		}
	}
}

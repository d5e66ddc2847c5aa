package otelpaykit_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/echelon"
	"github.com/paykit/paykit/echelon/echelontest"
	"github.com/paykit/paykit/ecredits"
	"github.com/paykit/paykit/ecredits/ecreditstest"
	"github.com/paykit/paykit/reconcile"
	"github.com/paykit/paykit/redisstore"
)

// fnSpans records the span each run of the merchant's function ran under.
type fnSpans struct {
	mu  sync.Mutex
	ids []trace.SpanID
	ns  []*paykit.Notification
}

func (f *fnSpans) fn(ctx context.Context, n *paykit.Notification) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ids = append(f.ids, trace.SpanFromContext(ctx).SpanContext().SpanID())
	f.ns = append(f.ns, n)
	return nil
}

// lostCheckout is an eCredits payment made through a Router that enrols it with a
// Reconciler, paid while every notification of the fake is lost: only a poll can find it.
type lostCheckout struct {
	fake *ecreditstest.Server
	rec  *reconcile.Reconciler
	pay  *paykit.Payment
	fn   *fnSpans
}

func newLostCheckout(t *testing.T, ctx context.Context, r *rec, w *wire, dedup paykit.DedupStore, watch reconcile.Store) *lostCheckout {
	t.Helper()
	c := &lostCheckout{fake: ecreditstest.NewServer(ecreditstest.Config{NotifyURL: "http://127.0.0.1:1/never"}), fn: &fnSpans{}}
	t.Cleanup(c.fake.Close)
	c.fake.LoseNotifications(1, 1)
	client, err := ecredits.New(ecredits.Config{ClientID: ecreditstest.DefaultClientID, Secret: ecreditstest.DefaultSecret,
		WebhookSecret: ecreditstest.DefaultWebhookSecret, BaseURL: c.fake.URL}, paykit.WithHooks(r.hooks), paykit.WithHTTPClient(w.client()))
	require.NoError(t, err)
	// A backoff of 1 ns: the payment is due as soon as it is watched, so one pass reads it.
	opts := []reconcile.Option{reconcile.WithStore(watch), reconcile.WithBackoff(time.Nanosecond, time.Hour),
		reconcile.WithLimiter(paykit.NoLimit), reconcile.WithHooks(r.hooks)}
	router, err := paykit.NewRouter([]paykit.Provider{client}, []paykit.Route{{Providers: []string{"ecredits"}}},
		paykit.WithRouterHooks(r.hooks), paykit.WithWatcher(reconcile.NewWatcher(watch, opts...)))
	require.NoError(t, err)
	c.rec, err = reconcile.New(router, dedup, c.fn.fn, opts...)
	require.NoError(t, err)

	c.pay, err = router.CreatePayment(ctx, paykit.PaymentRequest{Amount: paykit.Money{Amount: 2500, Currency: "EUR"}})
	require.NoError(t, err)
	_, err = c.fake.Pay(c.pay.ID)
	require.NoError(t, err)
	require.ErrorIs(t, c.fake.WaitDelivered(ctx, c.pay.ID), ecreditstest.ErrLost)
	return c
}

// requireReconcileSpans checks the tree of the one poll: "router reconcile" (a root span)
// holding the Router's read, which holds eCredits' read and its HTTP GET; fn ran under the
// reconcile span.
func requireReconcileSpans(t *testing.T, spans []sdktrace.ReadOnlySpan, c *lostCheckout) {
	t.Helper()
	polls := named(spans, "router reconcile")
	require.Len(t, polls, 1)
	poll := polls[0]
	requireOperation(t, spans, poll, paykit.RouterName, paykit.OpReconcile, c.pay.ID, "ok")
	assert.False(t, poll.Parent().IsValid(), "a pass's ctx has no span: the poll is a root")
	assert.Equal(t, []string{"router get payment"}, childNames(spans, poll))
	read := children(spans, poll)[0]
	requireOperation(t, spans, read, paykit.RouterName, paykit.OpGetPayment, c.pay.ID, "ok")
	require.Equal(t, []string{"ecredits get payment"}, childNames(spans, read))
	inner := children(spans, read)[0]
	requireOperation(t, spans, inner, "ecredits", paykit.OpGetPayment, c.pay.ID, "ok")
	assert.Equal(t, []string{"GET /api/v1/requests/{id}", "GET /api/v1/requests/{id}/paid"}, childNames(spans, inner),
		"a paid request is read with its payment")

	c.fn.mu.Lock()
	defer c.fn.mu.Unlock()
	require.Len(t, c.fn.ns, 1)
	assert.Equal(t, paykit.StatusSucceeded, c.fn.ns[0].Payment.Status)
	assert.Equal(t, reconcile.Event, c.fn.ns[0].Event)
	assert.Equal(t, poll.SpanContext().SpanID(), c.fn.ids[0], "fn runs in the poll's span")
}

// TestReconcilePass: a payment whose notification was lost is found by a reconcile pass
// through a Router: one operation span per poll with the reads nested under it, its
// duration, and the dedupe store's latency.
func TestReconcilePass(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	r, w := newRec(t), new(wire)
	c := newLostCheckout(t, ctx, r, w, paykit.NewMemoryDedupStore(0), reconcile.NewMemoryStore(0))

	pass, err := c.rec.RunOnce(ctx)
	require.NoError(t, err)
	require.Equal(t, reconcile.Pass{Polls: 1, Ran: 1, Final: 1}, pass)
	requireReconcileSpans(t, r.ended(), c)

	rm := r.metrics(t)
	assert.EqualValues(t, 1, histCount(rm, "paykit.operation.duration", map[string]string{
		"paykit.provider": paykit.RouterName, "paykit.operation": paykit.OpReconcile, "paykit.outcome": "ok"}))
	for _, op := range []string{"claim", "finish"} {
		assert.EqualValues(t, 1, histCount(rm, "paykit.store.duration", map[string]string{
			"paykit.store": "dedupe", "paykit.store.operation": op, "paykit.outcome": "ok"}), op)
	}
	requireClean(t, r, w, ecreditstest.DefaultSecret, ecreditstest.DefaultWebhookSecret)
}

// TestReconcilePassOnRedis: the same pass with the watch list and the dedupe store in
// Redis, given the hooks too: each Redis round trip is recorded under its store's name, next
// to the reconciler's own dedupe calls.
func TestReconcilePassOnRedis(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	rdb := startRedis(t)
	r, w := newRec(t), new(wire)
	opt := redisstore.WithHooks(r.hooks)
	c := newLostCheckout(t, ctx, r, w, redisstore.NewDedupStore(rdb, opt), redisstore.NewWatchStore(rdb, opt))

	pass, err := c.rec.RunOnce(ctx)
	require.NoError(t, err)
	require.Equal(t, reconcile.Pass{Polls: 1, Ran: 1, Final: 1}, pass)
	requireReconcileSpans(t, r.ended(), c)

	rm := r.metrics(t)
	store := func(name, op string) uint64 {
		return histCount(rm, "paykit.store.duration", map[string]string{"paykit.store": name, "paykit.store.operation": op, "paykit.outcome": "ok"})
	}
	assert.EqualValues(t, 1, store("dedupe", "claim"), "the reconciler's call")
	assert.EqualValues(t, 1, store("dedupe", "finish"))
	assert.EqualValues(t, 1, store("redis dedupe", "claim"), "the store's round trip")
	assert.EqualValues(t, 1, store("redis dedupe", "finish"))
	assert.EqualValues(t, 1, store("redis watch", "add"), "the Router's enrolment")
	assert.EqualValues(t, 2, store("redis watch", "claim"), "the batch, and the empty one that ends the pass")
	assert.EqualValues(t, 1, store("redis watch", "remove"), "final: off the list")
	requireClean(t, r, w, ecreditstest.DefaultSecret, ecreditstest.DefaultWebhookSecret)
}

// TestPayoutCallbacks: EchelonPay's payout handler given WithWebhookHooks counts its
// deliveries by verdict under "echelon payout", and the GetPayout it fetches with nests
// under the delivery's span.
func TestPayoutCallbacks(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	r, w := newRec(t), new(wire)
	const notifySecret = "echelon-notify-secret-0123"
	fake := echelontest.NewServer(echelontest.Config{})
	defer fake.Close()
	client, err := echelon.New(echelon.Config{MerchantCode: echelontest.DefaultMerchantCode, Secret: echelontest.DefaultSecret,
		BaseURL: fake.URL, NotifySecret: notifySecret},
		paykit.WithHooks(r.hooks), paykit.WithHTTPClient(w.client()), paykit.WithLimiter(paykit.NoLimit))
	require.NoError(t, err)
	mux, base := shop(t, w)
	mux.Handle("/callbacks/payouts", client.PayoutWebhookHandler(func(context.Context, *echelon.Payout) error { return nil },
		paykit.WithWebhookHooks(r.hooks)))

	po, err := client.CreatePayout(ctx, echelon.PayoutRequest{ID: "po-1", Amount: paykit.Money{Amount: 100000, Currency: "INR"},
		Method: echelontest.MethodBankTransfer, AccountNumber: "1234567890", CallbackURL: base + "/callbacks/payouts"})
	require.NoError(t, err)
	require.NoError(t, fake.Process(po.ID))
	require.NoError(t, fake.WaitDelivered(ctx, po.ID))
	code, err := fake.Redeliver(ctx, po.ID)
	require.NoError(t, err)
	require.Equal(t, 200, code)
	req, err := newPost(ctx, base+"/callbacks/payouts", `{"idPayout":"po-1"}`, nil) // not signed
	require.NoError(t, err)
	resp, err := w.client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 401, resp.StatusCode)

	rm := r.metrics(t)
	for verdict, n := range map[string]int64{"processed": 1, "duplicate": 1, "bad_signature": 1} {
		assert.EqualValues(t, n, counter(rm, "paykit.webhook.deliveries", map[string]string{
			"paykit.provider": "echelon payout", "paykit.webhook.verdict": verdict}), verdict)
	}
	assert.Zero(t, counter(rm, "paykit.webhook.deliveries", map[string]string{"paykit.provider": "echelon"}))
	assert.EqualValues(t, 3, histCount(rm, "paykit.store.duration", map[string]string{"paykit.store": "dedupe"}),
		"claim and finish of the processed one, the duplicate's claim")

	spans := r.ended()
	deliveries := named(spans, "echelon payout handle notification")
	require.Len(t, deliveries, 3)
	a := attrs(deliveries[0].Attributes())
	assert.Equal(t, "processed", a["paykit.webhook.verdict"])
	assert.Equal(t, "po-1", a["paykit.payment_id"])
	assert.Equal(t, []string{"GET /payouts/{id}"}, childNames(spans, deliveries[0]))
	assert.Equal(t, "bad_signature", attrs(deliveries[2].Attributes())["paykit.webhook.verdict"])
	assert.Empty(t, children(spans, deliveries[2]), "nothing fetched for a forged callback")
	requireClean(t, r, w, echelontest.DefaultSecret, notifySecret)
}

// startRedis starts a redis-server of the test's own on a free loopback port and returns a
// client of it; both end with the test. Without the binary the test is skipped, unless
// PAYKIT_REQUIRE_REDIS=1 makes that a failure (as in package redisstore).
func startRedis(t *testing.T) *redis.Client {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("PAYKIT_REQUIRE_REDIS") == "1" {
			t.Fatalf("redis-server is not on PATH and PAYKIT_REQUIRE_REDIS=1: %v", err)
		}
		t.Skipf("redis-server is not on PATH: %v", err)
	}
	for attempt := 0; ; attempt++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", t.TempDir(),
			"--save", "", "--appendonly", "no")
		require.NoError(t, cmd.Start())
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		t.Cleanup(func() { _ = cmd.Process.Kill(); <-exited })
		rdb := redis.NewClient(&redis.Options{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))})
		t.Cleanup(func() { _ = rdb.Close() })
		if waitPing(rdb, exited) {
			return rdb
		}
		require.Less(t, attempt, 4, "redis-server did not start")
	}
}

// waitPing waits until rdb answers PING, or the server exits (another took the port).
func waitPing(rdb *redis.Client, exited <-chan struct{}) bool {
	guard := time.After(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := rdb.Ping(ctx).Err()
		cancel()
		if err == nil {
			return true
		}
		select {
		case <-exited:
			return false
		case <-guard:
			return false
		case <-time.After(10 * time.Millisecond):
		}
	}
}

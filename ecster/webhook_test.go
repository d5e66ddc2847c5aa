package ecster_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/ecster"
	"github.com/paykit/paykit/ecster/ecstertest"
	"github.com/paykit/paykit/internal/notifyurl"
)

func TestParseOEN(t *testing.T) {
	t.Parallel()
	n, err := ecster.ParseOEN([]byte(`{"orderId":"zburxHFw0xQmyOmVOrcq","orderReference":"order-1","status":"ANNULED","time":"2019-02-07T12:27:28Z","event":"FULL_DEDIT","extra":1}`))
	require.NoError(t, err)
	assert.Equal(t, "zburxHFw0xQmyOmVOrcq", n.OrderID)
	assert.Equal(t, "order-1", n.OrderReference)
	assert.Equal(t, ecster.OrderAnnulled, n.Status)
	assert.Equal(t, ecster.EventFullDebit, n.Event)
	assert.True(t, n.Time.Equal(time.Date(2019, 2, 7, 12, 27, 28, 0, time.UTC)))

	for name, body := range map[string]string{
		"no orderId":    `{"status":"READY","time":"2019-02-07T12:27:28Z","event":"CREATED"}`,
		"empty orderId": `{"orderId":"","status":"READY","time":"2019-02-07T12:27:28Z","event":"CREATED"}`,
		"no status":     `{"orderId":"a","time":"2019-02-07T12:27:28Z","event":"CREATED"}`,
		"no event":      `{"orderId":"a","status":"READY","time":"2019-02-07T12:27:28Z"}`,
		"no time":       `{"orderId":"a","status":"READY","event":"CREATED"}`,
		"bad time":      `{"orderId":"a","status":"READY","time":"7 Feb 2019","event":"CREATED"}`,
		"not JSON":      `orderId=a`,
		"two values":    `{"orderId":"a","status":"READY","time":"2019-02-07T12:27:28Z","event":"CREATED"} {}`,
		"number id":     `{"orderId":1,"status":"READY","time":"2019-02-07T12:27:28Z","event":"CREATED"}`,
	} {
		_, err := ecster.ParseOEN([]byte(body))
		assert.ErrorIs(t, err, paykit.ErrInvalidRequest, name)
	}
}

// The dedupe key: the same for a redelivery (also with the document's misspellings), another
// for a new event, another for another transaction in the same second.
func TestOENDedupKey(t *testing.T) {
	t.Parallel()
	key := func(body string) string {
		n, err := ecster.ParseOEN([]byte(body))
		require.NoError(t, err)
		return n.DedupKey()
	}
	base := key(`{"orderId":"o1","orderReference":"r","status":"PARTIALLY_DELIVERED","time":"2019-02-07T12:27:28Z","event":"PARTIAL_DEBIT"}`)
	assert.Equal(t, base, key(`{"orderId":"o1","orderReference":"r","status":"PARTIALLY_DELIVERED","time":"2019-02-07T12:27:28Z","event":"PARTIAL_DEDIT"}`))
	assert.Equal(t, base, key(`{"orderId":"o1","status":"PARTIALLY_DELIVERED","time":"2019-02-07T13:27:28+01:00","event":"PARTIAL_DEBIT"}`), "the same instant")
	for _, other := range []string{
		`{"orderId":"o2","status":"PARTIALLY_DELIVERED","time":"2019-02-07T12:27:28Z","event":"PARTIAL_DEBIT"}`,
		`{"orderId":"o1","status":"PARTIALLY_DELIVERED","time":"2019-02-07T12:27:29Z","event":"PARTIAL_DEBIT"}`,
		`{"orderId":"o1","status":"FULLY_DELIVERED","time":"2019-02-07T12:27:28Z","event":"PARTIAL_DEBIT"}`,
		`{"orderId":"o1","status":"PARTIALLY_DELIVERED","time":"2019-02-07T12:27:28Z","event":"PARTIAL_CREDIT"}`,
		`{"orderId":"o1","status":"PARTIALLY_DELIVERED","time":"2019-02-07T12:27:28Z","event":"PARTIAL_DEBIT","transactionId":"t2"}`,
		`{"orderId":"o1|PARTIALLY_DELIVERED","status":"","time":"2019-02-07T12:27:28Z","event":"PARTIAL_DEBIT"}`,
	} {
		n, err := ecster.ParseOEN([]byte(other))
		if err != nil {
			continue // not an OEN at all
		}
		assert.NotEqual(t, base, n.DedupKey(), other)
	}
}

// oenServer is a fake, a client and a webhook handler, counting the runs of fn.
type oenServer struct {
	srv     *ecstertest.Server
	c       *ecster.Client
	handler http.Handler
	runs    atomic.Int32
	events  chan string
}

func newOENServer(t *testing.T, fc ecstertest.Config, cfg ecster.Config) *oenServer {
	t.Helper()
	s := &oenServer{events: make(chan string, 64)}
	s.srv, s.c = setup(t, fc, cfg)
	s.handler = paykit.NewWebhookHandler(s.c, func(_ context.Context, n *paykit.Notification) error {
		s.runs.Add(1)
		s.events <- n.Event + " " + string(n.Payment.Status)
		return nil
	})
	return s
}

func (s *oenServer) post(target string, n ecstertest.OEN, header map[string]string) int {
	req := httptest.NewRequest(http.MethodPost, target, bytes.NewReader(n.Body()))
	for k, v := range header {
		req.Header.Add(k, v)
	}
	rec := httptest.NewRecorder()
	s.handler.ServeHTTP(rec, req)
	return rec.Code
}

func oenOf(t *testing.T, srv *ecstertest.Server, id string) ecstertest.OEN {
	t.Helper()
	o, ok := srv.Order(id)
	require.True(t, ok)
	return ecstertest.OEN{OrderID: o.ID, OrderReference: id, Status: string(o.Status), Time: "2024-05-01T10:00:00Z", Event: "CREATED"}
}

// With NotificationHeader configured, an OEN without the header, or with another value, is
// refused (401) before anything is fetched.
func TestOENHeaderCheck(t *testing.T) {
	t.Parallel()
	s := newOENServer(t, ecstertest.Config{}, ecster.Config{NotificationHeader: hookHeader, NotificationHeaderValue: hookValue})
	ctx := ctxT(t)
	id := ordered(t, ctx, s.srv, s.c, 1000, ecster.OrderReady)
	n := oenOf(t, s.srv, id)

	calls := len(s.srv.CallLog())
	for name, header := range map[string]map[string]string{
		"missing":       nil,
		"wrong":         {hookHeader: "guess"},
		"prefix":        {hookHeader: hookValue[:5]},
		"longer":        {hookHeader: hookValue + "x"},
		"other header":  {"X-Other": hookValue},
		"empty":         {hookHeader: ""},
		"lowercase val": {hookHeader: strings.ToUpper(hookValue)},
	} {
		assert.Equal(t, http.StatusUnauthorized, s.post("/oen", n, header), name)
	}
	req := httptest.NewRequest(http.MethodPost, "/oen", bytes.NewReader(n.Body()))
	req.Header.Add(hookHeader, hookValue)
	req.Header.Add(hookHeader, "second")
	_, err := s.c.ParseNotification(req)
	assert.ErrorIs(t, err, paykit.ErrInvalidSignature, "the header twice")
	assert.Len(t, s.srv.CallLog(), calls, "nothing was fetched for a forged OEN")
	assert.Zero(t, s.runs.Load())

	assert.Equal(t, http.StatusOK, s.post("/oen", n, map[string]string{strings.ToLower(hookHeader): hookValue}), "header names are case-insensitive")
	assert.Equal(t, int32(1), s.runs.Load())

	// The error names the header, never its value.
	_, err = s.c.ParseNotification(ecstertest.NewOENRequest("/oen", n, hookHeader, "guess-"+hookValue))
	require.ErrorIs(t, err, paykit.ErrInvalidSignature)
	assert.NotContains(t, err.Error(), hookValue)
	assert.Contains(t, err.Error(), hookHeader)
}

// Without NotificationHeader, no header is expected.
func TestOENWithoutHeaderConfigured(t *testing.T) {
	t.Parallel()
	s := newOENServer(t, ecstertest.Config{}, ecster.Config{})
	ctx := ctxT(t)
	id := ordered(t, ctx, s.srv, s.c, 1000, ecster.OrderReady)
	n, err := s.c.ParseNotification(ecstertest.NewOENRequest("/oen", oenOf(t, s.srv, id), "", ""))
	require.NoError(t, err)
	assert.Equal(t, id, n.PaymentID)
	assert.Equal(t, "CREATED", n.Event)
	assert.Empty(t, n.Status, "an unsigned OEN claims no status")
	assert.Empty(t, n.DedupKey, "nothing in an OEN is signed: the handler keys on the fetched state")
	assert.Equal(t, ecster.ProviderName, n.Provider)

	_, err = s.c.ParseNotification(httptest.NewRequest(http.MethodGet, "/oen", nil))
	assert.ErrorIs(t, err, paykit.ErrInvalidRequest, "OENs are POSTs")
}

// With NotifySecret, an OEN whose URL is not signed for the order it names is refused (401)
// before anything is fetched; one without orderReference takes the signed id.
func TestOENSignedURL(t *testing.T) {
	t.Parallel()
	const secret = "notify-secret-for-tests"
	s := newOENServer(t, ecstertest.Config{}, ecster.Config{NotifySecret: secret})
	ctx := ctxT(t)
	id := ordered(t, ctx, s.srv, s.c, 1000, ecster.OrderReady)
	n := oenOf(t, s.srv, id)
	signer := notifyurl.New(secret)
	signed, err := signer.Sign("https://shop.example/oen?shop=1", id)
	require.NoError(t, err)
	target := strings.TrimPrefix(signed, "https://shop.example")
	otherSigned, _ := signer.Sign("https://shop.example/oen", "another-order")
	forgedSig, _ := notifyurl.New("guessed").Sign("https://shop.example/oen", id)
	cut, err := url.Parse(target)
	require.NoError(t, err)
	q := cut.Query()
	q.Set(notifyurl.ParamSignature, q.Get(notifyurl.ParamSignature)[:20])
	cut.RawQuery = q.Encode()

	calls := len(s.srv.CallLog())
	for name, tgt := range map[string]string{
		"unsigned":          "/oen?shop=1",
		"forged signature":  strings.TrimPrefix(forgedSig, "https://shop.example"),
		"signed for other":  strings.TrimPrefix(otherSigned, "https://shop.example"),
		"signature cut off": cut.String(),
	} {
		assert.Equal(t, http.StatusUnauthorized, s.post(tgt, n, nil), name)
	}
	assert.Len(t, s.srv.CallLog(), calls, "nothing fetched")

	assert.Equal(t, http.StatusOK, s.post(target, n, nil))
	assert.Equal(t, int32(1), s.runs.Load())

	// No orderReference: the signed id names the payment, and no order is read to learn it.
	anon := n
	anon.OrderReference, anon.Time = "", "2024-05-01T10:00:01Z"
	got, err := s.c.ParseNotification(httptest.NewRequest(http.MethodPost, target, bytes.NewReader(anon.Body())))
	require.NoError(t, err)
	assert.Equal(t, id, got.PaymentID)
	assert.Equal(t, 0, s.srv.Calls(http.MethodGet, ecstertest.RouteOrder))
}

// An OEN without orderReference (and no NotifySecret) is resolved through GET
// /v1/orders/{orderId}: when that fails the handler answers 503 and fn does not run; an
// order Ecster does not know is 400.
func TestOENWithoutOrderReference(t *testing.T) {
	t.Parallel()
	s := newOENServer(t, ecstertest.Config{}, ecster.Config{})
	ctx := ctxT(t)
	id := ordered(t, ctx, s.srv, s.c, 1000, ecster.OrderReady)
	n := oenOf(t, s.srv, id)
	n.OrderReference = ""

	s.srv.FailNext(6, http.StatusServiceUnavailable, ecstertest.OnRoute(http.MethodGet, ecstertest.RouteOrder)) // three attempts each
	assert.Equal(t, http.StatusServiceUnavailable, s.post("/oen", n, nil))
	assert.Zero(t, s.runs.Load())
	_, err := s.c.ParseNotification(ecstertest.NewOENRequest("/oen", n, "", ""))
	require.ErrorIs(t, err, paykit.ErrUnavailable, "the failure that made the handler answer 503")

	assert.Equal(t, http.StatusOK, s.post("/oen", n, nil), "Ecster's next delivery")
	assert.Equal(t, int32(1), s.runs.Load())
	assert.Equal(t, "CREATED authorized", <-s.events)

	unknown := n
	unknown.OrderID = "NoSuchOrder000000000"
	assert.Equal(t, http.StatusBadRequest, s.post("/oen", unknown, nil))
}

// A redelivered OEN, and copies arriving at once, run fn once; a new state of the payment
// runs it again. An OEN that claims a new event while the payment's state is unchanged (a
// forgery, or a replay with another time) runs nothing: nothing in an OEN is signed, so the
// handler keys on the state it fetched.
func TestOENsRunFnOncePerEvent(t *testing.T) {
	t.Parallel()
	s := newOENServer(t, ecstertest.Config{}, ecster.Config{})
	ctx := ctxT(t)
	id := ordered(t, ctx, s.srv, s.c, 1000, ecster.OrderReady)
	n := oenOf(t, s.srv, id)

	var wg sync.WaitGroup
	codes := make([]int, 8)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = s.post("/oen", n, nil)
		}()
	}
	wg.Wait()
	for _, code := range codes {
		assert.Equal(t, http.StatusOK, code)
	}
	assert.Equal(t, http.StatusOK, s.post("/oen", n, nil), "a redelivery hours later")
	assert.Equal(t, int32(1), s.runs.Load(), "one run for the copies and the redelivery")

	next := n
	next.Event, next.Status, next.TransactionID = "PARTIAL_DEBIT", "PARTIALLY_DELIVERED", "tx-1"
	assert.Equal(t, http.StatusOK, s.post("/oen", next, nil))
	assert.Equal(t, int32(1), s.runs.Load(), "an event that changed nothing on the order runs nothing")

	_, err := s.c.Capture(ctx, id, sek(300))
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, s.post("/oen", next, nil))
	assert.Equal(t, int32(2), s.runs.Load(), "a new state runs fn again")
	_, err = s.c.Capture(ctx, id, sek(300)) // a second partial debit in the same second
	require.NoError(t, err)
	again := next
	again.TransactionID = "tx-2"
	assert.Equal(t, http.StatusOK, s.post("/oen", again, nil))
	assert.Equal(t, int32(3), s.runs.Load())
	spelled := next
	spelled.Event = "PARTIAL_DEDIT"
	assert.Equal(t, http.StatusOK, s.post("/oen", spelled, nil))
	assert.Equal(t, int32(3), s.runs.Load(), "the document's spelling, state unchanged: a redelivery")
}

// The fake's OENs: to the cart's notificationUrl exactly (query kept), with the custom
// header, retried until 200; each reaches fn once, with the fetched state.
func TestOENsFromTheFake(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	shop := httptest.NewServer(mux)
	t.Cleanup(shop.Close)
	s := newOENServer(t, ecstertest.Config{NotificationHeader: hookHeader, NotificationHeaderValue: hookValue},
		ecster.Config{NotificationHeader: hookHeader, NotificationHeaderValue: hookValue, NotifySecret: "s3cret-notify"})
	var failFirst atomic.Bool
	failFirst.Store(true)
	var queries []string
	var mu sync.Mutex
	mux.HandleFunc("/oen", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		queries = append(queries, r.URL.Query().Get("shop"))
		mu.Unlock()
		if failFirst.CompareAndSwap(true, false) {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		s.handler.ServeHTTP(w, r)
	})
	ctx := ctxT(t)
	req := request(ecster.NewID(), 1000)
	req.NotifyURL = shop.URL + "/oen?shop=42"
	p, err := s.c.CreatePayment(ctx, req)
	require.NoError(t, err)
	mustPay(t, s.srv, p.ID)
	require.NoError(t, s.srv.WaitDelivered(ctx, p.ID))
	assert.Equal(t, "CREATED authorized", <-s.events)

	// The handler keys each OEN on the state it fetches: each debit's OEN is delivered
	// before the next debit, so each finds a state of its own.
	_, err = s.c.Capture(ctx, p.ID, sek(300))
	require.NoError(t, err)
	require.NoError(t, s.srv.WaitDelivered(ctx, p.ID))
	_, err = s.c.Capture(ctx, p.ID, sek(300))
	require.NoError(t, err)
	require.NoError(t, s.srv.WaitDelivered(ctx, p.ID))
	assert.Equal(t, int32(3), s.runs.Load(), "one run per state, two debits in one second included")

	d := s.srv.Deliveries()
	require.Len(t, d, 3)
	assert.Len(t, d[0].Attempts, 2, "retried after the 500")
	assert.Equal(t, hookValue, d[0].Header.Get(hookHeader))
	assert.Contains(t, d[0].URL, "shop=42")
	assert.Contains(t, d[0].URL, "paykit_sig=")
	mu.Lock()
	assert.Equal(t, []string{"42", "42", "42", "42"}, queries)
	mu.Unlock()

	code, err := s.srv.Redeliver(ctx, p.ID)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, int32(3), s.runs.Load(), "a replay is acknowledged without running fn")
}

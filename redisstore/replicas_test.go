package redisstore_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/ecredits"
	"github.com/paykit/paykit/ecredits/ecreditstest"
	"github.com/paykit/paykit/redisstore"
)

// stubProvider is a provider whose notifications carry a signed event id: the webhook
// handler claims that id before fetching, so the dedupe store alone decides what runs.
type stubProvider struct {
	secret  []byte
	fetches atomic.Int64
}

const stubSecret = "stub-notification-secret"

func newStubProvider() *stubProvider { return &stubProvider{secret: []byte(stubSecret)} }

func (p *stubProvider) Name() string                      { return "stub" }
func (p *stubProvider) Capabilities() paykit.Capabilities { return paykit.Capabilities{Webhooks: true} }

func (p *stubProvider) unsupported(op string) error {
	return &paykit.Error{Provider: "stub", Op: op, Kind: paykit.ErrUnsupported}
}

func (p *stubProvider) CreatePayment(context.Context, paykit.PaymentRequest) (*paykit.Payment, error) {
	return nil, p.unsupported("create payment")
}
func (p *stubProvider) Capture(context.Context, string, paykit.Money, ...paykit.CallOption) (*paykit.Payment, error) {
	return nil, p.unsupported("capture")
}
func (p *stubProvider) Refund(context.Context, string, paykit.Money, ...paykit.CallOption) (*paykit.Payment, error) {
	return nil, p.unsupported("refund")
}
func (p *stubProvider) Cancel(context.Context, string, ...paykit.CallOption) (*paykit.Payment, error) {
	return nil, p.unsupported("cancel")
}

func (p *stubProvider) GetPayment(_ context.Context, id string) (*paykit.Payment, error) {
	p.fetches.Add(1)
	return &paykit.Payment{Provider: "stub", ID: id, Status: paykit.StatusSucceeded,
		Amount: paykit.Money{Amount: 100, Currency: "EUR"}, Captured: paykit.Money{Amount: 100, Currency: "EUR"}}, nil
}

func (p *stubProvider) ParseNotification(r *http.Request) (*paykit.Notification, error) {
	body, err := paykit.ReadNotificationBody(r)
	if err != nil {
		return nil, err
	}
	v, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, &paykit.Error{Provider: "stub", Op: "parse notification", Kind: paykit.ErrInvalidRequest, Err: err}
	}
	got, _ := hex.DecodeString(v.Get("sig"))
	if !hmac.Equal(got, stubSign(p.secret, v.Get("id"), v.Get("event"))) {
		return nil, &paykit.Error{Provider: "stub", Op: "parse notification", Kind: paykit.ErrInvalidSignature}
	}
	return &paykit.Notification{Provider: "stub", PaymentID: v.Get("id"), Event: v.Get("event"), DedupKey: v.Get("event")}, nil
}

func stubSign(secret []byte, id, event string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(id + "|" + event))
	return m.Sum(nil)
}

// stubBody is the signed notification of event about payment id.
func stubBody(id, event string) []byte {
	v := url.Values{"id": {id}, "event": {event}, "sig": {hex.EncodeToString(stubSign([]byte(stubSecret), id, event))}}
	return []byte(v.Encode())
}

// counter counts the runs of fn per notification.
type counter struct {
	mu   sync.Mutex
	runs map[string]int
}

func newCounter() *counter { return &counter{runs: make(map[string]int)} }

func (c *counter) add(key string) {
	c.mu.Lock()
	c.runs[key]++
	c.mu.Unlock()
}

func (c *counter) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.runs))
	for k, v := range c.runs {
		out[k] = v
	}
	return out
}

func (c *counter) total() int {
	n := 0
	for _, v := range c.snapshot() {
		n += v
	}
	return n
}

// replica is one of the merchant's backends: its own Redis client, dedupe store, provider
// client and webhook handler.
func stubReplicas(t *testing.T, srv *redisServer, n int, fn func(context.Context, *paykit.Notification) error, opts ...redisstore.Option) []http.Handler {
	t.Helper()
	hs := make([]http.Handler, n)
	for i := range hs {
		store := redisstore.NewDedupStore(srv.Client(t), opts...)
		hs[i] = paykit.NewWebhookHandler(newStubProvider(), fn, paykit.WithDedupStore(store))
	}
	return hs
}

// post serves body to h as a provider's delivery and returns the answer's status.
func post(h http.Handler, body []byte) int {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/webhooks/stub", bytes.NewReader(body)))
	return rec.Code
}

// Three replicas sharing one Redis receive 200 notifications, 50 distinct events each
// delivered four times, the copies on different replicas and all at once: fn runs exactly
// once per event.
func TestThreeReplicasRunEachNotificationOnce(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	runs := newCounter()
	fn := func(_ context.Context, n *paykit.Notification) error {
		runs.add(n.Event)
		time.Sleep(2 * time.Millisecond) // widen the window in which a duplicate could slip in
		return nil
	}
	replicas := stubReplicas(t, srv, 3, fn)

	const events, copies = 50, 4
	statuses := make(chan int, events*copies)
	var wg sync.WaitGroup
	for e := range events {
		for c := range copies {
			wg.Add(1)
			go func() {
				defer wg.Done()
				statuses <- post(replicas[(e+c)%len(replicas)], stubBody("pay-"+strconv.Itoa(e), "evt-"+strconv.Itoa(e)))
			}()
		}
	}
	wg.Wait()
	close(statuses)
	answered := 0
	for s := range statuses {
		require.Equal(t, http.StatusOK, s)
		answered++
	}
	got := runs.snapshot()
	require.Len(t, got, events, "every distinct notification ran")
	for e := range events {
		require.Equal(t, 1, got["evt-"+strconv.Itoa(e)], "fn runs once for evt-%d", e)
	}
	t.Logf("signed keys: %d deliveries (%d distinct × %d copies over 3 replicas) answered 200; fn ran %d times", answered, events, copies, runs.total())
}

// The same with eCredits, which signs only the request id: the handler keys each
// notification on the state it fetched, through each replica's own client. Each of 40
// payments is notified five times: the fake's own webhook and two replays through a
// round-robin balancer, and two copies posted straight to two replicas, all at once.
func TestThreeReplicasECredits(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	ctx := guardCtx(t)

	mux := http.NewServeMux()
	shop := httptest.NewServer(mux)
	t.Cleanup(shop.Close)
	fake := ecreditstest.NewServer(ecreditstest.Config{NotifyURL: shop.URL + "/webhooks/ecredits", RetryMinWait: 10 * time.Millisecond, RetryMaxWait: 100 * time.Millisecond})
	t.Cleanup(fake.Close)

	runs := newCounter()
	fn := func(_ context.Context, n *paykit.Notification) error {
		runs.add(n.PaymentID + " " + string(n.Payment.Status))
		time.Sleep(2 * time.Millisecond)
		return nil
	}
	const replicaCount = 3
	clients := make([]*ecredits.Client, replicaCount)
	handlers := make([]http.Handler, replicaCount)
	for i := range clients {
		c, err := ecredits.New(ecredits.Config{ClientID: ecreditstest.DefaultClientID, Secret: ecreditstest.DefaultSecret,
			WebhookSecret: ecreditstest.DefaultWebhookSecret, BaseURL: fake.URL})
		require.NoError(t, err)
		clients[i] = c
		handlers[i] = paykit.NewWebhookHandler(c, fn, paykit.WithDedupStore(redisstore.NewDedupStore(srv.Client(t))))
		mux.Handle(fmt.Sprintf("/replica/%d", i), handlers[i])
	}
	var next atomic.Uint64
	mux.HandleFunc("/webhooks/ecredits", func(w http.ResponseWriter, r *http.Request) {
		handlers[next.Add(1)%replicaCount].ServeHTTP(w, r) // the load balancer
	})

	const payments = 40
	ids := make([]string, payments)
	for i := range ids {
		p, err := clients[i%replicaCount].CreatePayment(ctx, paykit.PaymentRequest{Amount: paykit.Money{Amount: 1000 + int64(i), Currency: "EUR"}})
		require.NoError(t, err)
		ids[i] = p.ID
	}
	var wg sync.WaitGroup
	var delivered atomic.Int64
	for i, id := range ids {
		hash, err := fake.Pay(id) // the fake's webhook goes out now
		require.NoError(t, err)
		delivered.Add(1)
		body := ecreditstest.WebhookBody(ecreditstest.DefaultWebhookSecret, ecredits.WebhookEvent{RequestID: id, Status: ecredits.RequestSettled, TransactionHash: hash})
		for c := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var status int
				if c < 2 {
					s, err := fake.Redeliver(ctx, id) // Pay queued the webhook it replays

					assert.NoError(t, err)
					status = s
				} else {
					resp, err := http.Post(fmt.Sprintf("%s/replica/%d", shop.URL, (i+c)%replicaCount), "application/json", bytes.NewReader(body))
					if !assert.NoError(t, err) {
						return
					}
					resp.Body.Close()
					status = resp.StatusCode
				}
				assert.Equal(t, http.StatusOK, status)
				delivered.Add(1)
			}()
		}
	}
	wg.Wait()
	for _, id := range ids {
		require.NoError(t, fake.WaitDelivered(ctx, id))
	}
	got := runs.snapshot()
	require.Len(t, got, payments)
	for _, id := range ids {
		require.Equal(t, 1, got[id+" succeeded"], "fn runs once for the settled payment %s", id)
	}
	t.Logf("eCredits: %d notifications (%d payments × 5 over 3 replicas) answered 200; fn ran %d times", delivered.Load(), payments, runs.total())
}

package redisstore_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/entrecard"
	"github.com/paykit/paykit/redisstore"
)

// These tests repeat, against the Redis store, the rules entrecard's own tests check with
// its memory store (entrecard/provider_test.go): a redelivered result returns the first one,
// a complete result wins over others else the latest counts, and a result for an unknown id
// is accepted.

const (
	ecSeller = "1001"
	ecSecret = "s3cr3t"
)

func entrecardClient(t testing.TB, store entrecard.Store) *entrecard.Client {
	t.Helper()
	c, err := entrecard.New(entrecard.Config{SellerID: ecSeller, Secret: ecSecret, Store: store})
	require.NoError(t, err)
	return c
}

func ecPayment() paykit.PaymentRequest {
	return paykit.PaymentRequest{
		ID:          "order-42",
		Amount:      paykit.Money{Amount: 100, Currency: "EC"},
		Description: "Two mugs, blue",
		Items:       []paykit.Item{{Name: "Mug", Quantity: 2, UnitAmount: paykit.Money{Amount: 50, Currency: "EC"}}},
		NotifyURL:   "https://shop.example/entrecard/notify?order=42",
		ReturnURL:   "https://shop.example/thanks?order=42",
		CancelURL:   "https://shop.example/cart?order=42",
	}
}

func ecResult(id, txn string, s entrecard.ResultStatus) entrecard.Result {
	return entrecard.Result{SellerID: ecSeller, ID: id, Total: 100, TransactionID: txn, Status: s}
}

// ecNotify is Entrecard's GET of the notify URL with r appended.
func ecNotify(c *entrecard.Client, r entrecard.Result) *http.Request {
	return httptest.NewRequest(http.MethodGet, "https://shop.example/entrecard/notify?order=42&"+c.ResultQuery(r), nil)
}

func ecDeliver(t testing.TB, c *entrecard.Client, r entrecard.Result) *paykit.Notification {
	t.Helper()
	n, err := c.ParseNotification(ecNotify(c, r))
	require.NoError(t, err)
	return n
}

func TestEntrecardResultsDecideThePayment(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	result := func(txn string, s entrecard.ResultStatus) entrecard.Result { return ecResult("order-42", txn, s) }
	tests := []struct {
		name     string
		results  []entrecard.Result
		status   paykit.Status
		provider string
		txn      string
	}{
		{"complete", []entrecard.Result{result("1", entrecard.ResultComplete)}, paykit.StatusSucceeded, "complete", "1"},
		{"escrow counts as complete", []entrecard.Result{result("1", entrecard.ResultEscrow)}, paykit.StatusSucceeded, "escrow", "1"},
		{"failed", []entrecard.Result{result("1", entrecard.ResultFailed)}, paykit.StatusFailed, "failed", "1"},
		{"cancelled", []entrecard.Result{result("1", entrecard.ResultCancelled)}, paykit.StatusCanceled, "cancelled", "1"},
		{"unknown word", []entrecard.Result{result("1", "disputed")}, paykit.StatusUnknown, "disputed", "1"},
		{"failed, then complete", []entrecard.Result{result("1", entrecard.ResultFailed), result("2", entrecard.ResultComplete)}, paykit.StatusSucceeded, "complete", "2"},
		{"complete, then a late failed", []entrecard.Result{result("1", entrecard.ResultComplete), result("2", entrecard.ResultFailed)}, paykit.StatusSucceeded, "complete", "1"},
		{"complete, then a cancelled", []entrecard.Result{result("1", entrecard.ResultComplete), result("2", entrecard.ResultCancelled)}, paykit.StatusSucceeded, "complete", "1"},
		{"failed, then cancelled: the latest", []entrecard.Result{result("1", entrecard.ResultFailed), result("2", entrecard.ResultCancelled)}, paykit.StatusCanceled, "cancelled", "2"},
		{"cancelled, then failed: the latest", []entrecard.Result{result("1", entrecard.ResultCancelled), result("2", entrecard.ResultFailed)}, paykit.StatusFailed, "failed", "2"},
		{"paid twice: the first complete", []entrecard.Result{result("1", entrecard.ResultComplete), result("2", entrecard.ResultEscrow)}, paykit.StatusSucceeded, "complete", "1"},
		{"a redelivery with another status keeps the first", []entrecard.Result{result("1", entrecard.ResultFailed), result("1", entrecard.ResultComplete)}, paykit.StatusFailed, "failed", "1"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := guardCtx(t)
			// Each case has a prefix of its own on the shared server.
			store := redisstore.NewEntrecardStore(srv.Client(t), redisstore.WithPrefix("case"+strconv.Itoa(i)+":"))
			c := entrecardClient(t, store)
			_, err := c.CreatePayment(ctx, ecPayment())
			require.NoError(t, err)
			for _, r := range tt.results {
				ecDeliver(t, c, r)
			}
			p, err := c.GetPayment(ctx, "order-42")
			require.NoError(t, err)
			assert.Equal(t, tt.status, p.Status)
			assert.Equal(t, tt.provider, p.ProviderStatus)
			assert.Equal(t, tt.txn, p.ProviderID)
			assert.Nil(t, p.Action)
			wantCaptured := int64(0)
			if tt.status == paykit.StatusSucceeded {
				wantCaptured = 100
			}
			assert.Equal(t, paykit.Money{Amount: wantCaptured, Currency: "EC"}, p.Captured)
			assert.Equal(t, paykit.Money{Amount: 100, Currency: "EC"}, p.Amount)
		})
	}
}

func TestEntrecardRedeliveryReturnsTheFirstResult(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	c := entrecardClient(t, redisstore.NewEntrecardStore(srv.Client(t)))
	other := entrecardClient(t, redisstore.NewEntrecardStore(srv.Client(t))) // another replica
	first := ecDeliver(t, c, ecResult("order-42", "77", entrecard.ResultFailed))
	// The same transaction again, on another replica, even with another (correctly signed)
	// status, is the first one.
	again := ecDeliver(t, other, ecResult("order-42", "77", entrecard.ResultComplete))
	require.Equal(t, *first, *again)
	require.Equal(t, "failed", again.Event)
	res, err := other.ReadNotification(ecNotify(other, ecResult("order-42", "77", entrecard.ResultComplete)))
	require.NoError(t, err)
	require.Equal(t, entrecard.ResultFailed, res.Status)
}

// A result for an id the store does not know is accepted and recorded, and GetPayment
// answers from it alone.
func TestEntrecardResultForAnUnknownID(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	c := entrecardClient(t, redisstore.NewEntrecardStore(srv.Client(t)))
	n := ecDeliver(t, c, entrecard.Result{SellerID: ecSeller, ID: "elsewhere", Total: 120, TransactionID: "3", Status: entrecard.ResultEscrow})
	require.Equal(t, "elsewhere", n.PaymentID)
	require.Equal(t, paykit.StatusSucceeded, n.Status)
	p, err := c.GetPayment(guardCtx(t), "elsewhere")
	require.NoError(t, err)
	assert.Equal(t, "elsewhere", p.ID)
	assert.Equal(t, paykit.Money{Amount: 120, Currency: "EC"}, p.Amount)
	assert.Equal(t, paykit.StatusSucceeded, p.Status)
	assert.Equal(t, "3", p.ProviderID)
}

// Results survive a restart of the merchant's process (a new client and connection), and
// every replica answers GetPayment alike.
func TestEntrecardSharedAndDurable(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	ctx := guardCtx(t)
	a := entrecardClient(t, redisstore.NewEntrecardStore(srv.Client(t)))
	created, err := a.CreatePayment(ctx, ecPayment())
	require.NoError(t, err)

	b := entrecardClient(t, redisstore.NewEntrecardStore(srv.Client(t)))
	again, err := b.CreatePayment(ctx, ecPayment()) // the same request on another replica
	require.NoError(t, err)
	require.Equal(t, created.Action, again.Action)
	require.True(t, created.CreatedAt.Equal(again.CreatedAt), "the first order stands")
	conflict := ecPayment()
	conflict.Items, conflict.Amount.Amount = nil, 90
	_, err = b.CreatePayment(ctx, conflict)
	require.ErrorIs(t, err, paykit.ErrConflict)

	ecDeliver(t, b, ecResult("order-42", "9", entrecard.ResultComplete))
	restarted := entrecardClient(t, redisstore.NewEntrecardStore(srv.Client(t)))
	for _, c := range []*entrecard.Client{a, b, restarted} {
		p, err := c.GetPayment(ctx, "order-42")
		require.NoError(t, err)
		require.Equal(t, paykit.StatusSucceeded, p.Status)
		require.Equal(t, "9", p.ProviderID)
		require.True(t, p.CreatedAt.Equal(created.CreatedAt))
		require.Equal(t, "order-42", p.Reference)
	}
	_, err = restarted.GetPayment(ctx, "order-43")
	require.ErrorIs(t, err, paykit.ErrNotFound)
}

func TestEntrecardStoreRules(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	ctx := guardCtx(t)
	s := redisstore.NewEntrecardStore(srv.Client(t))

	_, ok, err := s.Lookup(ctx, "x")
	require.NoError(t, err)
	require.False(t, ok, "nothing stored for x")

	o := entrecard.Order{ID: "x", Description: "Mug", Quantity: 3, Cost: 7,
		BuyURL: "http://entrecard.test/buy?seller=1", CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)}
	got, created, err := s.SaveOrder(ctx, o)
	require.NoError(t, err)
	require.True(t, created)
	require.Equal(t, o, got)
	second := o
	second.Cost, second.CreatedAt = 8, o.CreatedAt.Add(time.Hour)
	got, created, err = s.SaveOrder(ctx, second)
	require.NoError(t, err)
	require.False(t, created)
	require.Equal(t, o, got, "the first order stands")

	r1 := entrecard.Result{SellerID: "1001", ID: "x", Total: 21, TransactionID: "5", Status: entrecard.ResultFailed}
	r2 := entrecard.Result{SellerID: "1001", ID: "x", Total: 21, TransactionID: "6", Status: entrecard.ResultComplete}
	for _, r := range []entrecard.Result{r1, r2} {
		got, created, err := s.SaveResult(ctx, r)
		require.NoError(t, err)
		require.True(t, created)
		require.Equal(t, r, got)
	}
	dup := r1
	dup.Status = entrecard.ResultComplete
	gotR, created, err := s.SaveResult(ctx, dup)
	require.NoError(t, err)
	require.False(t, created)
	require.Equal(t, r1, gotR, "a redelivered result gets the first one back")
	// A transaction id is one transaction whatever id a result names, as in the memory store.
	elsewhere := r1
	elsewhere.ID = "y"
	gotR, created, err = s.SaveResult(ctx, elsewhere)
	require.NoError(t, err)
	require.False(t, created)
	require.Equal(t, r1, gotR)

	e, ok, err := s.Lookup(ctx, "x")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, entrecard.Entry{Order: &o, Results: []entrecard.Result{r1, r2}}, e, "the order and the results in arrival order")
	_, ok, err = s.Lookup(ctx, "y")
	require.NoError(t, err)
	require.False(t, ok)

	// Results alone make an entry.
	_, _, err = s.SaveResult(ctx, entrecard.Result{SellerID: "1001", ID: "z", Total: 1, TransactionID: "7", Status: "escrow"})
	require.NoError(t, err)
	e, ok, err = s.Lookup(ctx, "z")
	require.NoError(t, err)
	require.True(t, ok)
	require.Nil(t, e.Order)
	require.Len(t, e.Results, 1)

	canceled, cancel := context.WithCancel(ctx)
	cancel()
	_, _, err = s.SaveOrder(canceled, o)
	require.ErrorIs(t, err, context.Canceled)
	_, _, err = s.SaveResult(canceled, r1)
	require.ErrorIs(t, err, context.Canceled)
	_, _, err = s.Lookup(canceled, "x")
	require.ErrorIs(t, err, context.Canceled)
}

// The store copies every field of Order and Result: a field added to either must be added
// to the store's encoding too, or this test fails.
func TestEntrecardStoreKeepsEveryField(t *testing.T) {
	t.Parallel()
	require.Equal(t, 6, reflect.TypeFor[entrecard.Order]().NumField(), "entrecard.Order changed: update wireOrder")
	require.Equal(t, 5, reflect.TypeFor[entrecard.Result]().NumField(), "entrecard.Result changed: update wireResult")
}

func TestEntrecardConcurrentResults(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	ctx := guardCtx(t)
	stores := []entrecard.Store{redisstore.NewEntrecardStore(srv.Client(t)), redisstore.NewEntrecardStore(srv.Client(t))}
	var wg sync.WaitGroup
	var mu sync.Mutex
	createdN := 0
	firsts := map[entrecard.ResultStatus]int{}
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := ecResult("order-1", "1", entrecard.ResultStatus([]string{"failed", "complete"}[i%2]))
			got, created, err := stores[i%2].SaveResult(ctx, r)
			if !assert.NoError(t, err) {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if created {
				createdN++
			}
			firsts[got.Status]++
		}()
	}
	wg.Wait()
	require.Equal(t, 1, createdN, "one of the concurrent saves stored the result")
	require.Len(t, firsts, 1, "every caller got the same first result back")
	e, _, err := stores[0].Lookup(ctx, "order-1")
	require.NoError(t, err)
	require.Len(t, e.Results, 1)
}

func TestEntrecardKeysShareOneSlot(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	ctx := guardCtx(t)
	rdb := srv.Client(t)
	c := entrecardClient(t, redisstore.NewEntrecardStore(rdb, redisstore.WithPrefix("shop:")))
	_, err := c.CreatePayment(ctx, ecPayment())
	require.NoError(t, err)
	ecDeliver(t, c, ecResult("order-42", "1", entrecard.ResultComplete))
	keys, err := rdb.Keys(ctx, "*").Result()
	require.NoError(t, err)
	require.Len(t, keys, 3, "order, transaction and results: %v", keys)
	for _, k := range keys {
		require.True(t, strings.HasPrefix(k, "shop:entrecard:{entrecard}:"), k)
		require.Equal(t, "entrecard", hashTag(k), "keys of one script in one Cluster slot")
		ttl, err := rdb.PTTL(ctx, k).Result()
		require.NoError(t, err)
		require.Equal(t, time.Duration(-1), ttl, "Entrecard's record never expires")
	}
}

// hashTag is the part of key a Redis Cluster hashes when it chooses the key's slot.
func hashTag(key string) string {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			return key[i+1 : i+1+j]
		}
	}
	return key
}

// When Redis is down, the Entrecard client's calls fail with paykit.ErrUnavailable and its
// notification is answered 503, so Entrecard delivers it again.
func TestEntrecardRedisDown(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	ctx := guardCtx(t)
	c := entrecardClient(t, redisstore.NewEntrecardStore(srv.Client(t)))
	var ran atomic.Int32
	h := paykit.NewWebhookHandler(c, func(context.Context, *paykit.Notification) error { ran.Add(1); return nil },
		paykit.WithDedupStore(paykit.NewMemoryDedupStore(0)))
	srv.Stop()

	_, err := c.CreatePayment(ctx, ecPayment())
	require.ErrorIs(t, err, paykit.ErrUnavailable)
	_, err = c.GetPayment(ctx, "order-42")
	require.ErrorIs(t, err, paykit.ErrUnavailable)
	_, err = c.ParseNotification(ecNotify(c, ecResult("order-42", "1", entrecard.ResultComplete)))
	require.ErrorIs(t, err, paykit.ErrUnavailable)

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, ecNotify(c, ecResult("order-42", "1", entrecard.ResultComplete)))
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	require.Zero(t, ran.Load())

	srv.Restart()
	// Entrecard delivers again until it gets 200 (the client's connection pool may fail fast
	// for up to a second after Redis returned).
	require.Eventually(t, func() bool {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, ecNotify(c, ecResult("order-42", "1", entrecard.ResultComplete)))
		return rec.Code == http.StatusOK
	}, guard, 20*time.Millisecond, "the redelivery after Redis returned")
	require.EqualValues(t, 1, ran.Load())
}

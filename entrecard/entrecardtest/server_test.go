package entrecardtest_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit/entrecard"
	"github.com/paykit/paykit/entrecard/entrecardtest"
)

// item is the payment id of buy()'s links.
const item = "item-1"

// guard bounds the waits of these tests: it only turns a hang into a failure.
const guard = 10 * time.Second

func guardCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	t.Cleanup(cancel)
	return ctx
}

// receiver is a notify endpoint that answers with status and counts what it got.
type receiver struct {
	*httptest.Server
	status atomic.Int32
	got    atomic.Int32
	last   atomic.Value // the last request's raw query or body
}

func newReceiver(t *testing.T, status int) *receiver {
	t.Helper()
	r := &receiver{}
	r.status.Store(int32(status))
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.got.Add(1)
		if req.Method == http.MethodPost {
			_ = req.ParseForm()
			r.last.Store(req.Method + " " + req.URL.RawQuery + " | " + req.PostForm.Encode())
		} else {
			r.last.Store(req.Method + " " + req.URL.RawQuery)
		}
		w.WriteHeader(int(r.status.Load()))
	}))
	t.Cleanup(r.Close)
	return r
}

func newFake(t *testing.T, cfg entrecardtest.Config) *entrecardtest.Server {
	t.Helper()
	if cfg.RetryMinWait == 0 {
		cfg.RetryMinWait = time.Millisecond
	}
	s := entrecardtest.NewServer(cfg)
	t.Cleanup(s.Close)
	return s
}

func buy(notify string) entrecard.BuyRequest {
	return entrecard.BuyRequest{
		ItemID: item, Description: "A thing, small", Quantity: 2, Cost: 40,
		NotifyURL: notify, SuccessURL: "https://shop.example/ok?o=1", CancelURL: "https://shop.example/no",
	}
}

// open signs a link for r on s and opens it as the buyer's browser.
func open(t *testing.T, s *entrecardtest.Server, r entrecard.BuyRequest) *entrecardtest.Page {
	t.Helper()
	page, err := s.Open(guardCtx(t), entrecardtest.SignedBuyURL(s.URL, entrecardtest.DefaultSellerID, entrecardtest.DefaultSecret, r))
	require.NoError(t, err)
	return page
}

// postForm posts a link's parameters to a page of s directly, as a browser would.
func postForm(t *testing.T, s *entrecardtest.Server, rt, link, buyer string) int {
	t.Helper()
	u, err := url.Parse(link)
	require.NoError(t, err)
	form := u.Query()
	form.Set("buyer", buyer)
	resp, err := http.PostForm(s.URL+rt, form)
	require.NoError(t, err)
	_ = resp.Body.Close()
	return resp.StatusCode
}

func TestLinkChecks(t *testing.T) {
	t.Parallel()
	s := newFake(t, entrecardtest.Config{})
	link := func(change func(*entrecard.BuyRequest)) string {
		r := buy("https://shop.example/n")
		change(&r)
		return entrecardtest.SignedBuyURL(s.URL, entrecardtest.DefaultSellerID, entrecardtest.DefaultSecret, r)
	}
	tests := []struct {
		name   string
		link   string
		status int // 0: accepted
	}{
		{"valid", link(func(*entrecard.BuyRequest) {}), 0},
		{"valid under /uapi/1", strings.Replace(link(func(*entrecard.BuyRequest) {}), "/buy?", "/uapi/1/buy?", 1), 0},
		{"wrong secret", entrecardtest.SignedBuyURL(s.URL, entrecardtest.DefaultSellerID, "wrong", buy("https://shop.example/n")), 403},
		{"unknown seller", entrecardtest.SignedBuyURL(s.URL, "999", entrecardtest.DefaultSecret, buy("https://shop.example/n")), 403},
		{"no signature", strings.Split(link(func(*entrecard.BuyRequest) {}), "&signature=")[0], 403},
		{"tampered cost", strings.Replace(link(func(*entrecard.BuyRequest) {}), "cost=40", "cost=4", 1), 403},
		{"signature twice", link(func(*entrecard.BuyRequest) {}) + "&signature=00", 400},
		{"id empty", link(func(r *entrecard.BuyRequest) { r.ItemID = "" }), 400},
		{"id 33 long", link(func(r *entrecard.BuyRequest) { r.ItemID = strings.Repeat("i", 33) }), 400},
		{"id with a dot", link(func(r *entrecard.BuyRequest) { r.ItemID = "a.b" }), 400},
		{"description empty", link(func(r *entrecard.BuyRequest) { r.Description = "" }), 400},
		{"description 65 long", link(func(r *entrecard.BuyRequest) { r.Description = strings.Repeat("d", 65) }), 400},
		{"description with !", link(func(r *entrecard.BuyRequest) { r.Description = "Buy!" }), 400},
		{"quantity 0", link(func(r *entrecard.BuyRequest) { r.Quantity = 0 }), 400},
		{"cost 1", link(func(r *entrecard.BuyRequest) { r.Cost = 1 }), 400},
		{"cost 2", link(func(r *entrecard.BuyRequest) { r.Cost = 2 }), 0},
		{"notify relative", link(func(r *entrecard.BuyRequest) { r.NotifyURL = "/n" }), 400},
		{"success empty", link(func(r *entrecard.BuyRequest) { r.SuccessURL = "" }), 400},
		{"cancel not http", link(func(r *entrecard.BuyRequest) { r.CancelURL = "ftp://x/c" }), 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			page, err := s.Open(context.Background(), tt.link)
			if tt.status == 0 {
				require.NoError(t, err)
				assert.Equal(t, entrecardtest.DefaultSellerID, page.SellerID)
				assert.Equal(t, int64(page.Quantity)*page.Cost, page.Total)
				assert.Equal(t, "https://shop.example/n", page.NotifyURL)
				return
			}
			var se *entrecardtest.StatusError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, tt.status, se.StatusCode)
			// The confirm page checks the link again: a browser cannot skip the check.
			assert.Equal(t, tt.status, postForm(t, s, entrecardtest.RouteConfirm, tt.link, entrecardtest.DefaultBuyer))
		})
	}
	t.Cleanup(func() {
		assert.Empty(t, s.Transactions(), "links that were only opened or refused made transactions")
	})
}

// Controls act on a payment whose buy link the browser opened; before that the fake does
// not know it.
func TestControlsNeedTheLinkOpened(t *testing.T) {
	t.Parallel()
	s := newFake(t, entrecardtest.Config{})
	ctx := guardCtx(t)
	for name, err := range map[string]error{
		"Confirm": s.Confirm(ctx, item, entrecardtest.DefaultBuyer),
		"Cancel":  s.Cancel(ctx, item, ""),
		"Leave":   s.Leave(ctx, item),
	} {
		require.ErrorIs(t, err, entrecardtest.ErrUnknownPayment, name)
		assert.Contains(t, err.Error(), item, name)
	}
	_, err := s.Pay(item)
	require.ErrorIs(t, err, entrecardtest.ErrUnknownPayment)
	require.ErrorIs(t, s.WaitDelivered(ctx, item), entrecardtest.ErrNoNotifyURL, "no link opened: no notify URL known")
	_, err = s.Redeliver(ctx, item)
	require.ErrorIs(t, err, entrecardtest.ErrUnknownPayment)
	_, ok := s.Redirect(item)
	assert.False(t, ok)
	_, ok = s.Transaction(item)
	assert.False(t, ok)
	assert.Empty(t, s.CallLog(), "nothing was sent to the pages")
}

func TestPay(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, 200)
	s := newFake(t, entrecardtest.Config{Buyers: map[string]int64{entrecardtest.DefaultBuyer: 100}})
	ctx := guardCtx(t)
	open(t, s, buy(rcv.URL))

	txn, err := s.Pay(item)
	require.NoError(t, err)
	assert.Equal(t, "100001", txn)
	require.NoError(t, s.WaitDelivered(ctx, item))
	tx, ok := s.Transaction(item)
	require.True(t, ok)
	assert.Equal(t, entrecard.ResultComplete, tx.Status)
	assert.Equal(t, entrecardtest.DefaultBuyer, tx.Buyer)
	back, ok := s.Redirect(item)
	require.True(t, ok)
	assert.True(t, strings.HasPrefix(back, "https://shop.example/ok?o=1&seller_id=1001&id=item-1&total=80&transaction_id=100001&status=complete&signature="), back)
	assert.Equal(t, int64(20), s.Balance(entrecardtest.DefaultBuyer))

	// Too few credits left: a failed transaction, whose id comes with the error.
	txn, err = s.Pay(item)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "failed")
	assert.Equal(t, "100002", txn)
	tx, _ = s.Transaction(item)
	assert.Equal(t, entrecard.ResultStatus("failed"), tx.Status, "Transaction is the latest of the payment")
	back, _ = s.Redirect(item)
	assert.True(t, strings.HasPrefix(back, "https://shop.example/no?seller_id="), back)
	require.NoError(t, s.WaitDelivered(ctx, item), "both results were answered 200")

	ds := s.Deliveries()
	require.Len(t, ds, 2)
	assert.Equal(t, []string{"complete", "failed"}, []string{ds[0].Event, ds[1].Event})
	for _, d := range ds {
		assert.Equal(t, item, d.PaymentID)
		assert.Equal(t, http.MethodGet, d.Method)
		assert.True(t, d.Delivered)
	}
}

func TestResultQueryAgreesWithTheSDK(t *testing.T) {
	t.Parallel()
	c, err := entrecard.New(entrecard.Config{SellerID: "1001", Secret: "s3cr3t"})
	require.NoError(t, err)
	for _, r := range []entrecard.Result{
		{SellerID: "1001", ID: "order-42", Total: 100, TransactionID: "100001", Status: entrecard.ResultComplete},
		{SellerID: "1001", ID: "a_b-c", Total: 0, TransactionID: "1", Status: entrecard.ResultCancelled},
	} {
		assert.Equal(t, c.ResultQuery(r), entrecardtest.ResultQuery("s3cr3t", r))
	}
	// And a link the fake signs is the link the SDK builds.
	link, err := c.BuyURL(buy("https://shop.example/n?x=1"))
	require.NoError(t, err)
	assert.Equal(t, link, entrecardtest.SignedBuyURL(entrecard.DefaultBaseURL, "1001", "s3cr3t", buy("https://shop.example/n?x=1")))
}

func TestResultIsAppended(t *testing.T) {
	t.Parallel()
	tests := []struct {
		notify, wantPrefix string
	}{
		{"/n", "GET seller_id=1001&id=item-1&total=80&transaction_id="},
		{"/n?shop=1", "GET shop=1&seller_id=1001&"},
		{"/n?", "GET seller_id=1001&"},
		{"/n?shop=1&", "GET shop=1&seller_id=1001&"},
	}
	for _, tt := range tests {
		t.Run(tt.notify, func(t *testing.T) {
			t.Parallel()
			rcv := newReceiver(t, 200)
			s := newFake(t, entrecardtest.Config{})
			ctx := guardCtx(t)
			open(t, s, buy(rcv.URL+tt.notify))
			require.NoError(t, s.Confirm(ctx, item, entrecardtest.DefaultBuyer))
			back, _ := s.Redirect(item)
			assert.True(t, strings.HasPrefix(back, "https://shop.example/ok?o=1&seller_id=1001&id=item-1&total=80&transaction_id=100001&status=complete&signature="), back)
			require.NoError(t, s.WaitDelivered(ctx, item))
			got := rcv.last.Load().(string)
			assert.True(t, strings.HasPrefix(got, tt.wantPrefix), "notify got %q, want prefix %q", got, tt.wantPrefix)
			assert.Contains(t, got, "&status=complete&signature=")
		})
	}
}

func TestPostNotify(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, 200)
	s := newFake(t, entrecardtest.Config{NotifyMethod: http.MethodPost})
	ctx := guardCtx(t)
	open(t, s, buy(rcv.URL+"/n?shop=1"))
	require.NoError(t, s.Confirm(ctx, item, entrecardtest.DefaultBuyer))
	require.NoError(t, s.WaitDelivered(ctx, item))
	got := rcv.last.Load().(string)
	assert.True(t, strings.HasPrefix(got, "POST shop=1 | "), "the URL as it is: %q", got)
	assert.Contains(t, got, "transaction_id=100001", "the result as a form")
	d := s.Deliveries()[0]
	assert.Equal(t, http.MethodPost, d.Method)
	assert.Equal(t, "application/x-www-form-urlencoded", d.Header.Get("Content-Type"))
}

func TestRedeliver(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, 200)
	s := newFake(t, entrecardtest.Config{})
	ctx := guardCtx(t)
	open(t, s, buy(rcv.URL+"/n"))
	_, err := s.Pay(item)
	require.NoError(t, err)
	require.NoError(t, s.WaitDelivered(ctx, item))
	first := rcv.last.Load().(string)

	rcv.status.Store(http.StatusTeapot)
	code, err := s.Redeliver(ctx, item)
	require.NoError(t, err)
	assert.Equal(t, http.StatusTeapot, code)
	assert.Equal(t, first, rcv.last.Load().(string), "the same result again")
	assert.Equal(t, int32(2), rcv.got.Load())
	require.NoError(t, s.WaitDelivered(ctx, item), "a replay does not make the payment undelivered")
}

func TestDeliveriesAreBoundedAndStopOnClose(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, 503)
	s := newFake(t, entrecardtest.Config{MaxDeliveryAttempts: 4})
	ctx := guardCtx(t)
	open(t, s, buy(rcv.URL))
	require.NoError(t, s.Confirm(ctx, item, entrecardtest.DefaultBuyer))
	require.ErrorIs(t, s.WaitDelivered(ctx, item), entrecardtest.ErrGaveUp)
	assert.Equal(t, int32(4), rcv.got.Load())
	d := s.Deliveries()[0]
	assert.Len(t, d.Attempts, 4)
	assert.False(t, d.Delivered)
	tx, _ := s.Transaction(item)
	assert.Equal(t, entrecard.ResultComplete, tx.Status, "the purchase stands whatever its result's delivery")

	// A slow retry loop is stopped by Close.
	slow := entrecardtest.NewServer(entrecardtest.Config{RetryMinWait: time.Hour})
	open(t, slow, buy(rcv.URL))
	require.NoError(t, slow.Confirm(ctx, item, entrecardtest.DefaultBuyer))
	done := make(chan struct{})
	go func() { slow.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(guard):
		t.Fatal("Close did not stop the retry loop")
	}
	require.ErrorIs(t, slow.WaitDelivered(ctx, item), entrecardtest.ErrClosed)
	require.ErrorIs(t, slow.Confirm(ctx, item, entrecardtest.DefaultBuyer), entrecardtest.ErrClosed)
	_, err := slow.Open(ctx, entrecardtest.SignedBuyURL(slow.URL, entrecardtest.DefaultSellerID, entrecardtest.DefaultSecret, buy(rcv.URL)))
	require.ErrorIs(t, err, entrecardtest.ErrClosed)
	slow.Close() // twice is fine
}

func TestBuyers(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, 200)
	s := newFake(t, entrecardtest.Config{Buyers: map[string]int64{"bob": 100}})
	ctx := guardCtx(t)
	open(t, s, buy(rcv.URL)) // 2 × 40
	var se *entrecardtest.StatusError
	require.ErrorAs(t, s.Confirm(ctx, item, "mallory"), &se, "an unknown buyer")
	assert.Equal(t, http.StatusUnauthorized, se.StatusCode)
	require.ErrorAs(t, s.Confirm(ctx, item, ""), &se, "no buyer")
	assert.Equal(t, http.StatusUnauthorized, se.StatusCode)
	for i, want := range []struct {
		status         entrecard.ResultStatus
		balance, kept  int64
		wantRedirectTo string
	}{
		{entrecard.ResultComplete, 20, 70, "https://shop.example/ok?o=1&"},
		{entrecard.ResultFailed, 20, 70, "https://shop.example/no?"},
	} {
		require.NoError(t, s.Confirm(ctx, item, "bob"))
		back, _ := s.Redirect(item)
		assert.True(t, strings.HasPrefix(back, want.wantRedirectTo), "purchase %d: redirect %s", i, back)
		assert.Contains(t, back, "&status="+string(want.status)+"&", "purchase %d", i)
		assert.Equal(t, want.balance, s.Balance("bob"), "purchase %d", i)
		assert.Equal(t, want.kept, s.SellerBalance(entrecardtest.DefaultSellerID), "purchase %d", i)
		assert.Equal(t, int64(10), s.Fees(), "purchase %d", i)
	}
	s.AddBuyer("bob", 80)
	s.SetEscrow(true)
	require.NoError(t, s.Confirm(ctx, item, "bob"))
	back, _ := s.Redirect(item)
	assert.Contains(t, back, "&status=escrow&")
	assert.Zero(t, s.Balance("bob"))
	require.ErrorAs(t, s.Cancel(ctx, item, "mallory"), &se, "a cancel by an unknown buyer")
	assert.Equal(t, http.StatusUnauthorized, se.StatusCode)
	require.NoError(t, s.Cancel(ctx, item, ""))
	back, _ = s.Redirect(item)
	assert.True(t, strings.HasPrefix(back, "https://shop.example/no?seller_id="), back)
	assert.Contains(t, back, "&status=cancelled&")
	txns := s.Transactions()
	require.Len(t, txns, 4)
	assert.Equal(t, "100001", txns[0].ID)
	assert.Equal(t, "100004", txns[3].ID)
	assert.Empty(t, txns[3].Buyer)
	last, _ := s.Transaction(item)
	assert.Equal(t, txns[3], last)
}

func TestFaultsAndCalls(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, 200)
	s := newFake(t, entrecardtest.Config{})
	ctx := guardCtx(t)
	link := entrecardtest.SignedBuyURL(s.URL, entrecardtest.DefaultSellerID, entrecardtest.DefaultSecret, buy(rcv.URL))

	// A fault limited to confirms leaves pages alone.
	s.FailNext(1, 502, entrecardtest.OnRoute(http.MethodPost, entrecardtest.RouteConfirm))
	_, err := s.Open(ctx, link)
	require.NoError(t, err, "Open hit a confirm-only fault")
	var se *entrecardtest.StatusError
	require.ErrorAs(t, s.Confirm(ctx, item, entrecardtest.DefaultBuyer), &se)
	assert.Equal(t, 502, se.StatusCode)
	_, ok := s.Redirect(item)
	assert.False(t, ok, "a failed page redirects nowhere")
	// A status that is not one is a 500; ClearFaults forgets queued faults.
	s.FailNext(1, 7)
	_, err = s.Open(ctx, link)
	require.ErrorAs(t, err, &se)
	assert.Equal(t, 500, se.StatusCode)
	s.FailNext(5, 503)
	s.ClearFaults()
	s.MalformedNext(1, entrecardtest.OnRoute(http.MethodGet, entrecardtest.RouteBuy))
	_, err = s.Open(ctx, link)
	require.ErrorIs(t, err, entrecardtest.ErrMalformed)
	_, err = s.Open(ctx, link)
	require.NoError(t, err, "Open after the faults")
	var faults []entrecardtest.Fault
	for _, c := range s.CallLog() {
		faults = append(faults, c.Fault)
	}
	assert.Equal(t, []entrecardtest.Fault{"", entrecardtest.FaultFail, entrecardtest.FaultFail, entrecardtest.FaultMalformed, ""}, faults)
	assert.Equal(t, 4, s.Calls(http.MethodGet, entrecardtest.RouteBuy))
	assert.Equal(t, 1, s.Calls("", entrecardtest.RouteConfirm))
	assert.Empty(t, s.Transactions(), "a failed confirm made a transaction")

	// A dropped confirm was processed: the purchase happened, its result goes out, but the
	// browser never saw the redirect.
	s.DropNext(1, entrecardtest.OnRoute(http.MethodPost, entrecardtest.RouteConfirm))
	require.Error(t, s.Confirm(ctx, item, entrecardtest.DefaultBuyer))
	_, ok = s.Redirect(item)
	assert.False(t, ok)
	require.NoError(t, s.WaitDelivered(ctx, item))
	tx, ok := s.Transaction(item)
	require.True(t, ok)
	assert.Equal(t, entrecard.ResultComplete, tx.Status)
}

func TestRoutingAndOwnLinks(t *testing.T) {
	t.Parallel()
	s := newFake(t, entrecardtest.Config{})
	ctx := guardCtx(t)
	for _, tt := range []struct {
		method, path string
		status       int
	}{
		{http.MethodGet, "/nothing", 404},
		{http.MethodPost, "/buy", 405},
		{http.MethodGet, "/buy/confirm", 405},
		{http.MethodPost, "/buy/confirm", 403}, // no link in the form
	} {
		req, _ := http.NewRequestWithContext(ctx, tt.method, s.URL+tt.path, nil)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		assert.Equal(t, tt.status, resp.StatusCode, "%s %s", tt.method, tt.path)
	}
	other := entrecardtest.SignedBuyURL("http://entrecard.com/uapi/1", entrecardtest.DefaultSellerID, entrecardtest.DefaultSecret, buy("https://shop.example/n"))
	_, err := s.Open(ctx, other)
	require.ErrorIs(t, err, entrecardtest.ErrNotThisServer, "Open of the real site's link")
	u, err := url.Parse(s.URL)
	require.NoError(t, err)
	assert.False(t, strings.HasSuffix(s.URL, "/"))
	assert.Equal(t, "http", u.Scheme)
}

func TestLeave(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, 200)
	s := newFake(t, entrecardtest.Config{})
	ctx := guardCtx(t)
	open(t, s, buy(rcv.URL))
	require.NoError(t, s.Leave(ctx, item))
	back, ok := s.Redirect(item)
	require.True(t, ok)
	assert.Equal(t, "https://shop.example/no", back)
	assert.Empty(t, s.Transactions())
	assert.Empty(t, s.Deliveries(), "leaving notified the seller")
	// The link is still open: the buyer may come back and pay.
	_, err := s.Pay(item)
	require.NoError(t, err)
	require.NoError(t, s.WaitDelivered(ctx, item))
	assert.Equal(t, int32(1), rcv.got.Load())
}

// The latest link opened for a payment id is the one its controls use.
func TestReopenedLink(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, 200)
	s := newFake(t, entrecardtest.Config{})
	ctx := guardCtx(t)
	open(t, s, buy(rcv.URL+"/first"))
	second := buy(rcv.URL + "/second")
	second.Quantity = 1
	open(t, s, second)
	require.NoError(t, s.Confirm(ctx, item, entrecardtest.DefaultBuyer))
	require.NoError(t, s.WaitDelivered(ctx, item))
	tx, _ := s.Transaction(item)
	assert.Equal(t, int64(40), tx.Total)
	assert.True(t, strings.HasPrefix(s.Deliveries()[0].URL, rcv.URL+"/second?"), s.Deliveries()[0].URL)
}

func TestStatusError(t *testing.T) {
	t.Parallel()
	err := &entrecardtest.StatusError{StatusCode: 403, Message: "The link's signature does not match."}
	assert.Equal(t, "entrecardtest: 403 Forbidden: The link's signature does not match.", err.Error())
}

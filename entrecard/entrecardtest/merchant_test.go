package entrecardtest_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/entrecard"
	"github.com/paykit/paykit/entrecard/entrecardtest"
)

// sdkClient is an entrecard client whose links point at base.
func sdkClient(t *testing.T, base string) *entrecard.Client {
	t.Helper()
	c, err := entrecard.New(entrecard.Config{SellerID: entrecardtest.DefaultSellerID, Secret: entrecardtest.DefaultSecret, BaseURL: base})
	require.NoError(t, err)
	return c
}

func payment(id, notify string) paykit.PaymentRequest {
	return paykit.PaymentRequest{
		ID: id, Amount: paykit.Money{Amount: 80, Currency: entrecard.Currency}, Description: "Banner ad",
		NotifyURL: notify, ReturnURL: "https://shop.example/thanks", CancelURL: "https://shop.example/cart",
	}
}

// Pay needs no Open: the buyer opening the link a client of this process built is implied,
// as it is for Confirm, Cancel and Leave; the browser visits the page first, as it would.
func TestControlsOpenTheLinkAClientBuilt(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, 200)
	s := newFake(t, entrecardtest.Config{})
	ctx := guardCtx(t)
	c := sdkClient(t, s.URL)
	shop := httptest.NewServer(paykit.NewWebhookHandler(c, func(context.Context, *paykit.Notification) error { return nil }))
	t.Cleanup(shop.Close)

	p, err := c.CreatePayment(ctx, payment("paid-at-once", shop.URL))
	require.NoError(t, err)
	txn, err := s.Pay(p.ID)
	require.NoError(t, err, "Pay without Open")
	require.NoError(t, s.WaitDelivered(ctx, p.ID))
	tx, ok := s.Transaction(p.ID)
	require.True(t, ok)
	assert.Equal(t, txn, tx.ID)
	assert.Equal(t, entrecard.ResultComplete, tx.Status)
	assert.Equal(t, int64(80), tx.Total)
	got, err := c.GetPayment(ctx, p.ID)
	require.NoError(t, err)
	assert.Equal(t, paykit.StatusSucceeded, got.Status)
	assert.Equal(t, 1, s.Calls(http.MethodGet, entrecardtest.RouteBuy), "the browser opened the page first")
	assert.Equal(t, 1, s.Calls(http.MethodPost, entrecardtest.RouteConfirm))

	// Under /uapi/1, and through the other controls.
	u := sdkClient(t, s.URL+"/uapi/1")
	for _, tc := range []struct {
		id      string
		control func(id string) error
		want    entrecard.ResultStatus // "" for none: the buyer left
	}{
		{"confirmed", func(id string) error { return s.Confirm(ctx, id, entrecardtest.DefaultBuyer) }, entrecard.ResultComplete},
		{"cancelled", func(id string) error { return s.Cancel(ctx, id, "") }, entrecard.ResultCancelled},
		{"left", func(id string) error { return s.Leave(ctx, id) }, ""},
	} {
		p, err := u.CreatePayment(ctx, payment(tc.id, rcv.URL))
		require.NoError(t, err, tc.id)
		require.NoError(t, tc.control(p.ID), tc.id)
		back, ok := s.Redirect(p.ID)
		require.True(t, ok, tc.id)
		tx, made := s.Transaction(p.ID)
		if tc.want == "" {
			assert.False(t, made, tc.id)
			assert.Equal(t, "https://shop.example/cart", back, tc.id)
			continue
		}
		require.True(t, made, tc.id)
		assert.Equal(t, tc.want, tx.Status, tc.id)
	}

	// A link built with BuyURL counts too.
	link, err := c.BuyURL(buy(rcv.URL))
	require.NoError(t, err)
	_, err = s.Pay(item)
	require.NoError(t, err)
	tx, _ = s.Transaction(item)
	assert.Equal(t, int64(80), tx.Total, "the link BuyURL built: 2 × 40")
	assert.NotEmpty(t, link)
}

// A fake hears only of links to itself; one built for another server, or for none, is no
// payment it knows, and an opened link wins over a built one.
func TestBuiltLinksAreEachFakesOwn(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, 200)
	s := newFake(t, entrecardtest.Config{})
	other := newFake(t, entrecardtest.Config{})
	ctx := guardCtx(t)

	_, err := sdkClient(t, other.URL).CreatePayment(ctx, payment("elsewhere", rcv.URL))
	require.NoError(t, err)
	_, err = sdkClient(t, entrecard.DefaultBaseURL).CreatePayment(ctx, payment("real-site", rcv.URL))
	require.NoError(t, err)
	for _, id := range []string{"elsewhere", "real-site"} {
		_, err = s.Pay(id)
		require.ErrorIs(t, err, entrecardtest.ErrUnknownPayment, id)
	}
	assert.Empty(t, s.CallLog())

	// The client built a link for 2 × 40; the test opened another for the same id (3 × 40).
	_, err = sdkClient(t, s.URL).BuyURL(buy(rcv.URL))
	require.NoError(t, err)
	opened := buy(rcv.URL)
	opened.Quantity = 3
	open(t, s, opened)
	_, err = s.Pay(item)
	require.NoError(t, err)
	tx, _ := s.Transaction(item)
	assert.Equal(t, int64(120), tx.Total, "the opened link is the one paid")

	// A closed fake hears of nothing more.
	closed := entrecardtest.NewServer(entrecardtest.Config{})
	closed.Close()
	_, err = sdkClient(t, closed.URL).CreatePayment(ctx, payment("after-close", rcv.URL))
	require.NoError(t, err)
	_, err = closed.Pay("after-close")
	require.ErrorIs(t, err, entrecardtest.ErrClosed)
}

// The fake has a clock of its own, like every paykit fake, and a client that talks to it.
func TestClockAndClient(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	s := newFake(t, entrecardtest.Config{Now: func() time.Time { return start }})
	assert.Equal(t, start, s.Now())
	s.Advance(90 * time.Minute)
	assert.Equal(t, start.Add(90*time.Minute), s.Now())

	rcv := newReceiver(t, 200)
	link := entrecardtest.SignedBuyURL(s.URL, entrecardtest.DefaultSellerID, entrecardtest.DefaultSecret, buy(rcv.URL))
	resp, err := s.Client().Get(link)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(body), "item: "+item)
	calls := s.CallLog()
	require.Len(t, calls, 1)
	assert.Equal(t, start.Add(90*time.Minute), calls[0].Time, "calls are dated by the server's clock")

	_, err = s.Pay(item)
	require.NoError(t, err)
	tx, _ := s.Transaction(item)
	assert.Equal(t, start.Add(90*time.Minute), tx.Created, "transactions too")
}

// ResultURL and NewResultRequest are exactly what the fake requests when it delivers a
// result, for a notify URL with a query of its own and without: a merchant's test that
// uses them sees what Entrecard (as the fake speaks it) would send.
func TestResultURLIsWhatTheFakeRequests(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got []string
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Method+" "+r.URL.RequestURI()+" "+r.UserAgent())
		mu.Unlock()
	}))
	t.Cleanup(shop.Close)
	s := newFake(t, entrecardtest.Config{})
	ctx := guardCtx(t)

	for i, notify := range []string{shop.URL + "/notify", shop.URL + "/notify?order=42&lang=sv"} {
		r := buy(notify)
		r.ItemID = []string{"bare", "with-query"}[i]
		_, err := s.Open(ctx, entrecardtest.SignedBuyURL(s.URL, entrecardtest.DefaultSellerID, entrecardtest.DefaultSecret, r))
		require.NoError(t, err)
		_, err = s.Pay(r.ItemID)
		require.NoError(t, err)
		require.NoError(t, s.WaitDelivered(ctx, r.ItemID))
		tx, _ := s.Transaction(r.ItemID)
		result := entrecard.Result{SellerID: tx.SellerID, ID: tx.ItemID, Total: tx.Total, TransactionID: tx.ID, Status: tx.Status}

		want := entrecardtest.ResultURL(notify, entrecardtest.DefaultSecret, result)
		req := entrecardtest.NewResultRequest(notify, entrecardtest.DefaultSecret, result)
		mu.Lock()
		delivered := got[len(got)-1]
		mu.Unlock()
		assert.Equal(t, "GET "+strings.TrimPrefix(want, shop.URL)+" entrecardtest", delivered, notify)
		assert.Equal(t, delivered, req.Method+" "+req.URL.RequestURI()+" "+req.UserAgent(), notify)
		assert.Equal(t, tx.Result, entrecardtest.ResultQuery(entrecardtest.DefaultSecret, result))

		// And the SDK takes it: the request verifies and names the payment.
		c := sdkClient(t, s.URL)
		n, err := c.ParseNotification(req)
		require.NoError(t, err, notify)
		assert.Equal(t, r.ItemID, n.PaymentID)
		assert.Equal(t, paykit.StatusSucceeded, n.Status)
	}
}

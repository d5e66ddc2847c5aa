package entrecardtest_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paykit/paykit/entrecard"
	"github.com/paykit/paykit/entrecard/entrecardtest"
)

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
	if cfg.RetryInterval == 0 {
		cfg.RetryInterval = time.Millisecond
	}
	s := entrecardtest.NewServer(cfg)
	t.Cleanup(s.Close)
	return s
}

func buy(notify string) entrecard.BuyRequest {
	return entrecard.BuyRequest{
		ItemID: "item-1", Description: "A thing, small", Quantity: 2, Cost: 40,
		NotifyURL: notify, SuccessURL: "https://shop.example/ok?o=1", CancelURL: "https://shop.example/no",
	}
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
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				if page.SellerID != entrecardtest.DefaultSellerID || page.Total != int64(page.Quantity)*page.Cost || page.NotifyURL != "https://shop.example/n" {
					t.Errorf("page = %+v", page)
				}
				return
			}
			var se *entrecardtest.StatusError
			if !errors.As(err, &se) || se.StatusCode != tt.status {
				t.Fatalf("Open = %v, want status %d", err, tt.status)
			}
			if _, err := s.Confirm(context.Background(), tt.link, entrecardtest.DefaultBuyer); !errors.As(err, &se) || se.StatusCode != tt.status {
				t.Fatalf("Confirm = %v, want status %d", err, tt.status)
			}
		})
	}
	if n := len(s.Transactions()); n != 0 {
		t.Errorf("%d transactions from links that were only opened or refused", n)
	}
}

func TestResultQueryAgreesWithTheSDK(t *testing.T) {
	t.Parallel()
	c, err := entrecard.New(entrecard.Config{SellerID: "1001", Secret: "s3cr3t"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []entrecard.Result{
		{SellerID: "1001", ID: "order-42", Total: 100, TransactionID: "100001", Status: entrecard.StatusComplete},
		{SellerID: "1001", ID: "a_b-c", Total: 0, TransactionID: "1", Status: entrecard.StatusCancelled},
	} {
		if got, want := entrecardtest.ResultQuery("s3cr3t", r), c.ResultQuery(r); got != want {
			t.Errorf("ResultQuery = %s, the SDK's %s", got, want)
		}
	}
	// And a link the fake signs is the link the SDK builds.
	link, err := c.BuyURL(buy("https://shop.example/n?x=1"))
	if err != nil {
		t.Fatal(err)
	}
	if got := entrecardtest.SignedBuyURL(entrecard.DefaultBaseURL, "1001", "s3cr3t", buy("https://shop.example/n?x=1")); got != link {
		t.Errorf("SignedBuyURL = %s, the SDK's %s", got, link)
	}
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
			back, err := s.Confirm(context.Background(), entrecardtest.SignedBuyURL(s.URL, entrecardtest.DefaultSellerID, entrecardtest.DefaultSecret, buy(rcv.URL+tt.notify)), entrecardtest.DefaultBuyer)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(back, "https://shop.example/ok?o=1&seller_id=1001&id=item-1&total=80&transaction_id=100001&status=complete&signature=") {
				t.Errorf("redirect %s", back)
			}
			if err := s.WaitDelivered(context.Background(), "100001"); err != nil {
				t.Fatal(err)
			}
			if got := rcv.last.Load().(string); !strings.HasPrefix(got, tt.wantPrefix) || !strings.Contains(got, "&status=complete&signature=") {
				t.Errorf("notify got %q, want prefix %q", got, tt.wantPrefix)
			}
		})
	}
}

func TestPostNotify(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, 200)
	s := newFake(t, entrecardtest.Config{NotifyMethod: http.MethodPost})
	if _, err := s.Confirm(context.Background(), entrecardtest.SignedBuyURL(s.URL, entrecardtest.DefaultSellerID, entrecardtest.DefaultSecret, buy(rcv.URL+"/n?shop=1")), entrecardtest.DefaultBuyer); err != nil {
		t.Fatal(err)
	}
	if err := s.WaitDelivered(context.Background(), "100001"); err != nil {
		t.Fatal(err)
	}
	got := rcv.last.Load().(string)
	if !strings.HasPrefix(got, "POST shop=1 | ") || !strings.Contains(got, "transaction_id=100001") {
		t.Errorf("notify got %q, want the URL as it is and the result as a form", got)
	}
}

func TestDeliveriesAreBoundedAndStopOnClose(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, 503)
	s := newFake(t, entrecardtest.Config{MaxDeliveryAttempts: 4})
	ctx := context.Background()
	link := entrecardtest.SignedBuyURL(s.URL, entrecardtest.DefaultSellerID, entrecardtest.DefaultSecret, buy(rcv.URL))
	if _, err := s.Confirm(ctx, link, entrecardtest.DefaultBuyer); err != nil {
		t.Fatal(err)
	}
	if err := s.WaitDelivered(ctx, "100001"); !errors.Is(err, entrecardtest.ErrGaveUp) {
		t.Fatalf("WaitDelivered = %v, want ErrGaveUp", err)
	}
	if got := rcv.got.Load(); got != 4 {
		t.Errorf("%d deliveries, want 4", got)
	}
	tx, _ := s.Transaction("100001")
	if tx.Delivery != entrecardtest.GaveUp || tx.Attempts != 4 || tx.Status != entrecard.StatusComplete {
		t.Errorf("transaction = %+v", tx)
	}

	// A slow retry loop is stopped by Close.
	slow := entrecardtest.NewServer(entrecardtest.Config{RetryInterval: time.Hour})
	if _, err := slow.Confirm(ctx, entrecardtest.SignedBuyURL(slow.URL, entrecardtest.DefaultSellerID, entrecardtest.DefaultSecret, buy(rcv.URL)), entrecardtest.DefaultBuyer); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { slow.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not stop the retry loop")
	}
	if err := slow.WaitDelivered(ctx, "100001"); !errors.Is(err, entrecardtest.ErrGaveUp) && !errors.Is(err, entrecardtest.ErrClosed) {
		t.Errorf("WaitDelivered after Close = %v", err)
	}
	if _, err := slow.Confirm(ctx, entrecardtest.SignedBuyURL(slow.URL, entrecardtest.DefaultSellerID, entrecardtest.DefaultSecret, buy(rcv.URL)), entrecardtest.DefaultBuyer); !errors.Is(err, entrecardtest.ErrClosed) {
		t.Errorf("Confirm after Close = %v, want ErrClosed", err)
	}
	slow.Close() // twice is fine
}

func TestBuyers(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, 200)
	s := newFake(t, entrecardtest.Config{Buyers: map[string]int64{"bob": 100}})
	ctx := context.Background()
	link := entrecardtest.SignedBuyURL(s.URL, entrecardtest.DefaultSellerID, entrecardtest.DefaultSecret, buy(rcv.URL)) // 2 × 40
	var se *entrecardtest.StatusError
	if _, err := s.Confirm(ctx, link, "mallory"); !errors.As(err, &se) || se.StatusCode != http.StatusUnauthorized {
		t.Errorf("an unknown buyer: %v, want 401", err)
	}
	if _, err := s.Confirm(ctx, link, ""); !errors.As(err, &se) || se.StatusCode != http.StatusUnauthorized {
		t.Errorf("no buyer: %v, want 401", err)
	}
	for i, want := range []struct {
		status         entrecard.Status
		balance, kept  int64
		wantRedirectTo string
	}{
		{entrecard.StatusComplete, 20, 70, "https://shop.example/ok?o=1&"},
		{entrecard.StatusFailed, 20, 70, "https://shop.example/no?"},
	} {
		back, err := s.Confirm(ctx, link, "bob")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(back, want.wantRedirectTo) || !strings.Contains(back, "&status="+string(want.status)+"&") {
			t.Errorf("purchase %d: redirect %s", i, back)
		}
		if s.Balance("bob") != want.balance || s.SellerBalance(entrecardtest.DefaultSellerID) != want.kept || s.Fees() != 10 {
			t.Errorf("purchase %d: bob %d, seller %d, fees %d", i, s.Balance("bob"), s.SellerBalance(entrecardtest.DefaultSellerID), s.Fees())
		}
	}
	s.AddBuyer("bob", 80)
	s.SetEscrow(true)
	back, err := s.Confirm(ctx, link, "bob")
	if err != nil || !strings.Contains(back, "&status=escrow&") || s.Balance("bob") != 0 {
		t.Errorf("escrow purchase: %s, %v, bob has %d", back, err, s.Balance("bob"))
	}
	if _, err := s.Cancel(ctx, link, "mallory"); !errors.As(err, &se) || se.StatusCode != http.StatusUnauthorized {
		t.Errorf("a cancel by an unknown buyer: %v, want 401", err)
	}
	back, err = s.Cancel(ctx, link, "")
	if err != nil || !strings.HasPrefix(back, "https://shop.example/no?seller_id=") || !strings.Contains(back, "&status=cancelled&") {
		t.Errorf("cancel: %s, %v", back, err)
	}
	txns := s.Transactions()
	if len(txns) != 4 || txns[0].ID != "100001" || txns[3].ID != "100004" || txns[3].Buyer != "" {
		t.Errorf("transactions %+v", txns)
	}
}

func TestFaultsAndCalls(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, 200)
	s := newFake(t, entrecardtest.Config{})
	ctx := context.Background()
	link := entrecardtest.SignedBuyURL(s.URL, entrecardtest.DefaultSellerID, entrecardtest.DefaultSecret, buy(rcv.URL))

	// A fault limited to confirms leaves pages alone.
	s.FailNext(1, 502, entrecardtest.OnRoute(http.MethodPost, entrecardtest.RouteConfirm))
	if _, err := s.Open(ctx, link); err != nil {
		t.Fatalf("Open hit a confirm-only fault: %v", err)
	}
	var se *entrecardtest.StatusError
	if _, err := s.Confirm(ctx, link, entrecardtest.DefaultBuyer); !errors.As(err, &se) || se.StatusCode != 502 {
		t.Fatalf("Confirm = %v, want 502", err)
	}
	// A status that is not one is a 500; ClearFaults forgets queued faults.
	s.FailNext(1, 7)
	if _, err := s.Open(ctx, link); !errors.As(err, &se) || se.StatusCode != 500 {
		t.Fatalf("Open = %v, want 500", err)
	}
	s.FailNext(5, 503)
	s.ClearFaults()
	s.MalformedNext(1, entrecardtest.OnRoute(http.MethodGet, entrecardtest.RouteBuy))
	if _, err := s.Open(ctx, link); !errors.Is(err, entrecardtest.ErrMalformed) {
		t.Fatalf("Open of a malformed page = %v", err)
	}
	if _, err := s.Open(ctx, link); err != nil {
		t.Fatalf("Open after the faults: %v", err)
	}
	calls := s.CallLog()
	var faults []entrecardtest.Fault
	for _, c := range calls {
		faults = append(faults, c.Fault)
	}
	want := []entrecardtest.Fault{"", entrecardtest.FaultFail, entrecardtest.FaultFail, entrecardtest.FaultMalformed, ""}
	if len(faults) != len(want) {
		t.Fatalf("faults %v, want %v", faults, want)
	}
	for i := range want {
		if faults[i] != want[i] {
			t.Fatalf("faults %v, want %v", faults, want)
		}
	}
	if s.Calls(http.MethodGet, entrecardtest.RouteBuy) != 4 || s.Calls("", entrecardtest.RouteConfirm) != 1 {
		t.Errorf("calls %+v", calls)
	}
	if len(s.Transactions()) != 0 {
		t.Error("a failed confirm made a transaction")
	}
}

func TestRoutingAndOwnLinks(t *testing.T) {
	t.Parallel()
	s := newFake(t, entrecardtest.Config{})
	ctx := context.Background()
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
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != tt.status {
			t.Errorf("%s %s = %d, want %d", tt.method, tt.path, resp.StatusCode, tt.status)
		}
	}
	other := entrecardtest.SignedBuyURL("http://entrecard.com/uapi/1", entrecardtest.DefaultSellerID, entrecardtest.DefaultSecret, buy("https://shop.example/n"))
	if _, err := s.Confirm(ctx, other, entrecardtest.DefaultBuyer); !errors.Is(err, entrecardtest.ErrNotThisServer) {
		t.Errorf("Confirm of the real site's link = %v, want ErrNotThisServer", err)
	}
	if _, err := s.Redeliver(ctx, "1"); !errors.Is(err, entrecardtest.ErrUnknownTransaction) {
		t.Errorf("Redeliver of an unknown transaction = %v", err)
	}
	if err := s.WaitDelivered(ctx, "1"); !errors.Is(err, entrecardtest.ErrUnknownTransaction) {
		t.Errorf("WaitDelivered of an unknown transaction = %v", err)
	}
	if _, err := url.Parse(s.URL); err != nil || strings.HasSuffix(s.URL, "/") {
		t.Errorf("URL %q", s.URL)
	}
}

func TestLeave(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, 200)
	s := newFake(t, entrecardtest.Config{})
	back, err := s.Leave(context.Background(), entrecardtest.SignedBuyURL(s.URL, entrecardtest.DefaultSellerID, entrecardtest.DefaultSecret, buy(rcv.URL)))
	if err != nil || back != "https://shop.example/no" {
		t.Fatalf("Leave = %s, %v", back, err)
	}
	if err := s.WaitIdle(context.Background()); err != nil {
		t.Fatal(err)
	}
	if rcv.got.Load() != 0 || len(s.Transactions()) != 0 {
		t.Error("leaving notified the seller")
	}
}

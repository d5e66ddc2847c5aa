package entrecard_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/entrecard"
	"github.com/paykit/paykit/entrecard/entrecardtest"
)

// shop is a merchant wired to a fake Entrecard over loopback HTTP: a client, and a webhook
// server running paykit.NewWebhookHandler at /entrecard/notify.
type shop struct {
	fake   *entrecardtest.Server
	client *entrecard.Client
	hook   *httptest.Server

	mu    sync.Mutex
	seen  []paykit.Notification // every call of fn, with the fetched payment
	failN int                   // fn fails this many more times
}

func setup(t *testing.T, cfg entrecardtest.Config) *shop {
	t.Helper()
	if cfg.RetryMinWait == 0 {
		cfg.RetryMinWait = 5 * time.Millisecond
	}
	s := &shop{fake: entrecardtest.NewServer(cfg)}
	t.Cleanup(s.fake.Close)
	var err error
	s.client, err = entrecard.New(entrecard.Config{SellerID: entrecardtest.DefaultSellerID, Secret: entrecardtest.DefaultSecret, BaseURL: s.fake.URL})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/entrecard/notify", paykit.NewWebhookHandler(s.client, s.fn))
	s.hook = httptest.NewServer(mux)
	t.Cleanup(s.hook.Close)
	return s
}

func (s *shop) fn(_ context.Context, n *paykit.Notification) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seen = append(s.seen, *n)
	if s.failN > 0 {
		s.failN--
		return errors.New("the shop's database is down")
	}
	return nil
}

func (s *shop) notifications() []paykit.Notification {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]paykit.Notification(nil), s.seen...)
}

func (s *shop) request(id string, quantity int, cost int64) paykit.PaymentRequest {
	return paykit.PaymentRequest{
		ID:          id,
		Amount:      paykit.Money{Amount: int64(quantity) * cost, Currency: "EC"},
		Description: "Banner ad, 7 days",
		Items:       []paykit.Item{{Name: "Banner", Quantity: quantity, UnitAmount: paykit.Money{Amount: cost, Currency: "EC"}}},
		NotifyURL:   s.hook.URL + "/entrecard/notify?shop=demo",
		ReturnURL:   "https://shop.example/thanks?order=" + id,
		CancelURL:   "https://shop.example/cart?order=" + id,
	}
}

// transactionOf reads transaction_id from a redirect.
func transactionOf(t *testing.T, redirect string) string {
	t.Helper()
	u, err := url.Parse(redirect)
	if err != nil {
		t.Fatal(err)
	}
	id := u.Query().Get("transaction_id")
	if id == "" {
		t.Fatalf("redirect %s carries no transaction_id", redirect)
	}
	return id
}

// waitDelivered waits until the results of the payment with id were answered 200.
func waitDelivered(t *testing.T, fake *entrecardtest.Server, id string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := fake.WaitDelivered(ctx, id); err != nil {
		t.Fatalf("WaitDelivered(%s): %v", id, err)
	}
}

// redirect is where the fake buyer's browser was sent last for the payment with id.
func redirect(t *testing.T, fake *entrecardtest.Server, id string) string {
	t.Helper()
	back, ok := fake.Redirect(id)
	if !ok {
		t.Fatalf("the browser was not redirected for %s", id)
	}
	return back
}

// attemptCodes lists the answers to every delivery attempt so far.
func attemptCodes(fake *entrecardtest.Server) []int {
	var codes []int
	for _, d := range fake.Deliveries() {
		for _, a := range d.Attempts {
			codes = append(codes, a.StatusCode)
		}
	}
	return codes
}

func TestFlowOutcomes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		cfg           entrecardtest.Config
		quantity      int
		cost          int64
		act           func(ctx context.Context, s *shop, id string) error
		backTo        string // "thanks" or "cart"
		status        paykit.Status
		event         string
		buyer, seller int64 // balances afterwards
		fees          int64
	}{
		{
			name: "paid: the seller gets 87.5 %", quantity: 2, cost: 40,
			act: func(ctx context.Context, s *shop, id string) error {
				return s.fake.Confirm(ctx, id, "alice")
			},
			backTo: "thanks", status: paykit.StatusSucceeded, event: "complete", buyer: 920, seller: 70, fees: 10,
		},
		{
			name: "paid: a fee that rounds", quantity: 1, cost: 100,
			act: func(ctx context.Context, s *shop, id string) error {
				return s.fake.Confirm(ctx, id, "alice")
			},
			backTo: "thanks", status: paykit.StatusSucceeded, event: "complete", buyer: 900, seller: 87, fees: 13,
		},
		{
			name: "escrow counts as paid", cfg: entrecardtest.Config{Escrow: true}, quantity: 1, cost: 8,
			act: func(ctx context.Context, s *shop, id string) error {
				return s.fake.Confirm(ctx, id, "alice")
			},
			backTo: "thanks", status: paykit.StatusSucceeded, event: "escrow", buyer: 992, seller: 7, fees: 1,
		},
		{
			name: "insufficient balance fails", quantity: 3, cost: 400,
			act: func(ctx context.Context, s *shop, id string) error {
				return s.fake.Confirm(ctx, id, "alice")
			},
			backTo: "cart", status: paykit.StatusFailed, event: "failed", buyer: 1000,
		},
		{
			name: "exactly the balance is enough", quantity: 1, cost: 1000,
			act: func(ctx context.Context, s *shop, id string) error {
				return s.fake.Confirm(ctx, id, "alice")
			},
			backTo: "thanks", status: paykit.StatusSucceeded, event: "complete", buyer: 0, seller: 875, fees: 125,
		},
		{
			name: "the buyer cancels", quantity: 1, cost: 10,
			act: func(ctx context.Context, s *shop, id string) error {
				return s.fake.Cancel(ctx, id, "alice")
			},
			backTo: "cart", status: paykit.StatusCanceled, event: "cancelled", buyer: 1000,
		},
		{
			name: "results as POST forms", cfg: entrecardtest.Config{NotifyMethod: http.MethodPost}, quantity: 1, cost: 10,
			act: func(ctx context.Context, s *shop, id string) error {
				return s.fake.Confirm(ctx, id, "alice")
			},
			backTo: "thanks", status: paykit.StatusSucceeded, event: "complete", buyer: 990, seller: 8, fees: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			tt.cfg.Buyers = map[string]int64{"alice": 1000}
			s := setup(t, tt.cfg)
			p, err := s.client.CreatePayment(ctx, s.request("order-1", tt.quantity, tt.cost))
			if err != nil {
				t.Fatal(err)
			}
			page, err := s.fake.Open(ctx, p.Action.URL)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if page.ItemID != "order-1" || page.Quantity != tt.quantity || page.Cost != tt.cost || page.Total != int64(tt.quantity)*tt.cost || page.Description != "Banner ad, 7 days" {
				t.Errorf("page = %+v", page)
			}
			if err := tt.act(ctx, s, p.ID); err != nil {
				t.Fatalf("buyer: %v", err)
			}
			back := redirect(t, s.fake, p.ID)
			if !strings.HasPrefix(back, "https://shop.example/"+tt.backTo+"?order=order-1&seller_id=") {
				t.Errorf("redirect %s, want the %s URL with the result appended by &", back, tt.backTo)
			}
			// The browser's return and the notification agree.
			rd, err := s.client.ParseRedirect(ctx, back)
			if err != nil {
				t.Fatalf("ParseRedirect: %v", err)
			}
			if rd.Result == nil || string(rd.Result.Status) != tt.event || rd.Params.Get("order") != "order-1" {
				t.Errorf("redirect read as %+v", rd)
			}
			txn := transactionOf(t, back)
			waitDelivered(t, s.fake, p.ID)
			seen := s.notifications()
			if len(seen) != 1 {
				t.Fatalf("fn ran %d times, want 1", len(seen))
			}
			n := seen[0]
			if n.PaymentID != "order-1" || n.Event != tt.event || n.Status != tt.status || n.Payment == nil || n.Payment.Status != tt.status ||
				n.Payment.Amount != (paykit.Money{Amount: int64(tt.quantity) * tt.cost, Currency: "EC"}) || n.Payment.ProviderID != txn {
				t.Errorf("notification = %+v, payment %+v", n, n.Payment)
			}
			if got := s.fake.Balance("alice"); got != tt.buyer {
				t.Errorf("buyer balance %d, want %d", got, tt.buyer)
			}
			if got := s.fake.SellerBalance(entrecardtest.DefaultSellerID); got != tt.seller {
				t.Errorf("seller balance %d, want %d", got, tt.seller)
			}
			if got := s.fake.Fees(); got != tt.fees {
				t.Errorf("fees %d, want %d", got, tt.fees)
			}
			if tt.seller != 0 && tt.seller != entrecard.SellerProceeds(int64(tt.quantity)*tt.cost) {
				t.Errorf("the fake and SellerProceeds disagree")
			}
		})
	}
}

func TestFlowLeaveBeforeATransaction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := setup(t, entrecardtest.Config{})
	p, err := s.client.CreatePayment(ctx, s.request("order-2", 1, 10))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.fake.Open(ctx, p.Action.URL); err != nil {
		t.Fatal(err)
	}
	if err := s.fake.Leave(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	back := redirect(t, s.fake, p.ID)
	if back != "https://shop.example/cart?order=order-2" {
		t.Errorf("redirect %s, want the bare cancel URL", back)
	}
	rd, err := s.client.ReadRedirect(httptest.NewRequest(http.MethodGet, back, nil))
	if err != nil {
		t.Fatal(err)
	}
	if rd.Result != nil || rd.Params.Get("order") != "order-2" {
		t.Errorf("redirect read as %+v", rd)
	}
	if len(s.fake.Transactions()) != 0 || len(s.fake.Deliveries()) != 0 {
		t.Errorf("leaving made transactions %v, deliveries %v", s.fake.Transactions(), s.fake.Deliveries())
	}
	if got, _ := s.client.GetPayment(ctx, "order-2"); got.Status != paykit.StatusPending || got.Action == nil {
		t.Errorf("payment after leaving = %+v, want pending with its link", got)
	}
}

func TestFlowRetriesUntil200AndReplaysRunOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := setup(t, entrecardtest.Config{})
	s.failN = 2 // the shop's fn fails twice: the handler answers 500, Entrecard sends again
	p, err := s.client.CreatePayment(ctx, s.request("order-3", 1, 10))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.fake.Open(ctx, p.Action.URL); err != nil {
		t.Fatal(err)
	}
	if _, err := s.fake.Pay(p.ID); err != nil {
		t.Fatal(err)
	}
	waitDelivered(t, s.fake, p.ID)
	codes := attemptCodes(s.fake)
	if len(codes) != 3 || codes[0] != 500 || codes[1] != 500 || codes[2] != 200 {
		t.Errorf("delivery answers %v, want [500 500 200]", codes)
	}
	if got := len(s.notifications()); got != 3 {
		t.Errorf("fn ran %d times, want 3 (two failures, one success)", got)
	}
	// A replay of the delivered result is acknowledged without running fn again, also many
	// at once.
	var wg sync.WaitGroup
	for range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, err := s.fake.Redeliver(ctx, p.ID)
			if err != nil || code != http.StatusOK {
				t.Errorf("Redeliver = %d, %v; want 200", code, err)
			}
		}()
	}
	wg.Wait()
	if got := len(s.notifications()); got != 3 {
		t.Errorf("after replays fn ran %d times, want still 3", got)
	}
}

func TestFlowAmountMismatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := setup(t, entrecardtest.Config{MaxDeliveryAttempts: 3, RetryMinWait: time.Millisecond})
	if _, err := s.client.CreatePayment(ctx, s.request("order-4", 2, 10)); err != nil {
		t.Fatal(err)
	}
	// A link for the same id asking for another amount (built natively, so not recorded):
	// its result total, 3 × 10, is not the 2 × 10 the payment asked for.
	link, err := s.client.BuyURL(entrecard.BuyRequest{
		ItemID: "order-4", Description: "Banner", Quantity: 3, Cost: 10,
		NotifyURL: s.hook.URL + "/entrecard/notify", SuccessURL: "https://shop.example/t", CancelURL: "https://shop.example/c",
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.fake.Open(ctx, link); err != nil {
		t.Fatal(err)
	}
	if err := s.fake.Confirm(ctx, "order-4", entrecardtest.DefaultBuyer); err != nil {
		t.Fatal(err)
	}
	back := redirect(t, s.fake, "order-4")
	err = s.fake.WaitDelivered(ctx, "order-4")
	if !errors.Is(err, entrecardtest.ErrGaveUp) {
		t.Fatalf("WaitDelivered = %v, want ErrGaveUp", err)
	}
	for _, code := range attemptCodes(s.fake) {
		if code != http.StatusBadRequest {
			t.Errorf("delivery answered %d, want 400", code)
		}
	}
	if len(s.notifications()) != 0 {
		t.Error("fn ran for a result with the wrong amount")
	}
	_, err = s.client.ParseRedirect(ctx, back)
	wantKind(t, err, paykit.ErrAmountMismatch)
	if p, _ := s.client.GetPayment(ctx, "order-4"); p.Status != paykit.StatusPending {
		t.Errorf("payment is %s, want still pending", p.Status)
	}
}

func TestFlowAnotherSellersResult(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := setup(t, entrecardtest.Config{MaxDeliveryAttempts: 2, RetryMinWait: time.Millisecond})
	s.fake.AddSeller("2002", "other-secret")
	other, err := entrecard.New(entrecard.Config{SellerID: "2002", Secret: "other-secret", BaseURL: s.fake.URL})
	if err != nil {
		t.Fatal(err)
	}
	// Another seller's link that (by mistake or malice) notifies our endpoint.
	link, err := other.BuyURL(entrecard.BuyRequest{
		ItemID: "order-5", Description: "Theirs", Quantity: 1, Cost: 10,
		NotifyURL: s.hook.URL + "/entrecard/notify", SuccessURL: "https://other.example/t", CancelURL: "https://other.example/c",
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.fake.Open(ctx, link); err != nil {
		t.Fatal(err)
	}
	if err := s.fake.Confirm(ctx, "order-5", entrecardtest.DefaultBuyer); err != nil {
		t.Fatal(err)
	}
	if err := s.fake.WaitDelivered(ctx, "order-5"); !errors.Is(err, entrecardtest.ErrGaveUp) {
		t.Fatalf("WaitDelivered = %v, want ErrGaveUp", err)
	}
	for _, code := range attemptCodes(s.fake) {
		if code != http.StatusUnauthorized {
			t.Errorf("delivery answered %d, want 401", code)
		}
	}
	if len(s.notifications()) != 0 {
		t.Error("fn ran for another seller's result")
	}
}

func TestFlowWrongSecret(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := setup(t, entrecardtest.Config{})
	wrong, err := entrecard.New(entrecard.Config{SellerID: entrecardtest.DefaultSellerID, Secret: "not-the-secret", BaseURL: s.fake.URL})
	if err != nil {
		t.Fatal(err)
	}
	p, err := wrong.CreatePayment(ctx, s.request("order-6", 1, 10))
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.fake.Open(ctx, p.Action.URL)
	var se *entrecardtest.StatusError
	if !errors.As(err, &se) || se.StatusCode != http.StatusForbidden {
		t.Fatalf("Open = %v, want a 403", err)
	}
	// The refused link never opened, and Confirm, which opens the link the client built
	// when none was opened, is refused the same way.
	if err := s.fake.Confirm(ctx, p.ID, entrecardtest.DefaultBuyer); !errors.As(err, &se) || se.StatusCode != http.StatusForbidden {
		t.Fatalf("Confirm = %v, want a 403", err)
	}
	if len(s.fake.Transactions()) != 0 {
		t.Error("a link with a bad signature made a transaction")
	}
}

func TestFlowFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		inject     func(*entrecardtest.Server)
		ctxTimeout time.Duration
		check      func(t *testing.T, err error)
		happened   bool // whether the purchase was processed despite the fault
	}{
		{
			name:   "a 503 before processing",
			inject: func(f *entrecardtest.Server) { f.FailNext(1, http.StatusServiceUnavailable) },
			check: func(t *testing.T, err error) {
				var se *entrecardtest.StatusError
				if !errors.As(err, &se) || se.StatusCode != http.StatusServiceUnavailable {
					t.Errorf("err = %v, want a 503", err)
				}
			},
		},
		{
			name: "the connection closed after processing",
			inject: func(f *entrecardtest.Server) {
				f.DropNext(1, entrecardtest.OnRoute(http.MethodPost, entrecardtest.RouteConfirm))
			},
			check: func(t *testing.T, err error) {
				if err == nil {
					t.Error("err = nil, want a transport error")
				}
			},
			happened: true,
		},
		{
			name:   "a malformed answer after processing",
			inject: func(f *entrecardtest.Server) { f.MalformedNext(1) },
			check: func(t *testing.T, err error) {
				if !errors.Is(err, entrecardtest.ErrMalformed) {
					t.Errorf("err = %v, want ErrMalformed", err)
				}
			},
			happened: true,
		},
		{
			name:       "a slow answer the buyer gives up on",
			inject:     func(f *entrecardtest.Server) { f.SetLatency(time.Minute) },
			ctxTimeout: 50 * time.Millisecond,
			check: func(t *testing.T, err error) {
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("err = %v, want the deadline", err)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := setup(t, entrecardtest.Config{})
			p, err := s.client.CreatePayment(ctx, s.request("order-7", 1, 10))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.fake.Open(ctx, p.Action.URL); err != nil {
				t.Fatal(err)
			}
			tt.inject(s.fake)
			cctx := ctx
			if tt.ctxTimeout > 0 {
				var cancel context.CancelFunc
				cctx, cancel = context.WithTimeout(ctx, tt.ctxTimeout)
				defer cancel()
			}
			err = s.fake.Confirm(cctx, p.ID, entrecardtest.DefaultBuyer)
			if back, ok := s.fake.Redirect(p.ID); ok {
				t.Errorf("redirect %q despite the fault", back)
			}
			tt.check(t, err)
			s.fake.SetLatency(0)
			txns := s.fake.Transactions()
			if !tt.happened {
				if len(txns) != 0 {
					t.Fatalf("transactions %+v, want none", txns)
				}
				// The buyer tries again, and it works.
				if err := s.fake.Confirm(ctx, p.ID, entrecardtest.DefaultBuyer); err != nil {
					t.Fatalf("second Confirm: %v", err)
				}
				if back := redirect(t, s.fake, p.ID); !strings.HasPrefix(back, "https://shop.example/thanks?") {
					t.Fatalf("second Confirm redirected to %q", back)
				}
				txns = s.fake.Transactions()
			}
			if len(txns) != 1 {
				t.Fatalf("transactions %+v, want one", txns)
			}
			// Whether or not the buyer saw the redirect, the notification tells the shop.
			waitDelivered(t, s.fake, "order-7")
			got, err := s.client.GetPayment(ctx, "order-7")
			if err != nil || got.Status != paykit.StatusSucceeded {
				t.Fatalf("payment = %+v, %v; want succeeded", got, err)
			}
			if len(s.notifications()) != 1 {
				t.Errorf("fn ran %d times, want 1", len(s.notifications()))
			}
		})
	}
}

func TestFlowConcurrentBuyers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const n = 12
	buyers := make(map[string]int64, n)
	for i := range n {
		buyers["buyer"+string(rune('a'+i))] = 100
	}
	s := setup(t, entrecardtest.Config{Buyers: buyers})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := "order-c" + string(rune('a'+i))
			p, err := s.client.CreatePayment(ctx, s.request(id, 1, 80))
			if err != nil {
				t.Error(err)
				return
			}
			if _, err := s.fake.Open(ctx, p.Action.URL); err != nil {
				t.Error(err)
				return
			}
			if err := s.fake.Confirm(ctx, id, "buyer"+string(rune('a'+i))); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for i := range n {
		waitDelivered(t, s.fake, "order-c"+string(rune('a'+i)))
	}
	if got := len(s.notifications()); got != n {
		t.Errorf("fn ran %d times, want %d", got, n)
	}
	if got := s.fake.SellerBalance(entrecardtest.DefaultSellerID); got != n*70 {
		t.Errorf("seller balance %d, want %d", got, n*70)
	}
}

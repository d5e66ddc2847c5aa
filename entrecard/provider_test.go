package entrecard_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/entrecard"
)

func validPayment() paykit.PaymentRequest {
	return paykit.PaymentRequest{
		ID:          "order-42",
		Amount:      paykit.Money{Amount: 100, Currency: "EC"},
		Description: "Two mugs, blue",
		Items:       []paykit.Item{{Name: "Mug", Quantity: 2, UnitAmount: paykit.Money{Amount: 50, Currency: "EC"}}},
		NotifyURL:   "https://shop.example/entrecard/notify?order=42&lang=sv",
		ReturnURL:   "https://shop.example/thanks?order=42",
		CancelURL:   "https://shop.example/cart?order=42",
	}
}

func TestCreatePayment(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClient(t)
	p, err := c.CreatePayment(ctx, validPayment())
	if err != nil {
		t.Fatalf("CreatePayment: %v", err)
	}
	want, _ := c.BuyURL(validBuy()) // the same fields: 2 × 50 of "Two mugs, blue"
	if p.Action == nil || p.Action.Type != paykit.ActionRedirect || p.Action.URL != want {
		t.Fatalf("Action = %+v, want a redirect to %s", p.Action, want)
	}
	if p.Provider != "entrecard" || p.ID != "order-42" || p.Reference != "order-42" || p.Status != paykit.StatusPending ||
		p.Amount != (paykit.Money{Amount: 100, Currency: "EC"}) || p.Captured != (paykit.Money{Currency: "EC"}) || p.CreatedAt.IsZero() {
		t.Errorf("payment = %+v", p)
	}
	got, err := c.GetPayment(ctx, "order-42")
	if err != nil {
		t.Fatalf("GetPayment: %v", err)
	}
	if got.Status != paykit.StatusPending || got.ProviderStatus != "" || got.Action == nil || got.Action.URL != want || got.Amount.Amount != 100 {
		t.Errorf("GetPayment before any result = %+v", got)
	}
}

func TestCreatePaymentShapes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		change       func(*paykit.PaymentRequest)
		wantQuantity string
		wantCost     string
		wantDesc     string
	}{
		{"one item", func(*paykit.PaymentRequest) {}, "2", "50", "Two mugs, blue"},
		{"no items: quantity 1 at the amount", func(r *paykit.PaymentRequest) { r.Items = nil }, "1", "100", "Two mugs, blue"},
		{"the item's name when no description", func(r *paykit.PaymentRequest) { r.Description = "" }, "2", "50", "Mug"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := validPayment()
			tt.change(&req)
			p, err := newClient(t).CreatePayment(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			u, _ := url.Parse(p.Action.URL)
			q := u.Query()
			if q.Get("quantity") != tt.wantQuantity || q.Get("cost") != tt.wantCost || q.Get("description") != tt.wantDesc ||
				q.Get("success") != req.ReturnURL || q.Get("cancel") != req.CancelURL || q.Get("notify") != req.NotifyURL {
				t.Errorf("link %s", p.Action.URL)
			}
		})
	}
}

func TestCreatePaymentGeneratesID(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	req := validPayment()
	req.ID = ""
	p1, err := c.CreatePayment(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := c.CreatePayment(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []*paykit.Payment{p1, p2} {
		if len(p.ID) != 32 || strings.Trim(p.ID, "0123456789abcdef") != "" {
			t.Errorf("generated id %q is not 32 lowercase hex digits", p.ID)
		}
		if u, _ := url.Parse(p.Action.URL); u.Query().Get("id") != p.ID {
			t.Errorf("the link's id is not the payment's %q", p.ID)
		}
	}
	if p1.ID == p2.ID {
		t.Error("two generated ids are equal")
	}
}

func TestCreatePaymentRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(*paykit.PaymentRequest)
		kind   error
	}{
		{"EUR", func(r *paykit.PaymentRequest) {
			r.Amount.Currency, r.Items = "EUR", nil
		}, paykit.ErrInvalidRequest},
		{"unknown currency", func(r *paykit.PaymentRequest) { r.Amount.Currency, r.Items = "XEC", nil }, paykit.ErrInvalidRequest},
		{"two items", func(r *paykit.PaymentRequest) {
			r.Items = []paykit.Item{{Quantity: 1, UnitAmount: paykit.Money{Amount: 50, Currency: "EC"}}, {Quantity: 1, UnitAmount: paykit.Money{Amount: 50, Currency: "EC"}}}
		}, paykit.ErrInvalidRequest},
		{"items that do not add up", func(r *paykit.PaymentRequest) { r.Items[0].Quantity = 3 }, paykit.ErrInvalidRequest},
		{"cost 1", func(r *paykit.PaymentRequest) { r.Amount.Amount, r.Items = 1, nil }, paykit.ErrInvalidRequest},
		{"id too long", func(r *paykit.PaymentRequest) { r.ID = strings.Repeat("a", 33) }, paykit.ErrInvalidRequest},
		{"id with a slash", func(r *paykit.PaymentRequest) { r.ID = "order/42" }, paykit.ErrInvalidRequest},
		{"description with a quote", func(r *paykit.PaymentRequest) { r.Description = `"mugs"` }, paykit.ErrInvalidRequest},
		{"no description and no item", func(r *paykit.PaymentRequest) { r.Description, r.Items = "", nil }, paykit.ErrInvalidRequest},
		{"no notify URL", func(r *paykit.PaymentRequest) { r.NotifyURL = "" }, paykit.ErrInvalidRequest},
		{"no return URL", func(r *paykit.PaymentRequest) { r.ReturnURL = "" }, paykit.ErrInvalidRequest},
		{"no cancel URL", func(r *paykit.PaymentRequest) { r.CancelURL = "" }, paykit.ErrInvalidRequest},
		{"return URL holding transaction_id", func(r *paykit.PaymentRequest) { r.ReturnURL += "&transaction_id=1" }, paykit.ErrInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newClient(t)
			req := validPayment()
			tt.change(&req)
			p, err := c.CreatePayment(context.Background(), req)
			if p != nil {
				t.Errorf("payment %+v with an error", p)
			}
			wantKind(t, err, tt.kind)
			// Nothing was recorded.
			if req.ID != "" {
				_, err := c.GetPayment(context.Background(), req.ID)
				wantKind(t, err, paykit.ErrNotFound)
			}
		})
	}
}

func TestCreatePaymentAgain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClient(t)
	first, err := c.CreatePayment(ctx, validPayment())
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.CreatePayment(ctx, validPayment())
	if err != nil || again.Action == nil || again.Action.URL != first.Action.URL || !again.CreatedAt.Equal(first.CreatedAt) {
		t.Fatalf("the same request again = %+v, %v; want the first payment", again, err)
	}
	other := validPayment()
	other.Items, other.Amount.Amount = nil, 90
	_, err = c.CreatePayment(ctx, other)
	wantKind(t, err, paykit.ErrConflict)

	// Once paid, the same request again offers no link to pay twice.
	deliver(t, c, entrecard.Result{SellerID: testSeller, ID: "order-42", Total: 100, TransactionID: "5", Status: entrecard.ResultComplete})
	paid, err := c.CreatePayment(ctx, validPayment())
	if err != nil {
		t.Fatal(err)
	}
	if paid.Status != paykit.StatusSucceeded || paid.Action != nil {
		t.Errorf("the same request after payment = %+v, want succeeded without an Action", paid)
	}
}

func TestUnsupported(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	ctx := context.Background()
	ec := paykit.Money{Amount: 100, Currency: "EC"}
	calls := map[string]func() (*paykit.Payment, error){
		"Capture": func() (*paykit.Payment, error) { return c.Capture(ctx, "order-42", ec) },
		"Refund":  func() (*paykit.Payment, error) { return c.Refund(ctx, "order-42", ec) },
		"Cancel":  func() (*paykit.Payment, error) { return c.Cancel(ctx, "order-42") },
	}
	for name, call := range calls {
		p, err := call()
		if p != nil {
			t.Errorf("%s returned a payment", name)
		}
		wantKind(t, err, paykit.ErrUnsupported)
	}
}

func TestGetPaymentUnknown(t *testing.T) {
	t.Parallel()
	for _, id := range []string{"order-1", "", "not an id"} {
		_, err := newClient(t).GetPayment(context.Background(), id)
		wantKind(t, err, paykit.ErrNotFound)
	}
}

// notifyRequest builds the GET Entrecard makes to the notify URL with the result appended.
func notifyRequest(notifyURL, resultQuery string) *http.Request {
	sep := "?"
	if strings.Contains(notifyURL, "?") {
		sep = "&"
	}
	return httptest.NewRequest(http.MethodGet, notifyURL+sep+resultQuery, nil)
}

// deliver hands c a correctly signed result for r on the notify URL and fails on an error.
func deliver(t testing.TB, c *entrecard.Client, r entrecard.Result) *paykit.Notification {
	t.Helper()
	n, err := c.ParseNotification(notifyRequest("https://shop.example/entrecard/notify?order=42&lang=sv", c.ResultQuery(r)))
	if err != nil {
		t.Fatalf("ParseNotification(%+v): %v", r, err)
	}
	return n
}

func TestParseNotificationTransports(t *testing.T) {
	t.Parallel()
	result := entrecard.Result{SellerID: testSeller, ID: "order-42", Total: 100, TransactionID: "100001", Status: entrecard.ResultComplete}
	q := newClient(t).ResultQuery(result)
	form := func(body string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "https://shop.example/entrecard/notify?order=42", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return r
	}
	tests := []struct {
		name string
		req  *http.Request
	}{
		{"GET, appended with ?", notifyRequest("https://shop.example/n", q)},
		{"GET, appended with & after the merchant's query", notifyRequest("https://shop.example/n?order=42&lang=sv", q)},
		{"GET, appended with a second ? as the document literally says", httptest.NewRequest(http.MethodGet, "https://shop.example/n?order=42?"+q, nil)},
		{"GET, the merchant's parameters after the result", httptest.NewRequest(http.MethodGet, "https://shop.example/n?"+q+"&utm=x&signature_v=2", nil)},
		{"GET, the merchant's undecodable parameter", httptest.NewRequest(http.MethodGet, "https://shop.example/n?bad=%zz&"+q, nil)},
		{"GET, values encoded with %20 and lowercase escapes", httptest.NewRequest(http.MethodGet, "https://shop.example/n?"+strings.ReplaceAll(q, "order-42", "order%2d42"), nil)},
		{"POST form", form(q)},
		{"POST form with a charset", func() *http.Request {
			r := form(q)
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
			return r
		}()},
		{"POST form with a trailing newline", form(q + "\n")},
		{"POST without a body, the result in the query", httptest.NewRequest(http.MethodPost, "https://shop.example/n?"+q, nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newClient(t)
			n, err := c.ParseNotification(tt.req)
			if err != nil {
				t.Fatalf("ParseNotification: %v", err)
			}
			want := paykit.Notification{Provider: "entrecard", PaymentID: "order-42", Event: "complete", Status: paykit.StatusSucceeded, DedupKey: "transaction:100001"}
			if *n != want {
				t.Errorf("notification = %+v, want %+v", *n, want)
			}
		})
	}
}

func TestParseNotificationRefused(t *testing.T) {
	t.Parallel()
	result := entrecard.Result{SellerID: testSeller, ID: "order-42", Total: 100, TransactionID: "100001", Status: entrecard.ResultComplete}
	q := newClient(t).ResultQuery(result)
	tests := []struct {
		name string
		req  func() *http.Request
		kind error
	}{
		{"no result at all", func() *http.Request {
			return httptest.NewRequest(http.MethodGet, "https://shop.example/n?order=42", nil)
		}, paykit.ErrInvalidSignature},
		{"tampered total", func() *http.Request {
			return httptest.NewRequest(http.MethodGet, "https://shop.example/n?"+strings.Replace(q, "total=100", "total=10", 1), nil)
		}, paykit.ErrInvalidSignature},
		{"a result value badly encoded", func() *http.Request {
			return httptest.NewRequest(http.MethodGet, "https://shop.example/n?"+strings.Replace(q, "status=complete", "status=%zz", 1), nil)
		}, paykit.ErrInvalidRequest},
		{"JSON body", func() *http.Request {
			r := httptest.NewRequest(http.MethodPost, "https://shop.example/n", strings.NewReader(`{"id":"order-42"}`))
			r.Header.Set("Content-Type", "application/json")
			return r
		}, paykit.ErrInvalidRequest},
		{"DELETE", func() *http.Request { return httptest.NewRequest(http.MethodDelete, "https://shop.example/n?"+q, nil) }, paykit.ErrInvalidRequest},
		{"body too large", func() *http.Request {
			r := httptest.NewRequest(http.MethodPost, "https://shop.example/n", strings.NewReader(q+"&pad="+strings.Repeat("a", paykit.DefaultMaxBodyBytes)))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}, paykit.ErrInvalidRequest},
		{"the result in both query and body, the body's tampered", func() *http.Request {
			r := httptest.NewRequest(http.MethodPost, "https://shop.example/n?"+q, strings.NewReader(strings.Replace(q, "status=complete", "status=failed", 1)))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}, paykit.ErrInvalidSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newClient(t)
			n, err := c.ParseNotification(tt.req())
			if n != nil {
				t.Errorf("notification %+v with an error", n)
			}
			wantKind(t, err, tt.kind)
			// A refused result changes nothing.
			_, err = c.GetPayment(context.Background(), "order-42")
			wantKind(t, err, paykit.ErrNotFound)
		})
	}
}

func TestParseNotificationAmount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		total int64
		ok    bool
	}{
		{"quantity × cost", 100, true},
		{"less", 50, false},
		{"one unit's cost times the quantity plus one unit", 150, false},
		{"more", 101, false},
		{"zero", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			c := newClient(t)
			if _, err := c.CreatePayment(ctx, validPayment()); err != nil {
				t.Fatal(err)
			}
			for i, status := range []entrecard.ResultStatus{entrecard.ResultFailed, entrecard.ResultComplete} {
				r := entrecard.Result{SellerID: testSeller, ID: "order-42", Total: tt.total, TransactionID: strconv.Itoa(90 + i), Status: status}
				_, err := c.ParseNotification(notifyRequest("https://shop.example/n", c.ResultQuery(r)))
				if tt.ok {
					if err != nil {
						t.Fatalf("%s: %v", status, err)
					}
					continue
				}
				wantKind(t, err, paykit.ErrAmountMismatch)
			}
			p, err := c.GetPayment(ctx, "order-42")
			if err != nil {
				t.Fatal(err)
			}
			if tt.ok != (p.Status == paykit.StatusSucceeded) {
				t.Errorf("after the results the payment is %s", p.Status)
			}
		})
	}
}

func TestResultsDecideThePayment(t *testing.T) {
	t.Parallel()
	result := func(txn string, s entrecard.ResultStatus) entrecard.Result {
		return entrecard.Result{SellerID: testSeller, ID: "order-42", Total: 100, TransactionID: txn, Status: s}
	}
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
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			c := newClient(t)
			if _, err := c.CreatePayment(ctx, validPayment()); err != nil {
				t.Fatal(err)
			}
			for _, r := range tt.results {
				deliver(t, c, r)
			}
			p, err := c.GetPayment(ctx, "order-42")
			if err != nil {
				t.Fatal(err)
			}
			if p.Status != tt.status || p.ProviderStatus != tt.provider || p.ProviderID != tt.txn || p.Action != nil {
				t.Errorf("payment = status %s, provider status %q, provider id %q, action %+v; want %s, %q, %q, none",
					p.Status, p.ProviderStatus, p.ProviderID, p.Action, tt.status, tt.provider, tt.txn)
			}
			wantCaptured := int64(0)
			if tt.status == paykit.StatusSucceeded {
				wantCaptured = 100
			}
			if p.Captured != (paykit.Money{Amount: wantCaptured, Currency: "EC"}) || p.Amount != (paykit.Money{Amount: 100, Currency: "EC"}) {
				t.Errorf("amount %v, captured %v", p.Amount, p.Captured)
			}
		})
	}
}

func TestRedeliveryReturnsTheFirstResult(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	first := deliver(t, c, entrecard.Result{SellerID: testSeller, ID: "order-42", Total: 100, TransactionID: "77", Status: entrecard.ResultFailed})
	// The same transaction again, even with another (correctly signed) status, is the first one.
	again := deliver(t, c, entrecard.Result{SellerID: testSeller, ID: "order-42", Total: 100, TransactionID: "77", Status: entrecard.ResultComplete})
	if *again != *first || again.Event != "failed" {
		t.Errorf("redelivery = %+v, want the first %+v", *again, *first)
	}
	res, err := c.ReadNotification(notifyRequest("https://shop.example/n", c.ResultQuery(entrecard.Result{SellerID: testSeller, ID: "order-42", Total: 100, TransactionID: "77", Status: entrecard.ResultComplete})))
	if err != nil || res.Status != entrecard.ResultFailed {
		t.Errorf("ReadNotification of the redelivery = %+v, %v; want the first (failed)", res, err)
	}
}

func TestResultForAnUnknownID(t *testing.T) {
	t.Parallel()
	// E.g. after a restart emptied the in-memory store: accepted, recorded, and GetPayment
	// answers from the result alone.
	c := newClient(t)
	n := deliver(t, c, entrecard.Result{SellerID: testSeller, ID: "before-restart", Total: 120, TransactionID: "3", Status: entrecard.ResultEscrow})
	if n.PaymentID != "before-restart" || n.Status != paykit.StatusSucceeded || n.Event != "escrow" {
		t.Errorf("notification = %+v", n)
	}
	p, err := c.GetPayment(context.Background(), "before-restart")
	if err != nil {
		t.Fatal(err)
	}
	if p.ID != "before-restart" || p.Reference != "before-restart" || p.Amount != (paykit.Money{Amount: 120, Currency: "EC"}) || p.Status != paykit.StatusSucceeded || p.ProviderID != "3" {
		t.Errorf("payment = %+v", p)
	}
}

func TestParseRedirect(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClient(t)
	if _, err := c.CreatePayment(ctx, validPayment()); err != nil {
		t.Fatal(err)
	}
	ok := c.ResultQuery(entrecard.Result{SellerID: testSeller, ID: "order-42", Total: 100, TransactionID: "11", Status: entrecard.ResultComplete})
	failed := c.ResultQuery(entrecard.Result{SellerID: testSeller, ID: "order-42", Total: 100, TransactionID: "10", Status: entrecard.ResultFailed})

	// A cancel before any transaction: no result, the merchant's own parameters.
	rd, err := c.ParseRedirect(ctx, "https://shop.example/cart?order=42")
	if err != nil {
		t.Fatal(err)
	}
	if rd.Result != nil || rd.Payment != nil || rd.Params.Get("order") != "42" {
		t.Errorf("bare cancel = %+v", rd)
	}
	// A cancel with a failed result.
	rd, err = c.ParseRedirect(ctx, "https://shop.example/cart?order=42&"+failed)
	if err != nil {
		t.Fatal(err)
	}
	if rd.Result == nil || rd.Result.Status != entrecard.ResultFailed || rd.Payment == nil || rd.Payment.Status != paykit.StatusFailed || rd.Params.Get("order") != "42" || rd.Params.Has("status") {
		t.Errorf("cancel with a failed result = %+v", rd)
	}
	// The success redirect, read from the browser's request: recorded before any notification.
	req := httptest.NewRequest(http.MethodGet, "https://shop.example/thanks?order=42&"+ok, nil)
	rd, err = c.ReadRedirect(req)
	if err != nil {
		t.Fatal(err)
	}
	if rd.Result == nil || rd.Result.TransactionID != "11" || rd.Payment.Status != paykit.StatusSucceeded {
		t.Errorf("success = %+v", rd)
	}
	if p, _ := c.GetPayment(ctx, "order-42"); p.Status != paykit.StatusSucceeded {
		t.Errorf("after the success redirect the payment is %s", p.Status)
	}

	for name, raw := range map[string]string{
		"some result parameters, no signature": "https://shop.example/cart?order=42&id=order-42&status=cancelled",
		"tampered":                             "https://shop.example/thanks?" + strings.Replace(ok, "transaction_id=11", "transaction_id=12", 1),
	} {
		_, err := c.ParseRedirect(ctx, raw)
		if !errors.Is(err, paykit.ErrInvalidSignature) {
			t.Errorf("%s: err = %v, want ErrInvalidSignature", name, err)
		}
	}
	_, err = c.ParseRedirect(ctx, "https://shop.example/thanks?"+strings.Replace(ok, "total=100", "total=90", 1)+"x")
	wantKind(t, err, paykit.ErrInvalidSignature)
	bad := "://not a url?" + ok
	_, err = c.ParseRedirect(ctx, bad)
	wantKind(t, err, paykit.ErrInvalidRequest)
	if sig := c.Sign(entrecard.Result{SellerID: testSeller, ID: "order-42", Total: 100, TransactionID: "11", Status: entrecard.ResultComplete}); strings.Contains(err.Error(), sig) {
		t.Errorf("error %q holds the signature", err)
	}
}

func TestConcurrentResults(t *testing.T) {
	t.Parallel()
	// The same result arriving many times at once is recorded once.
	c := newClient(t)
	r := entrecard.Result{SellerID: testSeller, ID: "order-42", Total: 100, TransactionID: "1", Status: entrecard.ResultComplete}
	q := c.ResultQuery(r)
	errs := make(chan error, 20)
	for range 20 {
		go func() {
			_, err := c.ParseNotification(notifyRequest("https://shop.example/n", q))
			errs <- err
		}()
	}
	for range 20 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	p, err := c.GetPayment(context.Background(), "order-42")
	if err != nil || p.Status != paykit.StatusSucceeded || p.ProviderID != "1" {
		t.Fatalf("payment = %+v, %v", p, err)
	}
}

func TestLoggerNeverLogsSignatures(t *testing.T) {
	t.Parallel()
	var buf strings.Builder
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return buf.Write(p)
	}), &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := entrecard.New(entrecard.Config{SellerID: testSeller, Secret: testSecret}, paykit.WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	r := entrecard.Result{SellerID: testSeller, ID: "order-42", Total: 100, TransactionID: "1", Status: entrecard.ResultComplete}
	deliver(t, c, r)
	deliver(t, c, r)
	mu.Lock()
	out := buf.String()
	mu.Unlock()
	if !strings.Contains(out, "result recorded") || !strings.Contains(out, "redelivered") {
		t.Errorf("debug log %q lacks the recorded and redelivered results", out)
	}
	if strings.Contains(out, c.Sign(r)) || strings.Contains(out, testSecret) {
		t.Errorf("debug log %q holds the signature or the secret", out)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

package ecster_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/ecster"
	"github.com/paykit/paykit/ecster/ecstertest"
	"github.com/paykit/paykit/internal/notifyurl"
)

// Two CreatePayment calls with one id at the same moment, on an Ecster that answers slowly,
// make one payable cart: the client runs them one after the other.
func TestConcurrentCreatesMakeOnePayableCart(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, ecstertest.Config{}, ecster.Config{})
	ctx := ctxT(t)
	srv.SetLatency(50 * time.Millisecond)
	req := request(ecster.NewID(), 1000)

	const n = 3
	var wg sync.WaitGroup
	keys := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := c.CreatePayment(ctx, req)
			errs[i] = err
			if err == nil {
				keys[i] = p.Action.Token
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	open := 0
	for _, cart := range srv.Carts(req.ID) {
		if cart.Open {
			open++
		}
	}
	assert.Equal(t, 1, open, "one payable cart")
	assert.Equal(t, 1, srv.Calls(http.MethodPost, ecstertest.RouteCarts), "one cart created; the others replaced it")
	mustPay(t, srv, req.ID)
	assert.ErrorIs(t, payErr(srv, req.ID), ecstertest.ErrNoCart, "no second order")
}

// Every id that goes into a URL path or query is checked first: the id rule (not empty, not
// "." or "..", no control characters, valid UTF-8) and Ecster's 64 characters. A bad one is
// ErrInvalidRequest and nothing reaches the fake.
func TestIDsAreCheckedBeforeAnythingIsSent(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, ecstertest.Config{}, ecster.Config{})
	ctx := ctxT(t)
	bad := []string{"", ".", "..", "a\nb", "a\x00b", "a\rb", "\x7f", string([]byte{0xff, 0xfe}), strings.Repeat("x", 65)}
	calls := map[string]func(id string) error{
		"GetPayment":    func(id string) error { _, err := c.GetPayment(ctx, id); return err },
		"Capture":       func(id string) error { _, err := c.Capture(ctx, id, sek(1)); return err },
		"Refund":        func(id string) error { _, err := c.Refund(ctx, id, paykit.Money{}); return err },
		"Cancel":        func(id string) error { _, err := c.Cancel(ctx, id, paykit.IdempotencyKey("k")); return err },
		"CreatePayment": func(id string) error { _, err := c.CreatePayment(ctx, request(id, 100)); return err },
		"GetOrder":      func(id string) error { _, err := c.GetOrder(ctx, id); return err },
		"FindOrders":    func(id string) error { _, err := c.FindOrders(ctx, ecster.OrderQuery{OrderReference: id}); return err },
		"Debit":         func(id string) error { _, err := c.Debit(ctx, id, ecster.TransactionRequest{Amount: 1}); return err },
		"Credit": func(id string) error {
			_, err := c.Credit(ctx, id, ecster.TransactionRequest{Amount: 1, DebitTransaction: "d"})
			return err
		},
		"Annul": func(id string) error { _, err := c.Annul(ctx, id, ecster.TransactionRequest{Amount: 1}); return err },
		"UpdateCart": func(id string) error {
			_, err := c.UpdateCart(ctx, id, ecster.CartRequest{OrderReference: "o", Amount: 1, Currency: "SEK",
				Rows: []ecster.CartRow{{Name: "x", Quantity: 1, UnitAmount: 1}}})
			return err
		},
	}
	for name, call := range calls {
		for _, id := range bad {
			if id == "" && (name == "FindOrders" || name == "CreatePayment") {
				continue // an empty reference means "any" in a search; CreatePayment makes one
			}
			err := call(id)
			require.ErrorIs(t, err, paykit.ErrInvalidRequest, "%s(%q)", name, id)
		}
	}
	assert.Empty(t, srv.CallLog(), "nothing was sent")

	// An OEN naming such an id is malformed (400), nothing fetched.
	h := paykit.NewWebhookHandler(c, func(context.Context, *paykit.Notification) error { return nil })
	for _, n := range []ecstertest.OEN{
		{OrderID: "..", Status: "READY", Time: "2024-05-01T10:00:00Z", Event: "CREATED"},
		{OrderID: "o1", OrderReference: "..", Status: "READY", Time: "2024-05-01T10:00:00Z", Event: "CREATED"},
		{OrderID: "o1", OrderReference: "a\nb", Status: "READY", Time: "2024-05-01T10:00:00Z", Event: "CREATED"},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, ecstertest.NewOENRequest("/oen", n, "", ""))
		assert.Equal(t, http.StatusBadRequest, rec.Code, "%+v", n)
	}
	assert.Empty(t, srv.CallLog(), "nothing was fetched")
}

// A Client prints without its secrets also when it is dereferenced: fmt.Sprintf("%#v", *c)
// used to print every field, the keys included.
func TestDereferencedClientPrintsNoSecret(t *testing.T) {
	t.Parallel()
	c, err := ecster.New(ecster.Config{APIKey: "api-SECRET-1", MerchantKey: "merchant-SECRET-2", NotificationHeader: "X-Shop-Auth",
		NotificationHeaderValue: "header-SECRET-3", NotifySecret: "notify-SECRET-4"})
	require.NoError(t, err)
	var text, js bytes.Buffer
	slog.New(slog.NewTextHandler(&text, nil)).Info("client", "c", *c)
	slog.New(slog.NewJSONHandler(&js, nil)).Info("client", "c", *c)
	type holder struct{ C ecster.Client }
	forms := []string{
		fmt.Sprintf("%v", *c), fmt.Sprintf("%+v", *c), fmt.Sprintf("%#v", *c), fmt.Sprintf("[%s]", *c),
		fmt.Sprintf("%v", holder{*c}), fmt.Sprintf("%+v", holder{*c}), fmt.Sprintf("%#v", holder{*c}),
		fmt.Sprintf("%v", []ecster.Client{*c}), fmt.Sprintf("%#v", &holder{*c}),
		text.String(), js.String(),
	}
	for _, f := range forms {
		assert.NotContains(t, f, "SECRET", f)
		assert.Contains(t, f, "X-Shop-Auth", "what is not secret still prints")
	}
}

// Forged OENs with made-up times for one order, through the webhook handler without a
// header configured: fn runs once (the fetched state is the same). With NotifySecret, one
// observed signed URL replayed with other times runs fn once too.
func TestForgedOENsWithNewTimesRunFnOnce(t *testing.T) {
	t.Parallel()
	for _, secret := range []string{"", "notify-secret-observed"} {
		s := newOENServer(t, ecstertest.Config{}, ecster.Config{NotifySecret: secret})
		ctx := ctxT(t)
		id := ordered(t, ctx, s.srv, s.c, 1000, ecster.OrderReady)
		target := "/oen"
		if secret != "" {
			signed, err := notifyurl.New(secret).Sign("https://shop.example/oen", id)
			require.NoError(t, err)
			target = strings.TrimPrefix(signed, "https://shop.example")
		}
		n := oenOf(t, s.srv, id)
		for i := range 5 {
			forged := n
			forged.Time = fmt.Sprintf("2024-05-0%dT1%d:00:0%dZ", i+1, i, i)
			forged.Event = []string{"CREATED", "PARTIAL_DEBIT", "FULL_DEBIT", "CREATED", "STATUS_CHANGED"}[i]
			forged.TransactionID = fmt.Sprint("tx-", i)
			assert.Equal(t, http.StatusOK, s.post(target, forged, nil))
		}
		assert.Equal(t, int32(1), s.runs.Load(), "secret %q: one state, one run", secret)

		// A real change still runs fn.
		_, err := s.c.Capture(ctx, id, sek(100))
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, s.post(target, n, nil))
		assert.Equal(t, int32(2), s.runs.Load())
	}
}

package echelon_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/echelon"
	"github.com/paykit/paykit/echelon/echelontest"
	"github.com/paykit/paykit/internal/logbuf"
)

// badIDs break paykit's id rule (internal/ids.Check) or EchelonPay's own (no leading '!').
var badIDs = map[string]string{
	"empty":           "",
	"dot":             ".",
	"dot-dot":         "..",
	"NUL":             "order\x00-1",
	"newline":         "order-1\n",
	"carriage return": "\rorder-1",
	"tab":             "order\t1",
	"DEL":             "order\x7f1",
	"C1 control":      "order\u00851",
	"5000 characters": strings.Repeat("a", 5000),
	"65 bytes":        strings.Repeat("b", 65),
	"invalid UTF-8":   "order-\xff",
	"action path":     "!availablePaymentOptions",
}

// postCallback sends a callback body to h at path and returns the answer's status.
func postCallback(h http.Handler, path string, body any) int {
	b, _ := json.Marshal(body)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, bytes.NewReader(b)))
	return rec.Code
}

// Issue 13, item 10: an id that breaks the id rule is ErrInvalidRequest in every call that
// would put it into a path or a token, and nothing reaches EchelonPay: before, "." and ".."
// went out as dot-segments (POST /payins/..), and NUL, newlines and 5,000 characters went as
// they were.
func TestBadIDsAreRefusedBeforeSending(t *testing.T) {
	t.Parallel()
	fake := newFake(t, echelontest.Config{})
	direct := newClient(t, fake, echelon.Config{PaymentMethod: echelontest.MethodVirtualAccount})
	webApp := newClient(t, fake, echelon.Config{})
	ctx := guard(t)
	amount := inr(100)
	payins := paykit.NewWebhookHandler(direct, func(context.Context, *paykit.Notification) error {
		t.Error("fn ran for a bad id")
		return nil
	})
	payouts := direct.PayoutWebhookHandler(func(context.Context, *echelon.Payout) error {
		t.Error("fn ran for a bad id")
		return nil
	})
	for name, id := range badIDs {
		calls := map[string]func() error{
			"GetPayment": func() error { _, err := direct.GetPayment(ctx, id); return err },
			"GetPayin":   func() error { _, err := direct.GetPayin(ctx, id); return err },
			"GetPayout":  func() error { _, err := direct.GetPayout(ctx, id); return err },
			"NewToken": func() error {
				_, err := direct.NewToken(ctx, echelon.TokenRequest{Action: echelon.TokenPayinInfo, PaymentID: id})
				return err
			},
			"ParseNotification": func() error {
				b, _ := json.Marshal(map[string]any{"idPayin": id})
				_, err := direct.ParseNotification(httptest.NewRequest(http.MethodPost, "/cb", bytes.NewReader(b)))
				return err
			},
		}
		if !utf8.ValidString(id) {
			// JSON cannot carry it: a decoder makes U+FFFD of the bad byte, a valid id.
			delete(calls, "ParseNotification")
		}
		if id != "" { // an empty id is generated, not refused
			calls["CreatePayment (direct)"] = func() error {
				_, err := direct.CreatePayment(ctx, paykit.PaymentRequest{ID: id, Amount: amount})
				return err
			}
			calls["CreatePayment (web app)"] = func() error {
				_, err := webApp.CreatePayment(ctx, paykit.PaymentRequest{ID: id, Amount: amount})
				return err
			}
			calls["CreatePayin"] = func() error {
				_, err := direct.CreatePayin(ctx, echelon.PayinRequest{ID: id, Amount: amount, Method: echelontest.MethodVirtualAccount})
				return err
			}
			calls["CreatePayout"] = func() error {
				_, err := direct.CreatePayout(ctx, echelon.PayoutRequest{ID: id, Amount: amount, Method: echelontest.MethodBankTransfer, AccountNumber: "1"})
				return err
			}
		}
		for call, f := range calls {
			err := f()
			require.ErrorIs(t, err, paykit.ErrInvalidRequest, "%s(%s)", call, name)
			assert.NotContains(t, err.Error(), id+"\n", "%s(%s): an id is quoted, never written raw", call, name)
		}
		if id != "" && utf8.ValidString(id) {
			assert.Equal(t, http.StatusBadRequest, postCallback(payins, "/cb/payin", map[string]any{"idPayin": id}), "payin callback naming %s", name)
			assert.Equal(t, http.StatusBadRequest, postCallback(payouts, "/cb/payout", map[string]any{"idPayout": id}), "payout callback naming %s", name)
		}
	}
	assert.Empty(t, fake.CallLog(), "nothing reached EchelonPay")
}

// Good ids that look odd still go through, escaped as one path segment.
func TestOddButValidIDsReachEchelonPay(t *testing.T) {
	t.Parallel()
	fake := newFake(t, echelontest.Config{})
	c := newClient(t, fake, echelon.Config{PaymentMethod: echelontest.MethodVirtualAccount})
	ctx := guard(t)
	for _, id := range []string{"...", ".a", "a.", "order 1", "Ördér-1", "a/b", "a?b#c", strings.Repeat("x", 64)} {
		pay, err := c.CreatePayment(ctx, paykit.PaymentRequest{ID: id, Amount: inr(10)})
		require.NoError(t, err, "%q", id)
		assert.Equal(t, id, pay.ID)
		got, err := c.GetPayment(ctx, id)
		require.NoError(t, err, "%q", id)
		assert.Equal(t, id, got.ID)
		_, ok := fake.Payin(id)
		assert.True(t, ok, "%q", id)
	}
}

// Issue 13, item 4: concurrent creates of one id, from one client and from two clients that
// share nothing but EchelonPay, make one payin (or payout) and give the same answer; once the
// payin is paid, a create offers no way to pay it again.
func TestConcurrentCreatesOfOneID(t *testing.T) {
	t.Parallel()
	const n = 8
	// concurrently runs f(i) for i < n at the same moment and returns their errors.
	concurrently := func(f func(i int) error) []error {
		errs := make([]error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs[i] = f(i)
			}()
		}
		close(start)
		wg.Wait()
		return errs
	}
	clientsOf := func(t *testing.T, fake *echelontest.Server, k int, cfg echelon.Config) []*echelon.Client {
		cs := make([]*echelon.Client, k)
		for i := range cs {
			cs[i] = newClient(t, fake, cfg)
		}
		return cs
	}
	for _, k := range []int{1, 2} {
		t.Run(fmt.Sprintf("payin, %d clients", k), func(t *testing.T) {
			t.Parallel()
			fake := newFake(t, echelontest.Config{})
			cs := clientsOf(t, fake, k, echelon.Config{PaymentMethod: echelontest.MethodEWallet})
			ctx := guard(t)
			req := paykit.PaymentRequest{ID: echelon.NewID(), Amount: inr(700)}
			pays := make([]*paykit.Payment, n)
			for i, err := range concurrently(func(i int) (err error) {
				pays[i], err = cs[i%k].CreatePayment(ctx, req)
				return err
			}) {
				require.NoError(t, err, "create %d", i)
			}
			require.Len(t, fake.Payins(), 1)
			for i, p := range pays {
				assert.Equal(t, req.ID, p.ID, "create %d", i)
				assert.Equal(t, paykit.StatusPending, p.Status, "create %d", i)
				assert.Equal(t, req.Amount, p.Amount, "create %d", i)
				require.NotNil(t, p.Action, "create %d", i)
				assert.Equal(t, pays[0].Action.URL, p.Action.URL, "create %d: one payin, one page to pay it", i)
			}
			_, err := fake.Pay(req.ID)
			require.NoError(t, err)
			for i, err := range concurrently(func(i int) (err error) {
				pays[i], err = cs[i%k].CreatePayment(ctx, req)
				return err
			}) {
				require.NoError(t, err, "create %d after payment", i)
				assert.Equal(t, paykit.StatusSucceeded, pays[i].Status)
				assert.Nil(t, pays[i].Action, "create %d: no second way to pay a paid payin", i)
			}
			assert.Len(t, fake.Payins(), 1)
		})
		t.Run(fmt.Sprintf("payout, %d clients", k), func(t *testing.T) {
			t.Parallel()
			fake := newFake(t, echelontest.Config{})
			cs := clientsOf(t, fake, k, echelon.Config{})
			ctx := guard(t)
			before := fake.Balance("INR")
			req := echelon.PayoutRequest{ID: echelon.NewID(), Amount: inr(300), Method: echelontest.MethodBankTransfer, AccountNumber: "12345678"}
			outs := make([]*echelon.Payout, n)
			for i, err := range concurrently(func(i int) (err error) {
				outs[i], err = cs[i%k].CreatePayout(ctx, req)
				return err
			}) {
				require.NoError(t, err, "create %d", i)
			}
			require.Len(t, fake.Payouts(), 1, "one payout")
			po := fake.Payouts()[0]
			assert.Equal(t, before.Amount-req.Amount.Amount-po.Fee.Amount, fake.Balance("INR").Amount, "debited once")
			for i, p := range outs {
				assert.Equal(t, req.ID, p.ID, "create %d", i)
				assert.Equal(t, req.Amount, p.Amount, "create %d", i)
				assert.Equal(t, paykit.StatusPending, p.Status, "create %d", i)
			}
		})
		// The web-app flow mints a token per call that finds no payin: every one is limited
		// to the id and the amount, so the web app can create one payin with them, never two.
		t.Run(fmt.Sprintf("web app, %d clients", k), func(t *testing.T) {
			t.Parallel()
			fake := newFake(t, echelontest.Config{})
			cs := clientsOf(t, fake, k, echelon.Config{})
			ctx := guard(t)
			req := paykit.PaymentRequest{ID: echelon.NewID(), Amount: inr(900)}
			pays := make([]*paykit.Payment, n)
			for i, err := range concurrently(func(i int) (err error) {
				pays[i], err = cs[i%k].CreatePayment(ctx, req)
				return err
			}) {
				require.NoError(t, err, "create %d", i)
			}
			assert.Empty(t, fake.Payins())
			for i, p := range pays {
				assert.Equal(t, req.ID, p.ID, "create %d", i)
				assert.Equal(t, paykit.StatusPending, p.Status, "create %d", i)
				require.NotNil(t, p.Action, "create %d", i)
				assert.Equal(t, paykit.ActionClientToken, p.Action.Type, "create %d", i)
			}
			// The customer's web app creates the payin with every token it was given.
			errs := concurrently(func(i int) error {
				body, _ := json.Marshal(map[string]any{
					"paymentRequested": map[string]any{"money": map[string]any{"amount": 900, "currencyCode": "INR"}},
					"paymentMethod":    map[string]any{"paymentMethodCode": echelontest.MethodVirtualAccount},
				})
				r, err := http.NewRequestWithContext(ctx, http.MethodPost, fake.URL+"/payins/"+req.ID, bytes.NewReader(body))
				if err != nil {
					return err
				}
				r.Header.Set("X-API-Version", "2")
				r.Header.Set("Authorization", "Bearer "+pays[i].Action.Token)
				resp, err := fake.Client().Do(r)
				if err != nil {
					return err
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					return fmt.Errorf("status %d", resp.StatusCode)
				}
				return nil
			})
			created := 0
			for _, err := range errs {
				if err == nil {
					created++
				} else {
					assert.EqualError(t, err, "status 409", "the others find the payin made")
				}
			}
			assert.Equal(t, 1, created, "one payin, whichever token created it")
			assert.Len(t, fake.Payins(), 1)
			_, err := fake.Pay(req.ID)
			require.NoError(t, err)
			paid, err := cs[0].CreatePayment(ctx, req)
			require.NoError(t, err)
			assert.Equal(t, paykit.StatusSucceeded, paid.Status)
			assert.Nil(t, paid.Action, "no token for a paid payin")
		})
	}
}

// Issue 13, item 12: a Client printed as a value (the dereferenced pointer, or inside another
// struct), with any verb, and logged, shows no secret.
func TestClientValuePrintsNoSecret(t *testing.T) {
	t.Parallel()
	const secret, notify = "merchant-secret-9f8e7d", "notify-secret-1a2b3c"
	c, err := echelon.New(echelon.Config{MerchantCode: "M-1", Secret: secret, NotifySecret: notify, BaseURL: echelon.SandboxURL})
	require.NoError(t, err)
	var logs logbuf.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	allVerbs := []string{"%v", "%+v", "%#v", "%s", "%d", "%x", "%q"}
	values := map[string]any{
		"*c":             *c,
		"c":              c,
		"exported field": struct{ C echelon.Client }{*c},
		"zero":           echelon.Client{},
		// fmt calls no method of an unexported field; the secrets are behind pointers,
		// which it prints as addresses. (A verb that does not fit a pointer, %s or %q,
		// makes fmt print the pointee, as it does for any struct.)
		"unexported field":   struct{ c echelon.Client }{*c},
		"pointer in a field": struct{ c *echelon.Client }{c},
	}
	for name, v := range values {
		verbs := allVerbs
		if strings.HasSuffix(name, "field") && name != "exported field" {
			verbs = []string{"%v", "%+v", "%#v", "%d", "%x"}
		}
		for _, verb := range verbs {
			out := fmt.Sprintf(verb, v)
			for _, s := range []string{secret, notify, fmt.Sprintf("%x", secret), fmt.Sprintf("%x", notify), fmt.Sprint([]byte(notify))} {
				assert.NotContains(t, out, s, "%s %s: %s", name, verb, out)
			}
		}
		log.Info("client", "v", v)
	}
	assert.Contains(t, fmt.Sprintf("%#v", *c), "M-1", "the client still says who it is")
	assert.NotContains(t, logs.String(), secret)
	assert.NotContains(t, logs.String(), notify)
}

// Capture, Refund and Cancel are unsupported, with Money{0, "INR"} too, and send nothing.
func TestUnsupportedSendNothing(t *testing.T) {
	t.Parallel()
	fake := newFake(t, echelontest.Config{})
	c := newClient(t, fake, echelon.Config{})
	ctx := guard(t)
	for _, amount := range []paykit.Money{{}, {Currency: "INR"}, inr(1)} {
		_, err := c.Capture(ctx, "order-1", amount, paykit.IdempotencyKey("k"))
		require.ErrorIs(t, err, paykit.ErrUnsupported)
		_, err = c.Refund(ctx, "order-1", amount)
		require.ErrorIs(t, err, paykit.ErrUnsupported)
	}
	_, err := c.Cancel(ctx, "order-1")
	require.ErrorIs(t, err, paykit.ErrUnsupported)
	assert.Empty(t, fake.CallLog())
}

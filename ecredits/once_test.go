package ecredits_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/ecredits"
	"github.com/paykit/paykit/ecredits/ecreditstest"
	"github.com/paykit/paykit/internal/logbuf"
)

// caseVariants returns id spelt n ways: the letters' cases differ in each (id's own spelling
// is not among them).
func caseVariants(id string, n int) []string {
	out := []string{strings.ToUpper(id), strings.ToLower(id)}
	for mask := 1; len(out) < n+1; mask++ {
		b := []byte(strings.ToLower(id))
		letter := 0
		for i, c := range b {
			if c >= 'a' && c <= 'f' {
				if mask&(1<<(letter%20)) != 0 {
					b[i] = c - 'a' + 'A'
				}
				letter++
			}
		}
		out = append(out, string(b))
	}
	var variants []string
	seen := map[string]bool{id: true}
	for _, v := range out {
		if !seen[v] && len(variants) < n {
			seen[v] = true
			variants = append(variants, v)
		}
	}
	return variants
}

// mixedCaseID is a new GUID with its hex letters in alternating case, as a merchant's own
// GUID formatter may write it.
func mixedCaseID() string {
	b := []byte(ecredits.NewID())
	upper := false
	for i, c := range b {
		if c >= 'a' && c <= 'f' {
			if upper {
				b[i] = c - 'a' + 'A'
			}
			upper = !upper
		}
	}
	return string(b)
}

// withRequestID is a webhook body with its requestId replaced and its signature kept: the
// signature covers lower-case(requestId), so it still verifies.
func withRequestID(t *testing.T, body []byte, id string) string {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(body, &m))
	m["requestId"] = id
	out, err := json.Marshal(m)
	require.NoError(t, err)
	return string(out)
}

// Issue 13, item 3: one captured webhook replayed with the id's letters in 6 other cases
// verifies every time (the HMAC covers the lower-cased id), and must run fn once, with the
// canonical (lower-case) id, through NewWebhookHandler and through Router.WebhookHandler.
func TestWebhookReplayedInOtherCasesRunsFnOnce(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, ecreditstest.Config{})
	ctx := ctxT(t)
	id := mixedCaseID()
	canonical := strings.ToLower(id)

	pay, err := c.CreatePayment(ctx, paykit.PaymentRequest{ID: id, Amount: paykit.Money{Amount: 250, Currency: "ECS"}})
	require.NoError(t, err)
	assert.Equal(t, canonical, pay.ID, "CreatePayment gives the canonical id")
	_, err = srv.Pay(id)
	require.NoError(t, err)
	deliveries := srv.Deliveries()
	require.Len(t, deliveries, 1)
	captured := deliveries[0].Body // what an eavesdropper on the merchant's endpoint saw

	variants := caseVariants(id, 6)
	require.Len(t, variants, 6)
	bodies := []string{string(captured)}
	for _, v := range variants {
		bodies = append(bodies, withRequestID(t, captured, v))
	}

	router, err := paykit.NewRouter([]paykit.Provider{c}, []paykit.Route{{Name: "all", Providers: []string{ecredits.ProviderName}}})
	require.NoError(t, err)
	for _, tc := range []struct {
		name  string
		path  string
		build func(fn func(context.Context, *paykit.Notification) error) http.Handler
	}{
		{"NewWebhookHandler", "/hook", func(fn func(context.Context, *paykit.Notification) error) http.Handler {
			return paykit.NewWebhookHandler(c, fn)
		}},
		{"Router.WebhookHandler", "/webhooks/ecredits", func(fn func(context.Context, *paykit.Notification) error) http.Handler {
			return router.WebhookHandler("/webhooks", fn)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var seen []*paykit.Notification
			h := tc.build(func(_ context.Context, n *paykit.Notification) error {
				mu.Lock()
				defer mu.Unlock()
				seen = append(seen, n)
				return nil
			})
			for i, body := range bodies {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, tc.path, strings.NewReader(body)))
				require.Equal(t, http.StatusOK, rec.Code, "delivery %d: %s", i, rec.Body)
			}
			mu.Lock()
			defer mu.Unlock()
			require.Len(t, seen, 1, "one paid payment, one run of fn, whatever case the id came in")
			assert.Equal(t, canonical, seen[0].PaymentID)
			assert.Equal(t, canonical, seen[0].Payment.ID)
			assert.Equal(t, paykit.StatusSucceeded, seen[0].Payment.Status)
		})
	}
}

// GetPayment, CreatePayment and ParseNotification give the canonical id, lower case,
// whatever case the caller or the webhook used.
func TestCanonicalIDs(t *testing.T) {
	t.Parallel()
	_, c := setup(t, ecreditstest.Config{})
	ctx := ctxT(t)
	id := mixedCaseID()
	canonical := strings.ToLower(id)
	req := paykit.PaymentRequest{ID: id, Amount: paykit.Money{Amount: 100, Currency: "ECS"}}

	created, err := c.CreatePayment(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, canonical, created.ID)
	req.ID = strings.ToUpper(id)
	again, err := c.CreatePayment(ctx, req)
	require.NoError(t, err, "one request: ids compare ignoring case")
	assert.Equal(t, canonical, again.ID)

	for _, v := range append(caseVariants(id, 3), id) {
		p, err := c.GetPayment(ctx, v)
		require.NoError(t, err)
		assert.Equal(t, canonical, p.ID, "GetPayment(%s)", v)
		assert.True(t, strings.EqualFold(p.ProviderID, id), "ProviderID %s is eCredits' own spelling", p.ProviderID)

		n, err := c.ParseNotification(httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(signedWebhook(t, v, 0, ""))))
		require.NoError(t, err)
		assert.Equal(t, canonical, n.PaymentID, "ParseNotification of %s", v)
	}
}

// Issue 13, item 9: a client without a WebhookSecret refuses every webhook (401 through the
// handler) and says why; a webhook signed with the empty key is no exception.
func TestNoWebhookSecretRefusesEveryWebhook(t *testing.T) {
	t.Parallel()
	srv := ecreditstest.NewServer(ecreditstest.Config{})
	t.Cleanup(srv.Close)
	c, err := ecredits.New(ecredits.Config{ClientID: ecreditstest.DefaultClientID, Secret: ecreditstest.DefaultSecret, BaseURL: srv.URL}, fastRetry)
	require.NoError(t, err)
	ctx := ctxT(t)
	pay := createPending(t, ctx, c)
	before := len(srv.CallLog())

	body := func(secret string) string {
		b, err := json.Marshal(map[string]any{"requestId": pay.ID, "status": 1, "transactionHash": "0x1", "signature": ecredits.Sign(secret, pay.ID)})
		require.NoError(t, err)
		return string(b)
	}
	runs := 0
	h := paykit.NewWebhookHandler(c, func(context.Context, *paykit.Notification) error { runs++; return nil })
	for _, secret := range []string{"", ecreditstest.DefaultWebhookSecret, "anything"} {
		_, err := c.ParseNotification(httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(body(secret))))
		require.ErrorIs(t, err, paykit.ErrInvalidSignature, "signed with %q", secret)
		assert.Contains(t, err.Error(), "WebhookSecret is not configured")

		_, err = c.VerifyWebhook([]byte(body(secret)))
		require.ErrorIs(t, err, paykit.ErrInvalidSignature)

		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(body(secret))))
		assert.Equal(t, http.StatusUnauthorized, rec.Code)
	}
	assert.Zero(t, runs)
	assert.Len(t, srv.CallLog(), before, "nothing was fetched for a refused webhook")

	// The package's VerifyWebhook with an empty secret verifies nothing either.
	_, err = ecredits.VerifyWebhook("", []byte(body("")))
	require.ErrorIs(t, err, paykit.ErrInvalidSignature)
	// A client that has the secret still verifies.
	_, cs := setup(t, ecreditstest.Config{})
	_, err = cs.VerifyWebhook([]byte(body(ecreditstest.DefaultWebhookSecret)))
	require.NoError(t, err)
}

// badIDs break the id rule every provider shares (internal/ids.Check) or eCredits' own (a
// GUID). None may reach eCredits.
func badIDs() map[string]string {
	guid := ecredits.NewID()
	return map[string]string{
		"empty":              "",
		"dot":                ".",
		"dot-dot":            "..",
		"NUL":                guid[:10] + "\x00" + guid[11:],
		"newline":            guid + "\n",
		"carriage return":    "\r" + guid,
		"5000 characters":    strings.Repeat("a", 5000),
		"65 bytes":           guid + guid[:29],
		"not a GUID":         "order-1001",
		"GUID with a slash":  guid[:8] + "/" + guid[9:],
		"GUID and a segment": guid + "/..",
		"invalid UTF-8":      guid[:35] + "\xff",
	}
}

// Issue 13, item 10: every id is checked before anything is sent.
func TestBadIDsAreRefusedBeforeSending(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, ecreditstest.Config{})
	ctx := ctxT(t)
	amount := paykit.Money{Amount: 100, Currency: "ECS"}
	for name, id := range badIDs() {
		calls := map[string]func() error{
			"CreatePayment": func() error {
				if id == "" {
					return paykit.ErrInvalidRequest // an empty id is generated, not refused
				}
				_, err := c.CreatePayment(ctx, paykit.PaymentRequest{ID: id, Amount: amount})
				return err
			},
			"GetPayment": func() error { _, err := c.GetPayment(ctx, id); return err },
			"CreateRequest": func() error {
				_, err := c.CreateRequest(ctx, ecredits.CreateRequestParams{ID: id, Amount: amount})
				return err
			},
			"GetRequest": func() error { _, err := c.GetRequest(ctx, id, nil); return err },
			"Paid":       func() error { _, err := c.Paid(ctx, id); return err },
			"Payments":   func() error { _, err := c.Payments(ctx, id); return err },
			"WaitPaid":   func() error { _, err := c.WaitPaid(ctx, id, nil); return err },
			"ParseNotification": func() error {
				b, err := json.Marshal(map[string]any{"requestId": id, "status": 1, "signature": ecredits.Sign(ecreditstest.DefaultWebhookSecret, id)})
				require.NoError(t, err)
				_, err = c.ParseNotification(httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(string(b))))
				return err
			},
		}
		for call, f := range calls {
			err := f()
			require.ErrorIs(t, err, paykit.ErrInvalidRequest, "%s(%s)", call, name)
			if id != "" && len(id) < 100 {
				assert.NotContains(t, err.Error(), id+"\n", "%s(%s): an id is quoted, never written raw", call, name)
			}
		}
	}
	assert.Empty(t, srv.CallLog(), "nothing was sent")

	// Through the handler a webhook naming a bad id is 400, and nothing is fetched.
	h := paykit.NewWebhookHandler(c, func(context.Context, *paykit.Notification) error { return nil })
	b, err := json.Marshal(map[string]any{"requestId": "..", "status": 1, "signature": ecredits.Sign(ecreditstest.DefaultWebhookSecret, "..")})
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(string(b))))
	assert.Equal(t, http.StatusBadRequest, rec.Code)
	assert.Empty(t, srv.CallLog())
}

// Issue 13, item 4: concurrent creates of one id, from one client and from two clients that
// share nothing but eCredits, make one request at eCredits and give the same answer; once it
// is paid, no create offers a way to pay it again.
func TestConcurrentCreatesOfOneID(t *testing.T) {
	t.Parallel()
	for _, clients := range []int{1, 2} {
		t.Run(fmt.Sprintf("%d clients", clients), func(t *testing.T) {
			t.Parallel()
			srv := ecreditstest.NewServer(ecreditstest.Config{})
			t.Cleanup(srv.Close)
			cs := make([]*ecredits.Client, clients)
			for i := range cs {
				c, err := ecredits.New(ecredits.Config{ClientID: ecreditstest.DefaultClientID, Secret: ecreditstest.DefaultSecret,
					WebhookSecret: ecreditstest.DefaultWebhookSecret, BaseURL: srv.URL}, fastRetry)
				require.NoError(t, err)
				cs[i] = c
			}
			ctx := ctxT(t)
			id := mixedCaseID()
			req := paykit.PaymentRequest{ID: id, Amount: paykit.Money{Amount: 4200, Currency: "EUR"}}

			const n = 8
			create := func() []*paykit.Payment {
				out := make([]*paykit.Payment, n)
				errs := make([]error, n)
				start := make(chan struct{})
				var wg sync.WaitGroup
				for i := range n {
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-start
						r := req
						if i%2 == 1 {
							r.ID = strings.ToUpper(id) // the same id, as another caller spells it
						}
						out[i], errs[i] = cs[i%clients].CreatePayment(ctx, r)
					}()
				}
				close(start)
				wg.Wait()
				for i := range n {
					require.NoError(t, errs[i], "create %d", i)
				}
				return out
			}

			first := create()
			for i, p := range first {
				assert.Equal(t, strings.ToLower(id), p.ID, "create %d", i)
				assert.Equal(t, paykit.StatusPending, p.Status, "create %d", i)
				assert.Equal(t, req.Amount, p.Amount, "create %d", i)
				require.NotNil(t, p.Action, "create %d", i)
				assert.Equal(t, first[0].Action.QRCode, p.Action.QRCode, "create %d: one request, one QR code", i)
			}
			r, ok := srv.Request(id)
			require.True(t, ok)
			assert.Empty(t, r.Payments)

			_, err := srv.Pay(id)
			require.NoError(t, err)
			for i, p := range create() {
				assert.Equal(t, paykit.StatusSucceeded, p.Status, "create %d after payment", i)
				assert.Nil(t, p.Action, "create %d: no second way to pay a paid payment", i)
			}
			r, _ = srv.Request(id)
			assert.Len(t, r.Payments, 1, "paid once")
		})
	}
}

// Issue 13, item 12: a Client printed as a value (the dereferenced pointer, or inside another
// struct, exported field or not), with any verb, and logged, shows no secret.
func TestClientValuePrintsNoSecret(t *testing.T) {
	t.Parallel()
	const secret, hookSecret = "api-key-9f8e7d", "hook-secret-1a2b3c"
	c, err := ecredits.New(ecredits.Config{ClientID: ecreditstest.DefaultClientID, Secret: secret, WebhookSecret: hookSecret, BaseURL: ecredits.SandboxURL})
	require.NoError(t, err)
	var logs logbuf.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	allVerbs := []string{"%v", "%+v", "%#v", "%s", "%d", "%x", "%q"}
	values := map[string]any{
		"*c":             *c,
		"c":              c,
		"exported field": struct{ C ecredits.Client }{*c},
		"zero":           ecredits.Client{},
		// fmt calls no method of an unexported field; the secrets are behind a pointer,
		// which it prints as an address. (A verb that does not fit a pointer, %s or %q,
		// makes fmt print the pointee, as it does for any struct.)
		"unexported field":   struct{ c ecredits.Client }{*c},
		"pointer in a field": struct{ c *ecredits.Client }{c},
	}
	for name, v := range values {
		verbs := allVerbs
		if strings.HasSuffix(name, "field") && name != "exported field" {
			verbs = []string{"%v", "%+v", "%#v", "%d", "%x"}
		}
		for _, verb := range verbs {
			out := fmt.Sprintf(verb, v)
			assert.NotContains(t, out, secret, "%s %s: %s", name, verb, out)
			assert.NotContains(t, out, hookSecret, "%s %s: %s", name, verb, out)
			assert.NotContains(t, out, fmt.Sprintf("%x", secret), "%s %s", name, verb)
		}
		log.Info("client", "v", v)
	}
	assert.Contains(t, fmt.Sprintf("%#v", *c), ecreditstest.DefaultClientID, "the client still says who it is")
	assert.NotContains(t, logs.String(), secret)
	assert.NotContains(t, logs.String(), hookSecret)
}

// Capture, Refund and Cancel are unsupported, with Money{0, "ECS"} too, and send nothing.
func TestUnsupportedSendNothing(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, ecreditstest.Config{})
	ctx := ctxT(t)
	for _, amount := range []paykit.Money{{}, {Currency: "ECS"}, {Amount: 100, Currency: "ECS"}} {
		_, err := c.Capture(ctx, ecredits.NewID(), amount, paykit.IdempotencyKey("k"))
		require.ErrorIs(t, err, paykit.ErrUnsupported)
		_, err = c.Refund(ctx, ecredits.NewID(), amount)
		require.ErrorIs(t, err, paykit.ErrUnsupported)
	}
	_, err := c.Cancel(ctx, ecredits.NewID())
	require.ErrorIs(t, err, paykit.ErrUnsupported)
	assert.Empty(t, srv.CallLog())
}

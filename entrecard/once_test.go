package entrecard_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/entrecard"
	"github.com/paykit/paykit/internal/logbuf"
)

// Issue 13, item 9: a result signed with an empty key never verifies. New refuses a Config
// without a Secret, and a Client not made by New (the zero value), which has none, refuses
// every result with ErrInvalidSignature and says why, and signs no link.
func TestEmptySecretNeverVerifies(t *testing.T) {
	t.Parallel()
	_, err := entrecard.New(entrecard.Config{SellerID: testSeller})
	require.ErrorIs(t, err, paykit.ErrInvalidRequest)

	// A result signed with the empty key, for the empty seller id a zero Client has: the
	// SHA-1 of the message alone, which anyone can compute.
	var forger entrecard.Client
	forged := entrecard.Result{ID: "order-42", Total: 100, TransactionID: "7", Status: entrecard.ResultComplete}
	query := forger.ResultQuery(forged)
	for name, c := range map[string]*entrecard.Client{"zero Client": {}, "new(Client)": new(entrecard.Client)} {
		_, err := c.VerifyResult(mustQuery(t, query))
		require.ErrorIs(t, err, paykit.ErrInvalidSignature, name)
		assert.Contains(t, err.Error(), "Secret is not configured", name)

		_, err = c.ReadNotification(httptest.NewRequest(http.MethodGet, "/notify?"+query, nil))
		require.ErrorIs(t, err, paykit.ErrInvalidSignature, name)
		_, err = c.ParseRedirect(context.Background(), "https://shop.example/thanks?"+query)
		require.ErrorIs(t, err, paykit.ErrInvalidSignature, name)

		_, err = c.BuyURL(validBuy())
		require.ErrorIs(t, err, paykit.ErrInvalidRequest, "%s: no link signed with an empty key", name)
	}

	// A client with its secret still refuses the forgery, and verifies its own results.
	c := newClient(t)
	_, err = c.VerifyResult(mustQuery(t, query))
	require.ErrorIs(t, err, paykit.ErrInvalidSignature)
	own := forged
	own.SellerID = testSeller
	_, err = c.VerifyResult(mustQuery(t, c.ResultQuery(own)))
	require.NoError(t, err)
}

// Issue 13, item 10: ids that break paykit's id rule are refused before a link is built.
// Entrecard's own rule, [A-Za-z0-9_-]{1,32}, is stricter, so this held before.
func TestBadIDsMakeNoLink(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	ctx := context.Background()
	for name, id := range map[string]string{
		"dot": ".", "dot-dot": "..", "NUL": "order\x00", "newline": "order-1\n", "5000 characters": strings.Repeat("a", 5000),
		"33 characters": strings.Repeat("a", 33), "slash": "a/b", "space": "a b", "non-ASCII": "ördér",
	} {
		b := validBuy()
		b.ItemID = id
		_, err := c.BuyURL(b)
		wantKind(t, err, paykit.ErrInvalidRequest)
		req := validPayment()
		req.ID = id
		_, err = c.CreatePayment(ctx, req)
		wantKind(t, err, paykit.ErrInvalidRequest)
		assert.NotContains(t, err.Error(), id+"\n", name)
		_, err = c.GetPayment(ctx, id)
		wantKind(t, err, paykit.ErrNotFound)
	}
}

// Issue 13, item 12: a Client printed as a value (the dereferenced pointer, or inside another
// struct), with any verb, and logged, shows no secret.
func TestClientValuePrintsNoSecret(t *testing.T) {
	t.Parallel()
	const secret = "seller-secret-9f8e7d"
	c, err := entrecard.New(entrecard.Config{SellerID: testSeller, Secret: secret})
	require.NoError(t, err)
	var logs logbuf.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	allVerbs := []string{"%v", "%+v", "%#v", "%s", "%d", "%x", "%q"}
	values := map[string]any{
		"*c":             *c,
		"c":              c,
		"exported field": struct{ C entrecard.Client }{*c},
		"zero":           entrecard.Client{},
		// fmt calls no method of an unexported field; the secret is behind a pointer, which
		// it prints as an address. (A verb that does not fit a pointer, %s or %q, makes fmt
		// print the pointee, as it does for any struct.)
		"unexported field":   struct{ c entrecard.Client }{*c},
		"pointer in a field": struct{ c *entrecard.Client }{c},
	}
	for name, v := range values {
		verbs := allVerbs
		if strings.HasSuffix(name, "field") && name != "exported field" {
			verbs = []string{"%v", "%+v", "%#v", "%d", "%x"}
		}
		for _, verb := range verbs {
			out := fmt.Sprintf(verb, v)
			assert.NotContains(t, out, secret, "%s %s: %s", name, verb, out)
			assert.NotContains(t, out, fmt.Sprintf("%x", secret), "%s %s: %s", name, verb, out)
		}
		log.Info("client", "v", v)
	}
	assert.Contains(t, fmt.Sprintf("%#v", *c), testSeller, "the client still says who it is")
	assert.NotContains(t, logs.String(), secret)
}

// Capture, Refund and Cancel are unsupported, with Money{0, "EC"} too.
func TestUnsupportedWithZeroAmount(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	ctx := context.Background()
	for _, amount := range []paykit.Money{{}, {Currency: entrecard.Currency}} {
		_, err := c.Capture(ctx, "order-42", amount, paykit.IdempotencyKey("k"))
		wantKind(t, err, paykit.ErrUnsupported)
		_, err = c.Refund(ctx, "order-42", amount)
		wantKind(t, err, paykit.ErrUnsupported)
	}
	_, err := c.Cancel(ctx, "order-42")
	wantKind(t, err, paykit.ErrUnsupported)
}

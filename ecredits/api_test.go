package ecredits_test

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/ecredits"
	"github.com/paykit/paykit/ecredits/ecreditstest"
	"github.com/paykit/paykit/internal/logbuf"
)

// Payment.Reference is the paymentReference eCredits keeps, the same from CreatePayment,
// GetPayment and a repeated create; without one given it is the id, in the form Payment.ID
// has; and a request made without any reference (the native CreateRequest) reads as its id,
// never as "".
func TestReferenceIsTheSameOnEveryCall(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, ecreditstest.Config{})
	ctx := ctxT(t)
	amount := paykit.Money{Amount: 500, Currency: "ECS"}

	cases := []struct {
		name, id, reference, want string
	}{
		{"given", ecredits.NewID(), "order-1001", "order-1001"},
		{"defaulted", ecredits.NewID(), "", ""},
		{"defaulted, id in upper case", strings.ToUpper(ecredits.NewID()), "", ""},
	}
	for _, tc := range cases {
		want := tc.want
		if want == "" {
			want = strings.ToLower(tc.id)
		}
		created, err := c.CreatePayment(ctx, paykit.PaymentRequest{ID: tc.id, Amount: amount, Reference: tc.reference})
		require.NoError(t, err, tc.name)
		assert.Equal(t, want, created.Reference, "%s: create", tc.name)
		got, err := c.GetPayment(ctx, tc.id)
		require.NoError(t, err, tc.name)
		assert.Equal(t, want, got.Reference, "%s: get", tc.name)
		again, err := c.CreatePayment(ctx, paykit.PaymentRequest{ID: tc.id, Amount: amount, Reference: "another"})
		require.NoError(t, err, tc.name)
		assert.Equal(t, want, again.Reference, "%s: a repeated create answers the reference eCredits keeps", tc.name)
		_, err = srv.Pay(tc.id)
		require.NoError(t, err)
		paid, err := c.GetPayment(ctx, tc.id)
		require.NoError(t, err, tc.name)
		assert.Equal(t, want, paid.Reference, "%s: get after paying", tc.name)
	}

	id := ecredits.NewID()
	_, err := c.CreateRequest(ctx, ecredits.CreateRequestParams{ID: id, Amount: amount})
	require.NoError(t, err)
	p, err := c.GetPayment(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, id, p.Reference, "a request made without a reference has its id as the reference")
}

// Every HTTP call about a payment logs its id at debug level (payment_id), so that one
// payment's calls can be found in the logs; the authentication call is about none.
func TestDebugLinesCarryThePaymentID(t *testing.T) {
	t.Parallel()
	var logs logbuf.Buffer
	srv, c := setup(t, ecreditstest.Config{}, paykit.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	ctx := ctxT(t)
	id := ecredits.NewID()
	_, err := c.CreatePayment(ctx, paykit.PaymentRequest{ID: id, Amount: paykit.Money{Amount: 500, Currency: "ECS"}})
	require.NoError(t, err)
	_, err = srv.Pay(id)
	require.NoError(t, err)
	_, err = c.GetPayment(ctx, id)
	require.NoError(t, err)
	_, err = c.Payments(ctx, id)
	require.NoError(t, err)

	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if strings.Contains(l, "paykit http attempt") {
			lines = append(lines, l)
		}
	}
	require.Len(t, lines, 5, "authenticate, create, get, paid, payments:\n%s", logs.String())
	for _, l := range lines {
		if strings.Contains(l, "op=authenticate") {
			assert.NotContains(t, l, "payment_id=", "the token call is about no payment")
			continue
		}
		assert.Contains(t, l, "payment_id="+id, "%s", l)
	}
	assert.Equal(t, 4, strings.Count(logs.String(), "payment_id="+id))
	assert.Equal(t, 1, srv.Calls(http.MethodGet, ecreditstest.RouteRequestPayments))
}

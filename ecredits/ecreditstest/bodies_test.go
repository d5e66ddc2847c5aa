package ecreditstest

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The builders a merchant's mocks answer with are byte for byte what the fake answers for
// the same state, so the bodies documented for httpmock cannot drift from the fake.
func TestBodiesAreWhatTheFakeAnswers(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{})

	auth := call(t, s, http.MethodPost, RouteAuthentication, "", authBody())
	require.Equal(t, http.StatusOK, auth.status, "%s", auth.body)
	var tok struct{ Token, ExpiresAt string }
	auth.decode(t, &tok)
	expires, err := time.Parse(time.RFC3339Nano, tok.ExpiresAt)
	require.NoError(t, err)
	assert.Equal(t, string(auth.body), string(AuthBody(tok.Token, expires)), "authentication")

	cases := []struct {
		name, id, body string
	}{
		{"EUR with a reference", "5e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b",
			`{"id":"5e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b","amountDue":99.99,"currencyCode":"EUR","paymentReference":"order-1001"}`},
		{"ECS without a reference, mixed case", docID,
			`{"id":"` + docID + `","amountDue":12.5,"currencyCode":"ECS"}`},
		{"EUR, whole euros", "0b7f3c2e-5d41-4a8e-9c6f-2e1d3b4a5c6d",
			`{"id":"0b7f3c2e-5d41-4a8e-9c6f-2e1d3b4a5c6d","amountDue":10,"currencyCode":"EUR","paymentReference":""}`},
	}
	for _, tc := range cases {
		created := call(t, s, http.MethodPost, RouteRequests, tok.Token, tc.body)
		require.Equal(t, http.StatusOK, created.status, "%s: %s", tc.name, created.body)
		r, ok := s.Request(tc.id)
		require.True(t, ok, tc.name)
		want := string(RequestBody(r))
		assert.Equal(t, want, string(created.body), "%s: create", tc.name)
		got := call(t, s, http.MethodGet, "/api/v1/requests/"+tc.id, tok.Token, nil)
		assert.Equal(t, want, string(got.body), "%s: get", tc.name)

		paid := call(t, s, http.MethodGet, "/api/v1/requests/"+tc.id+"/paid", tok.Token, nil)
		assert.Equal(t, string(PaidBody(false)), string(paid.body), "%s: unpaid", tc.name)
		payments := call(t, s, http.MethodGet, "/api/v1/requests/"+tc.id+"/payments", tok.Token, nil)
		assert.Equal(t, string(PaymentsBody(nil)), string(payments.body), "%s: no payments", tc.name)

		requirePay(t, s, tc.id)
		requirePay(t, s, tc.id) // paid twice: two hashes
		r, _ = s.Request(tc.id)
		paid = call(t, s, http.MethodGet, "/api/v1/requests/"+tc.id+"/paid", tok.Token, nil)
		assert.Equal(t, string(PaidBody(true)), string(paid.body), "%s: paid", tc.name)
		payments = call(t, s, http.MethodGet, "/api/v1/requests/"+tc.id+"/payments", tok.Token, nil)
		assert.Equal(t, string(PaymentsBody(r.Payments)), string(payments.body), "%s: payments", tc.name)
		got = call(t, s, http.MethodGet, "/api/v1/requests/"+tc.id, tok.Token, nil)
		assert.Equal(t, want, string(got.body), "%s: a paid request reads the same", tc.name)
	}
}

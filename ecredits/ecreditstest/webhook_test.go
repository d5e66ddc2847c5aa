package ecreditstest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit/ecredits"
)

func guid(i int) string { return fmt.Sprintf("%08x-2926-4fa7-8fed-c5805f823167", i+1) }

func TestSign(t *testing.T) {
	t.Parallel()
	tests := []struct{ secret, id, want string }{
		// The vector of the design notes: the id is lower-cased before signing.
		{"TheSigningSecretOfTheWebHook", "70df7B42-2926-4fa7-8fed-c5805f823167", "f41RNMrifDO3/KB6dBB+MafKoSWb00ijzIOLk25KHks="},
		{"TheSigningSecretOfTheWebHook", "70DF7B42-2926-4FA7-8FED-C5805F823167", "f41RNMrifDO3/KB6dBB+MafKoSWb00ijzIOLk25KHks="},
		{"TheSigningSecretOfTheWebHook", "70df7b42-2926-4fa7-8fed-c5805f823167", "f41RNMrifDO3/KB6dBB+MafKoSWb00ijzIOLk25KHks="},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, sign(tc.secret, tc.id), "sign(%q, %q)", tc.secret, tc.id)
		// The fake signs on its own code; the SDK's signer must agree with it.
		assert.Equal(t, tc.want, ecredits.Sign(tc.secret, tc.id), "ecredits.Sign(%q, %q)", tc.secret, tc.id)
	}
	// Without lower-casing the mixed-case id would sign to this; make sure it is not used.
	assert.NotEqual(t, "74IrGpVF8Dp90FRE5D94Qo5JBoFi+2OqRGwK17YcRjE=", sign("TheSigningSecretOfTheWebHook", docID))
	assert.NotEqual(t, tests[0].want, sign("another secret", docID), "the secret changes the signature")
}

func TestWebhookHelpers(t *testing.T) {
	t.Parallel()
	ev := ecredits.WebhookEvent{RequestID: docID, Status: ecredits.RequestSettled, TransactionHash: "0x" + strings.Repeat("ab", 32), TestMode: true}
	body := WebhookBody(DefaultWebhookSecret, ev)
	want := `{"requestId":"` + docID + `","status":1,"transactionHash":"0x` + strings.Repeat("ab", 32) +
		`","signature":"f41RNMrifDO3/KB6dBB+MafKoSWb00ijzIOLk25KHks=","testMode":true}`
	assert.Equal(t, want, string(body))
	expired := WebhookBody("s", ecredits.WebhookEvent{RequestID: docID, Status: ecredits.RequestExpired})
	assert.Contains(t, string(expired), `"status":2,"transactionHash":null,`)

	// What the helpers build, the SDK verifies.
	got, err := ecredits.VerifyWebhook(DefaultWebhookSecret, body)
	require.NoError(t, err)
	assert.Equal(t, ev, *got)

	r := NewWebhookRequest("/hooks/ecredits", DefaultWebhookSecret, ev)
	b, _ := io.ReadAll(r.Body)
	assert.Equal(t, http.MethodPost, r.Method)
	assert.Equal(t, "/hooks/ecredits", r.URL.Path)
	assert.Equal(t, want, string(b))
	assert.True(t, strings.HasPrefix(r.Header.Get("Content-Type"), "application/json"))
}

// receiver is a merchant's webhook endpoint for tests.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	bodies [][]byte
}

// newReceiver answers the n-th webhook (1-based) with status(n).
func newReceiver(t *testing.T, status func(n int) int) *receiver {
	t.Helper()
	rc := &receiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.bodies = append(rc.bodies, b)
		n := len(rc.bodies)
		rc.mu.Unlock()
		if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(status(n))
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) received() [][]byte {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([][]byte(nil), rc.bodies...)
}

// webhookJSONOf decodes a webhook body as the provider writes it.
func webhookJSONOf(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m), "%s", b)
	return m
}

func TestWebhookRetriesUntil200(t *testing.T) {
	t.Parallel()
	codes := []int{500, 404, 204, 200}
	rc := newReceiver(t, func(n int) int { return codes[min(n, len(codes))-1] })
	s := newServer(t, Config{NotifyURL: rc.URL, RetryMinWait: time.Millisecond, RetryMaxWait: 2 * time.Millisecond})
	tok := login(t, s)
	create(t, s, tok, `{"id":"`+docID+`","amountDue":99.99,"currencyCode":"EUR","testMode":true}`)
	ctx := guardCtx(t)
	requirePay(t, s, strings.ToLower(docID))
	hash := lastHash(t, s, docID)
	require.NoError(t, s.WaitDelivered(ctx, docID))

	bodies := rc.received()
	require.Len(t, bodies, 4)
	for i, b := range bodies {
		// The document's vector: the fake signs with the default secret.
		assert.Equal(t, map[string]any{
			"requestId": docID, "status": 1.0, "transactionHash": hash,
			"signature": "f41RNMrifDO3/KB6dBB+MafKoSWb00ijzIOLk25KHks=", "testMode": true,
		}, webhookJSONOf(t, b), "post %d", i)
		assert.Equal(t, string(bodies[0]), string(b), "post %d is the same as the first", i)
	}

	ds := s.Deliveries()
	require.Len(t, ds, 1)
	d := ds[0]
	assert.True(t, d.Delivered)
	assert.Equal(t, rc.URL, d.URL)
	assert.Equal(t, docID, d.PaymentID, "the request id as created")
	assert.Equal(t, "Settled", d.Event, "the status's name, as ParseNotification's Event")
	assert.Equal(t, string(bodies[0]), string(d.Body))
	var got []int
	for _, a := range d.Attempts {
		got = append(got, a.StatusCode)
	}
	assert.Equal(t, codes, got)
}

func TestNotifyURLFromConfigAndChanged(t *testing.T) {
	t.Parallel()
	first := newReceiver(t, func(int) int { return 200 })
	second := newReceiver(t, func(int) int { return 200 })
	s := newServer(t, Config{NotifyURL: first.URL, WebhookSecret: "other secret"})
	tok := login(t, s)
	create(t, s, tok, ecsBody(docID, "1"))
	create(t, s, tok, ecsBody(guid(1), "1"))
	create(t, s, tok, ecsBody(guid(2), "1"))
	ctx := guardCtx(t)

	requirePay(t, s, docID)
	require.NoError(t, s.WaitDelivered(ctx, docID))
	s.SetNotifyURL(second.URL)
	require.NoError(t, s.Expire(guid(1)))
	require.NoError(t, s.WaitDelivered(ctx, strings.ToUpper(guid(1))))
	assert.Len(t, first.received(), 1)
	assert.Equal(t, []string{string(WebhookBody("other secret", ecredits.WebhookEvent{RequestID: guid(1), Status: ecredits.RequestExpired}))},
		stringsOf(second.received()))

	// No URL configured: nothing is sent and WaitDelivered says so, at once.
	s.SetNotifyURL("")
	require.ErrorIs(t, s.WaitDelivered(ctx, guid(2)), ErrNoNotifyURL)
	requirePay(t, s, guid(2))
	require.ErrorIs(t, s.WaitDelivered(ctx, guid(2)), ErrNoNotifyURL)
	ds := s.Deliveries()
	require.Len(t, ds, 3)
	assert.Empty(t, ds[2].URL)
	assert.Empty(t, ds[2].Attempts, "a webhook without a URL is not sent")
}

func stringsOf(bs [][]byte) []string {
	var out []string
	for _, b := range bs {
		out = append(out, string(b))
	}
	return out
}

func TestWebhookPayTwice(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, func(int) int { return 200 })
	s := newServer(t, Config{NotifyURL: rc.URL})
	create(t, s, login(t, s), ecsBody(docID, "1"))
	ctx := guardCtx(t)
	requirePay(t, s, docID)
	requirePay(t, s, docID)
	require.NoError(t, s.WaitDelivered(ctx, docID))
	r, _ := s.Request(docID)
	require.Len(t, r.Payments, 2)
	var hashes []string
	for _, d := range s.Deliveries() {
		assert.True(t, d.Delivered)
		assert.Equal(t, "Settled", d.Event)
		ev, err := ecredits.VerifyWebhook(DefaultWebhookSecret, d.Body)
		require.NoError(t, err)
		hashes = append(hashes, ev.TransactionHash)
	}
	assert.Equal(t, r.Payments, hashes, "one webhook per payment, each with its hash")
}

func TestWebhookGivesUp(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, func(int) int { return 503 })
	s := newServer(t, Config{NotifyURL: rc.URL, MaxDeliveryAttempts: 3, RetryMinWait: time.Millisecond})
	create(t, s, login(t, s), ecsBody(docID, "1"))
	ctx := guardCtx(t)
	requirePay(t, s, docID)
	require.ErrorIs(t, s.WaitDelivered(ctx, docID), ErrGaveUp)
	assert.Len(t, rc.received(), 3)
	d := s.Deliveries()[0]
	assert.False(t, d.Delivered)
	assert.True(t, d.Done)
	assert.Len(t, d.Attempts, 3)
}

func TestWebhookRedeliver(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, func(int) int { return 200 })
	s := newServer(t, Config{NotifyURL: rc.URL})
	create(t, s, login(t, s), ecsBody(docID, "1"))
	ctx := guardCtx(t)
	requirePay(t, s, docID)
	require.NoError(t, s.WaitDelivered(ctx, docID))
	code, err := s.Redeliver(ctx, strings.ToUpper(docID))
	require.NoError(t, err)
	assert.Equal(t, 200, code)
	got := rc.received()
	require.Len(t, got, 2)
	assert.Equal(t, string(got[0]), string(got[1]), "a replay is the same webhook")
}

func TestCloseStopsDeliveries(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, func(int) int { return 500 })
	s := NewServer(Config{NotifyURL: rc.URL, RetryMinWait: 5 * time.Millisecond, RetryMaxWait: 5 * time.Millisecond})
	tok := login(t, s)
	create(t, s, tok, ecsBody(docID, "1"))
	ctx := guardCtx(t)
	requirePay(t, s, docID)
	require.Eventually(t, func() bool { return len(rc.received()) >= 2 }, guard, time.Millisecond)

	s.Close()
	// An attempt already on the wire when Close came may still reach the receiver after the
	// fake gave up on it (as in internal/fakeserver's TestCloseStopsRetries); let it land,
	// then expect nothing more.
	time.Sleep(10 * time.Millisecond)
	after := len(rc.received())
	time.Sleep(60 * time.Millisecond) // a dozen retry intervals
	assert.Len(t, rc.received(), after, "no webhook posts after Close")
	d := s.Deliveries()[0]
	assert.True(t, d.Done)
	assert.False(t, d.Delivered)
	require.ErrorIs(t, s.WaitDelivered(ctx, docID), ErrClosed)
	_, err := s.Pay(docID)
	require.ErrorIs(t, err, ErrClosed)
	require.ErrorIs(t, s.Expire(docID), ErrClosed)
	_, err = http.Get(s.URL + RouteRequests)
	require.Error(t, err, "the server still answers after Close")
	s.Close() // a second Close does nothing
}

package ecreditstest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func guid(i int) string { return fmt.Sprintf("%08x-2926-4fa7-8fed-c5805f823167", i+1) }

func TestSignWebhook(t *testing.T) {
	t.Parallel()
	tests := []struct{ secret, id, want string }{
		// The vector of the design notes: the id is lower-cased before signing.
		{"TheSigningSecretOfTheWebHook", "70df7B42-2926-4fa7-8fed-c5805f823167", "f41RNMrifDO3/KB6dBB+MafKoSWb00ijzIOLk25KHks="},
		{"TheSigningSecretOfTheWebHook", "70DF7B42-2926-4FA7-8FED-C5805F823167", "f41RNMrifDO3/KB6dBB+MafKoSWb00ijzIOLk25KHks="},
		{"TheSigningSecretOfTheWebHook", "70df7b42-2926-4fa7-8fed-c5805f823167", "f41RNMrifDO3/KB6dBB+MafKoSWb00ijzIOLk25KHks="},
	}
	for _, tc := range tests {
		if got := SignWebhook(tc.secret, tc.id); got != tc.want {
			t.Errorf("SignWebhook(%q, %q) = %q, want %q", tc.secret, tc.id, got, tc.want)
		}
	}
	// Without lower-casing the mixed-case id would sign to this; make sure it is not used.
	if got := SignWebhook("TheSigningSecretOfTheWebHook", docID); got == "74IrGpVF8Dp90FRE5D94Qo5JBoFi+2OqRGwK17YcRjE=" {
		t.Error("the id was signed without lower-casing")
	}
	if SignWebhook("another secret", docID) == tests[0].want {
		t.Error("the secret does not change the signature")
	}
}

func TestWebhookHelpers(t *testing.T) {
	t.Parallel()
	ev := WebhookEvent{RequestID: docID, Status: StatusSettled, TransactionHash: "0x" + strings.Repeat("ab", 32), TestMode: true}
	body := WebhookBody(DefaultWebhookSecret, ev)
	want := `{"requestId":"` + docID + `","status":1,"transactionHash":"0x` + strings.Repeat("ab", 32) +
		`","signature":"f41RNMrifDO3/KB6dBB+MafKoSWb00ijzIOLk25KHks=","testMode":true}`
	if string(body) != want {
		t.Errorf("WebhookBody =\n%s\nwant\n%s", body, want)
	}
	expired := WebhookBody("s", WebhookEvent{RequestID: docID, Status: StatusExpired})
	if !strings.Contains(string(expired), `"status":2,"transactionHash":null,`) {
		t.Errorf("expired webhook %s, want a null transactionHash", expired)
	}

	r := NewWebhookRequest("/hooks/ecredits", DefaultWebhookSecret, ev)
	got, _ := io.ReadAll(r.Body)
	if r.Method != http.MethodPost || r.URL.Path != "/hooks/ecredits" || string(got) != want ||
		!strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		t.Errorf("NewWebhookRequest: %s %s %q %s", r.Method, r.URL, r.Header.Get("Content-Type"), got)
	}
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

func TestWebhookRetriesUntil200(t *testing.T) {
	t.Parallel()
	codes := []int{500, 404, 204, 200}
	rc := newReceiver(t, func(n int) int { return codes[min(n, len(codes))-1] })
	s := newServer(t, Config{WebhookURL: rc.URL, RetryMinWait: 20 * time.Millisecond, RetryMaxWait: 50 * time.Millisecond})
	tok := login(t, s)
	create(t, s, tok, `{"id":"`+docID+`","amountDue":99.99,"currencyCode":"EUR","testMode":true}`)
	hash, err := s.Pay(strings.ToLower(docID))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.WaitDelivered(ctx, docID); err != nil {
		t.Fatal(err)
	}

	bodies := rc.received()
	if len(bodies) != 4 {
		t.Fatalf("%d webhook posts, want 4", len(bodies))
	}
	for i, b := range bodies {
		var w struct {
			RequestID       string
			Status          int
			TransactionHash string
			Signature       string
			TestMode        bool
		}
		if err := json.Unmarshal(b, &w); err != nil {
			t.Fatal(err)
		}
		// The document's vector: the fake signs with the default secret.
		if w.RequestID != docID || w.Status != 1 || w.TransactionHash != hash || !w.TestMode ||
			w.Signature != "f41RNMrifDO3/KB6dBB+MafKoSWb00ijzIOLk25KHks=" {
			t.Errorf("post %d: %s", i, b)
		}
		if string(b) != string(bodies[0]) {
			t.Errorf("post %d differs from the first: %s", i, b)
		}
	}

	ds := s.Deliveries()
	if len(ds) != 1 {
		t.Fatalf("%d deliveries, want 1", len(ds))
	}
	d := ds[0]
	if !d.Delivered || !d.Done || d.URL != rc.URL || d.Event.TransactionHash != hash || d.Seq != 1 {
		t.Errorf("delivery %+v", d)
	}
	var got []int
	for _, a := range d.Attempts {
		got = append(got, a.StatusCode)
	}
	if fmt.Sprint(got) != fmt.Sprint(codes) {
		t.Errorf("attempt statuses %v, want %v", got, codes)
	}
	// Growing intervals: 20 ms, 40 ms, then capped at 50 ms.
	for i, want := range []time.Duration{20, 40, 50} {
		gap := d.Attempts[i+1].Time.Sub(d.Attempts[i].Time)
		if gap < want*time.Millisecond {
			t.Errorf("gap %d is %v, want at least %v ms", i, gap, want)
		}
	}
}

func TestWebhookCustomSecretAndURLChange(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, func(int) int { return 200 })
	s := newServer(t, Config{WebhookSecret: "other secret"})
	tok := login(t, s)
	create(t, s, tok, ecsBody(docID, "1"))
	create(t, s, tok, ecsBody(guid(1), "1"))

	// No URL configured: nothing is sent and WaitDelivered says so.
	if _, err := s.Pay(docID); err != nil {
		t.Fatal(err)
	}
	if err := s.WaitDelivered(context.Background(), docID); !errors.Is(err, ErrNoWebhookURL) {
		t.Errorf("WaitDelivered without a URL: %v", err)
	}
	s.SetWebhookURL(rc.URL)
	if err := s.Expire(guid(1)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.WaitDelivered(ctx, strings.ToUpper(guid(1))); err != nil {
		t.Fatal(err)
	}
	bodies := rc.received()
	want := string(WebhookBody("other secret", WebhookEvent{RequestID: guid(1), Status: StatusExpired}))
	if len(bodies) != 1 || string(bodies[0]) != want {
		t.Errorf("received %q, want one %s", bodies, want)
	}
	if len(s.Deliveries()) != 1 {
		t.Errorf("%d deliveries, want 1", len(s.Deliveries()))
	}
}

func TestWebhookPayTwice(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, func(int) int { return 200 })
	s := newServer(t, Config{WebhookURL: rc.URL})
	create(t, s, login(t, s), ecsBody(docID, "1"))
	h1, _ := s.Pay(docID)
	h2, _ := s.Pay(docID)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.WaitDelivered(ctx, docID); err != nil {
		t.Fatal(err)
	}
	hashes := map[string]bool{}
	for _, d := range s.Deliveries() {
		if !d.Delivered || d.Event.Status != StatusSettled {
			t.Errorf("delivery %+v", d)
		}
		hashes[d.Event.TransactionHash] = true
	}
	if len(hashes) != 2 || !hashes[h1] || !hashes[h2] {
		t.Errorf("webhooks carried %v, want %s and %s", hashes, h1, h2)
	}
}

func TestWebhookGivesUp(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, func(int) int { return 503 })
	s := newServer(t, Config{WebhookURL: rc.URL, MaxDeliveryAttempts: 3, RetryMinWait: time.Millisecond})
	create(t, s, login(t, s), ecsBody(docID, "1"))
	if _, err := s.Pay(docID); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.WaitDelivered(ctx, docID); !errors.Is(err, ErrGaveUp) {
		t.Fatalf("WaitDelivered: %v, want ErrGaveUp", err)
	}
	if n := len(rc.received()); n != 3 {
		t.Errorf("%d posts, want 3", n)
	}
	d := s.Deliveries()[0]
	if d.Delivered || !d.Done || len(d.Attempts) != 3 {
		t.Errorf("delivery %+v", d)
	}
}

func TestWebhookUnreachable(t *testing.T) {
	t.Parallel()
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close() // nothing listens there any more
	s := newServer(t, Config{WebhookURL: dead.URL, MaxDeliveryAttempts: 2, RetryMinWait: time.Millisecond})
	create(t, s, login(t, s), ecsBody(docID, "1"))
	if _, err := s.Pay(docID); err != nil {
		t.Fatal(err)
	}
	if err := s.WaitDelivered(context.Background(), docID); !errors.Is(err, ErrGaveUp) {
		t.Fatalf("WaitDelivered: %v, want ErrGaveUp", err)
	}
	for _, a := range s.Deliveries()[0].Attempts {
		if a.StatusCode != 0 || a.Err == nil {
			t.Errorf("attempt %+v, want a transport error", a)
		}
	}
}

func TestWaitDeliveredContext(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, func(int) int { return 500 })
	s := newServer(t, Config{WebhookURL: rc.URL})
	create(t, s, login(t, s), ecsBody(docID, "1"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	// Nothing queued yet for the id: it waits, until the context ends.
	if err := s.WaitDelivered(ctx, docID); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitDelivered: %v, want DeadlineExceeded", err)
	}
}

func TestCloseStopsDeliveries(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, func(int) int { return 500 })
	s := NewServer(Config{WebhookURL: rc.URL, RetryMinWait: 5 * time.Millisecond, RetryMaxWait: 5 * time.Millisecond})
	tok := login(t, s)
	create(t, s, tok, ecsBody(docID, "1"))
	if _, err := s.Pay(docID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "two webhook attempts", func() bool { return len(rc.received()) >= 2 })

	waitErr := make(chan error, 1)
	go func() { waitErr <- s.WaitDelivered(context.Background(), docID) }()
	s.Close()
	after := len(rc.received())
	time.Sleep(60 * time.Millisecond) // a dozen retry intervals
	if n := len(rc.received()); n != after {
		t.Errorf("%d webhook posts after Close, want none", n-after)
	}
	d := s.Deliveries()[0]
	if !d.Done || d.Delivered {
		t.Errorf("delivery after Close: %+v", d)
	}
	// At most the attempt in flight when Close came is recorded beyond what was received.
	if len(d.Attempts) > after+1 {
		t.Errorf("%d attempts recorded, the receiver got %d before Close", len(d.Attempts), after)
	}
	select {
	case err := <-waitErr:
		if !errors.Is(err, ErrGaveUp) && !errors.Is(err, ErrClosed) {
			t.Errorf("WaitDelivered after Close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("WaitDelivered did not return after Close")
	}
	if _, err := s.Pay(docID); !errors.Is(err, ErrClosed) {
		t.Errorf("Pay after Close: %v, want ErrClosed", err)
	}
	if _, err := http.Get(s.URL + RouteRequests); err == nil {
		t.Error("the server still answers after Close")
	}
	s.Close() // a second Close does nothing
}

package paykit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// guard bounds every wait in these tests; it only turns a hang into a failure.
const guard = 10 * time.Second

const (
	goodSig = "good"
	sigHdr  = "X-Stub-Signature"
)

// stubProvider is a Provider whose ParseNotification reads a JSON body {"id", "event", "key"}
// signed by the header X-Stub-Signature: good, and whose GetPayment returns a payment marked
// as fetched. Both can be told to fail.
type stubProvider struct {
	name string

	mu       sync.Mutex
	parseErr error  // ParseNotification returns it when set
	parseNil bool   // ParseNotification returns (nil, nil)
	getErr   error  // GetPayment returns it when set
	getNil   bool   // GetPayment returns (nil, nil)
	getPanic any    // GetPayment panics with it when set
	status   Status // the fetched payment's status; empty: succeeded
	captured int64  // the fetched payment's captured amount
	lower    bool   // GetPayment answers the id in lower case, as eCredits does (canonical ids)
	gotIDs   []string

	parses atomic.Int64
	gets   atomic.Int64
}

var _ Provider = (*stubProvider)(nil)

func newStub() *stubProvider { return &stubProvider{name: "stub"} }

func (p *stubProvider) set(f func(p *stubProvider)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f(p)
}

func (p *stubProvider) Name() string               { return p.name }
func (p *stubProvider) Capabilities() Capabilities { return Capabilities{Webhooks: true} }
func (p *stubProvider) CreatePayment(context.Context, PaymentRequest) (*Payment, error) {
	return nil, &Error{Provider: p.name, Op: "create payment", Kind: ErrUnsupported}
}
func (p *stubProvider) Capture(context.Context, string, Money, ...CallOption) (*Payment, error) {
	return nil, &Error{Provider: p.name, Op: "capture", Kind: ErrUnsupported}
}
func (p *stubProvider) Refund(context.Context, string, Money, ...CallOption) (*Payment, error) {
	return nil, &Error{Provider: p.name, Op: "refund", Kind: ErrUnsupported}
}
func (p *stubProvider) Cancel(context.Context, string, ...CallOption) (*Payment, error) {
	return nil, &Error{Provider: p.name, Op: "cancel", Kind: ErrUnsupported}
}

func (p *stubProvider) ParseNotification(r *http.Request) (*Notification, error) {
	p.parses.Add(1)
	p.mu.Lock()
	parseErr, parseNil := p.parseErr, p.parseNil
	p.mu.Unlock()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	if parseErr != nil {
		return nil, parseErr
	}
	if parseNil {
		return nil, nil
	}
	if r.Header.Get(sigHdr) != goodSig {
		return nil, &Error{Provider: p.name, Op: "parse notification", Kind: ErrInvalidSignature}
	}
	var v struct{ ID, Event, Key string }
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, &Error{Provider: p.name, Op: "parse notification", Kind: ErrInvalidRequest, Err: err}
	}
	return &Notification{Provider: p.name, PaymentID: v.ID, Event: v.Event, DedupKey: v.Key, Status: StatusPending}, nil
}

func (p *stubProvider) GetPayment(_ context.Context, id string) (*Payment, error) {
	n := p.gets.Add(1)
	p.mu.Lock()
	p.gotIDs = append(p.gotIDs, id)
	getErr, getNil, getPanic := p.getErr, p.getNil, p.getPanic
	status, captured := p.status, p.captured
	if p.lower {
		id = strings.ToLower(id)
	}
	p.mu.Unlock()
	if status == "" {
		status = StatusSucceeded
	}
	if getPanic != nil {
		panic(getPanic)
	}
	if getErr != nil {
		return nil, getErr
	}
	if getNil {
		return nil, nil
	}
	return &Payment{
		Provider: p.name, ID: id, Amount: Money{1000, "EUR"}, Status: status,
		Captured: Money{captured, "EUR"}, ProviderStatus: fmt.Sprintf("fetched-%d", n),
	}, nil
}

// note is a notification body for the stub.
func note(id, event, key string) string {
	b, _ := json.Marshal(map[string]string{"id": id, "event": event, "key": key})
	return string(b)
}

// deliver posts body to h with the signature header (none when sig is empty) and returns the
// status and the response body.
func deliver(t *testing.T, h http.Handler, body, sig string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/notify", strings.NewReader(body))
	if sig != "" {
		req.Header.Set(sigHdr, sig)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// fnCounter is a webhook function that counts its calls and keeps the notifications it saw.
type fnCounter struct {
	calls atomic.Int64
	mu    sync.Mutex
	seen  []Notification
	// fail, when set, decides the result of call number n (from 1).
	fail func(n int64) error
}

func (c *fnCounter) fn(_ context.Context, n *Notification) error {
	k := c.calls.Add(1)
	c.mu.Lock()
	c.seen = append(c.seen, *n)
	c.mu.Unlock()
	if c.fail != nil {
		return c.fail(k)
	}
	return nil
}

func wantDelivery(t *testing.T, h http.Handler, body, sig string, wantCode int, wantBody string) {
	t.Helper()
	code, got := deliver(t, h, body, sig)
	if code != wantCode || (wantBody != "" && got != wantBody) {
		t.Fatalf("delivery of %s answered %d %q, want %d %q", body, code, got, wantCode, wantBody)
	}
}

func TestWebhookProcessed(t *testing.T) {
	t.Parallel()
	p := newStub()
	var c fnCounter
	h := NewWebhookHandler(p, c.fn)
	wantDelivery(t, h, note("pay-1", "PAID", "k1"), goodSig, http.StatusOK, "ok\n")

	if c.calls.Load() != 1 || len(c.seen) != 1 {
		t.Fatalf("fn ran %d times, want 1", c.calls.Load())
	}
	n := c.seen[0]
	if n.Provider != "stub" || n.PaymentID != "pay-1" || n.Event != "PAID" || n.DedupKey != "k1" {
		t.Errorf("fn saw %+v", n)
	}
	// fn sees what GetPayment returned, not what the notification said.
	if n.Payment == nil || n.Payment.ID != "pay-1" || n.Payment.ProviderStatus != "fetched-1" || n.Payment.Status != StatusSucceeded {
		t.Errorf("fn saw Payment %+v, want the fetched payment", n.Payment)
	}
	if p.gets.Load() != 1 || len(p.gotIDs) != 1 || p.gotIDs[0] != "pay-1" {
		t.Errorf("GetPayment calls: %d %v, want one for pay-1", p.gets.Load(), p.gotIDs)
	}
}

func TestWebhookOverHTTP(t *testing.T) {
	t.Parallel()
	var c fnCounter
	srv := httptest.NewServer(NewWebhookHandler(newStub(), c.fn))
	defer srv.Close()
	for i, want := range []string{"ok\n", "already processed\n"} {
		req, err := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(note("pay-1", "PAID", "k1")))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set(sigHdr, goodSig)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || string(body) != want {
			t.Fatalf("delivery %d answered %d %q, want 200 %q", i+1, resp.StatusCode, body, want)
		}
	}
	if got := c.calls.Load(); got != 1 {
		t.Fatalf("fn ran %d times, want 1", got)
	}
}

func TestWebhookRedelivery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		first, second string
		wantCalls     int64
	}{
		{"same dedup key", note("pay-1", "PAID", "k1"), note("pay-1", "PAID", "k1"), 1},
		{"same dedup key, other words", note("pay-1", "PAID", "k1"), note("pay-2", "FAILED", "k1"), 1},
		{"other dedup key", note("pay-1", "PAID", "k1"), note("pay-1", "PAID", "k2"), 2},
		// Without a signed key the unsigned words count for nothing: the fetched state
		// decides (the stub's payments are all succeeded, nothing captured or refunded).
		{"no key, same payment and event", note("pay-1", "PAID", ""), note("pay-1", "PAID", ""), 1},
		{"no key, other event, same fetched state", note("pay-1", "PAID", ""), note("pay-1", "REFUNDED", ""), 1},
		{"no key, other payment", note("pay-1", "PAID", ""), note("pay-2", "PAID", ""), 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newStub()
			var c fnCounter
			h := NewWebhookHandler(p, c.fn)
			wantDelivery(t, h, tt.first, goodSig, http.StatusOK, "ok\n")
			wantBody := "ok\n"
			if tt.wantCalls == 1 {
				wantBody = "already processed\n"
			}
			wantDelivery(t, h, tt.second, goodSig, http.StatusOK, wantBody)
			if got := c.calls.Load(); got != tt.wantCalls {
				t.Errorf("fn ran %d times, want %d", got, tt.wantCalls)
			}
			// A redelivery with a signed key is answered from the store, without fetching the
			// payment again; one without a key is fetched to learn its state.
			wantGets := tt.wantCalls
			if !strings.Contains(tt.second, `"key":"k`) {
				wantGets = 2
			}
			if got := p.gets.Load(); got != wantGets {
				t.Errorf("GetPayment ran %d times, want %d", got, wantGets)
			}
		})
	}

	t.Run("providers sharing a store", func(t *testing.T) {
		t.Parallel()
		store := NewMemoryDedupStore(0)
		var c fnCounter
		a := NewWebhookHandler(&stubProvider{name: "a"}, c.fn, WithDedupStore(store))
		b := NewWebhookHandler(&stubProvider{name: "b"}, c.fn, WithDedupStore(store))
		wantDelivery(t, a, note("pay-1", "PAID", "k1"), goodSig, http.StatusOK, "ok\n")
		wantDelivery(t, b, note("pay-1", "PAID", "k1"), goodSig, http.StatusOK, "ok\n")
		wantDelivery(t, a, note("pay-1", "PAID", "k1"), goodSig, http.StatusOK, "already processed\n")
		if got := c.calls.Load(); got != 2 {
			t.Errorf("fn ran %d times, want 2 (one per provider)", got)
		}
	})
}

func TestWebhookRefused(t *testing.T) {
	t.Parallel()
	valid := note("pay-1", "PAID", "k1")
	tests := []struct {
		name     string
		setup    func(p *stubProvider)
		body     string
		sig      string
		wantCode int
	}{
		{name: "wrong signature", body: valid, sig: "bad", wantCode: http.StatusUnauthorized},
		{name: "missing signature", body: valid, sig: "", wantCode: http.StatusUnauthorized},
		{name: "wrapped ErrInvalidSignature", body: valid, sig: goodSig, wantCode: http.StatusUnauthorized,
			setup: func(p *stubProvider) { p.parseErr = fmt.Errorf("another seller: %w", ErrInvalidSignature) }},
		{name: "malformed JSON", body: `{"id":`, sig: goodSig, wantCode: http.StatusBadRequest},
		{name: "empty body", body: "", sig: goodSig, wantCode: http.StatusBadRequest},
		{name: "ErrInvalidRequest", body: valid, sig: goodSig, wantCode: http.StatusBadRequest,
			setup: func(p *stubProvider) { p.parseErr = &Error{Kind: ErrInvalidRequest, Message: "no id"} }},
		{name: "other parse error", body: valid, sig: goodSig, wantCode: http.StatusBadRequest,
			setup: func(p *stubProvider) { p.parseErr = errors.New("unexpected") }},
		{name: "provider store unavailable", body: valid, sig: goodSig, wantCode: http.StatusServiceUnavailable,
			setup: func(p *stubProvider) { p.parseErr = &Error{Kind: ErrUnavailable, Message: "result store down"} }},
		{name: "no notification", body: valid, sig: goodSig, wantCode: http.StatusBadRequest,
			setup: func(p *stubProvider) { p.parseNil = true }},
		{name: "no payment id", body: note("", "PAID", "k1"), sig: goodSig, wantCode: http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newStub()
			if tt.setup != nil {
				p.set(tt.setup)
			}
			var c fnCounter
			var logs bytes.Buffer
			var logMu sync.Mutex
			logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &logMu}, nil))
			h := NewWebhookHandler(p, c.fn, WithWebhookLogger(logger))
			code, _ := deliver(t, h, tt.body, tt.sig)
			if code != tt.wantCode {
				t.Fatalf("answered %d, want %d", code, tt.wantCode)
			}
			if c.calls.Load() != 0 || p.gets.Load() != 0 {
				t.Fatalf("refused notification ran fn %d times and GetPayment %d times, want 0", c.calls.Load(), p.gets.Load())
			}
			if p.parses.Load() != 1 {
				t.Errorf("ParseNotification ran %d times, want 1", p.parses.Load())
			}
			// The refusal changed no state: the valid notification is processed afterwards.
			p.set(func(p *stubProvider) { p.parseErr, p.parseNil = nil, false })
			wantDelivery(t, h, valid, goodSig, http.StatusOK, "ok\n")
			if c.calls.Load() != 1 {
				t.Errorf("fn ran %d times after the refusal, want 1", c.calls.Load())
			}
			logMu.Lock()
			defer logMu.Unlock()
			if tt.wantCode == http.StatusUnauthorized && !strings.Contains(logs.String(), "refused") {
				t.Errorf("log %q does not say the notification was refused", logs.String())
			}
		})
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// paddedNote is a valid notification body of exactly size bytes (JSON allows trailing spaces).
func paddedNote(t *testing.T, size int) string {
	t.Helper()
	b := note("pay-1", "PAID", "k1")
	if len(b) > size {
		t.Fatalf("size %d is below the notification's %d bytes", size, len(b))
	}
	return b + strings.Repeat(" ", size-len(b))
}

func TestWebhookBodyLimit(t *testing.T) {
	t.Parallel()
	if DefaultMaxBodyBytes != 1<<20 {
		t.Fatalf("DefaultMaxBodyBytes = %d, want 1 MiB", DefaultMaxBodyBytes)
	}
	tests := []struct {
		name     string
		opts     []WebhookOption
		size     int
		wantCode int
	}{
		{"default, at the limit", nil, DefaultMaxBodyBytes, http.StatusOK},
		{"default, one byte over", nil, DefaultMaxBodyBytes + 1, http.StatusRequestEntityTooLarge},
		{"default, far over", nil, 3 * DefaultMaxBodyBytes, http.StatusRequestEntityTooLarge},
		{"100, at the limit", []WebhookOption{WithMaxBodyBytes(100)}, 100, http.StatusOK},
		{"100, one byte over", []WebhookOption{WithMaxBodyBytes(100)}, 101, http.StatusRequestEntityTooLarge},
		{"2 MiB, over the default", []WebhookOption{WithMaxBodyBytes(2 << 20)}, DefaultMaxBodyBytes + 1, http.StatusOK},
		{"0 means the default, at the limit", []WebhookOption{WithMaxBodyBytes(0)}, DefaultMaxBodyBytes, http.StatusOK},
		{"0 means the default, over it", []WebhookOption{WithMaxBodyBytes(0)}, DefaultMaxBodyBytes + 1, http.StatusRequestEntityTooLarge},
		{"negative means the default, at the limit", []WebhookOption{WithMaxBodyBytes(-1)}, DefaultMaxBodyBytes, http.StatusOK},
		{"negative means the default, over it", []WebhookOption{WithMaxBodyBytes(-1)}, DefaultMaxBodyBytes + 1, http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newStub()
			var c fnCounter
			h := NewWebhookHandler(p, c.fn, tt.opts...)
			code, _ := deliver(t, h, paddedNote(t, tt.size), goodSig)
			if code != tt.wantCode {
				t.Fatalf("a %d-byte body answered %d, want %d", tt.size, code, tt.wantCode)
			}
			wantCalls := int64(0)
			if tt.wantCode == http.StatusOK {
				wantCalls = 1
			}
			if c.calls.Load() != wantCalls {
				t.Errorf("fn ran %d times, want %d", c.calls.Load(), wantCalls)
			}
			if tt.wantCode == http.StatusRequestEntityTooLarge && p.parses.Load() != 0 {
				t.Errorf("ParseNotification ran on a body over the limit")
			}
		})
	}
}

// TestWebhookFailureIsRedelivered covers every way processing can fail after the claim: the
// delivery is answered with an error, and the next delivery runs fn.
func TestWebhookFailureIsRedelivered(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		setup    func(p *stubProvider, c *fnCounter) // the first delivery's failure
		wantCode int
		// wantCalls is how often fn has run after the first delivery.
		wantCalls int64
	}{
		{"fn fails", func(_ *stubProvider, c *fnCounter) {
			c.fail = func(n int64) error {
				if n == 1 {
					return errors.New("database down")
				}
				return nil
			}
		}, http.StatusInternalServerError, 1},
		{"fn panics", func(_ *stubProvider, c *fnCounter) {
			c.fail = func(n int64) error {
				if n == 1 {
					panic("bug in fn")
				}
				return nil
			}
		}, http.StatusInternalServerError, 1},
		{"fn panics with an error", func(_ *stubProvider, c *fnCounter) {
			c.fail = func(n int64) error {
				if n == 1 {
					panic(errors.New("bug in fn"))
				}
				return nil
			}
		}, http.StatusInternalServerError, 1},
		{"GetPayment fails", func(p *stubProvider, _ *fnCounter) {
			p.getErr = &Error{Kind: ErrUnavailable, StatusCode: 502}
		}, http.StatusServiceUnavailable, 0},
		{"GetPayment finds nothing", func(p *stubProvider, _ *fnCounter) {
			p.getErr = &Error{Kind: ErrNotFound, StatusCode: 404}
		}, http.StatusServiceUnavailable, 0},
		{"GetPayment returns neither payment nor error", func(p *stubProvider, _ *fnCounter) {
			p.getNil = true
		}, http.StatusServiceUnavailable, 0},
		{"GetPayment panics", func(p *stubProvider, _ *fnCounter) {
			p.getPanic = "bug in provider"
		}, http.StatusInternalServerError, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newStub()
			c := &fnCounter{}
			p.set(func(p *stubProvider) { tt.setup(p, c) })
			h := NewWebhookHandler(p, c.fn)
			body := note("pay-1", "PAID", "k1")

			wantDelivery(t, h, body, goodSig, tt.wantCode, "")
			if got := c.calls.Load(); got != tt.wantCalls {
				t.Fatalf("after the failed delivery fn ran %d times, want %d", got, tt.wantCalls)
			}
			if tt.wantCode == http.StatusServiceUnavailable {
				// Not acknowledged, and nothing recorded: the same failure answers the same.
				wantDelivery(t, h, body, goodSig, tt.wantCode, "")
				if got := c.calls.Load(); got != 0 {
					t.Fatalf("fn ran %d times without a fetched payment", got)
				}
			}

			// The provider recovers; the next delivery runs fn, and the one after is a repeat.
			p.set(func(p *stubProvider) { p.getErr, p.getNil, p.getPanic = nil, false, nil })
			wantDelivery(t, h, body, goodSig, http.StatusOK, "ok\n")
			if got := c.calls.Load(); got != tt.wantCalls+1 {
				t.Fatalf("after the redelivery fn ran %d times, want %d", got, tt.wantCalls+1)
			}
			if last := c.seen[len(c.seen)-1]; last.Payment == nil || last.Payment.ID != "pay-1" {
				t.Errorf("fn saw Payment %+v, want the fetched payment", last.Payment)
			}
			wantDelivery(t, h, body, goodSig, http.StatusOK, "already processed\n")
			if got := c.calls.Load(); got != tt.wantCalls+1 {
				t.Fatalf("a repeat ran fn: %d calls, want %d", got, tt.wantCalls+1)
			}
		})
	}
}

// observedStore passes every call to the memory store, sending on claims each time Claim is
// entered.
type observedStore struct {
	DedupStore
	claims chan struct{}
}

func (s *observedStore) Claim(ctx context.Context, key string) (bool, error) {
	s.claims <- struct{}{}
	return s.DedupStore.Claim(ctx, key)
}

func TestWebhookConcurrentCopies(t *testing.T) {
	t.Parallel()
	const copies = 50
	tests := []struct {
		name       string
		firstFails bool
	}{
		{"fn succeeds", false},
		{"first fn call fails", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			store := &observedStore{DedupStore: NewMemoryDedupStore(0), claims: make(chan struct{}, copies)}
			allClaimed := make(chan struct{})
			var successes atomic.Int64
			c := &fnCounter{fail: func(n int64) error {
				if n == 1 {
					// Hold the first call until every copy has reached the store.
					select {
					case <-allClaimed:
					case <-time.After(guard):
						return errors.New("not every copy reached the store")
					}
					if tt.firstFails {
						return errors.New("first call fails")
					}
				}
				successes.Add(1)
				return nil
			}}
			h := NewWebhookHandler(newStub(), c.fn, WithDedupStore(store))

			codes := make([]int, copies)
			bodies := make([]string, copies)
			var wg sync.WaitGroup
			for i := range copies {
				wg.Add(1)
				go func() {
					defer wg.Done()
					codes[i], bodies[i] = deliver(t, h, note("pay-1", "PAID", "k1"), goodSig)
				}()
			}
			for range copies {
				select {
				case <-store.claims:
				case <-time.After(guard):
					t.Fatal("not every copy reached the store")
				}
			}
			close(allClaimed)
			wg.Wait()

			count := map[string]int{}
			for i := range codes {
				count[fmt.Sprintf("%d %s", codes[i], strings.TrimSpace(bodies[i]))]++
			}
			want := map[string]int{"200 ok": 1, "200 already processed": copies - 1}
			wantCalls := int64(1)
			if tt.firstFails {
				want = map[string]int{"500 handler failed": 1, "200 ok": 1, "200 already processed": copies - 2}
				wantCalls = 2
			}
			if fmt.Sprint(count) != fmt.Sprint(want) {
				t.Errorf("answers %v, want %v", count, want)
			}
			if got := c.calls.Load(); got != wantCalls {
				t.Errorf("fn ran %d times, want %d", got, wantCalls)
			}
			if got := successes.Load(); got != 1 {
				t.Errorf("fn succeeded %d times, want exactly once", got)
			}
		})
	}
}

func TestWebhookDistinctKeysRunConcurrently(t *testing.T) {
	t.Parallel()
	started := map[string]chan struct{}{"pay-a": make(chan struct{}), "pay-b": make(chan struct{})}
	other := map[string]string{"pay-a": "pay-b", "pay-b": "pay-a"}
	fn := func(_ context.Context, n *Notification) error {
		close(started[n.PaymentID])
		// Each call waits for the other to start: run one after the other, they time out.
		select {
		case <-started[other[n.PaymentID]]:
			return nil
		case <-time.After(guard):
			return errors.New("the other notification did not run meanwhile")
		}
	}
	h := NewWebhookHandler(newStub(), fn)
	var wg sync.WaitGroup
	codes := map[string]*int{"pay-a": new(int), "pay-b": new(int)}
	for id, code := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			*code, _ = deliver(t, h, note(id, "PAID", "key-"+id), goodSig)
		}()
	}
	wg.Wait()
	for id, code := range codes {
		if *code != http.StatusOK {
			t.Errorf("%s answered %d, want 200", id, *code)
		}
	}
}

// waitSignalCtx closes waiting the first time its Done is asked for, which the memory store
// does only when it is about to wait for a busy key.
type waitSignalCtx struct {
	context.Context
	once    sync.Once
	waiting chan struct{}
}

func newWaitSignalCtx(parent context.Context) *waitSignalCtx {
	return &waitSignalCtx{Context: parent, waiting: make(chan struct{})}
}

func (c *waitSignalCtx) Done() <-chan struct{} {
	c.once.Do(func() { close(c.waiting) })
	return c.Context.Done()
}

type claimResult struct {
	done bool
	err  error
}

// claimAsync claims key in a goroutine, once it waits, and returns where its result arrives.
func claimAsync(t *testing.T, s DedupStore, ctx *waitSignalCtx, key string) <-chan claimResult {
	t.Helper()
	res := make(chan claimResult, 1)
	go func() {
		done, err := s.Claim(ctx, key)
		res <- claimResult{done, err}
	}()
	select {
	case <-ctx.waiting:
	case r := <-res:
		t.Fatalf("Claim of a busy key returned %+v without waiting", r)
	case <-time.After(guard):
		t.Fatal("Claim neither waited nor returned")
	}
	return res
}

// claimGuarded is s.Claim, failing the test instead of hanging when Claim does not return.
func claimGuarded(t *testing.T, s DedupStore, ctx context.Context, key string) claimResult {
	t.Helper()
	res := make(chan claimResult, 1)
	go func() {
		done, err := s.Claim(ctx, key)
		res <- claimResult{done, err}
	}()
	return recv(t, res)
}

func recv(t *testing.T, ch <-chan claimResult) claimResult {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(guard):
		t.Fatal("Claim did not return")
		return claimResult{}
	}
}

func TestMemoryDedupStore(t *testing.T) {
	t.Parallel()
	bg := context.Background()

	t.Run("claim, finish, done", func(t *testing.T) {
		t.Parallel()
		s := NewMemoryDedupStore(0)
		if done, err := s.Claim(bg, "k"); done || err != nil {
			t.Fatalf("first Claim = (%v, %v), want (false, nil)", done, err)
		}
		if err := s.Finish(bg, "k", true); err != nil {
			t.Fatal(err)
		}
		if done, err := s.Claim(bg, "k"); !done || err != nil {
			t.Fatalf("Claim after Finish(true) = (%v, %v), want (true, nil)", done, err)
		}
		if done, err := s.Claim(bg, "other"); done || err != nil {
			t.Fatalf("Claim of another key = (%v, %v), want (false, nil)", done, err)
		}
	})

	t.Run("ended context while busy", func(t *testing.T) {
		t.Parallel()
		s := NewMemoryDedupStore(0)
		if _, err := s.Claim(bg, "k"); err != nil {
			t.Fatal(err)
		}
		cancelled, cancel := context.WithCancel(bg)
		cancel()
		if r := claimGuarded(t, s, cancelled, "k"); r.done || !errors.Is(r.err, context.Canceled) {
			t.Fatalf("Claim(cancelled) of a busy key = %+v, want context.Canceled", r)
		}
		expired, cancel2 := context.WithDeadline(bg, time.Now().Add(-time.Second))
		defer cancel2()
		if r := claimGuarded(t, s, expired, "k"); r.done || !errors.Is(r.err, context.DeadlineExceeded) {
			t.Fatalf("Claim(expired) of a busy key = %+v, want context.DeadlineExceeded", r)
		}
		// The holder is not disturbed by the waiters that gave up.
		if err := s.Finish(bg, "k", true); err != nil {
			t.Fatal(err)
		}
		if done, err := s.Claim(bg, "k"); !done || err != nil {
			t.Fatalf("Claim after Finish(true) = (%v, %v), want (true, nil)", done, err)
		}
	})

	t.Run("waiter cancelled while waiting", func(t *testing.T) {
		t.Parallel()
		s := NewMemoryDedupStore(0)
		if _, err := s.Claim(bg, "k"); err != nil {
			t.Fatal(err)
		}
		parent, cancel := context.WithCancel(bg)
		ctx := newWaitSignalCtx(parent)
		res := claimAsync(t, s, ctx, "k")
		cancel()
		if r := recv(t, res); r.done || !errors.Is(r.err, context.Canceled) {
			t.Fatalf("cancelled waiter got %+v, want context.Canceled", r)
		}
		if err := s.Finish(bg, "k", false); err != nil {
			t.Fatal(err)
		}
		if done, err := s.Claim(bg, "k"); done || err != nil {
			t.Fatalf("Claim after Finish(false) = (%v, %v), want (false, nil)", done, err)
		}
	})

	t.Run("waiter sees processed", func(t *testing.T) {
		t.Parallel()
		s := NewMemoryDedupStore(0)
		if _, err := s.Claim(bg, "k"); err != nil {
			t.Fatal(err)
		}
		res := claimAsync(t, s, newWaitSignalCtx(bg), "k")
		if err := s.Finish(bg, "k", true); err != nil {
			t.Fatal(err)
		}
		if r := recv(t, res); !r.done || r.err != nil {
			t.Fatalf("waiter got %+v, want done", r)
		}
	})

	t.Run("Finish false releases to one waiter", func(t *testing.T) {
		t.Parallel()
		s := NewMemoryDedupStore(0)
		if _, err := s.Claim(bg, "k"); err != nil {
			t.Fatal(err)
		}
		first := claimAsync(t, s, newWaitSignalCtx(bg), "k")
		second := claimAsync(t, s, newWaitSignalCtx(bg), "k")
		if err := s.Finish(bg, "k", false); err != nil {
			t.Fatal(err)
		}
		// One waiter now holds the key; the other waits for it.
		var waiter <-chan claimResult
		select {
		case r := <-first:
			waiter = second
			if r.done || r.err != nil {
				t.Fatalf("waiter got %+v, want the claim", r)
			}
		case r := <-second:
			waiter = first
			if r.done || r.err != nil {
				t.Fatalf("waiter got %+v, want the claim", r)
			}
		case <-time.After(guard):
			t.Fatal("no waiter got the released key")
		}
		if err := s.Finish(bg, "k", true); err != nil {
			t.Fatal(err)
		}
		if r := recv(t, waiter); !r.done || r.err != nil {
			t.Fatalf("second waiter got %+v, want done", r)
		}
	})

	t.Run("Finish without a claim", func(t *testing.T) {
		t.Parallel()
		s := NewMemoryDedupStore(0)
		if err := s.Finish(bg, "never", true); err == nil {
			t.Error("Finish of a key never claimed succeeded")
		}
		if _, err := s.Claim(bg, "k"); err != nil {
			t.Fatal(err)
		}
		if err := s.Finish(bg, "k", true); err != nil {
			t.Fatal(err)
		}
		if err := s.Finish(bg, "k", true); err == nil {
			t.Error("a second Finish succeeded")
		}
		if _, err := s.Claim(bg, "j"); err != nil {
			t.Fatal(err)
		}
		if err := s.Finish(bg, "j", false); err != nil {
			t.Fatal(err)
		}
		if err := s.Finish(bg, "j", false); err == nil {
			t.Error("Finish after a release succeeded")
		}
	})

	t.Run("default retention", func(t *testing.T) {
		t.Parallel()
		if DefaultDedupRetention != 7*24*time.Hour {
			t.Errorf("DefaultDedupRetention = %v, want 7 days", DefaultDedupRetention)
		}
		for _, r := range []time.Duration{0, -time.Hour} {
			if got := NewMemoryDedupStore(r).(*memoryDedupStore).retention; got != DefaultDedupRetention {
				t.Errorf("NewMemoryDedupStore(%v) keeps keys %v, want %v", r, got, DefaultDedupRetention)
			}
		}
		if got := NewMemoryDedupStore(time.Minute).(*memoryDedupStore).retention; got != time.Minute {
			t.Errorf("NewMemoryDedupStore(1m) keeps keys %v", got)
		}
	})
}

// TestMemoryDedupStorePrunes moves the package clock, so it does not run in parallel (and no
// parallel test runs while it does).
func TestMemoryDedupStorePrunes(t *testing.T) {
	saved := now
	t.Cleanup(func() { now = saved })
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := t0
	now = func() time.Time { return clock }

	bg := context.Background()
	s := NewMemoryDedupStore(time.Hour).(*memoryDedupStore)
	claimFinish := func(key string) {
		t.Helper()
		if done, err := s.Claim(bg, key); done || err != nil {
			t.Fatalf("Claim(%s) = (%v, %v)", key, done, err)
		}
		if err := s.Finish(bg, key, true); err != nil {
			t.Fatal(err)
		}
	}
	claimFinish("old")
	if done, err := s.Claim(bg, "busy"); done || err != nil {
		t.Fatalf("Claim(busy) = (%v, %v)", done, err)
	}
	has := func(key string) bool { s.mu.Lock(); defer s.mu.Unlock(); _, ok := s.entries[key]; return ok }

	// Pruning runs every so many claims; 4096 claims cover it.
	const claims = 4096
	clock = t0.Add(time.Hour) // exactly the retention: still remembered
	for i := range claims {
		claimFinish(fmt.Sprintf("a%d", i))
	}
	if !has("old") {
		t.Fatal("a key exactly as old as the retention was pruned")
	}

	clock = t0.Add(time.Hour + time.Nanosecond)
	pruned := false
	for i := 0; i < claims && !pruned; i++ {
		claimFinish(fmt.Sprintf("b%d", i))
		pruned = !has("old")
	}
	if !pruned {
		t.Fatalf("a key older than the retention was still kept after %d claims", claims)
	}
	if !has("busy") || !has("a0") {
		t.Error("pruning dropped a busy key or a key within the retention")
	}
	if done, err := s.Claim(bg, "old"); done || err != nil {
		t.Fatalf("Claim of a pruned key = (%v, %v), want a new claim", done, err)
	}
	if done, err := s.Claim(bg, "a0"); !done || err != nil {
		t.Fatalf("Claim of a remembered key = (%v, %v), want done", done, err)
	}
}

// recordingStore is a custom DedupStore that records what the handler asks of it.
type recordingStore struct {
	mu        sync.Mutex
	claims    []string
	finishes  []string
	claimErr  error
	claimDone bool
	finishErr error
}

func (s *recordingStore) Claim(_ context.Context, key string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.claims = append(s.claims, key)
	return s.claimDone, s.claimErr
}

func (s *recordingStore) Finish(_ context.Context, key string, processed bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.finishes = append(s.finishes, fmt.Sprintf("%s=%v", key, processed))
	return s.finishErr
}

func TestWebhookCustomDedupStore(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		body         string
		claimErr     error // what the store answers
		claimDone    bool
		finishErr    error
		fnErr        error
		getErr       error
		wantCode     int
		wantBody     string
		wantClaims   string
		wantFinishes string
		wantCalls    int64
	}{
		{name: "processed", body: note("pay-1", "PAID", "k1"), wantCode: 200, wantBody: "ok\n",
			wantClaims: "4:stub|event|k1", wantFinishes: "4:stub|event|k1=true", wantCalls: 1},
		{name: "key from payment and fetched state", body: note("pay-1", "PAID", ""), wantCode: 200, wantBody: "ok\n",
			wantClaims: "4:stub|state|5:pay-1|succeeded|0EUR|0", wantFinishes: "4:stub|state|5:pay-1|succeeded|0EUR|0=true", wantCalls: 1},
		// Without a signed key the payment is fetched first: a failed fetch claims nothing.
		{name: "fetch fails without a key", body: note("pay-1", "PAID", ""), getErr: ErrUnavailable, wantCode: 503},
		{name: "fn fails", body: note("pay-1", "PAID", "k1"), fnErr: errors.New("no"), wantCode: 500,
			wantClaims: "4:stub|event|k1", wantFinishes: "4:stub|event|k1=false", wantCalls: 1},
		{name: "fetch fails", body: note("pay-1", "PAID", "k1"), getErr: ErrUnavailable, wantCode: 503,
			wantClaims: "4:stub|event|k1", wantFinishes: "4:stub|event|k1=false"},
		{name: "store says done", body: note("pay-1", "PAID", "k1"), claimDone: true,
			wantCode: 200, wantBody: "already processed\n", wantClaims: "4:stub|event|k1"},
		{name: "store fails to claim", body: note("pay-1", "PAID", "k1"), claimErr: errors.New("db down"),
			wantCode: 503, wantClaims: "4:stub|event|k1"},
		{name: "store fails to record", body: note("pay-1", "PAID", "k1"), finishErr: errors.New("db down"),
			wantCode: 200, wantBody: "ok\n", wantClaims: "4:stub|event|k1", wantFinishes: "4:stub|event|k1=true", wantCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newStub()
			p.getErr = tt.getErr
			c := &fnCounter{fail: func(int64) error { return tt.fnErr }}
			store := &recordingStore{claimErr: tt.claimErr, claimDone: tt.claimDone, finishErr: tt.finishErr}
			h := NewWebhookHandler(p, c.fn, WithDedupStore(store))
			wantDelivery(t, h, tt.body, goodSig, tt.wantCode, tt.wantBody)
			if got := strings.Join(store.claims, ","); got != tt.wantClaims {
				t.Errorf("claims %q, want %q", got, tt.wantClaims)
			}
			if got := strings.Join(store.finishes, ","); got != tt.wantFinishes {
				t.Errorf("finishes %q, want %q", got, tt.wantFinishes)
			}
			if got := c.calls.Load(); got != tt.wantCalls {
				t.Errorf("fn ran %d times, want %d", got, tt.wantCalls)
			}
		})
	}
}

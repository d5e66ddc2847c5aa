package paykit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/paykit/paykit/internal/webhookcore"
)

// DefaultMaxBodyBytes is the largest notification body NewWebhookHandler reads (1 MiB).
const DefaultMaxBodyBytes = 1 << 20

// DedupStore remembers which notifications were processed, so that a redelivery does not run
// the handler's function twice. Keys are opaque strings made by NewWebhookHandler.
type DedupStore interface {
	// Claim takes key for processing and reports done=true when key was processed already.
	// While another caller holds key, Claim waits until that caller finishes or ctx ends (then
	// it returns ctx's error): two copies of one notification arriving at once run fn once.
	Claim(ctx context.Context, key string) (done bool, err error)
	// Finish gives key back. processed=true records it as done for good; false lets the next
	// delivery claim it again.
	Finish(ctx context.Context, key string, processed bool) error
}

// WebhookOption configures NewWebhookHandler.
type WebhookOption func(*webhookConfig)

type webhookConfig struct {
	store        DedupStore
	maxBody      int64
	logger       *slog.Logger
	oncePerState bool
	hooks        *Hooks
}

// WithDedupStore replaces the in-memory dedupe store, e.g. with one in the merchant's database
// so that several replicas share it and it survives restarts.
func WithDedupStore(s DedupStore) WebhookOption { return func(c *webhookConfig) { c.store = s } }

// WithMaxBodyBytes sets the largest body the handler reads; a larger one is answered 413.
func WithMaxBodyBytes(n int64) WebhookOption { return func(c *webhookConfig) { c.maxBody = n } }

// WithWebhookLogger gives the handler a logger of its own, in place of the one
// SetDefaultLogger set, which is what most programs need. The handler logs why a
// notification was refused or failed (warning; never its signature), and each one processed
// (debug), with "provider", "op" and "payment_id".
func WithWebhookLogger(l *slog.Logger) WebhookOption { return func(c *webhookConfig) { c.logger = l } }

// WithOncePerState makes fn run at most once per fetched state of a payment also for
// notifications that carry a signed event identity (Entrecard's results): after claiming
// the event, the handler claims the state's key (PaymentDedupKey) too, and a state that
// reached fn already (through a reconciler's poll, or another event with the same outcome)
// is acknowledged without running fn again. Give it to every handler whose provider a
// reconciler polls with the same DedupStore; without it fn runs once per signed event, so
// a poll and the event's notification could each run fn for one state. Notifications
// without a signed identity are keyed on the fetched state either way.
func WithOncePerState() WebhookOption { return func(c *webhookConfig) { c.oncePerState = true } }

// WithWebhookHooks makes the handler report each delivery to h (see Hooks): an
// OpHandleNotification operation around it (the provider's ParseNotification and the
// GetPayment that fetches the state nest under it when the provider has hooks too), its
// verdict (Hooks.Webhook), and the latency of each dedupe store call (Hooks.Store).
func WithWebhookHooks(h *Hooks) WebhookOption { return func(c *webhookConfig) { c.hooks = h } }

// NewWebhookHandler returns the http.Handler to mount at a provider's notify URL. A request
// with a method the provider does not notify with is answered 405 with an Allow header,
// before anything is read: every provider notifies with POST, and Entrecard also with GET
// (its result comes in the notify URL's query), so its handler allows GET, HEAD, POST and
// PUT. For every other request it:
//
//  1. reads the body up to the size limit (413 past it);
//  2. verifies and parses it with p.ParseNotification (401 for a bad or missing signature,
//     400 for anything malformed, 503 when the provider could not be asked what the
//     notification is about), changing no state when it refuses;
//  3. makes sure fn runs once per event: a notification with a DedupKey (an identity the
//     provider signed) is claimed under it before anything else, so a redelivery, also one
//     arriving at the same moment, is answered 200 without running fn again. A notification
//     without one (eCredits, EchelonPay: nothing signed tells one event from another) is
//     fetched first and claimed under its payment id and the fetched state (Status,
//     Captured, Refunded; the key PaymentDedupKey makes): a redelivery of the same state
//     runs fn once, and a later change is never swallowed as a redelivery. A reconciler
//     that polls the payment (package reconcile) claims the same key, so fn runs once per
//     state whether the notification, the poll or both see it (WithOncePerState extends
//     that to notifications with a signed identity);
//  4. fetches the payment with p.GetPayment, because a notification is only a signal: fn
//     sees the fetched state in Notification.Payment (503 when it cannot be fetched: nothing
//     is acknowledged and fn does not run);
//  5. runs fn: an error (or a panic) answers 500 and the provider's next delivery runs fn
//     again; success answers 200 and records the notification as processed.
//
// A DedupStore error on Claim answers 503; one on Finish after fn succeeded still answers
// 200 (fn ran; a redelivery may run it again, the lesser harm).
//
// NewWebhookHandler panics when p (also a typed nil) or fn is nil, as http.Handle does for a
// nil handler: at construction, never at the first request.
func NewWebhookHandler(p Provider, fn func(context.Context, *Notification) error, opts ...WebhookOption) http.Handler {
	// As net/http does for a nil handler: a mistake in wiring fails at start-up, not on
	// the first notification a provider sends.
	if isNilProvider(p) {
		panic(fmt.Sprintf("paykit: NewWebhookHandler: the provider is nil (%T)", p))
	}
	if fn == nil {
		panic("paykit: NewWebhookHandler: fn is nil")
	}
	cfg := newWebhookConfig(opts)
	return webhookcore.Handler(webhookcore.Spec[*Notification, *Payment]{
		Name:    p.Name(),
		Store:   cfg.store,
		MaxBody: cfg.maxBody,
		Logger:  cfg.logger,
		Methods: notifyMethods(p),
		Parse: func(r *http.Request) (webhookcore.Parsed[*Notification], error) {
			n, err := p.ParseNotification(r)
			if err != nil {
				return webhookcore.Parsed[*Notification]{}, err
			}
			if n == nil {
				return webhookcore.Parsed[*Notification]{}, errors.New("the provider parsed no notification")
			}
			return webhookcore.Parsed[*Notification]{Value: n, ID: n.PaymentID, Key: n.DedupKey}, nil
		},
		Refusal: RefusalStatus,
		Fetch: func(ctx context.Context, id string) (*Payment, error) {
			pay, err := p.GetPayment(ctx, id)
			if err == nil && pay == nil {
				err = errors.New("provider returned no payment and no error")
			}
			return pay, err
		},
		StateKey:     PaymentStateKey,
		StateID:      func(pay *Payment) string { return pay.ID },
		StateName:    func(pay *Payment) string { return pay.Provider },
		OncePerState: cfg.oncePerState,
		Observer:     cfg.hooks.webhookObserver(p.Name()),
		Run: func(ctx context.Context, n *Notification, pay *Payment) error {
			n.Payment = pay
			if pay.ID != "" {
				// The provider's canonical spelling of the id, whatever case the
				// notification used (eCredits compares ids ignoring case).
				n.PaymentID = pay.ID
			}
			return fn(ctx, n)
		},
	})
}

// WebhookSettings is what WebhookOptions set, for provider packages that build handlers of
// their own on the same rules (EchelonPay's payout callbacks).
type WebhookSettings struct {
	Store        DedupStore   // WithDedupStore, or the in-memory default
	MaxBody      int64        // WithMaxBodyBytes, or DefaultMaxBodyBytes
	Logger       *slog.Logger // WithWebhookLogger, or DefaultLogger()
	OncePerState bool         // WithOncePerState
	Hooks        *Hooks       // WithWebhookHooks, or nil
}

// NewWebhookSettings applies opts over the defaults: the in-memory dedupe store,
// DefaultMaxBodyBytes and DefaultLogger().
func NewWebhookSettings(opts ...WebhookOption) WebhookSettings {
	cfg := newWebhookConfig(opts)
	return WebhookSettings{Store: cfg.store, MaxBody: cfg.maxBody, Logger: cfg.logger, OncePerState: cfg.oncePerState, Hooks: cfg.hooks}
}

func newWebhookConfig(opts []WebhookOption) webhookConfig {
	cfg := webhookConfig{maxBody: DefaultMaxBodyBytes}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if cfg.store == nil {
		cfg.store = NewMemoryDedupStore(DefaultDedupRetention)
	}
	if cfg.maxBody <= 0 {
		cfg.maxBody = DefaultMaxBodyBytes
	}
	if cfg.logger == nil {
		cfg.logger = DefaultLogger()
	}
	return cfg
}

// notifyMethods returns the HTTP methods p notifies with: its NotificationMethods when it
// has them, else POST.
func notifyMethods(p Provider) []string {
	if m, ok := p.(NotificationMethoder); ok {
		if methods := m.NotificationMethods(); len(methods) > 0 {
			return methods
		}
	}
	return []string{http.MethodPost}
}

// RefusalStatus is the answer a webhook handler gives when a notification is refused with
// err: 401 for ErrInvalidSignature, 503 for ErrUnavailable and ErrStoreUnavailable (the
// provider or a store could not be asked; the provider delivers again), 400 for anything
// else.
func RefusalStatus(err error) int {
	switch {
	case errors.Is(err, ErrInvalidSignature):
		return http.StatusUnauthorized
	case errors.Is(err, ErrUnavailable):
		return http.StatusServiceUnavailable
	}
	return http.StatusBadRequest
}

// PaymentStateKey describes the state of p that a merchant must hear of again when it
// changes: its status and the captured and refunded amounts. It keys the notifications that
// carry no signed event identity.
func PaymentStateKey(p *Payment) string {
	return string(p.Status) + "|" + strconv.FormatInt(p.Captured.Amount, 10) + p.Captured.Currency +
		"|" + strconv.FormatInt(p.Refunded.Amount, 10) + p.Refunded.Currency
}

// PaymentDedupKey is the DedupStore key of the fetched state of pay: the key under which
// a webhook handler runs fn for a notification without a signed identity, and a
// reconciler for a poll, so that fn runs once per state however it was seen. It is made of
// pay.Provider, pay.ID (the provider's canonical spelling) and PaymentStateKey(pay);
// provider and id stand in for an empty Provider or ID. The same payment in the same state
// gives the same key whichever handler (a provider's own, a Router's) or reconciler made
// it, on any replica.
func PaymentDedupKey(pay *Payment, provider, id string) string {
	if pay.Provider != "" {
		provider = pay.Provider
	}
	if pay.ID != "" {
		id = pay.ID
	}
	return webhookcore.StateKeyOf(provider, id, PaymentStateKey(pay))
}

// RunOncePerState runs fn once for the fetched state of pay through store, under
// PaymentDedupKey(pay, "", ""), on the same terms as a webhook handler: a state processed
// already returns (false, nil) without running fn; while another caller (a webhook, another
// replica's poll) holds the key it waits for that caller; an error or a panic in fn gives the
// key back (the next caller runs fn again) and is returned; success records the key as
// processed and returns (true, nil). A store error on Claim returns an error matching
// ErrStoreUnavailable with fn not run; one on Finish after fn succeeded returns true and that
// error (fn ran; a later poll or notification may run it again, the lesser harm).
func RunOncePerState(ctx context.Context, store DedupStore, pay *Payment, fn func(context.Context) error) (ran bool, err error) {
	return RunOncePerStateHooked(ctx, store, nil, pay, fn)
}

// RunOncePerStateHooked is RunOncePerState reporting the latency of each call to store to
// h.Store (a reconciler given hooks calls it).
func RunOncePerStateHooked(ctx context.Context, store DedupStore, h *Hooks, pay *Payment, fn func(context.Context) error) (ran bool, err error) {
	key := PaymentDedupKey(pay, "", "")
	start := h.storeStart()
	done, err := store.Claim(ctx, key)
	h.storeCall(ctx, "dedupe", "claim", start, err)
	if err != nil {
		return false, onceStoreError(pay, "claim", err)
	}
	if done {
		return false, nil
	}
	err = runRecovered(ctx, fn)
	start = h.storeStart()
	ferr := store.Finish(context.WithoutCancel(ctx), key, err == nil)
	h.storeCall(ctx, "dedupe", "finish", start, ferr)
	if ferr != nil && err == nil {
		return true, onceStoreError(pay, "finish", ferr)
	}
	return err == nil, err
}

// runRecovered runs fn, turning a panic into an error so that a claim is always given back.
func runRecovered(ctx context.Context, fn func(context.Context) error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("paykit: panic in the handler function: %v", v)
		}
	}()
	return fn(ctx)
}

func onceStoreError(pay *Payment, op string, err error) error {
	e := &Error{Provider: pay.Provider, Op: "dedupe store: " + op, PaymentID: pay.ID, Kind: ErrStoreUnavailable, Err: err}
	for _, cerr := range []error{context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, cerr) {
			e.Kind = cerr
		}
	}
	return e
}

// ReadNotificationBody reads r's body for a provider's ParseNotification: up to the limit of
// the NewWebhookHandler serving r (WithMaxBodyBytes), or DefaultMaxBodyBytes when it is
// called outside one. A longer body is an error matching ErrInvalidRequest. Memory stays
// bounded by the limit whatever is sent.
func ReadNotificationBody(r *http.Request) ([]byte, error) {
	body, err := webhookcore.ReadBody(r, DefaultMaxBodyBytes)
	if err != nil {
		return nil, &Error{Op: "read notification", Kind: ErrInvalidRequest, Message: "reading the body", Err: err}
	}
	return body, nil
}

// DefaultDedupRetention is how long the in-memory store remembers a processed notification.
const DefaultDedupRetention = 7 * 24 * time.Hour

// NewMemoryDedupStore returns a DedupStore kept in memory, forgetting processed keys after
// retention (0: DefaultDedupRetention). It serves one process; replicas need a shared store.
// A processed notification costs about 190 bytes with its key until the retention ends
// (BenchmarkMemoryStoresPerEntry: 193 B/entry over 100,000 keys of a 36-byte id); pruning
// is O(1) amortised per Claim.
func NewMemoryDedupStore(retention time.Duration) DedupStore {
	if retention <= 0 {
		retention = DefaultDedupRetention
	}
	return &memoryDedupStore{retention: retention, entries: make(map[string]*dedupEntry)}
}

type memoryDedupStore struct {
	mu        sync.Mutex
	retention time.Duration
	entries   map[string]*dedupEntry
	// done lists the processed keys in the order they were finished, which is the order
	// they expire in: pruning pops from its front, so a Claim costs O(1) however many keys
	// are kept (a scan of every key every so often grew with the retention).
	done []doneKey
}

type doneKey struct {
	key string
	at  time.Time
}

type dedupEntry struct {
	busy   chan struct{} // closed when the holder finishes; nil once processed
	doneAt time.Time
}

// now is swappable so tests can move time.
var now = time.Now

func (s *memoryDedupStore) Claim(ctx context.Context, key string) (bool, error) {
	for {
		s.mu.Lock()
		s.pruneLocked()
		e, ok := s.entries[key]
		if !ok {
			s.entries[key] = &dedupEntry{busy: make(chan struct{})}
			s.mu.Unlock()
			return false, nil
		}
		if e.busy == nil {
			s.mu.Unlock()
			return true, nil
		}
		busy := e.busy
		s.mu.Unlock()
		select {
		case <-busy:
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
}

func (s *memoryDedupStore) Finish(_ context.Context, key string, processed bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[key]
	if !ok || e.busy == nil {
		return fmt.Errorf("paykit: dedupe key %q was not claimed", key)
	}
	close(e.busy)
	if processed {
		e.busy = nil
		e.doneAt = now()
		s.done = append(s.done, doneKey{key: key, at: e.doneAt})
	} else {
		delete(s.entries, key)
	}
	return nil
}

// pruneLocked drops the processed keys whose retention has passed, oldest first.
func (s *memoryDedupStore) pruneLocked() {
	cutoff := now().Add(-s.retention)
	n := 0
	for n < len(s.done) && s.done[n].at.Before(cutoff) {
		d := s.done[n]
		if e, ok := s.entries[d.key]; ok && e.busy == nil && e.doneAt.Equal(d.at) {
			delete(s.entries, d.key)
		}
		n++
	}
	if n > 0 {
		s.done = s.done[n:]
		if cap(s.done) > 1024 && len(s.done) < cap(s.done)/4 {
			// Give the popped front back now and then.
			s.done = append([]doneKey(nil), s.done...)
		}
	}
}

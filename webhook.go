package paykit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"
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
	store   DedupStore
	maxBody int64
	logger  *slog.Logger
}

// WithDedupStore replaces the in-memory dedupe store, e.g. with one in the merchant's database
// so that several replicas share it and it survives restarts.
func WithDedupStore(s DedupStore) WebhookOption { return func(c *webhookConfig) { c.store = s } }

// WithMaxBodyBytes sets the largest body the handler reads; a larger one is answered 413.
func WithMaxBodyBytes(n int64) WebhookOption { return func(c *webhookConfig) { c.maxBody = n } }

// WithWebhookLogger logs why a notification was refused or failed (never its signature).
func WithWebhookLogger(l *slog.Logger) WebhookOption { return func(c *webhookConfig) { c.logger = l } }

// NewWebhookHandler returns the http.Handler to mount at a provider's notify URL. For every
// request it:
//
//  1. reads the body up to the size limit (413 past it);
//  2. verifies and parses it with p.ParseNotification (401 for a bad or missing signature,
//     400 for anything malformed), changing no state when it refuses;
//  3. claims the notification's DedupKey, so that a redelivery, also one arriving at the same
//     moment, is answered 200 without running fn again;
//  4. fetches the payment with p.GetPayment, because a notification is only a signal: fn sees
//     the fetched state in Notification.Payment (503 when it cannot be fetched);
//  5. runs fn: an error (or a panic) answers 500 and the provider's next delivery runs fn
//     again; success answers 200 and records the notification as processed.
func NewWebhookHandler(p Provider, fn func(context.Context, *Notification) error, opts ...WebhookOption) http.Handler {
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
		cfg.logger = slog.New(slog.DiscardHandler)
	}
	return &webhookHandler{p: p, fn: fn, cfg: cfg}
}

type webhookHandler struct {
	p   Provider
	fn  func(context.Context, *Notification) error
	cfg webhookConfig
}

func (h *webhookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	log := h.cfg.logger.With("provider", h.p.Name())

	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			log.WarnContext(ctx, "webhook: body too large", "limit", h.cfg.maxBody)
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		log.WarnContext(ctx, "webhook: reading body failed", "error", err)
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))

	n, err := h.p.ParseNotification(r)
	if err != nil {
		if errors.Is(err, ErrInvalidSignature) {
			log.WarnContext(ctx, "webhook: refused", "error", err)
			http.Error(w, "invalid signature", http.StatusUnauthorized)
			return
		}
		if errors.Is(err, ErrUnavailable) {
			// The provider's own store or a fetch failed while parsing: not the sender's
			// fault, so ask for a redelivery instead of refusing the notification.
			log.WarnContext(ctx, "webhook: could not parse now", "error", err)
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		}
		log.WarnContext(ctx, "webhook: malformed", "error", err)
		http.Error(w, "malformed notification", http.StatusBadRequest)
		return
	}
	if n == nil || n.PaymentID == "" {
		http.Error(w, "malformed notification", http.StatusBadRequest)
		return
	}
	key := n.DedupKey
	if key == "" {
		// Length-prefixed, so that no payment id holding the separator can collide with
		// another notification's key.
		key = strconv.Itoa(len(n.PaymentID)) + ":" + n.PaymentID + "|" + n.Event
	}
	key = h.p.Name() + "|" + key

	done, err := h.cfg.store.Claim(ctx, key)
	if err != nil {
		log.WarnContext(ctx, "webhook: dedupe store", "error", err)
		http.Error(w, "try again", http.StatusServiceUnavailable)
		return
	}
	if done {
		fmt.Fprintln(w, "already processed")
		return
	}
	status := h.process(ctx, log, n)
	if err := h.cfg.store.Finish(context.WithoutCancel(ctx), key, status == http.StatusOK); err != nil {
		// fn has run; answering 200 acknowledges it. The store failing to record that only
		// risks running fn again on a redelivery, which is the lesser harm.
		log.ErrorContext(ctx, "webhook: dedupe store could not record", "error", err)
	}
	switch status {
	case http.StatusOK:
		fmt.Fprintln(w, "ok")
	case http.StatusServiceUnavailable:
		http.Error(w, "payment could not be fetched", status)
	default:
		http.Error(w, "handler failed", status)
	}
}

// process fetches the payment and runs fn, turning a panic in either into a 500 so that the
// claim is always given back.
func (h *webhookHandler) process(ctx context.Context, log *slog.Logger, n *Notification) (status int) {
	defer func() {
		if v := recover(); v != nil {
			log.ErrorContext(ctx, "webhook: panic while processing", "payment_id", n.PaymentID, "panic", fmt.Sprint(v))
			status = http.StatusInternalServerError
		}
	}()
	pay, err := h.p.GetPayment(ctx, n.PaymentID)
	if err == nil && pay == nil {
		err = errors.New("provider returned no payment and no error")
	}
	if err != nil {
		log.WarnContext(ctx, "webhook: fetching the payment failed", "payment_id", n.PaymentID, "error", err)
		return http.StatusServiceUnavailable
	}
	n.Payment = pay
	if err := h.fn(ctx, n); err != nil {
		log.WarnContext(ctx, "webhook: handler failed", "payment_id", n.PaymentID, "error", err)
		return http.StatusInternalServerError
	}
	return http.StatusOK
}

// DefaultDedupRetention is how long the in-memory store remembers a processed notification.
const DefaultDedupRetention = 7 * 24 * time.Hour

// NewMemoryDedupStore returns a DedupStore kept in memory, forgetting processed keys after
// retention (0: DefaultDedupRetention). It serves one process; replicas need a shared store.
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
	claims    int
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
	} else {
		delete(s.entries, key)
	}
	return nil
}

// pruneLocked drops expired keys, scanning once every 1024 claims so a claim stays O(1) on
// average.
func (s *memoryDedupStore) pruneLocked() {
	s.claims++
	if s.claims%1024 != 0 {
		return
	}
	cutoff := now().Add(-s.retention)
	for k, e := range s.entries {
		if e.busy == nil && e.doneAt.Before(cutoff) {
			delete(s.entries, k)
		}
	}
}

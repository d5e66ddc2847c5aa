// Package webhookcore is the once-only machinery behind paykit's webhook handlers:
// paykit.NewWebhookHandler for payments and the provider packages' own handlers (EchelonPay
// payouts). It reads the body with a limit, lets the provider verify and parse it, fetches
// the trusted state, runs the merchant's function at most once per event and answers so
// that the provider delivers again whenever the event was not processed.
//
// It imports nothing of paykit, so that the root package can use it; paykit's types come in
// through the type parameters and the functions of Spec.
package webhookcore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Store is paykit.DedupStore, restated here so that this package need not import paykit.
type Store interface {
	Claim(ctx context.Context, key string) (done bool, err error)
	Finish(ctx context.Context, key string, processed bool) error
}

// Parsed is what a Spec's Parse makes of a verified notification.
type Parsed[N any] struct {
	Value N
	// ID names what Fetch loads (the merchant's payment id); empty is malformed.
	ID string
	// Key is the event's identity made only of what the provider signed, the same for a
	// redelivery; empty when the notification carries no signed identity. Then the key is
	// made of ID and the fetched state (Spec.StateKey), so that a forged or replayed field
	// cannot make fn run again, and a later change of state is never taken for a
	// redelivery.
	Key string
}

// Spec describes one kind of notification endpoint. Every field is required but Logger,
// Methods and StateID.
type Spec[N, T any] struct {
	Name    string // provider name: prefixes dedupe keys and log lines
	Store   Store
	MaxBody int64
	Logger  *slog.Logger
	// Methods lists the HTTP methods the provider notifies with; nil means POST only. Any
	// other method is answered 405 with an Allow header naming them, before anything is
	// read.
	Methods []string
	// Parse verifies and parses r. It may read r.Body, which holds the body read up to
	// MaxBody; BodyLimit(r.Context()) tells it that limit.
	Parse func(r *http.Request) (Parsed[N], error)
	// Refusal gives the answer for a Parse error: 400, 401 or 503.
	Refusal func(err error) int
	// Fetch loads the trusted state of id. An error answers 503 and fn does not run.
	Fetch func(ctx context.Context, id string) (T, error)
	// StateKey describes the fetched state for the dedupe key of a notification without a
	// signed identity: it must change whenever the merchant should hear of the payment again
	// (status, captured and refunded amounts).
	StateKey func(T) string
	// StateID is the fetched state's own id in its canonical form (eCredits ids are
	// lower-case): the dedupe key is made of it, not of the id as the notification spelt it,
	// so that a replay with the id's letters in another case is a redelivery. Nil, or an
	// empty answer, falls back to Parsed.ID.
	StateID func(T) string
	// StateName names the provider in the key of a fetched state (see StateKeyOf): the
	// provider that answered the state (Payment.Provider), so that a Router's handler, a
	// provider's own handler and a reconciler that polled the payment make one key for one
	// state. Nil, or an empty answer, falls back to Name.
	StateName func(T) string
	// OncePerState makes a notification with a signed Key claim the key of the fetched state
	// too, after its own and before fn runs: fn then runs once per state also when the state
	// reached it another way (a reconciler's poll, another event with the same outcome). Off,
	// two events of one state each run fn, as their signed identities differ.
	OncePerState bool
	// Run calls the merchant's function.
	Run func(ctx context.Context, n N, state T) error
	// Observer, when not nil, is told of every delivery and every Store call.
	Observer *Observer
}

// Observer is told what a Handler does, for paykit's Hooks. Both fields are required.
type Observer struct {
	// Start is called when a delivery arrives. It returns the context the delivery is
	// handled in and a function called once with its outcome, after the answer is written.
	Start func(ctx context.Context) (context.Context, func(Outcome))
	// Store is called after each call to the Spec's Store: op is "claim" or "finish".
	Store func(ctx context.Context, op string, d time.Duration, err error)
}

// Outcome is what a Handler made of one delivery.
type Outcome struct {
	Verdict Verdict
	Status  int    // the answer
	ID      string // Parsed.ID, or the fetched state's canonical id; empty before parsing
	Err     error  // why it was not processed; nil for VerdictProcessed and VerdictDuplicate
}

// Verdict names an Outcome; paykit's WebhookVerdict constants have the same values.
type Verdict string

// The verdicts, with the answer each gives.
const (
	VerdictProcessed        Verdict = "processed"          // 200
	VerdictDuplicate        Verdict = "duplicate"          // 200
	VerdictBadSignature     Verdict = "bad_signature"      // 401
	VerdictMalformed        Verdict = "malformed"          // 400
	VerdictFetchFailed      Verdict = "fetch_failed"       // 503, 500 when Fetch panicked
	VerdictFnFailed         Verdict = "fn_failed"          // 500
	VerdictUnavailable      Verdict = "unavailable"        // 503 from Refusal
	VerdictStoreFailed      Verdict = "store_failed"       // 503
	VerdictTooLarge         Verdict = "too_large"          // 413
	VerdictMethodNotAllowed Verdict = "method_not_allowed" // 405
)

// StateKeyOf is the dedupe key of a fetched state: the provider's name, the state's
// canonical id and stateKey (Spec.StateKey's answer), each part that may hold the separator
// length-prefixed so that no name or id can collide with another key. Its bytes are those
// the handler has always claimed for a notification without a signed identity.
func StateKeyOf(name, id, stateKey string) string {
	return lengthPrefixed(name) + "|state|" + lengthPrefixed(id) + "|" + stateKey
}

// stateKey is the dedupe key of state, fetched for the notification about id.
func (h *handler[N, T]) stateKey(id string, state T) string {
	if h.spec.StateID != nil {
		if canonical := h.spec.StateID(state); canonical != "" {
			id = canonical
		}
	}
	name := h.spec.Name
	if h.spec.StateName != nil {
		if n := h.spec.StateName(state); n != "" {
			name = n
		}
	}
	return StateKeyOf(name, id, h.spec.StateKey(state))
}

// limitKey carries the body limit in a request's context.
type limitKey struct{}

// WithBodyLimit returns ctx carrying n, the largest notification body to read.
func WithBodyLimit(ctx context.Context, n int64) context.Context {
	return context.WithValue(ctx, limitKey{}, n)
}

// BodyLimit returns the limit WithBodyLimit put in ctx, or def when there is none.
func BodyLimit(ctx context.Context, def int64) int64 {
	if n, ok := ctx.Value(limitKey{}).(int64); ok && n > 0 {
		return n
	}
	return def
}

// ErrBodyTooLarge is returned by ReadBody for a body longer than its limit.
var ErrBodyTooLarge = errors.New("body too large")

// ReadBody reads r's body up to the limit in r's context (def outside a handler). It reads
// at most one byte more than the limit, so memory stays bounded whatever is sent.
func ReadBody(r *http.Request, def int64) ([]byte, error) {
	limit := BodyLimit(r.Context(), def)
	if r.Body == nil {
		return nil, nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrBodyTooLarge, limit)
	}
	return body, nil
}

// Handler returns the http.Handler for spec. For every request it:
//
//  0. answers a method the provider does not notify with 405 and an Allow header;
//  1. reads the body up to MaxBody (413 past it);
//  2. has Parse verify and parse it (Refusal's answer when it refuses; nothing changes);
//  3. with a signed Key: claims it (a redelivery, also one arriving at the same moment, is
//     answered 200 without running fn again), then fetches (and, with OncePerState, claims
//     the fetched state's key too, answering 200 without fn when it was processed); without
//     one: fetches first and claims the key of the fetched state (StateKeyOf);
//  4. runs fn with the fetched state: an error or a panic answers 500 and gives the claim
//     back, so that the provider's next delivery runs fn again; success answers 200 and
//     records the key as processed.
//
// A fetch that fails answers 503 (nothing acknowledged, fn not run); so does a store error
// on Claim. A store error on Finish after fn succeeded still answers 200: fn ran, and a
// redelivery running it again is the lesser harm.
func Handler[N, T any](spec Spec[N, T]) http.Handler {
	if spec.Logger == nil {
		spec.Logger = slog.New(slog.DiscardHandler)
	}
	if len(spec.Methods) == 0 {
		spec.Methods = []string{http.MethodPost}
	}
	return &handler[N, T]{spec: spec, log: spec.Logger.With("provider", spec.Name, "op", "webhook"),
		allow: strings.Join(spec.Methods, ", ")}
}

type handler[N, T any] struct {
	spec  Spec[N, T]
	log   *slog.Logger
	allow string // the Allow header of a 405
}

func (h *handler[N, T]) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.spec.Observer == nil {
		h.serve(w, r)
		return
	}
	ctx, end := h.spec.Observer.Start(r.Context())
	end(h.serve(w, r.WithContext(ctx)))
}

// serve handles one delivery and says what it made of it.
func (h *handler[N, T]) serve(w http.ResponseWriter, r *http.Request) Outcome {
	ctx := r.Context()
	if !slices.Contains(h.spec.Methods, r.Method) {
		// A GET from a browser or a health check is no notification: say what is allowed
		// instead of reading it and calling it malformed.
		w.Header().Set("Allow", h.allow)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return Outcome{Verdict: VerdictMethodNotAllowed, Status: http.StatusMethodNotAllowed}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.spec.MaxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			h.log.WarnContext(ctx, "webhook: body too large", "limit", h.spec.MaxBody)
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return Outcome{Verdict: VerdictTooLarge, Status: http.StatusRequestEntityTooLarge, Err: ErrBodyTooLarge}
		}
		h.log.WarnContext(ctx, "webhook: reading body failed", "error", err)
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return Outcome{Verdict: VerdictMalformed, Status: http.StatusBadRequest, Err: err}
	}
	r = r.WithContext(WithBodyLimit(ctx, h.spec.MaxBody))
	r.Body = io.NopCloser(bytes.NewReader(body))

	p, err := h.spec.Parse(r)
	if err == nil && p.ID == "" {
		err = errors.New("the notification names no payment")
	}
	if err != nil {
		status := h.spec.Refusal(err)
		switch status {
		case http.StatusUnauthorized:
			h.log.WarnContext(ctx, "webhook: refused", "error", err)
			http.Error(w, "invalid signature", status)
			return Outcome{Verdict: VerdictBadSignature, Status: status, Err: err}
		case http.StatusServiceUnavailable:
			// The provider or a store failed while parsing: not the sender's fault, so ask
			// for a redelivery instead of refusing the notification.
			h.log.WarnContext(ctx, "webhook: could not parse now", "error", err)
			http.Error(w, "try again", status)
			return Outcome{Verdict: VerdictUnavailable, Status: status, Err: err}
		default:
			h.log.WarnContext(ctx, "webhook: malformed", "error", err)
			http.Error(w, "malformed notification", http.StatusBadRequest)
			return Outcome{Verdict: VerdictMalformed, Status: http.StatusBadRequest, Err: err}
		}
	}

	var state T
	var fetched bool
	var key string
	if p.Key == "" {
		// Nothing signed tells this event from another: the fetched state does.
		var out Outcome
		if state, out = h.fetch(ctx, p.ID); out.Status != http.StatusOK {
			answer(w, out.Status)
			return out
		}
		fetched = true
		key = h.stateKey(p.ID, state)
	} else {
		// Length-prefixed, so that no provider name holding the separator can collide with
		// another notification's key.
		key = lengthPrefixed(h.spec.Name) + "|event|" + p.Key
	}

	done, err := h.claim(ctx, key)
	if err != nil {
		h.log.WarnContext(ctx, "webhook: the dedupe store failed; asking for a redelivery", "payment_id", p.ID, "error", err)
		http.Error(w, "try again", http.StatusServiceUnavailable)
		return Outcome{Verdict: VerdictStoreFailed, Status: http.StatusServiceUnavailable, ID: p.ID, Err: err}
	}
	if done {
		h.log.DebugContext(ctx, "webhook: already processed", "payment_id", p.ID)
		fmt.Fprintln(w, "already processed")
		return Outcome{Verdict: VerdictDuplicate, Status: http.StatusOK, ID: p.ID}
	}
	out := h.processKeyed(ctx, p, state, fetched)
	if err := h.finish(ctx, key, out.Status == http.StatusOK); err != nil {
		h.log.ErrorContext(ctx, "webhook: the dedupe store could not record", "payment_id", p.ID, "processed", out.Status == http.StatusOK, "error", err)
	}
	if out.Verdict == VerdictProcessed {
		h.log.DebugContext(ctx, "webhook: processed", "payment_id", p.ID)
	}
	answer(w, out.Status)
	if out.ID == "" {
		out.ID = p.ID
	}
	return out
}

// claim and finish call the Spec's Store, telling the Observer.
func (h *handler[N, T]) claim(ctx context.Context, key string) (bool, error) {
	if h.spec.Observer == nil {
		return h.spec.Store.Claim(ctx, key)
	}
	start := time.Now()
	done, err := h.spec.Store.Claim(ctx, key)
	h.spec.Observer.Store(ctx, "claim", time.Since(start), err)
	return done, err
}

// finish records key as processed or gives it back, without ctx's cancellation: the outcome
// must be recorded even when the provider hung up.
func (h *handler[N, T]) finish(ctx context.Context, key string, processed bool) error {
	if h.spec.Observer == nil {
		return h.spec.Store.Finish(context.WithoutCancel(ctx), key, processed)
	}
	start := time.Now()
	err := h.spec.Store.Finish(context.WithoutCancel(ctx), key, processed)
	h.spec.Observer.Store(ctx, "finish", time.Since(start), err)
	return err
}

// processKeyed is process for a notification whose own key is claimed. With OncePerState
// and a signed key it fetches, then claims the key of the fetched state too, and runs fn
// only when that state was not processed yet (by a reconciler's poll or another event):
// the event's key is then recorded as processed without running fn again.
func (h *handler[N, T]) processKeyed(ctx context.Context, p Parsed[N], state T, fetched bool) Outcome {
	if !h.spec.OncePerState || fetched {
		return h.process(ctx, p, state, fetched)
	}
	state, out := h.fetch(ctx, p.ID)
	if out.Status != http.StatusOK {
		return out
	}
	key := h.stateKey(p.ID, state)
	done, err := h.claim(ctx, key)
	if err != nil {
		h.log.WarnContext(ctx, "webhook: the dedupe store failed; asking for a redelivery", "payment_id", p.ID, "error", err)
		return Outcome{Verdict: VerdictStoreFailed, Status: http.StatusServiceUnavailable, ID: p.ID, Err: err}
	}
	if done {
		h.log.DebugContext(ctx, "webhook: the fetched state was processed already", "payment_id", p.ID)
		return Outcome{Verdict: VerdictDuplicate, Status: http.StatusOK, ID: p.ID}
	}
	out = h.process(ctx, p, state, true)
	if err := h.finish(ctx, key, out.Status == http.StatusOK); err != nil {
		h.log.ErrorContext(ctx, "webhook: the dedupe store could not record", "payment_id", p.ID, "processed", out.Status == http.StatusOK, "error", err)
	}
	return out
}

// answer writes the answer for the outcome of processing.
func answer(w http.ResponseWriter, status int) {
	switch status {
	case http.StatusOK:
		fmt.Fprintln(w, "ok")
	case http.StatusServiceUnavailable:
		http.Error(w, "payment could not be fetched", status)
	default:
		http.Error(w, "handler failed", status)
	}
}

// process fetches the state unless it was fetched already, and runs fn, turning a panic in
// fn into a 500 so that the claim is always given back.
func (h *handler[N, T]) process(ctx context.Context, p Parsed[N], state T, fetched bool) (out Outcome) {
	if !fetched {
		if state, out = h.fetch(ctx, p.ID); out.Status != http.StatusOK {
			return out
		}
	}
	defer func() {
		if v := recover(); v != nil {
			h.log.ErrorContext(ctx, "webhook: panic in the handler function", "payment_id", p.ID, "panic", fmt.Sprint(v))
			out = Outcome{Verdict: VerdictFnFailed, Status: http.StatusInternalServerError, ID: p.ID, Err: fmt.Errorf("panic in the handler function: %v", v)}
		}
	}()
	if err := h.spec.Run(ctx, p.Value, state); err != nil {
		h.log.WarnContext(ctx, "webhook: handler failed", "payment_id", p.ID, "error", err)
		return Outcome{Verdict: VerdictFnFailed, Status: http.StatusInternalServerError, ID: p.ID, Err: err}
	}
	return Outcome{Verdict: VerdictProcessed, Status: http.StatusOK, ID: h.canonicalID(p.ID, state)}
}

// canonicalID is the fetched state's own id (StateID), or id.
func (h *handler[N, T]) canonicalID(id string, state T) string {
	if h.spec.StateID != nil {
		if c := h.spec.StateID(state); c != "" {
			return c
		}
	}
	return id
}

// fetch calls Spec.Fetch and says how to answer: 200 when it fetched the state, 503 when the
// provider could not say (the provider delivers again), 500 when Fetch panicked (a bug).
func (h *handler[N, T]) fetch(ctx context.Context, id string) (state T, out Outcome) {
	defer func() {
		if v := recover(); v != nil {
			h.log.ErrorContext(ctx, "webhook: panic while fetching", "payment_id", id, "panic", fmt.Sprint(v))
			out = Outcome{Verdict: VerdictFetchFailed, Status: http.StatusInternalServerError, ID: id, Err: fmt.Errorf("panic while fetching: %v", v)}
		}
	}()
	state, err := h.spec.Fetch(ctx, id)
	if err != nil {
		h.log.WarnContext(ctx, "webhook: fetching failed", "payment_id", id, "error", err)
		return state, Outcome{Verdict: VerdictFetchFailed, Status: http.StatusServiceUnavailable, ID: id, Err: err}
	}
	return state, Outcome{Status: http.StatusOK, ID: id}
}

func lengthPrefixed(s string) string { return strconv.Itoa(len(s)) + ":" + s }

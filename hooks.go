package paykit

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/paykit/paykit/internal/hookwire"
	"github.com/paykit/paykit/internal/webhookcore"
)

// Hooks are the callbacks through which a program observes what paykit does: every
// operation of a provider client, a Router or a webhook handler, every HTTP attempt, and
// what happens between them (limiter waits, token fetches, retry waits, failover
// decisions, dedupe store calls). Package otelpaykit turns them into OpenTelemetry spans
// and metrics; a program that wants its own metrics sets the fields it needs. Give them to
// clients with WithHooks, to a Router with WithRouterHooks, to webhook handlers with
// WithWebhookHooks; one *Hooks may serve all of them.
//
// Every field may be nil, and so may the *Hooks: what is nil costs one nil check. The
// callbacks run in the caller's goroutine, inside the call, so they must be quick and safe
// for concurrent use, and must not keep the values after they return unless they copy
// them. The ctx a callback gets is the one the observed work runs in: the caller's, with
// whatever the enclosing Operation or Attempt callback returned (a span), so that nested
// work (a Router's create, the provider's create under it, its HTTP attempts) nests.
//
// Nothing given to a hook holds a secret, a token, a signature or a body: a URL is given
// as its template ("/v1/orders/{id}"), never with ids, and an Err is a paykit error whose
// text is redacted. Errors may still hold payment ids and providers' messages; exporters
// that must stay low in cardinality use ErrorKind instead of the text.
type Hooks struct {
	// Operation is called when an operation starts: a Provider method (CreatePayment,
	// GetPayment, Capture, Refund, Cancel, ParseNotification) of a provider client or a
	// Router, a webhook delivery (OpHandleNotification), a reconciler's poll (OpReconcile).
	// It returns the context the operation runs in (e.g. carrying a span; return ctx to
	// change nothing) and a function that is called once, when the operation ends. Neither
	// return may be nil.
	Operation func(ctx context.Context, op OperationStart) (context.Context, func(OperationEnd))
	// Attempt is called for each HTTP request a client sends, once it has its token and its
	// turn on the limiter, just before it is written, and returns the context the request
	// is sent in (which an HTTP transport such as otelhttp may read) and a function called
	// once with what the attempt gave. Neither return may be nil.
	Attempt func(ctx context.Context, a AttemptStart) (context.Context, func(AttemptEnd))
	// LimiterWait is called after each wait for a turn on a client's limiter, however short.
	LimiterWait func(ctx context.Context, w LimiterWait)
	// TokenFetch is called when a call needed a new bearer token and waited for its fetch
	// (Shared: one fetch served several calls).
	TokenFetch func(ctx context.Context, f TokenFetch)
	// RetryWait is called before a client waits to send a request again.
	RetryWait func(ctx context.Context, w RetryWait)
	// Failover is called for each decision of a Router after a create failed at a
	// candidate: taken (the create goes to the next provider) or not, and why.
	Failover func(ctx context.Context, f Failover)
	// Webhook is called once per delivery a webhook handler answered, with its verdict,
	// before the OpHandleNotification operation ends.
	Webhook func(ctx context.Context, d WebhookDelivery)
	// Store is called after each call to a store paykit keeps state in (a DedupStore, an
	// OwnershipStore), with its latency.
	Store func(ctx context.Context, s StoreCall)
}

// The operation names given to Hooks.Operation (OperationStart.Op). They are the Op of the
// errors the operations return.
const (
	OpCreatePayment      = "create payment"
	OpGetPayment         = "get payment"
	OpCapture            = "capture"
	OpRefund             = "refund"
	OpCancel             = "cancel"
	OpParseNotification  = "parse notification"
	OpHandleNotification = "handle notification" // a webhook handler's delivery
	OpReconcile          = "reconcile"           // a reconciler's poll of one payment
)

// OperationStart describes an operation that starts.
type OperationStart struct {
	Provider  string // the provider's name, or RouterName
	Op        string // OpCreatePayment, …
	PaymentID string // the merchant's payment id, when known at the start
}

// OperationEnd describes how an operation ended.
type OperationEnd struct {
	// PaymentID is the payment id the operation was about, also when it was not known at the
	// start (a notification's, an id the Router generated).
	PaymentID string
	Err       error // nil on success; ErrorKind names its kind
}

// AttemptStart describes one HTTP request about to be sent, in the terms of
// OpenTelemetry's HTTP client conventions.
type AttemptStart struct {
	Provider  string
	Op        string // what the call does, e.g. "get order" (finer than the operation)
	PaymentID string // the payment the call is about, if any
	Method    string // "GET", "POST", …
	// URLTemplate is the path below the base URL with each id in braces
	// ("/api/v1/requests/{id}"): low in cardinality and free of ids, unlike the path.
	URLTemplate   string
	ServerAddress string // the base URL's host
	ServerPort    int    // the base URL's port, or the scheme's (443, 80)
	// ResendCount is 0 for the first request of a call, and counts the requests sent again
	// (retries, and a request repeated with a new token after a 401).
	ResendCount int
}

// AttemptEnd describes what an HTTP request gave.
type AttemptEnd struct {
	StatusCode int // 0 when no answer came
	// ErrorType is empty when the attempt succeeded; otherwise the status code as text
	// ("503") when the provider answered, or what stopped it: "timeout" (the per-attempt
	// timeout), "context_canceled", "context_deadline_exceeded" (the caller's context),
	// "response_too_large", "malformed_response", "network".
	ErrorType string
	Err       error // the attempt's error, nil on success
	Duration  time.Duration
}

// LimiterWait describes a wait for a turn on a client's limiter.
type LimiterWait struct {
	Provider string
	Op       string
	Wait     time.Duration
	Err      error // the limiter refused a turn, or the context ended while waiting
}

// TokenFetch describes a wait for a bearer token that was not cached or was due.
type TokenFetch struct {
	Provider string
	Wait     time.Duration // how long the call waited for the token
	Shared   bool          // the fetch served more than this call
	Err      error
}

// RetryWait describes a wait before a request is sent again.
type RetryWait struct {
	Provider   string
	Op         string
	PaymentID  string
	Attempt    int           // the attempt that failed (1 for the first)
	StatusCode int           // its status, 0 when no answer came
	Wait       time.Duration // how long the client waits
	RetryAfter bool          // the wait is the provider's Retry-After, not the backoff
	Err        error         // the failed attempt's error
}

// FailoverReason says why a Router failed over, or why it did not.
type FailoverReason string

// The reasons of Router failover decisions. The first two are failovers taken; the others
// are failovers refused.
const (
	// FailoverRefused: taken after the provider refused the request or paykit's
	// credentials (400, 401, 403, 404, 422): a mistake to fix (Failovers().Refused).
	FailoverRefused FailoverReason = "provider_refused"
	// FailoverUnavailable: taken after the provider could not be reached before anything
	// was sent, answered 429, or cannot do what the request asks (Failovers().Unavailable).
	FailoverUnavailable FailoverReason = "provider_unavailable"
	// FailoverNoCandidate: no other provider takes the payment.
	FailoverNoCandidate FailoverReason = "no_candidate"
	// FailoverInvalidRequest: paykit refused the request as invalid; another provider would
	// hide the mistake.
	FailoverInvalidRequest FailoverReason = "invalid_request"
	// FailoverMaybeProcessed: the provider may have processed the create (a 5xx, a timeout
	// after the request was written, a 409, a malformed answer).
	FailoverMaybeProcessed FailoverReason = "maybe_processed"
	// FailoverContextEnded: the caller's context ended.
	FailoverContextEnded FailoverReason = "context_ended"
	// FailoverNotConfirmed: asked for the id, the provider did not say it has no payment.
	FailoverNotConfirmed FailoverReason = "not_confirmed"
	// FailoverRepeatSent: a repeat of the create was sent to the provider meanwhile and may
	// still create the payment there.
	FailoverRepeatSent FailoverReason = "repeat_sent"
)

// Failover describes a Router's decision after a create failed at a candidate.
type Failover struct {
	From      string // the provider the create failed at
	To        string // the provider it goes to; empty when not Taken
	PaymentID string // the id given to From
	// NewPaymentID is the id given to To when it differs from PaymentID (a generated id
	// that To cannot hold).
	NewPaymentID string
	Taken        bool
	Reason       FailoverReason
	Err          error // the create's error at From
}

// WebhookVerdict is what a webhook handler made of a delivery.
type WebhookVerdict string

// The verdicts of a webhook delivery, with the status the handler answers.
const (
	WebhookProcessed        WebhookVerdict = "processed"          // 200, fn ran and succeeded
	WebhookDuplicate        WebhookVerdict = "duplicate"          // 200, processed already: fn not run
	WebhookBadSignature     WebhookVerdict = "bad_signature"      // 401
	WebhookMalformed        WebhookVerdict = "malformed"          // 400
	WebhookFetchFailed      WebhookVerdict = "fetch_failed"       // 503 (or 500 when the fetch panicked): fn not run
	WebhookFnFailed         WebhookVerdict = "fn_failed"          // 500, fn failed or panicked
	WebhookUnavailable      WebhookVerdict = "unavailable"        // 503, the provider or a store could not be asked while parsing
	WebhookStoreFailed      WebhookVerdict = "store_failed"       // 503, the dedupe store failed
	WebhookTooLarge         WebhookVerdict = "too_large"          // 413
	WebhookMethodNotAllowed WebhookVerdict = "method_not_allowed" // 405
)

// WebhookDelivery describes a delivery a webhook handler answered.
type WebhookDelivery struct {
	Provider   string
	PaymentID  string // empty when the notification named none that could be trusted
	Verdict    WebhookVerdict
	StatusCode int   // the handler's answer
	Err        error // why it was not processed; nil for processed and duplicate
}

// StoreCall describes one call to a store.
type StoreCall struct {
	Store    string // "dedupe", "ownership"
	Op       string // "claim", "finish", "owner", "move"
	Duration time.Duration
	Err      error
}

// ErrorKind names the kind of err in a few low-cardinality words, for metrics and span
// attributes: "" for nil, "invalid_request", "unauthorized", "not_found", "conflict",
// "unprocessable", "rate_limited", "store_unavailable", "unavailable",
// "invalid_signature", "unsupported", "amount_mismatch", "canceled",
// "deadline_exceeded", or "other" for an error of no paykit kind.
func ErrorKind(err error) string {
	if err == nil {
		return ""
	}
	for _, k := range errorKinds {
		if errors.Is(err, k.err) {
			return k.name
		}
	}
	return "other"
}

// errorKinds is in the order ErrorKind tests: a context error first, because a call the
// caller ended is that whatever else it was, and the narrower store kind before
// ErrUnavailable, which it also matches.
var errorKinds = []struct {
	err  error
	name string
}{
	{context.Canceled, "canceled"},
	{context.DeadlineExceeded, "deadline_exceeded"},
	{ErrStoreUnavailable, "store_unavailable"},
	{ErrInvalidRequest, "invalid_request"},
	{ErrUnauthorized, "unauthorized"},
	{ErrNotFound, "not_found"},
	{ErrConflict, "conflict"},
	{ErrUnprocessable, "unprocessable"},
	{ErrRateLimited, "rate_limited"},
	{ErrUnavailable, "unavailable"},
	{ErrInvalidSignature, "invalid_signature"},
	{ErrUnsupported, "unsupported"},
	{ErrAmountMismatch, "amount_mismatch"},
}

// OperationDone ends an operation that StartOperation or StartNotification started. Its
// zero value, which they return when there is no Operation hook, does nothing.
type OperationDone struct {
	end func(OperationEnd)
	id  string
}

// StartOperation starts an operation of provider on paymentID through h.Operation, for
// Provider implementations: it returns the context to run the operation in and what ends
// it. With no hook (h nil, or its Operation nil) it returns ctx and a zero OperationDone,
// and costs a nil check:
//
//	func (c *Client) Capture(ctx context.Context, id string, amount paykit.Money, opts ...paykit.CallOption) (pay *paykit.Payment, err error) {
//		ctx, done := c.hooks.StartOperation(ctx, "mine", paykit.OpCapture, id)
//		defer func() { done.Payment(pay, err) }()
//		…
func (h *Hooks) StartOperation(ctx context.Context, provider, op, paymentID string) (context.Context, OperationDone) {
	if h == nil || h.Operation == nil {
		return ctx, OperationDone{}
	}
	ctx, end := h.Operation(ctx, OperationStart{Provider: provider, Op: op, PaymentID: paymentID})
	return ctx, OperationDone{end: end, id: paymentID}
}

// StartNotification starts the OpParseNotification operation of provider for r, as
// StartOperation does: it returns r with the operation's context (r itself when there is
// no hook) and what ends it.
func (h *Hooks) StartNotification(r *http.Request, provider string) (*http.Request, OperationDone) {
	if h == nil || h.Operation == nil {
		return r, OperationDone{}
	}
	ctx, done := h.StartOperation(r.Context(), provider, OpParseNotification, "")
	return r.WithContext(ctx), done
}

// Payment ends the operation with its outcome: pay's id (when pay is not nil) and err.
func (d OperationDone) Payment(pay *Payment, err error) {
	if d.end == nil {
		return
	}
	id := d.id
	if pay != nil && pay.ID != "" {
		id = pay.ID
	}
	d.end(OperationEnd{PaymentID: id, Err: err})
}

// Notification ends the operation with its outcome: n's payment id (when n is not nil) and
// err.
func (d OperationDone) Notification(n *Notification, err error) {
	if d.end == nil {
		return
	}
	id := d.id
	if n != nil && n.PaymentID != "" {
		id = n.PaymentID
	}
	d.end(OperationEnd{PaymentID: id, Err: err})
}

// End ends the operation with paymentID (empty: the one it started with) and err.
func (d OperationDone) End(paymentID string, err error) {
	if d.end == nil {
		return
	}
	if paymentID == "" {
		paymentID = d.id
	}
	d.end(OperationEnd{PaymentID: paymentID, Err: err})
}

// storeCall reports a call to the store named store that started at start, when h has a
// Store hook.
func (h *Hooks) storeCall(ctx context.Context, store, op string, start time.Time, err error) {
	if h != nil && h.Store != nil {
		h.Store(ctx, StoreCall{Store: store, Op: op, Duration: time.Since(start), Err: err})
	}
}

// storeStart is the time a store call starts when h observes store calls, else the zero
// time (no clock read).
func (h *Hooks) storeStart() time.Time {
	if h != nil && h.Store != nil {
		return time.Now()
	}
	return time.Time{}
}

// webhookObserver is what a webhook handler of the provider named provider tells h, or nil
// when h observes nothing a handler does.
func (h *Hooks) webhookObserver(provider string) *webhookcore.Observer {
	if h == nil || (h.Operation == nil && h.Webhook == nil && h.Store == nil) {
		return nil
	}
	return &webhookcore.Observer{
		Start: func(ctx context.Context) (context.Context, func(webhookcore.Outcome)) {
			ctx, done := h.StartOperation(ctx, provider, OpHandleNotification, "")
			return ctx, func(o webhookcore.Outcome) {
				if h.Webhook != nil {
					h.Webhook(ctx, WebhookDelivery{Provider: provider, PaymentID: o.ID, Verdict: WebhookVerdict(o.Verdict), StatusCode: o.Status, Err: o.Err})
				}
				done.End(o.ID, o.Err)
			}
		},
		Store: func(ctx context.Context, op string, d time.Duration, err error) {
			if h.Store != nil {
				h.Store(ctx, StoreCall{Store: "dedupe", Op: op, Duration: d, Err: err})
			}
		},
	}
}

// init hands the webhook observer to provider packages (EchelonPay's payout handler) through
// an internal package, so that their handlers report as NewWebhookHandler's do without the
// conversion being exported.
func init() {
	hookwire.WebhookObserver = func(h any, provider string) *webhookcore.Observer {
		hooks, _ := h.(*Hooks)
		return hooks.webhookObserver(provider)
	}
}

package paykit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/paykit/paykit/internal/ids"
)

// Router is a Provider over several providers: the gateway a merchant would otherwise write
// by hand. CreatePayment picks a provider by ordered rules (currency, country, amount,
// capabilities, or a function), records which provider owns the payment id before the create
// is sent, and fails over to the next provider only when the first one certainly created
// nothing. GetPayment, Capture, Refund and Cancel go to the provider that owns the id.
// WebhookHandler mounts every provider's notification endpoint under one prefix.
//
// # Failover
//
// A create fails over to the next candidate only when all of these hold:
//
//  1. its error says the provider certainly did not process the call (Error.Unprocessed):
//     no attempt was written to a connection (DNS, dial or TLS failure, a limiter or token
//     failure), paykit found before sending that the provider cannot do what the request
//     asks (ErrUnsupported), or the provider refused every attempt without processing it (a
//     4xx other than 408 and 409, which includes 400, 401, 403 and 429 after the allowed
//     retries);
//  2. it is not paykit's own refusal of the request as invalid (ErrInvalidRequest with no
//     HTTP status: a malformed id, a missing field, an amount or currency the provider
//     cannot take). That is a mistake in the request or in the routes, and the next
//     provider would hide it, so it comes back to the caller, with nothing sent anywhere;
//  3. that provider, asked for the id, says it has no such payment (ErrNotFound, or it
//     refuses the id as one it cannot hold).
//
// A failover after the provider itself refused the create (400, 404, 422, and 401 or 403:
// paykit's credentials for it are wrong) keeps the payment going but may hide a mistake that
// moves all of that provider's traffic elsewhere, so it is logged at error level and counted
// in Failovers().Refused; every other failover (unreachable, rate limited, unsupported) is
// logged at warning level and counted in Failovers().Unavailable. Alert on Refused.
//
// Anything else never fails over: a 5xx, a timeout or a dropped connection after the request
// was written, a malformed answer, a 409, an amount mismatch, or the caller's own context
// ending. The provider may have created the payment, so the error is returned with the
// payment id (Error.PaymentID): repeating CreatePayment with that id goes to the same
// provider, which returns the payment as it stands.
//
// # Payment ids
//
// A PaymentRequest.ID the merchant gives is sent as it is; a provider that cannot hold it
// refuses it before sending anything, and that comes back (see Failover, 2). An empty ID is
// generated in the form of the provider tried, by its NewID (IDMaker; else a dashed
// lowercase UUID): 32 lowercase hex digits for Entrecard (at most 32 characters), a dashed
// lowercase UUID for the others (eCredits wants a GUID). No form fits both, so a failover
// to a provider that does not take the id (IDChecker) generates a new id for it, and the
// Payment or the error names that id; the first id stays
// recorded with the provider that created nothing under it. Between providers of one form
// the id stays. A merchant who stores the id before calling should pick the provider's own
// NewID (each provider package has one) and route so that every candidate takes its form.
//
// # Store failures
//
// When the OwnershipStore fails, the Router sends nothing and returns an error of kind
// ErrStoreUnavailable, which also matches ErrUnavailable, saying which store failed:
// `paykit: router: get payment "<id>": store unavailable: ownership store: redis: …`.
//
// # Ownership
//
// The OwnershipStore records the owner before the create is sent, and a failover moves the
// record only while the previous provider still owns it and no repeat of the create was sent
// to it meanwhile (which could still create the payment there, e.g. from another replica or a
// double submit); a repeated CreatePayment with an id
// that has an owner goes to that owner, whatever the rules would pick now, and never fails
// over (the first create may have handed the customer a way to pay). A crash between
// the record and the create leaves an owner whose provider never saw the payment (GetPayment
// answers ErrNotFound, and repeating the create there makes it), never a payment that
// nobody can find. Replicas share a store (redisstore has one); the default is in memory.
//
// # Watching
//
// With WithWatcher (a reconcile.Reconciler's watch list) every payment id is watched from
// after its ownership record and before its create is sent, the new id of a failover too,
// and again before and after each Capture, Refund and Cancel (a poll made while the
// operation was on its way may have found the payment final and dropped it): the
// reconciler finds the final state of payments whose notifications never arrive. A watch that fails sends nothing and returns
// ErrStoreUnavailable, as an ownership store failure does.
type Router struct {
	providers map[string]Provider
	names     []string
	routes    []Route
	owners    OwnershipStore
	log       *slog.Logger
	failovers map[string]*failoverCounter // one per provider, made by NewRouter
	watcher   Watcher                     // WithWatcher, or nil
	hooks     *Hooks                      // WithRouterHooks, or nil
}

type failoverCounter struct{ refused, unavailable atomic.Int64 }

// FailoverCounts counts the creates a Router moved away from one provider, by why the
// provider did not take them.
type FailoverCounts struct {
	// Refused counts failovers after the provider refused the request (400, 404, 422) or
	// paykit's credentials (401, 403). Each is logged at error level: a mistake to fix, which
	// the failover keeps from stopping payments but would otherwise hide.
	Refused int64
	// Unavailable counts failovers after the provider could not be reached before anything
	// was sent, refused for its rate limit (429), or cannot do what the request asks.
	Unavailable int64
}

// RouterName is the Router's Name.
const RouterName = "router"

// Route is one routing rule: payments that Match go to Providers, in order of preference.
type Route struct {
	Name      string   // names the rule in logs and errors
	Match     Match    // which payments the rule takes; the zero Match takes every payment
	Providers []string // provider names (Provider.Name) in order of preference
}

// Match selects payment requests. Every condition given must hold; an empty one holds for
// every request.
type Match struct {
	Currencies []string // the amount's currency is one of these
	// Countries holds ISO 3166-1 alpha-2 codes. The request's country is Customer.Country,
	// else the region of Locale ("sv-SE" is SE); a request with neither does not match.
	Countries []string
	// MinAmount and MaxAmount bound the amount in minor units, both inclusive; a zero
	// MaxAmount sets no upper bound.
	MinAmount, MaxAmount int64
	// Needs lists capabilities a provider must have to be picked (e.g. Capture for a shop
	// that ships before it charges): a provider of the rule without one is skipped.
	Needs Capabilities
	// Func, when set, must also return true.
	Func func(PaymentRequest) bool
}

// RouterOption configures NewRouter.
type RouterOption func(*Router)

// WithOwnershipStore makes the Router remember owners in s, e.g. one shared by replicas.
func WithOwnershipStore(s OwnershipStore) RouterOption { return func(r *Router) { r.owners = s } }

// WithRouterLogger gives the Router a logger of its own, in place of the one
// SetDefaultLogger set, which is what most programs need. The Router logs a failover after a
// provider refused the create at error level, every other failover at warning level, each
// with the provider it left ("from"), the one it goes to ("to"), "op" and "payment_id".
func WithRouterLogger(l *slog.Logger) RouterOption { return func(r *Router) { r.log = l } }

// WithRouterHooks makes the Router report its operations, its failover decisions (taken or
// refused, and why) and its ownership store calls to h (see Hooks), and gives h to the
// handlers WebhookHandler makes unless WithWebhookHooks gives them others. The providers
// report their own operations and HTTP attempts through their WithHooks, nested under the
// Router's operations.
func WithRouterHooks(h *Hooks) RouterOption { return func(r *Router) { r.hooks = h } }

// NewRouter returns a Router over providers with routes tried in order. Provider names must
// be unique and every route must name known providers. A nil provider, also a typed nil (a
// nil *ecster.Client in the interface), is refused with ErrInvalidRequest.
func NewRouter(providers []Provider, routes []Route, opts ...RouterOption) (*Router, error) {
	r := &Router{providers: make(map[string]Provider, len(providers)), routes: slices.Clone(routes),
		failovers: make(map[string]*failoverCounter, len(providers))}
	for _, o := range opts {
		if o != nil {
			o(r)
		}
	}
	if r.owners == nil {
		r.owners = NewMemoryOwnershipStore()
	}
	if r.log == nil {
		r.log = DefaultLogger()
	}
	r.log = r.log.With("provider", RouterName)
	for _, p := range providers {
		if isNilProvider(p) {
			return nil, routerError("new router", "", ErrInvalidRequest, fmt.Sprintf("provider %d is nil (%T)", len(r.names), p))
		}
		name := p.Name()
		if _, dup := r.providers[name]; dup || name == "" {
			return nil, routerError("new router", "", ErrInvalidRequest, fmt.Sprintf("provider name %q is empty or given twice", name))
		}
		r.providers[name] = p
		r.names = append(r.names, name)
		r.failovers[name] = new(failoverCounter)
	}
	if len(r.routes) == 0 {
		return nil, routerError("new router", "", ErrInvalidRequest, "no routes")
	}
	for i, rt := range r.routes {
		if len(rt.Providers) == 0 {
			return nil, routerError("new router", "", ErrInvalidRequest, fmt.Sprintf("route %d (%s) names no provider", i, rt.Name))
		}
		for _, n := range rt.Providers {
			if _, ok := r.providers[n]; !ok {
				return nil, routerError("new router", "", ErrInvalidRequest, fmt.Sprintf("route %d (%s) names unknown provider %q", i, rt.Name, n))
			}
		}
	}
	return r, nil
}

var _ Provider = (*Router)(nil)

// Name returns "router".
func (r *Router) Name() string { return RouterName }

// Capabilities is what at least one of the providers can do; an operation on a payment
// whose owner cannot do it returns that provider's ErrUnsupported.
func (r *Router) Capabilities() Capabilities {
	var c Capabilities
	for _, n := range r.names {
		pc := r.providers[n].Capabilities()
		c.Capture = c.Capture || pc.Capture
		c.PartialCapture = c.PartialCapture || pc.PartialCapture
		c.Refund = c.Refund || pc.Refund
		c.PartialRefund = c.PartialRefund || pc.PartialRefund
		c.Cancel = c.Cancel || pc.Cancel
		c.Webhooks = c.Webhooks || pc.Webhooks
		c.Payouts = c.Payouts || pc.Payouts
	}
	return c
}

// Provider returns the provider named name, for its native API.
func (r *Router) Provider(name string) (Provider, bool) {
	p, ok := r.providers[name]
	return p, ok
}

// Candidates returns, in order, the providers the rules give req: those of every matching
// route whose Capabilities have what the route's Match needs, each once.
func (r *Router) Candidates(req PaymentRequest) []string {
	var out []string
	for _, rt := range r.routes {
		if !rt.Match.matches(req) {
			continue
		}
		for _, n := range rt.Providers {
			if !slices.Contains(out, n) && covers(r.providers[n].Capabilities(), rt.Match.Needs) {
				out = append(out, n)
			}
		}
	}
	return out
}

// CreatePayment creates the payment at the first candidate provider (see Candidates), or
// returns the payment as it stands at the provider that owns req.ID already. It fails over
// only as the Router's doc says. An empty req.ID is generated in the form of the provider
// tried (see "Payment ids" in the Router's doc). Every error carries the id in
// Error.PaymentID.
//
// The text "{provider}" in req.NotifyURL is replaced by the name of the provider that is
// sent the create, e.g. "https://shop.example/webhooks/{provider}" as WebhookHandler mounts
// them: after a failover the provider that took the payment notifies its own endpoint.
func (r *Router) CreatePayment(ctx context.Context, req PaymentRequest) (pay *Payment, err error) {
	const op = OpCreatePayment
	cands := r.Candidates(req)
	generated := req.ID == ""
	if generated {
		first := ""
		if len(cands) > 0 {
			first = cands[0]
		}
		req.ID = r.newIDFor(first)
	}
	ctx, done := r.hooks.StartOperation(ctx, RouterName, op, req.ID)
	defer func() { done.End(idOf(pay, req.ID), err) }()
	if err := req.Validate(); err != nil {
		return nil, withPaymentID(err, req.ID)
	}
	if len(cands) == 0 {
		return nil, routerError(op, req.ID, ErrUnsupported, "no route takes this payment")
	}
	own, err := r.claim(ctx, req.ID, cands[0])
	if err != nil {
		return nil, storeError(op, req.ID, "ownership store", err)
	}
	if err := r.watch(ctx, op, req.ID); err != nil {
		return nil, err
	}
	owner := own.Provider
	if !own.Claimed {
		// The id is taken: this is a repeat of a create that went to owner. Only owner can
		// say what became of it, and a failover now could make a second payment beside one
		// the customer can already pay (a cart or a link handed out by the first create,
		// which the provider may not show as a payment yet).
		p, ok := r.providers[owner]
		if !ok {
			return nil, routerError(op, req.ID, ErrConflict, fmt.Sprintf("the payment is owned by %q, which this router does not know", owner))
		}
		pay, err := p.CreatePayment(ctx, forProvider(req, owner))
		if err == nil {
			r.alsoOwn(ctx, pay, req.ID, owner)
		}
		return pay, withPaymentID(err, req.ID)
	}
	for i, name := range cands {
		p := r.providers[name]
		pay, err := p.CreatePayment(ctx, forProvider(req, name))
		if err == nil {
			r.alsoOwn(ctx, pay, req.ID, name)
			return pay, nil
		}
		if why := r.noFailover(ctx, p, i+1 == len(cands), req.ID, err); why != "" {
			r.refusedFailover(ctx, name, req.ID, why, err)
			return nil, withPaymentID(err, req.ID)
		}
		next, oldID := cands[i+1], req.ID
		if generated && !r.takes(next, req.ID) {
			// The id was made for name and does not fit next; nobody but this call knows
			// it, so next gets a new one of its own form.
			req.ID = r.newIDFor(next)
			var cerr error
			if own, cerr = r.claim(ctx, req.ID, next); cerr != nil {
				return nil, storeError(op, req.ID, "ownership store", cerr)
			}
			if werr := r.watch(ctx, op, req.ID); werr != nil {
				return nil, werr
			}
			r.unwatch(ctx, oldID)
		} else if merr := r.move(ctx, req.ID, name, next, own.Seq); merr != nil {
			// A repeat of this create was sent to name meanwhile (another replica, a double
			// submit) and may still create the payment there: failing over now could make a
			// second one. The repeat's answer says what became of it.
			r.refusedFailover(ctx, name, req.ID, FailoverRepeatSent, err)
			return nil, withPaymentID(err, req.ID)
		}
		r.failedOver(ctx, oldID, req.ID, name, next, err)
	}
	panic("unreachable")
}

// alsoOwn records the owner under the payment's canonical id too when the provider answered
// the id in another spelling than it was sent (eCredits answers ids in lower case), so that
// GetPayment, Capture, Refund and Cancel with the id the Payment carries find the owner. A
// store failure here is logged, not returned: the payment exists and the id it was created
// with still finds it.
func (r *Router) alsoOwn(ctx context.Context, pay *Payment, sent, owner string) {
	if pay == nil || pay.ID == "" || pay.ID == sent {
		return
	}
	if _, err := r.claim(ctx, pay.ID, owner); err != nil {
		r.log.LogAttrs(ctx, slog.LevelError, "router: could not record the owner under the payment's canonical id",
			slog.String("payment_id", sent), slog.String("canonical_id", pay.ID), slog.String("error", err.Error()))
	}
}

// invalidRequest reports whether err is paykit's own refusal of the request as invalid,
// made before anything was sent: the merchant's mistake, which must come back rather than
// be hidden by a failover.
func invalidRequest(err error) bool {
	var pe *Error
	return errors.As(err, &pe) && pe.Kind == ErrInvalidRequest && pe.StatusCode == 0 && pe.Unprocessed
}

// unwatch takes id, under which nothing was created, off the watcher's list; a failure is
// logged: the reconciler reports the id as not found in time, and nothing is lost.
func (r *Router) unwatch(ctx context.Context, id string) {
	if r.watcher == nil {
		return
	}
	if err := r.watcher.Unwatch(ctx, id); err != nil {
		r.log.LogAttrs(ctx, slog.LevelWarn, "router: could not take an id under which nothing was created off the watch list",
			slog.String("payment_id", id), slog.String("error", err.Error()))
	}
}

// failedOver logs and counts a failover from the provider named from to the one named to
// after err; id is the payment id given to from, newID the one given to to.
func (r *Router) failedOver(ctx context.Context, id, newID, from, to string, err error) {
	var pe *Error
	refused := errors.As(err, &pe) && pe.StatusCode >= 400 && pe.StatusCode < 500 && pe.StatusCode != 429
	attrs := []slog.Attr{slog.String("op", "create payment"), slog.String("payment_id", id),
		slog.String("from", from), slog.String("to", to), slog.String("error", err.Error())}
	if newID != id {
		attrs = append(attrs, slog.String("new_payment_id", newID))
	}
	if r.hooks != nil && r.hooks.Failover != nil {
		f := Failover{From: from, To: to, PaymentID: id, Taken: true, Reason: FailoverUnavailable, Err: err}
		if newID != id {
			f.NewPaymentID = newID
		}
		if refused {
			f.Reason = FailoverRefused
		}
		r.hooks.Failover(ctx, f)
	}
	if refused {
		r.failovers[from].refused.Add(1)
		r.log.LogAttrs(ctx, slog.LevelError, "router: failing over after the provider refused the request or the credentials", attrs...)
		return
	}
	r.failovers[from].unavailable.Add(1)
	r.log.LogAttrs(ctx, slog.LevelWarn, "router: failing over", attrs...)
}

// refusedFailover reports to the hooks that the create of id failed at the provider named
// from with err and does not fail over, for why.
func (r *Router) refusedFailover(ctx context.Context, from, id string, why FailoverReason, err error) {
	if r.hooks != nil && r.hooks.Failover != nil {
		r.hooks.Failover(ctx, Failover{From: from, PaymentID: id, Reason: why, Err: err})
	}
}

// Failovers returns, for every provider of r, how many creates failed over away from it
// since NewRouter, and why (see "Failover" in the Router's doc). Export them as metrics and
// alert on Refused: a provider whose credentials are wrong moves all its traffic to the
// next one.
func (r *Router) Failovers() map[string]FailoverCounts {
	out := make(map[string]FailoverCounts, len(r.failovers))
	for name, c := range r.failovers {
		out[name] = FailoverCounts{Refused: c.refused.Load(), Unavailable: c.unavailable.Load()}
	}
	return out
}

// noFailover returns why the create that failed at p with err must not fail over, or ""
// when it may: there is another candidate (last is false), the request is not invalid, and
// p certainly created nothing: the error says p did not process it, and p, asked, has no
// payment with the id.
func (r *Router) noFailover(ctx context.Context, p Provider, last bool, id string, err error) FailoverReason {
	if last {
		return FailoverNoCandidate
	}
	if invalidRequest(err) {
		return FailoverInvalidRequest
	}
	var pe *Error
	if !errors.As(err, &pe) || !pe.Unprocessed {
		return FailoverMaybeProcessed
	}
	if isContextErr(pe.Kind) || ctx.Err() != nil {
		return FailoverContextEnded
	}
	_, gerr := p.GetPayment(ctx, id)
	if gerr == nil {
		return FailoverNotConfirmed
	}
	if errors.Is(gerr, ErrNotFound) {
		return ""
	}
	// A provider that refuses the id itself before or without processing (an id in a form
	// it cannot hold) cannot have a payment with it.
	var ge *Error
	if errors.As(gerr, &ge) && ge.Unprocessed && errors.Is(gerr, ErrInvalidRequest) {
		return ""
	}
	if ctx.Err() != nil {
		return FailoverContextEnded
	}
	return FailoverNotConfirmed
}

// claim, owner's lookup and move call the OwnershipStore, reporting each call to the hooks.
func (r *Router) claim(ctx context.Context, id, provider string) (Ownership, error) {
	start := r.hooks.storeStart()
	own, err := r.owners.Claim(ctx, id, provider)
	r.hooks.storeCall(ctx, "ownership", "claim", start, err)
	return own, err
}

func (r *Router) move(ctx context.Context, id, from, to string, seq int64) error {
	start := r.hooks.storeStart()
	err := r.owners.Move(ctx, id, from, to, seq)
	r.hooks.storeCall(ctx, "ownership", "move", start, err)
	return err
}

// owner returns the provider that owns id.
func (r *Router) owner(ctx context.Context, op, id string) (Provider, error) {
	start := r.hooks.storeStart()
	name, ok, err := r.owners.Owner(ctx, id)
	r.hooks.storeCall(ctx, "ownership", "owner", start, err)
	if err != nil {
		return nil, storeError(op, id, "ownership store", err)
	}
	if !ok {
		return nil, routerError(op, id, ErrNotFound, "no provider owns this payment")
	}
	p, ok := r.providers[name]
	if !ok {
		return nil, routerError(op, id, ErrNotFound, fmt.Sprintf("the payment is owned by %q, which this router does not know", name))
	}
	return p, nil
}

// GetPayment asks the provider that owns id.
func (r *Router) GetPayment(ctx context.Context, id string) (pay *Payment, err error) {
	ctx, done := r.hooks.StartOperation(ctx, RouterName, OpGetPayment, id)
	defer func() { done.Payment(pay, err) }()
	p, err := r.owner(ctx, "get payment", id)
	if err != nil {
		return nil, err
	}
	pay, err = p.GetPayment(ctx, id)
	if err == nil && pay != nil && pay.Provider == "" {
		// A provider that leaves its name out (a merchant's own) would make a poll through
		// the Router key its states under "router" while its webhooks use its own name: one
		// state, two dedupe keys, fn twice. The owner's name it is, on a copy.
		cp := *pay
		cp.Provider = p.Name()
		pay = &cp
	}
	return pay, err
}

// Capture asks the provider that owns id, with opts (an IdempotencyKey travels to it).
func (r *Router) Capture(ctx context.Context, id string, amount Money, opts ...CallOption) (pay *Payment, err error) {
	ctx, done := r.hooks.StartOperation(ctx, RouterName, OpCapture, id)
	defer func() { done.Payment(pay, err) }()
	p, err := r.owner(ctx, "capture", id)
	if err != nil {
		return nil, err
	}
	if err := r.watch(ctx, "capture", id); err != nil {
		return nil, err
	}
	defer r.rewatch(ctx, "capture", id)
	return p.Capture(ctx, id, amount, opts...)
}

// Refund asks the provider that owns id, with opts.
func (r *Router) Refund(ctx context.Context, id string, amount Money, opts ...CallOption) (pay *Payment, err error) {
	ctx, done := r.hooks.StartOperation(ctx, RouterName, OpRefund, id)
	defer func() { done.Payment(pay, err) }()
	p, err := r.owner(ctx, "refund", id)
	if err != nil {
		return nil, err
	}
	if err := r.watch(ctx, "refund", id); err != nil {
		return nil, err
	}
	defer r.rewatch(ctx, "refund", id)
	return p.Refund(ctx, id, amount, opts...)
}

// Cancel asks the provider that owns id, with opts.
func (r *Router) Cancel(ctx context.Context, id string, opts ...CallOption) (pay *Payment, err error) {
	ctx, done := r.hooks.StartOperation(ctx, RouterName, OpCancel, id)
	defer func() { done.Payment(pay, err) }()
	p, err := r.owner(ctx, "cancel", id)
	if err != nil {
		return nil, err
	}
	if err := r.watch(ctx, "cancel", id); err != nil {
		return nil, err
	}
	defer r.rewatch(ctx, "cancel", id)
	return p.Cancel(ctx, id, opts...)
}

// ParseNotification hands r to the provider named by the last segment of its path (as
// WebhookHandler mounts them: /webhooks/{provider}) and prefixes the DedupKey with the
// provider's name, so that two providers' keys never meet.
func (r *Router) ParseNotification(req *http.Request) (n *Notification, err error) {
	req, done := r.hooks.StartNotification(req, RouterName)
	defer func() { done.Notification(n, err) }()
	name := lastSegment(req.URL.Path)
	p, ok := r.providers[name]
	if !ok {
		return nil, routerError("parse notification", "", ErrInvalidRequest, "the path names no provider of this router")
	}
	n, err = p.ParseNotification(req)
	if err != nil || n == nil {
		return n, err
	}
	if n.DedupKey != "" {
		n.DedupKey = name + "|" + n.DedupKey
	}
	return n, nil
}

// WebhookHandler returns one http.Handler serving every provider's notifications at
// prefix + "/" + provider name (e.g. /webhooks/ecster), each through NewWebhookHandler of
// that provider, with one dedupe store (from opts, else one in-memory store for all) and one
// fn. A notification is verified and fetched by the provider it came to, whoever the
// ownership store says owns the payment: the provider's word is the truth.
func (r *Router) WebhookHandler(prefix string, fn func(context.Context, *Notification) error, opts ...WebhookOption) http.Handler {
	s := NewWebhookSettings(opts...)
	hooks := s.Hooks
	if hooks == nil {
		hooks = r.hooks
	}
	shared := []WebhookOption{WithDedupStore(s.Store), WithMaxBodyBytes(s.MaxBody), WithWebhookLogger(s.Logger), WithWebhookHooks(hooks)}
	if s.OncePerState {
		shared = append(shared, WithOncePerState())
	}
	prefix = "/" + strings.Trim(prefix, "/")
	if prefix == "/" {
		prefix = ""
	}
	mux := http.NewServeMux()
	for _, n := range r.names {
		mux.Handle(prefix+"/"+n, NewWebhookHandler(r.providers[n], fn, shared...))
	}
	return mux
}

// NotifyPlaceholder in PaymentRequest.NotifyURL is replaced by the name of the provider the
// Router sends the create to.
const NotifyPlaceholder = "{provider}"

// forProvider returns req as it is sent to the provider named name.
func forProvider(req PaymentRequest, name string) PaymentRequest {
	req.NotifyURL = strings.ReplaceAll(req.NotifyURL, NotifyPlaceholder, name)
	return req
}

func lastSegment(path string) string {
	path = strings.TrimRight(path, "/")
	return path[strings.LastIndex(path, "/")+1:]
}

func covers(have, need Capabilities) bool {
	return (!need.Capture || have.Capture) && (!need.PartialCapture || have.PartialCapture) &&
		(!need.Refund || have.Refund) && (!need.PartialRefund || have.PartialRefund) &&
		(!need.Cancel || have.Cancel) && (!need.Webhooks || have.Webhooks) && (!need.Payouts || have.Payouts)
}

func (m Match) matches(req PaymentRequest) bool {
	if len(m.Currencies) > 0 && !slices.Contains(m.Currencies, req.Amount.Currency) {
		return false
	}
	if len(m.Countries) > 0 {
		c := requestCountry(req)
		if c == "" || !slices.ContainsFunc(m.Countries, func(s string) bool { return strings.EqualFold(s, c) }) {
			return false
		}
	}
	if req.Amount.Amount < m.MinAmount || (m.MaxAmount > 0 && req.Amount.Amount > m.MaxAmount) {
		return false
	}
	return m.Func == nil || m.Func(req)
}

// requestCountry is Customer.Country, else the region of Locale.
func requestCountry(req PaymentRequest) string {
	if req.Customer != nil && req.Customer.Country != "" {
		return strings.ToUpper(req.Customer.Country)
	}
	parts := strings.FieldsFunc(req.Locale, func(r rune) bool { return r == '-' || r == '_' })
	for _, p := range parts[min(1, len(parts)):] {
		if len(p) == 2 {
			return strings.ToUpper(p)
		}
	}
	return ""
}

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

func routerError(op, id string, kind error, msg string) *Error {
	return &Error{Provider: RouterName, Op: op, PaymentID: id, Kind: kind, Message: msg,
		Unprocessed: kind == ErrInvalidRequest || kind == ErrUnsupported || kind == ErrNotFound}
}

// storeError is the error of op when the store named store failed with err: nothing was sent
// to a provider. Its kind is ErrStoreUnavailable (which matches ErrUnavailable too), or the
// context's error when that ended the call. A store's own paykit error reporting its outage
// (redisstore's) is flattened into it, so the text names the store once and says "paykit:"
// once: `paykit: router: get payment "id": store unavailable: ownership store: redis: …`.
func storeError(op, id, store string, err error) *Error {
	e := &Error{Provider: RouterName, Op: op, PaymentID: id, Kind: ErrStoreUnavailable, Message: store, Err: err, Unprocessed: true}
	if pe, ok := err.(*Error); ok && pe.Err != nil && errors.Is(pe, ErrUnavailable) {
		if pe.Message != "" {
			e.Message += ": " + pe.Message
		}
		e.Err = pe.Err
	}
	for _, cerr := range []error{context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, cerr) {
			e.Kind = cerr // the caller's own context ended the call: not an outage
		}
	}
	return e
}

// newIDFor returns a new payment id the provider named name takes: its NewID when it is an
// IDMaker, else a dashed lowercase UUID.
func (r *Router) newIDFor(name string) string {
	if m, ok := r.providers[name].(IDMaker); ok {
		if id := m.NewID(); id != "" {
			return id
		}
	}
	return ids.UUID()
}

// takes reports whether the provider named name takes id (IDChecker; without it, yes).
func (r *Router) takes(name, id string) bool {
	if c, ok := r.providers[name].(IDChecker); ok {
		return c.CheckID(id) == nil
	}
	return true
}

// idOf is the id of pay, or id when pay is nil or has none.
func idOf(pay *Payment, id string) string {
	if pay != nil && pay.ID != "" {
		return pay.ID
	}
	return id
}

// withPaymentID returns err with PaymentID set on a copy of its *Error (error values may be
// shared), or err itself when it is no *Error.
func withPaymentID(err error, id string) error {
	var pe *Error
	if err == nil || !errors.As(err, &pe) {
		return err
	}
	cp := *pe
	cp.PaymentID = id
	return &cp
}

// isNilProvider reports whether p is nil or an interface holding a nil pointer (or another
// nil value of a kind that can be nil), which would panic on its first call.
func isNilProvider(p Provider) bool {
	if p == nil {
		return true
	}
	v := reflect.ValueOf(p)
	switch v.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Func, reflect.Chan, reflect.Interface, reflect.Slice:
		return v.IsNil()
	}
	return false
}

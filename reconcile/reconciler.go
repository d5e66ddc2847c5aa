package reconcile

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/internal/ids"
	"github.com/paykit/paykit/internal/ratelimit"
)

// Defaults of the options.
const (
	DefaultMinWait     = 30 * time.Second // the first read after Watch, and the first backoff step
	DefaultMaxWait     = 6 * time.Hour    // the longest wait between two reads
	DefaultExpiryGrace = 24 * time.Hour   // how long past ExpiresAt a payment that is not final is still read
	DefaultMaxAge      = 30 * 24 * time.Hour
	DefaultNotFoundFor = time.Hour // how long reads may answer ErrNotFound before the payment is reported
	DefaultRateLimit   = 5         // reads per DefaultRateWindow: half of EchelonPay's 10 per second
	DefaultRateWindow  = time.Second
	DefaultBatch       = 100
	DefaultWorkers     = 4
	DefaultLease       = 5 * time.Minute
	DefaultInterval    = 5 * time.Second
)

// Event is Notification.Event of the notifications a Reconciler makes from a read.
const Event = "reconcile"

// Reason says why a Reconciler stopped reading a payment that is not final.
type Reason string

// The reasons of a Report.
const (
	// ReasonNotFound: the provider answered ErrNotFound for NotFoundFor (a create that never
	// reached it, a payment it cannot be asked about or has forgotten: Entrecard knows only
	// the results it sent).
	ReasonNotFound Reason = "not found"
	// ReasonExpired: the payment is still not final ExpiryGrace after its ExpiresAt.
	ReasonExpired Reason = "not final past its expiry"
	// ReasonMaxAge: the payment has no ExpiresAt and is still not final MaxAge after it was
	// first watched (an authorization never captured, a provider that cannot be read back).
	ReasonMaxAge Reason = "not final after the longest watch"
)

// Report is a payment a Reconciler gave up on, for WithReport's function.
type Report struct {
	ID      string
	Reason  Reason
	Since   time.Time       // when it was first watched
	Polls   int             // reads made
	Payment *paykit.Payment // the last payment read; nil when none was
	Err     error           // the last read's error, for ReasonNotFound
}

// Clock is the time source of a Reconciler; tests and simulations swap it with WithClock.
type Clock interface {
	Now() time.Time
	// After returns a channel that receives once d has passed.
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Option configures New.
type Option func(*config)

type config struct {
	store               Store
	minWait, maxWait    time.Duration
	expiryGrace, maxAge time.Duration
	notFoundFor         time.Duration
	limiter             paykit.Limiter
	rateLimit           int
	rateWindow          time.Duration
	clock               Clock
	logger              *slog.Logger
	report              func(context.Context, Report)
	batch, workers      int
	lease, interval     time.Duration
	final               func(*paykit.Payment) bool
	hooks               *paykit.Hooks
}

// WithStore keeps the watch list in s, e.g. redisstore.NewWatchStore shared by replicas.
// Default: NewMemoryStore(0).
func WithStore(s Store) Option { return func(c *config) { c.store = s } }

// WithBackoff sets the waits between reads: min after Watch and after a read that found a
// new state, then doubling after each read that found none, up to max (defaults: 30 s and 6
// h). Zero or less keeps a default; a max below min is taken as min.
func WithBackoff(min, max time.Duration) Option {
	return func(c *config) { c.minWait, c.maxWait = min, max }
}

// WithExpiryGrace sets how long after its ExpiresAt a payment that is not final is still
// read before it is reported (ReasonExpired); default 24 h.
func WithExpiryGrace(d time.Duration) Option { return func(c *config) { c.expiryGrace = d } }

// WithMaxAge sets how long a payment without ExpiresAt is read before it is reported
// (ReasonMaxAge); default 30 days.
func WithMaxAge(d time.Duration) Option { return func(c *config) { c.maxAge = d } }

// WithNotFoundFor sets how long reads may answer ErrNotFound before the payment is
// reported (ReasonNotFound); default 1 h.
func WithNotFoundFor(d time.Duration) Option { return func(c *config) { c.notFoundFor = d } }

// WithRateLimit lets at most limit reads start in any window (default 5 per second, half
// of EchelonPay's 10): see "Rate budget" in the package doc.
func WithRateLimit(limit int, window time.Duration) Option {
	return func(c *config) { c.rateLimit, c.rateWindow = limit, window }
}

// WithLimiter makes every read wait on l instead of WithRateLimit's limiter, e.g.
// redisstore.NewLimiter shared by every replica's Reconciler, so that they together keep to
// the budget. paykit.NoLimit switches the Reconciler's own limit off (the provider's own
// limiter still applies).
func WithLimiter(l paykit.Limiter) Option { return func(c *config) { c.limiter = l } }

// WithClock reads the time and waits through clk instead of the time package.
func WithClock(clk Clock) Option { return func(c *config) { c.clock = clk } }

// WithLogger gives the Reconciler a logger of its own instead of paykit.DefaultLogger().
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithReport calls fn for every payment the Reconciler gives up on (it also logs it at
// warning level and counts it in Stats). fn runs in the pass; keep it short.
func WithReport(fn func(context.Context, Report)) Option { return func(c *config) { c.report = fn } }

// WithBatch sets how many due payments a pass claims from the store at once (default 100).
func WithBatch(n int) Option { return func(c *config) { c.batch = n } }

// WithWorkers sets how many reads a pass makes at once (default 4); the rate limit still
// paces them.
func WithWorkers(n int) Option { return func(c *config) { c.workers = n } }

// WithLease sets how long a claimed payment stays with this Reconciler before another may
// read it (default 5 min): longer than a batch's reads and fn take, or a slow pass loses its
// claims (harmless: fn still runs once per state, the payment is read twice).
func WithLease(d time.Duration) Option { return func(c *config) { c.lease = d } }

// WithInterval sets how long Run waits between passes (default 5 s).
func WithInterval(d time.Duration) Option { return func(c *config) { c.interval = d } }

// WithFinal replaces paykit.Status.IsFinal as the test of a payment that needs no more
// reading, e.g. to stop at StatusAuthorized for a shop that captures from its own records.
func WithFinal(fn func(*paykit.Payment) bool) Option { return func(c *config) { c.final = fn } }

// WithHooks makes the Reconciler report each poll to h (see paykit.Hooks and "Observing" in
// the package doc): a paykit.OpReconcile operation from the read to the decision, with the
// provider's name (p.Name(): "router" for a Router), the payment id and the outcome (the
// read's error, fn's or the dedupe store's; nil when the state was processed, was a
// duplicate, or the payment was given up), and the latency of each dedupe store call
// (Hooks.Store). The read's own operation, and fn's work, nest under it. Give the same h to
// the provider (paykit.WithHooks) or Router (paykit.WithRouterHooks) it reads through.
func WithHooks(h *paykit.Hooks) Option { return func(c *config) { c.hooks = h } }

// Reconciler reads watched payments until they are final and feeds every state it reads to
// the merchant's function on the webhook handler's once-only path. It implements
// paykit.Watcher. Build it with New; it is safe for concurrent use.
type Reconciler struct {
	p     paykit.Provider
	dedup paykit.DedupStore
	fn    func(context.Context, *paykit.Notification) error
	cfg   config
	log   *slog.Logger

	polls, ran, final, readErrors, fnErrors, lost atomic.Int64
	notFound, expired, tooOld                     atomic.Int64
}

var _ paykit.Watcher = (*Reconciler)(nil)

// New returns a Reconciler that reads payments through p (a provider's client or a Router)
// and runs fn for each state not processed yet, claiming it in dedup, which must be the
// webhook handler's DedupStore: the same store and the same key are what make fn run once
// per state whether the notification, the poll or both see it. It returns an error when p,
// dedup or fn is nil.
func New(p paykit.Provider, dedup paykit.DedupStore, fn func(context.Context, *paykit.Notification) error, opts ...Option) (*Reconciler, error) {
	if p == nil || dedup == nil || fn == nil {
		return nil, &paykit.Error{Op: "new reconciler", Kind: paykit.ErrInvalidRequest, Message: "the provider, the dedupe store and fn are required"}
	}
	c := newConfig(opts)
	if c.limiter == nil {
		if c.rateLimit <= 0 || c.rateWindow <= 0 {
			c.rateLimit, c.rateWindow = DefaultRateLimit, DefaultRateWindow
		}
		l, err := ratelimit.New(c.rateLimit, c.rateWindow)
		if err != nil {
			return nil, &paykit.Error{Op: "new reconciler", Kind: paykit.ErrInvalidRequest, Message: err.Error()}
		}
		c.limiter = l
	}
	if c.logger == nil {
		c.logger = paykit.DefaultLogger()
	}
	if c.batch <= 0 {
		c.batch = DefaultBatch
	}
	if c.workers <= 0 {
		c.workers = DefaultWorkers
	}
	if c.lease <= 0 {
		c.lease = DefaultLease
	}
	if c.interval <= 0 {
		c.interval = DefaultInterval
	}
	if c.final == nil {
		c.final = func(p *paykit.Payment) bool { return p.Status.IsFinal() }
	}
	return &Reconciler{p: p, dedup: dedup, fn: fn, cfg: c,
		log: c.logger.With("provider", p.Name(), "op", "reconcile")}, nil
}

// newConfig applies opts over the defaults, but for the limiter.
func newConfig(opts []Option) config {
	c := config{}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	if c.store == nil {
		c.store = NewMemoryStore(0)
	}
	if c.minWait <= 0 {
		c.minWait = DefaultMinWait
	}
	if c.maxWait <= 0 {
		c.maxWait = DefaultMaxWait
	}
	c.maxWait = max(c.maxWait, c.minWait)
	if c.expiryGrace <= 0 {
		c.expiryGrace = DefaultExpiryGrace
	}
	if c.maxAge <= 0 {
		c.maxAge = DefaultMaxAge
	}
	if c.notFoundFor <= 0 {
		c.notFoundFor = DefaultNotFoundFor
	}
	if c.clock == nil {
		c.clock = realClock{}
	}
	return c
}

// Watch adds id to the watch list, first read MinWait from now; an id watched already
// becomes due then if that is sooner. It is the one call a merchant without a Router makes
// after storing the payment id and before creating the payment (a Router given
// paykit.WithWatcher makes it itself). An invalid id is ErrInvalidRequest; a store failure
// is ErrStoreUnavailable.
func (r *Reconciler) Watch(ctx context.Context, id string) error {
	return watch(ctx, r.cfg, id)
}

// Unwatch takes id off the watch list, whoever holds its claim.
func (r *Reconciler) Unwatch(ctx context.Context, id string) error {
	return unwatch(ctx, r.cfg, id)
}

// Watcher enrols payments on a watch list that a Reconciler reads: the paykit.Watcher to
// give a Router when the Reconciler reads through that same Router (which is built after
// it). Build it with NewWatcher.
type Watcher struct{ cfg config }

var _ paykit.Watcher = (*Watcher)(nil)

// NewWatcher returns a Watcher adding to store, with the schedule of opts (WithBackoff,
// WithClock): give the Reconciler the same store and options.
//
//	opts := []reconcile.Option{reconcile.WithStore(watch)}
//	router, err := paykit.NewRouter(providers, routes, paykit.WithWatcher(reconcile.NewWatcher(watch, opts...)))
//	rec, err := reconcile.New(router, dedup, fn, opts...)
func NewWatcher(store Store, opts ...Option) *Watcher {
	if store == nil {
		// A Watcher with a store of its own would enrol payments no Reconciler reads:
		// fail at start-up, as net/http does for a nil handler.
		panic("reconcile: NewWatcher: the store is nil")
	}
	c := newConfig(opts)
	c.store = store
	return &Watcher{cfg: c}
}

// Watch is Reconciler.Watch.
func (w *Watcher) Watch(ctx context.Context, id string) error { return watch(ctx, w.cfg, id) }

// Unwatch is Reconciler.Unwatch.
func (w *Watcher) Unwatch(ctx context.Context, id string) error { return unwatch(ctx, w.cfg, id) }

func watch(ctx context.Context, c config, id string) error {
	if err := ids.Check(id); err != nil {
		return &paykit.Error{Op: "watch", PaymentID: id, Kind: paykit.ErrInvalidRequest, Message: err.Error(), Unprocessed: true}
	}
	now := c.clock.Now()
	if err := c.store.Add(ctx, id, now, now.Add(c.minWait)); err != nil {
		return storeErr("watch", id, err)
	}
	return nil
}

func unwatch(ctx context.Context, c config, id string) error {
	if _, err := c.store.Remove(ctx, id, ""); err != nil {
		return storeErr("unwatch", id, err)
	}
	return nil
}

// Pass counts what one pass did.
type Pass struct {
	Polls    int // payments read
	Ran      int // states that ran fn
	Final    int // payments found final and taken off the list
	Reported int // payments given up (WithReport)
	Errors   int // reads, fn runs or store calls that failed; the payment is read again later
}

// RunOnce makes one pass, for a cron job: it reads every payment due at its start once,
// runs fn for each state not processed yet, and reschedules or drops each. It returns when
// none due at its start is left, or when ctx ends (then with ctx's error; the claims of
// payments not read are given back). A store failure on Claim ends the pass with an error
// matching paykit.ErrStoreUnavailable.
func (r *Reconciler) RunOnce(ctx context.Context) (Pass, error) {
	start := r.cfg.clock.Now()
	var total Pass
	var mu sync.Mutex
	for ctx.Err() == nil {
		batch, err := r.cfg.store.Claim(ctx, start, r.cfg.clock.Now().Add(r.cfg.lease), r.cfg.batch)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			return total, storeErr("claim", "", err)
		}
		if len(batch) == 0 {
			return total, nil
		}
		jobs := make(chan Entry)
		var wg sync.WaitGroup
		for range min(r.cfg.workers, len(batch)) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for e := range jobs {
					p := r.poll(ctx, e)
					mu.Lock()
					total.Polls += p.Polls
					total.Ran += p.Ran
					total.Final += p.Final
					total.Reported += p.Reported
					total.Errors += p.Errors
					mu.Unlock()
				}
			}()
		}
		for _, e := range batch {
			jobs <- e
		}
		close(jobs)
		wg.Wait()
	}
	return total, ctx.Err()
}

// Run makes a pass every WithInterval until ctx ends, for a long-running worker, and then
// returns nil once the pass in progress has given back the claims it did not read. A pass
// that fails (the watch store is down) is logged, and the next one tries again.
func (r *Reconciler) Run(ctx context.Context) error {
	for {
		if _, err := r.RunOnce(ctx); err != nil && ctx.Err() == nil {
			r.log.WarnContext(ctx, "reconcile: the pass failed; trying again at the next", "error", err)
		}
		if ctx.Err() != nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-r.cfg.clock.After(r.cfg.interval):
		}
	}
}

// poll reads one claimed payment and decides what becomes of it.
func (r *Reconciler) poll(ctx context.Context, e Entry) (p Pass) {
	if ctx.Err() != nil {
		r.giveBack(ctx, e)
		return p
	}
	if err := r.cfg.limiter.Wait(ctx); err != nil {
		r.giveBack(ctx, e)
		return p
	}
	// The operation starts after the Reconciler's own limiter, which paces polls on purpose,
	// so that its duration is the read's and fn's.
	ctx, done := r.cfg.hooks.StartOperation(ctx, r.p.Name(), paykit.OpReconcile, e.ID)
	var (
		doneID  string
		doneErr error
	)
	defer func() { done.End(doneID, doneErr) }()
	pay, err := r.p.GetPayment(ctx, e.ID)
	if err == nil && pay == nil {
		err = errors.New("provider returned no payment and no error")
	}
	if ctx.Err() != nil {
		// Stopping: whatever the read found, the next pass reads it again.
		doneErr = ctx.Err()
		r.giveBack(ctx, e)
		return p
	}
	now := r.cfg.clock.Now()
	e.Polls++
	p.Polls = 1
	r.polls.Add(1)
	if err != nil {
		doneErr = err
		return r.readFailed(ctx, e, now, err)
	}
	e.NotFoundSince = time.Time{}
	if pay.ID == "" || pay.Provider == "" {
		cp := *pay
		if cp.ID == "" {
			cp.ID = e.ID
		}
		if cp.Provider == "" {
			cp.Provider = r.p.Name()
		}
		pay = &cp
	}
	doneID = pay.ID
	ran, err := paykit.RunOncePerStateHooked(ctx, r.dedup, r.cfg.hooks, pay, func(ctx context.Context) error {
		return r.fn(ctx, &paykit.Notification{Provider: pay.Provider, PaymentID: pay.ID, Event: Event, Payment: pay})
	})
	doneErr = err
	if ran {
		p.Ran = 1
		r.ran.Add(1)
	}
	if err != nil && !ran {
		// fn failed, or the dedupe store did: read again soon, as a provider redelivers.
		p.Errors = 1
		r.fnErrors.Add(1)
		r.log.WarnContext(ctx, "reconcile: the state could not be processed; reading again", "payment_id", e.ID, "error", err)
		e.Due = now.Add(r.cfg.minWait)
		r.reschedule(ctx, e)
		return p
	}
	if err != nil {
		r.log.ErrorContext(ctx, "reconcile: the dedupe store could not record a processed state", "payment_id", e.ID, "error", err)
	}
	state := paykit.PaymentStateKey(pay)
	if state != e.State {
		e.State, e.Step = state, 0
	}
	switch {
	case r.cfg.final(pay):
		p.Final = 1
		r.final.Add(1)
		r.remove(ctx, e)
		return p
	case !pay.ExpiresAt.IsZero() && now.After(pay.ExpiresAt.Add(r.cfg.expiryGrace)):
		p.Reported = 1
		r.expired.Add(1)
		r.giveUp(ctx, e, ReasonExpired, pay, nil)
		return p
	case pay.ExpiresAt.IsZero() && now.Sub(e.Since) >= r.cfg.maxAge:
		p.Reported = 1
		r.tooOld.Add(1)
		r.giveUp(ctx, e, ReasonMaxAge, pay, nil)
		return p
	}
	e.Due = r.next(e, now)
	if !pay.ExpiresAt.IsZero() && now.Before(pay.ExpiresAt) && e.Due.After(pay.ExpiresAt) {
		// Read it again just after it expires: the provider reports the expiry itself then,
		// or the payment is stuck.
		e.Due = pay.ExpiresAt.Add(r.cfg.minWait)
	}
	e.Step++
	r.reschedule(ctx, e)
	return p
}

// readFailed handles a read that answered err.
func (r *Reconciler) readFailed(ctx context.Context, e Entry, now time.Time, err error) (p Pass) {
	p.Polls = 1
	if errors.Is(err, paykit.ErrNotFound) {
		if e.NotFoundSince.IsZero() {
			e.NotFoundSince = now
		}
		if now.Sub(e.NotFoundSince) >= r.cfg.notFoundFor {
			p.Reported = 1
			r.notFound.Add(1)
			r.giveUp(ctx, e, ReasonNotFound, nil, err)
			return p
		}
	} else {
		p.Errors = 1
		r.readErrors.Add(1)
		r.log.DebugContext(ctx, "reconcile: reading failed; reading again later", "payment_id", e.ID, "error", err)
	}
	if now.Sub(e.Since) >= r.cfg.maxAge+r.cfg.expiryGrace {
		// Never readable for the longest watch and its grace: stop.
		p.Reported = 1
		r.tooOld.Add(1)
		r.giveUp(ctx, e, ReasonMaxAge, nil, err)
		return p
	}
	e.Due = r.next(e, now)
	e.Step++
	r.reschedule(ctx, e)
	return p
}

// next is when e is due after a read at now: MinWait·2^Step, at most MaxWait.
func (r *Reconciler) next(e Entry, now time.Time) time.Time {
	wait := r.cfg.minWait
	for i := 0; i < e.Step && wait < r.cfg.maxWait; i++ {
		wait *= 2
	}
	return now.Add(min(wait, r.cfg.maxWait))
}

func (r *Reconciler) giveUp(ctx context.Context, e Entry, why Reason, pay *paykit.Payment, err error) {
	attrs := []any{"payment_id", e.ID, "reason", string(why), "polls", e.Polls, "watched_since", e.Since}
	if pay != nil {
		attrs = append(attrs, "status", string(pay.Status))
	}
	if err != nil {
		attrs = append(attrs, "error", err)
	}
	r.log.WarnContext(ctx, "reconcile: giving up on a payment that is not final", attrs...)
	if r.cfg.report != nil {
		r.cfg.report(ctx, Report{ID: e.ID, Reason: why, Since: e.Since, Polls: e.Polls, Payment: pay, Err: err})
	}
	r.remove(ctx, e)
}

// storeCtx is the context of a store call that ends a claim: it outlives the pass's ctx, so
// that a pass stopped by its context still gives back what it holds, but not for long.
func storeCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
}

func (r *Reconciler) reschedule(ctx context.Context, e Entry) {
	sctx, cancel := storeCtx(ctx)
	defer cancel()
	ok, err := r.cfg.store.Reschedule(sctx, e)
	switch {
	case err != nil:
		// The claim ends with its lease and the payment is read again then.
		r.log.WarnContext(ctx, "reconcile: the watch store could not reschedule", "payment_id", e.ID, "error", err)
	case !ok:
		r.lost.Add(1)
	}
}

func (r *Reconciler) remove(ctx context.Context, e Entry) {
	sctx, cancel := storeCtx(ctx)
	defer cancel()
	ok, err := r.cfg.store.Remove(sctx, e.ID, e.Claim)
	switch {
	case err != nil:
		r.log.WarnContext(ctx, "reconcile: the watch store could not drop a payment", "payment_id", e.ID, "error", err)
	case !ok:
		r.lost.Add(1)
	}
}

// giveBack ends e's claim unread, due now: the next pass, here or on another replica,
// reads it.
func (r *Reconciler) giveBack(ctx context.Context, e Entry) {
	e.Due = r.cfg.clock.Now()
	r.reschedule(ctx, e)
}

// Stats counts what a Reconciler did since New.
type Stats struct {
	Polls      int64 // reads made
	Ran        int64 // states that ran fn
	Final      int64 // payments found final and dropped
	ReadErrors int64 // reads that failed other than ErrNotFound
	FnErrors   int64 // states whose fn (or dedupe store) failed; read again
	ClaimsLost int64 // claims whose lease ended before the read was recorded
	// Reported by reason: payments given up (each logged and passed to WithReport).
	NotFound, Expired, TooOld int64
}

// Stats returns the counts so far; export them as metrics and alert on the reported ones.
func (r *Reconciler) Stats() Stats {
	return Stats{Polls: r.polls.Load(), Ran: r.ran.Load(), Final: r.final.Load(), ReadErrors: r.readErrors.Load(),
		FnErrors: r.fnErrors.Load(), ClaimsLost: r.lost.Load(),
		NotFound: r.notFound.Load(), Expired: r.expired.Load(), TooOld: r.tooOld.Load()}
}

// Watched returns how many payments the watch list holds.
func (r *Reconciler) Watched(ctx context.Context) (int, error) {
	n, err := r.cfg.store.Len(ctx)
	if err != nil {
		return 0, storeErr("len", "", err)
	}
	return n, nil
}

func storeErr(op, id string, err error) error {
	var pe *paykit.Error
	if errors.As(err, &pe) && errors.Is(err, paykit.ErrStoreUnavailable) {
		return err
	}
	kind := paykit.ErrStoreUnavailable
	for _, cerr := range []error{context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, cerr) {
			kind = cerr
		}
	}
	return &paykit.Error{Op: "watch store: " + op, PaymentID: id, Kind: kind, Err: err}
}

package redisstore

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/paykit/paykit"
)

// Defaults of the options.
const (
	DefaultPrefix    = "paykit:"
	DefaultLease     = 5 * time.Minute
	DefaultRetention = paykit.DefaultDedupRetention // 7 days, as the in-memory store
)

// Option configures the stores and the limiter of this package (WithHooks only the stores).
type Option func(*config)

type config struct {
	prefix    string
	lease     time.Duration
	retention time.Duration
	logger    *slog.Logger
	hooks     *paykit.Hooks
}

// WithPrefix puts every key under p (default "paykit:"), so that several applications can
// share one Redis. Braces in p are dropped: they would change the part of each key that Redis
// Cluster hashes.
func WithPrefix(p string) Option { return func(c *config) { c.prefix = p } }

// WithLease sets how long a Claim holds a dedupe key when its holder dies without Finish
// (default 5 minutes). It must be longer than the slowest webhook handler function: a
// redelivery that arrives after the lease ended runs the function again. Zero or less keeps
// the default.
func WithLease(d time.Duration) Option { return func(c *config) { c.lease = d } }

// WithRetention sets how long a processed dedupe key is remembered (default 7 days); a
// redelivery arriving later is processed again. Zero or less keeps the default.
func WithRetention(d time.Duration) Option { return func(c *config) { c.retention = d } }

// WithLogger gives the stores and the limiter a logger of their own, in place of the one
// paykit.SetDefaultLogger set, which is what most programs need. They log what they cannot
// tell their callers: the limiter falling back to a local limit (warning) and returning
// (info). Nil, the default, logs to paykit.SetDefaultLogger's logger.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithHooks reports every Redis round trip of the stores to h.Store (see paykit.Hooks), with
// its latency and outcome: the dedupe store's as "redis dedupe" (ops claim, finish), the
// ownership store's as "redis ownership" (claim, move, owner), the watch store's as "redis
// watch" (add, claim, reschedule, remove, len) and the Entrecard store's as "redis
// entrecard" (save order, save result, lookup). Err is the error the store's method returns
// for that round trip (a Move refused with paykit.ErrConflict included). A method that fails
// before asking Redis reports nothing, and a dedupe Claim that waits for another holder
// reports each of its polls, so these are Redis's own latency, one report per round trip.
//
// Webhook handlers, Routers and reconcilers report the "dedupe" and "ownership" calls they
// make to whatever store they are given, a Claim's waits for another holder included; the
// "redis …" names keep the two views apart when one *Hooks is given to both, so that no
// call is counted twice under one name. The limiter reports nothing here: clients report
// their waits on it (Hooks.LimiterWait). Without WithHooks nothing is reported and no clock
// is read.
func WithHooks(h *paykit.Hooks) Option { return func(c *config) { c.hooks = h } }

func newConfig(opts []Option) config {
	c := config{prefix: DefaultPrefix}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	c.prefix = strings.NewReplacer("{", "", "}", "").Replace(c.prefix)
	if c.lease <= 0 {
		c.lease = DefaultLease
	}
	if c.retention <= 0 {
		c.retention = DefaultRetention
	}
	if c.logger == nil {
		c.logger = paykit.DefaultLogger()
	}
	return c
}

// Names of the stores in their errors.
const (
	nameDedupe    = "dedupe store"
	nameOwnership = "ownership store"
	nameEntrecard = "entrecard store"
)

// The names the stores report their Redis round trips under (WithHooks).
const (
	hookDedupe    = "redis dedupe"
	hookOwnership = "redis ownership"
	hookWatch     = "redis watch"
	hookEntrecard = "redis entrecard"
)

// observer reports one store's Redis round trips to Hooks.Store. With no Store hook it reads
// no clock and reports nothing.
type observer struct {
	hooks *paykit.Hooks
	store string
}

// active reports whether round trips are reported.
func (o observer) active() bool { return o.hooks != nil && o.hooks.Store != nil }

// start is when a round trip starts, or the zero time when nothing is reported.
func (o observer) start() time.Time {
	if !o.active() {
		return time.Time{}
	}
	return time.Now()
}

// done reports the round trip op that started at start and ended with err.
func (o observer) done(ctx context.Context, op string, start time.Time, err error) {
	if o.active() {
		o.hooks.Store(ctx, paykit.StoreCall{Store: o.store, Op: op, Duration: time.Since(start), Err: err})
	}
}

// unavailable is the error of a Redis call of store's op that failed: the store could not
// be asked. Its kind is paykit.ErrStoreUnavailable (which matches paykit.ErrUnavailable too),
// or the context's error when that ended the call, and it reads
// `paykit: ownership store: claim "<id>": store unavailable: redis: dial tcp …: connection refused`;
// paykit's Router and the Entrecard client wrap it without a second "paykit:".
func unavailable(store, op, id string, err error) error {
	kind := paykit.ErrStoreUnavailable
	for _, cerr := range []error{context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, cerr) {
			kind = cerr // the caller's own context ended the call: not an outage
		}
	}
	return &paykit.Error{Op: store + ": " + op, PaymentID: id, Kind: kind, Message: "redis", Err: err}
}

// millis returns d in whole milliseconds, at least 1, as Redis's PX and PEXPIRE take it.
func millis(d time.Duration) int64 { return max(1, d.Milliseconds()) }

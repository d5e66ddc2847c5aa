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

// Option configures the stores and the limiter of this package.
type Option func(*config)

type config struct {
	prefix    string
	lease     time.Duration
	retention time.Duration
	logger    *slog.Logger
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

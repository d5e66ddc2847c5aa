package redisstore

import (
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

// WithLogger logs what the stores cannot tell their callers: the limiter falling back to a
// local limit and returning (warning), a dedupe lease that ended before Finish (warning).
// Nil, the default, logs nothing.
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
		c.logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// unavailable is the error of a Redis call that failed: the store could not be asked.
func unavailable(op string, err error) error {
	return &paykit.Error{Op: "redisstore: " + op, Kind: paykit.ErrUnavailable, Message: "Redis failed", Err: err}
}

// millis returns d in whole milliseconds, at least 1, as Redis's PX and PEXPIRE take it.
func millis(d time.Duration) int64 { return max(1, d.Milliseconds()) }

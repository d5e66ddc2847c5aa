package paykit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Option configures a provider client. Every provider's New takes the same options.
type Option func(*Settings)

// Settings is what the options set. Provider packages read it with NewSettings; merchants set
// it only through options.
type Settings struct {
	HTTPClient *http.Client  // nil: a client with a transport tuned for concurrent callers (http.DefaultTransport as it is when the program replaced it, e.g. httpmock.Activate)
	Timeout    time.Duration // bound of one HTTP attempt; NewSettings starts from DefaultTimeout
	Retry      RetryPolicy
	Limiter    Limiter      // nil: the provider's default (none, except EchelonPay)
	Logger     *slog.Logger // WithLogger; NewSettings makes nil DefaultLogger()
	UserAgent  string       // sent after paykit's own product token
	Hooks      *Hooks       // WithHooks, or nil: nothing observed

	// err is the first error an option found in its own arguments; NewSettings returns it
	// even when a later option overwrote what the faulty one set.
	err error
}

// RetryPolicy bounds the retries of a call that may safely be repeated.
type RetryPolicy struct {
	// MaxAttempts counts every attempt: 3 is the first try and two retries; 1 disables retries.
	MaxAttempts int
	// MinWait and MaxWait bound the exponential backoff with full jitter. A Retry-After from
	// the provider takes precedence over MaxWait. A zero MinWait or MaxWait takes its default
	// (DefaultMinWait, DefaultMaxWait), so a policy that sets only MaxAttempts does not retry
	// in a hot loop; when only one of them is set, the default of the other gives way to it
	// (MinWait 10s alone makes MaxWait 10s, MaxWait 50ms alone makes MinWait 50ms). For
	// retries with (almost) no wait, set a tiny positive duration such as time.Nanosecond.
	MinWait, MaxWait time.Duration
}

// Normalize returns p as a client applies it: a zero MinWait or MaxWait replaced by its
// default as the RetryPolicy doc says. It fails when MaxAttempts is below 1, a wait is
// negative, or MaxWait is below MinWait.
func (p RetryPolicy) Normalize() (RetryPolicy, error) {
	if p.MaxAttempts < 1 {
		return p, errors.New("paykit: RetryPolicy.MaxAttempts must be at least 1")
	}
	if p.MinWait < 0 || p.MaxWait < 0 {
		return p, fmt.Errorf("paykit: RetryPolicy needs 0 <= MinWait <= MaxWait, got %v and %v", p.MinWait, p.MaxWait)
	}
	switch {
	case p.MinWait == 0 && p.MaxWait == 0:
		p.MinWait, p.MaxWait = DefaultMinWait, DefaultMaxWait
	case p.MinWait == 0:
		p.MinWait = min(DefaultMinWait, p.MaxWait)
	case p.MaxWait == 0:
		p.MaxWait = max(DefaultMaxWait, p.MinWait)
	}
	if p.MaxWait < p.MinWait {
		return p, fmt.Errorf("paykit: RetryPolicy needs 0 <= MinWait <= MaxWait, got %v and %v", p.MinWait, p.MaxWait)
	}
	return p, nil
}

// Limiter makes callers wait for their turn to send a request. An implementation may be shared
// across clients, or across replicas through a shared store.
type Limiter interface {
	Wait(ctx context.Context) error
}

// Defaults used when an option is not given.
const (
	DefaultTimeout     = 30 * time.Second
	DefaultMaxAttempts = 3
	DefaultMinWait     = 200 * time.Millisecond
	DefaultMaxWait     = 5 * time.Second
)

// DefaultRetryPolicy is the policy used without WithRetry.
var DefaultRetryPolicy = RetryPolicy{MaxAttempts: DefaultMaxAttempts, MinWait: DefaultMinWait, MaxWait: DefaultMaxWait}

// NewSettings applies opts over the defaults and checks the result.
func NewSettings(opts ...Option) (Settings, error) {
	s := Settings{Timeout: DefaultTimeout, Retry: DefaultRetryPolicy}
	for _, o := range opts {
		if o != nil {
			o(&s)
		}
	}
	if s.err != nil {
		return s, s.err
	}
	if s.Timeout <= 0 {
		return s, errors.New("paykit: WithTimeout needs a positive duration")
	}
	retry, err := s.Retry.Normalize()
	if err != nil {
		return s, err
	}
	s.Retry = retry
	if s.Logger == nil {
		s.Logger = DefaultLogger()
	}
	return s, nil
}

// WithHTTPClient makes the client send its requests through c (for proxies, custom TLS, or
// tests). Its Timeout, if any, applies as well as WithTimeout. A c without a Transport uses
// http.DefaultTransport, whatever the program set it to.
func WithHTTPClient(c *http.Client) Option { return func(s *Settings) { s.HTTPClient = c } }

// WithTimeout bounds one HTTP attempt. The whole call, retries included, is bounded by its
// context.
func WithTimeout(d time.Duration) Option { return func(s *Settings) { s.Timeout = d } }

// WithRetry sets how often and how patiently calls that may be repeated are retried. A zero
// MinWait or MaxWait takes its default (see RetryPolicy): WithRetry(RetryPolicy{MaxAttempts: 5})
// retries five times with the default waits.
func WithRetry(p RetryPolicy) Option { return func(s *Settings) { s.Retry = p } }

// WithRateLimit makes the client start at most rps requests per second on average, with
// bursts of up to burst (a token bucket from golang.org/x/time/rate). rps must be finite and
// positive and burst at least 1.
func WithRateLimit(rps float64, burst int) Option {
	return func(s *Settings) {
		if !(rps > 0) || math.IsInf(rps, 1) || burst < 1 { // !(rps > 0) also refuses NaN
			if s.err == nil {
				s.err = fmt.Errorf("paykit: WithRateLimit needs a finite rps > 0 and burst >= 1, got %v and %d", rps, burst)
			}
			return
		}
		s.Limiter = rate.NewLimiter(rate.Limit(rps), burst)
	}
}

// WithLimiter makes the client wait on l before every request, e.g. a limiter shared by
// several clients or replicas. WithLimiter(NoLimit) switches limiting off.
func WithLimiter(l Limiter) Option { return func(s *Settings) { s.Limiter = l } }

// NoLimit is a Limiter that never waits. WithLimiter(NoLimit) switches a client's own rate
// limit off (EchelonPay's 10 requests per second), for tests against httpmock or a fake told
// not to limit (echelontest.NoRateLimit). Never against the real EchelonPay: its 11th request
// in a second is answered 429.
var NoLimit Limiter = noLimit{}

type noLimit struct{}

// Wait returns at once, with ctx's error if ctx has ended.
func (noLimit) Wait(ctx context.Context) error { return ctx.Err() }

// WithLogger gives one client a logger of its own, in place of the one SetDefaultLogger set,
// which is what most programs need. The client logs every HTTP attempt at debug level
// (provider, op, payment_id when the call is about a payment, method, path, status,
// attempt, duration), with secrets, tokens and signatures redacted.
func WithLogger(l *slog.Logger) Option { return func(s *Settings) { s.Logger = l } }

// defaultLogger is what SetDefaultLogger set; nil logs nothing.
var defaultLogger atomic.Pointer[slog.Logger]

// SetDefaultLogger is the one place to give paykit a logger: every provider client, Router,
// webhook handler and redisstore store or limiter logs to l, also those built before the
// call (they ask for the current default at each line), unless it was given a logger of its
// own (WithLogger, WithRouterLogger, WithWebhookLogger, redisstore.WithLogger: overrides for
// the rare program that wants one part elsewhere). Nil, the default, logs nothing.
//
// What is logged, by level: debug, every HTTP attempt of a client and every notification a
// webhook handler processed; warning, a Router's failover, a notification refused or whose
// fn failed, a Redis limiter falling back to a local limit; error, a failover after a
// provider refused the request or the credentials, a panic in fn, a dedupe store that could
// not record. Every line carries "provider", and "op" and "payment_id" where there is one.
// Secrets, tokens and signatures are never logged.
//
//	paykit.SetDefaultLogger(slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})))
func SetDefaultLogger(l *slog.Logger) { defaultLogger.Store(l) }

// DefaultLogger returns a logger that writes to whatever SetDefaultLogger sets, at the time
// of each line, and discards while it is nil. Components built without a logger of their
// own use it.
func DefaultLogger() *slog.Logger { return slog.New(&defaultHandler{}) }

// defaultHandler passes each record to the handler of the logger SetDefaultLogger set at the
// time of the record, with the attributes and groups given to it by With and WithGroup.
type defaultHandler struct {
	ops []func(slog.Handler) slog.Handler // With and WithGroup, in order
	// built caches ops applied to the handler of one default logger: a line costs no more
	// than with the logger itself, until the default changes.
	built atomic.Pointer[builtHandler]
}

type builtHandler struct {
	base *slog.Logger
	h    slog.Handler
}

func (d *defaultHandler) Enabled(ctx context.Context, level slog.Level) bool {
	l := defaultLogger.Load()
	return l != nil && l.Handler().Enabled(ctx, level)
}

func (d *defaultHandler) Handle(ctx context.Context, r slog.Record) error {
	l := defaultLogger.Load()
	if l == nil {
		return nil
	}
	b := d.built.Load()
	if b == nil || b.base != l {
		h := l.Handler()
		for _, op := range d.ops {
			h = op(h)
		}
		b = &builtHandler{base: l, h: h}
		d.built.Store(b)
	}
	return b.h.Handle(ctx, r)
}

func (d *defaultHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return d
	}
	return d.with(func(h slog.Handler) slog.Handler { return h.WithAttrs(attrs) })
}

func (d *defaultHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return d
	}
	return d.with(func(h slog.Handler) slog.Handler { return h.WithGroup(name) })
}

func (d *defaultHandler) with(op func(slog.Handler) slog.Handler) *defaultHandler {
	return &defaultHandler{ops: append(slices.Clip(d.ops), op)}
}

// WithHooks makes the client report its operations, HTTP attempts, limiter waits, token
// fetches and retry waits to h (see Hooks; package otelpaykit makes OpenTelemetry spans and
// metrics of them). A nil h, the default, observes nothing and costs a nil check per call.
func WithHooks(h *Hooks) Option { return func(s *Settings) { s.Hooks = h } }

// WithUserAgent adds ua to the User-Agent header, after paykit's own product token.
func WithUserAgent(ua string) Option { return func(s *Settings) { s.UserAgent = ua } }

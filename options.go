package paykit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
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
	Logger     *slog.Logger // nil: no logging
	UserAgent  string       // sent after paykit's own product token

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
// several clients or replicas.
func WithLimiter(l Limiter) Option { return func(s *Settings) { s.Limiter = l } }

// WithLogger logs every HTTP attempt at debug level (method, path, status, attempt, duration),
// with secrets, tokens and signatures redacted.
func WithLogger(l *slog.Logger) Option { return func(s *Settings) { s.Logger = l } }

// WithUserAgent adds ua to the User-Agent header, after paykit's own product token.
func WithUserAgent(ua string) Option { return func(s *Settings) { s.UserAgent = ua } }

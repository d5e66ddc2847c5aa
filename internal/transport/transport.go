// Package transport sends paykit's HTTP requests to a provider: base URL, headers, JSON,
// timeouts, the rate limiter, bearer tokens, the retry rules of DESIGN.md, error decoding into
// *paykit.Error and redacted debug logging.
//
// resty v2 sends each single attempt; the retry loop is ours, because resty's own retry clamps
// Retry-After to its maximum wait, sleeps without watching the context after network errors,
// and retries POSTs by default, any of which can charge a customer twice or overrun a deadline.
//
// Before each attempt a caller first gets its bearer token (a fetch is itself a request through
// the Client, and waits for its own turn), then waits for its turn on the limiter, then sends at
// once; a token that became due while the caller waited is fetched again. Answers are read up
// to Config.MaxResponseBytes (10 MiB by default); a longer one is an ErrUnavailable error and
// costs no more memory than the limit. Secrets are redacted from errors and log lines also in
// their JSON- and URL-escaped forms.
//
// A call that the caller's own context ended (waiting for a token, for a turn, during an
// attempt, or waiting to retry) is an error whose Kind is that context error
// (context.Canceled or context.DeadlineExceeded), never ErrUnavailable or ErrRateLimited; the
// provider's last answer stays in it for diagnosis. An attempt ended by the per-attempt timeout
// (paykit.WithTimeout) is the provider's slowness: ErrUnavailable, retried by the rules. A
// wait that would outlast the deadline is not started: a retry whose wait (a Retry-After, or
// the backoff) ends after it returns the provider's error at once with RetryAfter set, and a
// limiter that refuses a turn it could only give after the deadline (golang.org/x/time/rate
// does) gives ErrRateLimited.
package transport

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-resty/resty/v2"

	"github.com/paykit/paykit"
)

// Authenticator supplies bearer tokens (internal/token.Source implements it).
type Authenticator interface {
	Token(ctx context.Context) (string, error)
	// Invalidate drops token after the provider refused it, so the next Token fetches anew.
	Invalidate(token string)
	// Fresh reports whether token is still the current one and not due for refresh. The
	// Client asks after waiting for its turn on the limiter: a token that became due
	// meanwhile is fetched again before the request is sent.
	Fresh(token string) bool
}

// ErrorDecoder fills e's Code, Type and Message from a provider's error body. It must be
// lenient: a body it cannot read leaves e as it is.
type ErrorDecoder func(body []byte, e *paykit.Error)

// Config describes one provider's endpoint.
type Config struct {
	Provider string // "ecredits", …: names errors and log lines
	BaseURL  string // https, or http on a loopback address
	Headers  map[string]string
	Settings paykit.Settings
	// DefaultLimiter is used when Settings.Limiter is nil (EchelonPay's 10 requests/s).
	DefaultLimiter paykit.Limiter
	Auth           Authenticator // nil: no Authorization header
	DecodeError    ErrorDecoder  // nil: DecodeProblem
	// Secrets are redacted from error messages and log lines wherever they appear, also
	// JSON- or URL-escaped.
	Secrets []string
	// MaxResponseBytes bounds the answers read, 2xx and error bodies alike; 0 means
	// DefaultMaxResponseBytes. A longer answer is an ErrUnavailable error.
	MaxResponseBytes int64
}

// Client sends requests to one provider. It is safe for concurrent use.
type Client struct {
	provider string
	rc       *resty.Client
	settings paykit.Settings
	limiter  paykit.Limiter
	auth     Authenticator
	decode   ErrorDecoder
	redactor *Redactor
	log      *slog.Logger // nil when logging is off
	maxBody  int64        // MaxResponseBytes, or its default
	// tokenRed caches the redactor for the latest token, which redactorFor would otherwise
	// build (escaped forms included) on every failed attempt.
	tokenRed atomic.Pointer[tokenRedactor]
	// hooks are Settings.Hooks (nil: nothing observed); serverAddr and serverPort name the
	// base URL's host for them.
	hooks      *paykit.Hooks
	serverAddr string
	serverPort int
}

// FetchObservable is implemented by an Authenticator that can tell each caller who waited
// for a new token how long it waited (internal/token.Source): New wires it to the
// TokenFetch hook.
type FetchObservable interface {
	ObserveFetches(func(ctx context.Context, waited time.Duration, shared bool, err error))
}

type tokenRedactor struct {
	token string
	red   *Redactor
}

// New checks cfg and builds a Client.
func New(cfg Config) (*Client, error) {
	if err := CheckBaseURL(cfg.BaseURL); err != nil {
		return nil, &paykit.Error{Provider: cfg.Provider, Op: "new client", Kind: paykit.ErrInvalidRequest, Message: err.Error()}
	}
	if cfg.MaxResponseBytes < 0 {
		return nil, &paykit.Error{Provider: cfg.Provider, Op: "new client", Kind: paykit.ErrInvalidRequest, Message: "MaxResponseBytes must not be negative"}
	}
	settings := cfg.Settings
	// Settings made by paykit.NewSettings are complete; a Config built by hand may leave
	// them zero, and a zero attempt timeout would fail every request at once, zero waits
	// would retry in a hot loop.
	if settings.Timeout <= 0 {
		settings.Timeout = paykit.DefaultTimeout
	}
	if settings.Retry.MaxAttempts < 1 {
		settings.Retry.MaxAttempts = paykit.DefaultMaxAttempts
	}
	retry, err := settings.Retry.Normalize()
	if err != nil {
		return nil, &paykit.Error{Provider: cfg.Provider, Op: "new client", Kind: paykit.ErrInvalidRequest, Err: err}
	}
	settings.Retry = retry
	var hc *http.Client
	if settings.HTTPClient != nil {
		// The caller's client as it is at each request, not a copy made now: a test that
		// calls httpmock.ActivateNonDefault(hc) after New, or a merchant who swaps hc's
		// Transport later, is obeyed. resty gets a client of its own that only forwards,
		// because resty writes a transport into a client whose Transport is nil, and the
		// caller's client (possibly http.DefaultClient) is not ours to change.
		hc = &http.Client{Transport: viaClient{settings.HTTPClient}}
	} else {
		hc = &http.Client{Transport: DefaultHTTPTransport()}
	}
	rc := resty.NewWithClient(hc).
		SetBaseURL(strings.TrimRight(cfg.BaseURL, "/")).
		SetLogger(nopLogger{}).
		SetDisableWarn(true)
	ua := "paykit-go/" + paykit.Version + " (" + cfg.Provider + ")"
	if settings.UserAgent != "" {
		ua += " " + settings.UserAgent
	}
	rc.SetHeader("User-Agent", ua)
	rc.SetHeader("Accept", "application/json")
	for k, v := range cfg.Headers {
		rc.SetHeader(k, v)
	}
	c := &Client{
		provider: cfg.Provider,
		rc:       rc,
		settings: settings,
		limiter:  settings.Limiter,
		auth:     cfg.Auth,
		decode:   cfg.DecodeError,
		redactor: NewRedactor(cfg.Secrets...),
		log:      settings.Logger,
		maxBody:  cfg.MaxResponseBytes,
		hooks:    settings.Hooks,
	}
	c.serverAddr, c.serverPort = serverOf(cfg.BaseURL)
	if h := c.hooks; h != nil && h.TokenFetch != nil {
		if o, ok := cfg.Auth.(FetchObservable); ok {
			provider := cfg.Provider
			o.ObserveFetches(func(ctx context.Context, waited time.Duration, shared bool, err error) {
				h.TokenFetch(ctx, paykit.TokenFetch{Provider: provider, Wait: waited, Shared: shared, Err: err})
			})
		}
	}
	if c.maxBody == 0 {
		c.maxBody = DefaultMaxResponseBytes
	}
	if c.limiter == nil {
		c.limiter = cfg.DefaultLimiter
	}
	if c.decode == nil {
		c.decode = DecodeProblem
	}
	if c.log != nil {
		c.log = c.log.With("provider", cfg.Provider)
	}
	return c, nil
}

// serverOf returns the host and port of base, a URL CheckBaseURL accepted: the port given,
// else the scheme's.
func serverOf(base string) (string, int) {
	u, err := url.Parse(base)
	if err != nil {
		return "", 0
	}
	port, _ := strconv.Atoi(u.Port())
	if port == 0 {
		port = 443
		if u.Scheme == "http" {
			port = 80
		}
	}
	return u.Hostname(), port
}

// DefaultHTTPTransport is the transport of a client given no HTTP client. While
// http.DefaultTransport is the standard library's *http.Transport, it is a clone of it with
// enough idle connections per host for concurrent callers: the default 2 costs about a third
// of the throughput under load. When the program replaced http.DefaultTransport with a
// RoundTripper of another type (httpmock.Activate, an otelhttp wrapper, a recorder), it is
// that RoundTripper itself, unchanged: the program replaced it so that every request goes
// through it, and a clone of something else would bypass it. It is read when a client is
// built, so a replacement made later is not seen by clients built before.
func DefaultHTTPTransport() http.RoundTripper {
	std, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		return http.DefaultTransport
	}
	t := std.Clone()
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = 64
	return t
}

// CheckBaseURL accepts an absolute https URL, or http on a loopback address (tests, fakes).
func CheckBaseURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("base URL %q is not an absolute URL", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		// Paths are appended to the base URL as text: a query or fragment would swallow them.
		return fmt.Errorf("base URL %q must not have a query or fragment", raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if IsLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("base URL %q must be https (http is allowed only on a loopback address)", raw)
	}
	return fmt.Errorf("base URL %q must be https", raw)
}

// IsLoopback reports whether host is localhost or a loopback IP address.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Request is one API call.
type Request struct {
	Op string // what the call does, for errors and logs: "create request"
	// PaymentID is the merchant's payment id the call is about, if any: the attempt's log
	// line carries it as "payment_id". Errors are not changed by it (the provider sets
	// Error.PaymentID where it means to).
	PaymentID string
	Method    string
	Path      string // escaped path below the base URL, e.g. "/api/v1/requests/" + url.PathEscape(id)
	// URLTemplate is Path with each id in braces ("/api/v1/requests/{id}"), for the hooks
	// (OpenTelemetry's url.template): every call site gives it, so that no id reaches a
	// span or a metric attribute. Empty: the hooks get no template.
	URLTemplate string
	Query       url.Values
	Body        any // marshalled to JSON once; []byte is sent as it is
	Result      any // where a 2xx JSON answer is decoded; nil: not decoded
	// Repeatable says that sending the request again after it may have reached the provider
	// cannot cause a second effect: GETs, and creates keyed by the merchant's id whose repeat
	// answers 409. Anything else is retried only when it surely did not reach the provider.
	Repeatable bool
	NoAuth     bool // send no Authorization header (the authentication call itself)
	// SecretAnswer says a 2xx answer holds a credential (a new token), which the redactor
	// cannot know yet: a broken one is not kept in Error.Body.
	SecretAnswer bool
}

// Response is a provider's 2xx answer.
type Response struct {
	StatusCode int
	Header     http.Header
	Body       []byte
}

// Do sends req, retrying it as far as the rules allow, and decodes a 2xx answer into
// req.Result. Any failure is a *paykit.Error.
func (c *Client) Do(ctx context.Context, req Request) (*Response, error) {
	var body []byte
	if req.Body != nil {
		if b, ok := req.Body.([]byte); ok {
			body = b
		} else {
			b, err := json.Marshal(req.Body)
			if err != nil {
				e := c.errorf(c.redactor, req.Op, paykit.ErrInvalidRequest, err, "encoding the request body")
				e.Unprocessed = true
				return nil, e
			}
			body = b
		}
	}
	policy := c.settings.Retry
	refreshed := false
	// unprocessed stays true while every attempt so far certainly was not processed: only
	// then may the final error say so (a create that failed this way can go elsewhere).
	unprocessed := true
	for attempt := 1; ; attempt++ {
		// The attempt sent again after a 401 is not counted against MaxAttempts, but it is
		// one more request on the wire, and the log numbers requests.
		sent := attempt
		if refreshed {
			sent++
		}
		res := c.attempt(ctx, req, body, sent)
		if res.err == nil {
			return res.resp, nil
		}
		unprocessed = unprocessed && res.unprocessed
		res.err.Unprocessed = unprocessed
		if res.unauthorized && c.auth != nil && !req.NoAuth && !refreshed {
			// A 401 means the provider refused the token and did not process the request:
			// refresh once and send again, without counting it as a retry.
			refreshed = true
			c.auth.Invalidate(res.token)
			attempt--
			continue
		}
		if !res.retryable || attempt >= policy.MaxAttempts {
			return nil, res.err
		}
		if cerr := ctx.Err(); cerr != nil {
			// A retry was due, but the caller stopped waiting for it.
			return nil, endedByCaller(res.err, cerr)
		}
		wait := backoff(policy, attempt, res.err.RetryAfter)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			// The wait would outlast the caller's deadline: answer now, saying how long the
			// provider wants us to wait, instead of sleeping into a certain timeout.
			res.err.RetryAfter = wait
			return nil, res.err
		}
		if c.hooks != nil && c.hooks.RetryWait != nil {
			c.hooks.RetryWait(ctx, paykit.RetryWait{Provider: c.provider, Op: req.Op, PaymentID: req.PaymentID,
				Attempt: sent, StatusCode: res.err.StatusCode, Wait: wait, RetryAfter: res.err.RetryAfter > 0, Err: res.err})
		}
		if err := sleep(ctx, wait); err != nil {
			return nil, endedByCaller(res.err, err)
		}
	}
}

// sleep waits for d, or until ctx ends, whose error it then returns.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// endedByCaller turns e, the provider's last answer, into the error of a call that the
// caller's own context ended (cerr): its Kind is cerr, so that the call matches
// context.Canceled or context.DeadlineExceeded and not ErrUnavailable or ErrRateLimited,
// which would page someone about a provider that merely answered a closed browser tab. The
// provider's status, message, Retry-After and cause stay for diagnosis.
func endedByCaller(e *paykit.Error, cerr error) *paykit.Error {
	e.Kind = cerr
	return e
}

// isContextError reports whether err is one of the context package's own two errors.
func isContextError(err error) bool {
	return err == context.Canceled || err == context.DeadlineExceeded
}

// redactorFor returns the redactor for an attempt that sent token: the configured secrets
// and the token, which a provider may echo in an error body.
func (c *Client) redactorFor(token string) *Redactor {
	if token == "" {
		return c.redactor
	}
	if tr := c.tokenRed.Load(); tr != nil && tr.token == token {
		return tr.red
	}
	red := c.redactor.with(token)
	c.tokenRed.Store(&tokenRedactor{token: token, red: red})
	return red
}

func (c *Client) errorf(red *Redactor, op string, kind error, err error, msg string) *paykit.Error {
	return &paykit.Error{Provider: c.provider, Op: op, Kind: kind, Message: msg, Err: red.Error(err)}
}

type nopLogger struct{}

func (nopLogger) Errorf(string, ...any) {}
func (nopLogger) Warnf(string, ...any)  {}
func (nopLogger) Debugf(string, ...any) {}

// joinCause adds cause (a context error) to err so that errors.Is finds both, keeping the
// text on one line, unlike errors.Join.
func joinCause(err, cause error) error {
	if err == nil {
		return cause
	}
	return fmt.Errorf("%w (%w)", err, cause)
}

// viaClient is a RoundTripper that sends every request through the merchant's *http.Client
// (its Transport, Timeout, Jar and CheckRedirect as they are at that moment).
type viaClient struct{ c *http.Client }

func (v viaClient) RoundTrip(r *http.Request) (*http.Response, error) { return v.c.Do(r) }

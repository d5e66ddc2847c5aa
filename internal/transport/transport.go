// Package transport sends paykit's HTTP requests to a provider: base URL, headers, JSON,
// timeouts, the rate limiter, bearer tokens, the retry rules of DESIGN.md, error decoding into
// *paykit.Error and redacted debug logging.
//
// resty v2 sends each single attempt; the retry loop is ours, because resty's own retry clamps
// Retry-After to its maximum wait, sleeps without watching the context after network errors,
// and retries POSTs by default, any of which can charge a customer twice or overrun a deadline.
package transport

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"reflect"
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
	// Secrets are redacted from error messages and log lines wherever they appear.
	Secrets []string
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
}

// New checks cfg and builds a Client.
func New(cfg Config) (*Client, error) {
	if err := CheckBaseURL(cfg.BaseURL); err != nil {
		return nil, &paykit.Error{Provider: cfg.Provider, Op: "new client", Kind: paykit.ErrInvalidRequest, Message: err.Error()}
	}
	settings := cfg.Settings
	// Settings made by paykit.NewSettings are complete; a Config built by hand may leave
	// them zero, and a zero attempt timeout would fail every request at once.
	if settings.Timeout <= 0 {
		settings.Timeout = paykit.DefaultTimeout
	}
	if settings.Retry.MaxAttempts < 1 {
		settings.Retry = paykit.DefaultRetryPolicy
	}
	var hc *http.Client
	if settings.HTTPClient != nil {
		// A copy: resty writes a transport of its own into a client whose Transport is nil,
		// and the caller's client (possibly http.DefaultClient) is not ours to change.
		cp := *settings.HTTPClient
		if cp.Transport == nil {
			cp.Transport = http.DefaultTransport
		}
		hc = &cp
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

// DefaultHTTPTransport is http.DefaultTransport with enough idle connections per host for
// concurrent callers: the default 2 costs about a third of the throughput under load.
func DefaultHTTPTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
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
	Op     string // what the call does, for errors and logs: "create request"
	Method string
	Path   string // escaped path below the base URL, e.g. "/api/v1/requests/" + url.PathEscape(id)
	Query  url.Values
	Body   any // marshalled to JSON once; []byte is sent as it is
	Result any // where a 2xx JSON answer is decoded; nil: not decoded
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
				return nil, c.errorf(c.redactor, req.Op, paykit.ErrInvalidRequest, err, "encoding the request body")
			}
			body = b
		}
	}
	policy := c.settings.Retry
	refreshed := false
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
		if res.unauthorized && c.auth != nil && !req.NoAuth && !refreshed {
			// A 401 means the provider refused the token and did not process the request:
			// refresh once and send again, without counting it as a retry.
			refreshed = true
			c.auth.Invalidate(res.token)
			attempt--
			continue
		}
		if !res.retryable || attempt >= policy.MaxAttempts || ctx.Err() != nil {
			return nil, res.err
		}
		wait := backoff(policy, attempt, res.err.RetryAfter)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			// The wait would outlast the caller's deadline: answer now, saying how long the
			// provider wants us to wait, instead of sleeping into a certain timeout.
			res.err.RetryAfter = wait
			return nil, res.err
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			res.err.Err = joinCause(res.err.Err, ctx.Err())
			return nil, res.err
		}
	}
}

type attemptResult struct {
	resp *Response
	// err is this call's own value: Do may set its RetryAfter and Err.
	err          *paykit.Error
	retryable    bool
	unauthorized bool
	token        string
}

// attempt sends req once; n numbers it in the log.
func (c *Client) attempt(ctx context.Context, req Request, body []byte, n int) attemptResult {
	if c.limiter != nil {
		if err := c.limiter.Wait(ctx); err != nil {
			return attemptResult{err: c.errorf(c.redactor, req.Op, paykit.ErrRateLimited, err, "waiting for the rate limiter")}
		}
	}
	r := c.rc.R()
	var token string
	if c.auth != nil && !req.NoAuth {
		t, err := c.auth.Token(ctx)
		if err != nil {
			return c.tokenFailed(ctx, req.Op, err)
		}
		token = t
		r.SetHeader("Authorization", "Bearer "+t)
	}
	if body != nil {
		r.SetHeader("Content-Type", "application/json").SetBody(body)
	}
	if len(req.Query) > 0 {
		r.SetQueryParamsFromValues(req.Query)
	}

	actx, cancel := context.WithTimeout(ctx, c.settings.Timeout)
	defer cancel()
	var wrote atomic.Bool
	actx = httptrace.WithClientTrace(actx, &httptrace.ClientTrace{
		// From the moment the headers are handed to the connection the provider may see the
		// request, even when writing its body then fails part way; before it (dial, DNS,
		// TLS) it surely did not.
		WroteHeaders: func() { wrote.Store(true) },
	})
	start := time.Now()
	resp, err := r.SetContext(actx).Execute(req.Method, req.Path)
	elapsed := time.Since(start)

	if err != nil {
		red := c.redactorFor(token)
		e := c.errorf(red, req.Op, paykit.ErrUnavailable, err, "")
		if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
			// The caller's context ended the call: keep its error visible to errors.Is.
			e.Err = joinCause(e.Err, cerr)
		}
		c.logAttempt(ctx, req, red, n, 0, elapsed, e)
		// Not written: the provider cannot have seen it, any request may go again.
		return attemptResult{err: e, retryable: !wrote.Load() || req.Repeatable, token: token}
	}

	status := resp.StatusCode()
	if status >= 200 && status < 300 {
		out := &Response{StatusCode: status, Header: resp.Header(), Body: resp.Body()}
		if req.Result != nil && len(out.Body) > 0 {
			if n > 1 {
				// An earlier attempt's broken answer may have filled part of Result.
				reflect.ValueOf(req.Result).Elem().SetZero()
			}
			if err := json.Unmarshal(out.Body, req.Result); err != nil {
				red := c.redactorFor(token)
				e := c.errorf(red, req.Op, paykit.ErrUnavailable, err, "the provider's answer is not the expected JSON")
				e.StatusCode = status
				if !req.SecretAnswer {
					e.Body = red.Body(out.Body)
				}
				c.logAttempt(ctx, req, red, n, status, elapsed, e)
				// The request was processed: only a repeatable one may be asked again.
				return attemptResult{err: e, retryable: req.Repeatable, token: token}
			}
		}
		c.logAttempt(ctx, req, c.redactor, n, status, elapsed, nil)
		return attemptResult{resp: out}
	}

	red := c.redactorFor(token)
	e := &paykit.Error{
		Provider:   c.provider,
		Op:         req.Op,
		StatusCode: status,
		Kind:       paykit.KindForStatus(status),
		RetryAfter: ParseRetryAfter(resp.Header().Get("Retry-After"), time.Now()),
		Body:       red.Body(resp.Body()),
	}
	if e.Kind == nil {
		// A 1xx, or a 3xx the HTTP client did not follow: no success, and no kind of its own.
		e.Kind = paykit.ErrUnavailable
	}
	c.decode(resp.Body(), e)
	// A provider may echo what it was sent, in any field.
	e.Code, e.Type, e.Message = red.String(e.Code), red.String(e.Type), red.String(e.Message)
	c.logAttempt(ctx, req, red, n, status, elapsed, e)
	return attemptResult{
		err:          e,
		retryable:    status == http.StatusTooManyRequests || ((status >= 500 || status == http.StatusRequestTimeout) && req.Repeatable),
		unauthorized: status == http.StatusUnauthorized,
		token:        token,
	}
}

// tokenFailed turns the Authenticator's error into the attempt's result. Nothing of the
// request was sent.
func (c *Client) tokenFailed(ctx context.Context, op string, err error) attemptResult {
	var pe *paykit.Error
	if errors.As(err, &pe) {
		// The authentication call's own error. Every caller that waited on the same fetch
		// holds this value, so each gets a copy: Do may set RetryAfter and Err on it.
		cp := *pe
		// Keep the authentication call's status and kind; a 5xx there is as retryable as a
		// 5xx here, since nothing of this request was sent.
		return attemptResult{err: &cp, retryable: cp.StatusCode == 0 || cp.StatusCode == 429 || cp.StatusCode >= 500}
	}
	if cerr := ctx.Err(); cerr != nil {
		// The caller gave up while waiting for a token: that says nothing about the
		// credentials.
		e := c.errorf(c.redactor, op, paykit.ErrUnavailable, err, "waiting for a token")
		if !errors.Is(err, cerr) {
			e.Err = joinCause(e.Err, cerr)
		}
		return attemptResult{err: e}
	}
	return attemptResult{err: c.errorf(c.redactor, op, paykit.ErrUnauthorized, err, "getting a token")}
}

// redactorFor returns the redactor for an attempt that sent token: the configured secrets
// and the token, which a provider may echo in an error body.
func (c *Client) redactorFor(token string) *Redactor {
	if token == "" {
		return c.redactor
	}
	return c.redactor.with(token)
}

func (c *Client) errorf(red *Redactor, op string, kind error, err error, msg string) *paykit.Error {
	return &paykit.Error{Provider: c.provider, Op: op, Kind: kind, Message: msg, Err: red.Error(err)}
}

func (c *Client) logAttempt(ctx context.Context, req Request, red *Redactor, attempt, status int, d time.Duration, err *paykit.Error) {
	if c.log == nil || !c.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{
		slog.String("op", req.Op),
		slog.String("method", req.Method),
		slog.String("path", red.String(req.Path)),
		slog.Int("status", status),
		slog.Int("attempt", attempt),
		slog.Duration("duration", d),
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", red.String(err.Error())))
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "paykit http attempt", attrs...)
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

package transport

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"reflect"
	"strconv"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/go-resty/resty/v2"

	"github.com/paykit/paykit"
)

// attemptResult is what one attempt tells Do.
type attemptResult struct {
	resp *Response
	// err is this call's own value: Do may set its RetryAfter and Kind.
	err          *paykit.Error
	retryable    bool
	unauthorized bool
	token        string
	// unprocessed: the provider certainly did not process this attempt (it was not written,
	// or the provider refused it with a 4xx other than 408 and 409).
	unprocessed bool
}

// exchange is what sending one request gave: an answer, or the error that stopped it.
type exchange struct {
	status   int
	header   http.Header
	body     []byte
	tooLarge bool // the answer passed the limit; body is nil
	wrote    bool // the request's headers were handed to the connection
	elapsed  time.Duration
	err      error // no complete answer
}

// attempt sends req once; n numbers it in the log. It builds the request (prepare), gets a
// token and a turn (acquire), sends (send), and judges the answer (judge).
func (c *Client) attempt(ctx context.Context, req Request, body []byte, n int) attemptResult {
	r := c.prepare(req, body)
	token, failed := c.acquire(ctx, req)
	if failed != nil {
		failed.unprocessed = true // nothing of the request was sent
		return *failed
	}
	if c.hooks == nil || c.hooks.Attempt == nil {
		x := c.send(ctx, r, req, token)
		res := c.judge(ctx, req, x, n, token)
		c.logAttempt(ctx, req, c.redactorFor(token), n, x.status, x.elapsed, res.err)
		return res
	}
	actx, end := c.hooks.Attempt(ctx, paykit.AttemptStart{Provider: c.provider, Op: req.Op, PaymentID: req.PaymentID,
		Method: req.Method, URLTemplate: req.URLTemplate, ServerAddress: c.serverAddr, ServerPort: c.serverPort, ResendCount: n - 1})
	x := c.send(actx, r, req, token)
	res := c.judge(ctx, req, x, n, token)
	c.logAttempt(ctx, req, c.redactorFor(token), n, x.status, x.elapsed, res.err)
	ae := paykit.AttemptEnd{StatusCode: x.status, Duration: x.elapsed}
	if res.err != nil {
		ae.Err, ae.ErrorType = res.err, errorType(ctx, x)
	}
	end(ae)
	return res
}

// errorType names what made an attempt fail, as OpenTelemetry's error.type: the status
// code when the provider answered, else what stopped the exchange.
func errorType(ctx context.Context, x exchange) string {
	switch {
	case x.err != nil && ctx.Err() == context.Canceled:
		return "context_canceled"
	case x.err != nil && ctx.Err() == context.DeadlineExceeded:
		return "context_deadline_exceeded"
	case x.err != nil && errors.Is(x.err, context.DeadlineExceeded):
		return "timeout" // the per-attempt timeout
	case x.err != nil:
		return "network"
	case x.tooLarge:
		return "response_too_large"
	case x.status >= 200 && x.status < 300:
		return "malformed_response"
	}
	return strconv.Itoa(x.status)
}

// acquire gets what a request needs before it is sent, in the order of DESIGN rule 3: first
// its token, then its turn on the limiter, then nothing slow until it is sent, so that the turn
// is spent at once. The other order would let every caller that took its turn while a slow
// token fetch ran send together when the token lands, a burst past the provider's limit. A
// token that became due (or was invalidated) while the caller waited for its turn is fetched
// again, which costs a turn of its own, and the caller waits for a new turn: the one it got
// cannot be kept across the fetch. That happens once at most; a token still due after it (a
// refresh that failed while the old token is valid) is sent as it is.
func (c *Client) acquire(ctx context.Context, req Request) (string, *attemptResult) {
	needToken := c.auth != nil && !req.NoAuth
	for refetched := false; ; refetched = true {
		var token string
		if needToken {
			t, err := c.auth.Token(ctx)
			if err != nil {
				res := c.tokenFailed(ctx, req.Op, err)
				return "", &res
			}
			token = t
		}
		fresh := needToken && c.auth.Fresh(token)
		if c.limiter != nil {
			if err := c.waitTurn(ctx, req); err != nil {
				res := c.limiterFailed(ctx, req.Op, err)
				return "", &res
			}
		}
		if !fresh || refetched || c.auth.Fresh(token) {
			return token, nil
		}
	}
}

// waitTurn waits on the limiter, telling the hooks how long it waited.
func (c *Client) waitTurn(ctx context.Context, req Request) error {
	if c.hooks == nil || c.hooks.LimiterWait == nil {
		return c.limiter.Wait(ctx)
	}
	start := time.Now()
	err := c.limiter.Wait(ctx)
	c.hooks.LimiterWait(ctx, paykit.LimiterWait{Provider: c.provider, Op: req.Op, Wait: time.Since(start), Err: err})
	return err
}

// limiterFailed turns the limiter's refusal into the attempt's result. Nothing was sent.
func (c *Client) limiterFailed(ctx context.Context, op string, err error) attemptResult {
	if cerr := ctx.Err(); cerr != nil {
		return attemptResult{err: c.callerError(op, err, cerr, "waiting for the rate limiter")}
	}
	if errors.Is(err, paykit.ErrStoreUnavailable) {
		// A shared limiter whose store failed (one that does not fall back to a local
		// limit): the store's outage, not the provider's limit.
		return attemptResult{err: c.errorf(c.redactor, op, paykit.ErrStoreUnavailable, err, "waiting for the rate limiter")}
	}
	// The limiter's own refusal, e.g. a turn that would come after the context's deadline
	// (golang.org/x/time/rate says so at once): the client's share of the provider's limit
	// is spent, like the exception for a Retry-After past the deadline.
	return attemptResult{err: c.errorf(c.redactor, op, paykit.ErrRateLimited, err, "waiting for the rate limiter")}
}

// tokenFailed turns the Authenticator's error into the attempt's result. Nothing of the
// request was sent.
func (c *Client) tokenFailed(ctx context.Context, op string, err error) attemptResult {
	cerr := ctx.Err()
	var pe *paykit.Error
	if errors.As(err, &pe) {
		// The authentication call's own error. Every caller that waited on the same fetch
		// holds this value, so each gets a copy: Do may set RetryAfter and Kind on it.
		cp := *pe
		if isContextError(cp.Kind) {
			if cerr != nil {
				cp.Kind = cerr
				return attemptResult{err: &cp}
			}
			// The fetch's own time ran out (it runs apart from this caller's context): for
			// this caller the provider was too slow.
			if !errors.Is(cp.Err, cp.Kind) {
				cp.Err = joinCause(cp.Err, cp.Kind)
			}
			cp.Kind = paykit.ErrUnavailable
		}
		// Keep the authentication call's status and kind. Not retried here: the
		// authentication call went through its own retries already, and retrying it again
		// for each attempt of this call would multiply them (3 × 3 token requests).
		return attemptResult{err: &cp}
	}
	if cerr != nil {
		// The caller gave up while waiting for a token: that says nothing about the
		// credentials, nor about the provider.
		return attemptResult{err: c.callerError(op, err, cerr, "waiting for a token")}
	}
	return attemptResult{err: c.errorf(c.redactor, op, paykit.ErrUnauthorized, err, "getting a token")}
}

// callerError is the error of a call ended by the caller's context before anything was sent:
// its Kind is the context's error cerr; err, what the wait returned, is kept when it says more.
func (c *Client) callerError(op string, err, cerr error, msg string) *paykit.Error {
	if err == cerr {
		err = nil
	}
	return c.errorf(c.redactor, op, cerr, err, msg)
}

// prepare builds the resty request for req, all but its token: built before the turn, so that
// little stands between the turn and the send.
func (c *Client) prepare(req Request, body []byte) *resty.Request {
	// The Client reads the body itself, to bound it (see readBody).
	r := c.rc.R().SetDoNotParseResponse(true)
	if body != nil {
		r.SetHeader("Content-Type", "application/json").SetBody(body)
	}
	if len(req.Query) > 0 {
		r.SetQueryParamsFromValues(req.Query)
	}
	return r
}

// send sends r (req prepared) once, with token when it is not empty, and reads the answer up
// to the Client's limit, all within one per-attempt timeout.
func (c *Client) send(ctx context.Context, r *resty.Request, req Request, token string) exchange {
	if token != "" {
		r.SetHeader("Authorization", "Bearer "+token)
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
	var x exchange
	if resp != nil && resp.RawResponse != nil {
		raw := resp.RawResponse
		if err == nil {
			x.status, x.header = raw.StatusCode, raw.Header
			x.body, err = readBody(raw.Body, raw.ContentLength, c.maxBody)
			if errors.Is(err, errTooLarge) {
				x.tooLarge, err = true, nil
			}
		}
		_ = raw.Body.Close()
	}
	x.err = err
	x.wrote = wrote.Load()
	x.elapsed = time.Since(start)
	return x
}

// judge turns what one exchange gave into the attempt's result.
func (c *Client) judge(ctx context.Context, req Request, x exchange, n int, token string) attemptResult {
	switch {
	case x.err != nil:
		return c.sendFailed(ctx, req, x, token)
	case x.tooLarge:
		return c.tooLarge(req, x, token)
	case x.status >= 200 && x.status < 300:
		return c.succeeded(req, x, n, token)
	}
	return c.refused(req, x, token)
}

// sendFailed: no complete answer came (network failure, timeout, cancellation).
func (c *Client) sendFailed(ctx context.Context, req Request, x exchange, token string) attemptResult {
	red := c.redactorFor(token)
	// StatusCode is set when the answer broke off after its status line.
	if cerr := ctx.Err(); cerr != nil {
		// The caller's own context ended the attempt, not the provider.
		e := c.errorf(red, req.Op, cerr, x.err, "")
		e.StatusCode = x.status
		return attemptResult{err: e, token: token, unprocessed: !x.wrote}
	}
	// Failures of the provider or the network, the per-attempt timeout included. Not
	// written: the provider cannot have seen the request, any request may go again.
	e := c.errorf(red, req.Op, paykit.ErrUnavailable, x.err, "")
	e.StatusCode = x.status
	return attemptResult{err: e, retryable: !x.wrote || req.Repeatable, token: token, unprocessed: !x.wrote}
}

// tooLarge: the answer passed the limit. The provider processed the request, so only a
// repeatable request may be sent again.
func (c *Client) tooLarge(req Request, x exchange, token string) attemptResult {
	e := &paykit.Error{
		Provider:   c.provider,
		Op:         req.Op,
		StatusCode: x.status,
		Kind:       paykit.ErrUnavailable,
		Message:    fmt.Sprintf("the provider's answer exceeded %d bytes", c.maxBody),
		RetryAfter: ParseRetryAfter(x.header.Get("Retry-After"), time.Now()),
	}
	return attemptResult{err: e, retryable: req.Repeatable, token: token}
}

// succeeded: a 2xx, decoded into req.Result when there is one.
func (c *Client) succeeded(req Request, x exchange, n int, token string) attemptResult {
	out := &Response{StatusCode: x.status, Header: x.header, Body: x.body}
	if req.Result == nil || len(out.Body) == 0 {
		return attemptResult{resp: out}
	}
	if n > 1 {
		// An earlier attempt's broken answer may have filled part of Result.
		reflect.ValueOf(req.Result).Elem().SetZero()
	}
	if err := json.Unmarshal(out.Body, req.Result); err != nil {
		red := c.redactorFor(token)
		e := c.errorf(red, req.Op, paykit.ErrUnavailable, err, "the provider's answer is not the expected JSON")
		e.StatusCode = x.status
		if !req.SecretAnswer {
			e.Body = red.Body(out.Body)
		}
		// The request was processed: only a repeatable one may be asked again.
		return attemptResult{err: e, retryable: req.Repeatable, token: token}
	}
	return attemptResult{resp: out}
}

// refused: any status but 2xx, decoded into a *paykit.Error.
func (c *Client) refused(req Request, x exchange, token string) attemptResult {
	red := c.redactorFor(token)
	e := &paykit.Error{
		Provider:   c.provider,
		Op:         req.Op,
		StatusCode: x.status,
		Kind:       paykit.KindForStatus(x.status),
		RetryAfter: ParseRetryAfter(x.header.Get("Retry-After"), time.Now()),
		Body:       red.Body(x.body),
	}
	if e.Kind == nil {
		// A 1xx, or a 3xx the HTTP client did not follow: no success, and no kind of its own.
		e.Kind = paykit.ErrUnavailable
	}
	c.decode(x.body, e)
	// A provider may echo what it was sent, in any field. Redacted whole, then cut: a long
	// detail must not make every log line that prints the error as long.
	e.Code, e.Type = cut(red.String(e.Code), maxErrorField), cut(red.String(e.Type), maxErrorField)
	e.Message = cut(red.String(e.Message), maxErrorMessage)
	return attemptResult{
		err:          e,
		retryable:    x.status == http.StatusTooManyRequests || ((x.status >= 500 || x.status == http.StatusRequestTimeout) && req.Repeatable),
		unauthorized: x.status == http.StatusUnauthorized,
		token:        token,
		// A 4xx is the provider saying it did not process the request, except a 408 (it
		// gave up reading it) and a 409 (something exists already).
		unprocessed: x.status >= 400 && x.status < 500 && x.status != http.StatusRequestTimeout && x.status != http.StatusConflict,
	}
}

// logAttempt logs one attempt at debug level, with red's secrets redacted.
func (c *Client) logAttempt(ctx context.Context, req Request, red *Redactor, attempt, status int, d time.Duration, err *paykit.Error) {
	if c.log == nil || !c.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := make([]slog.Attr, 0, 9)
	attrs = append(attrs, slog.String("op", req.Op))
	if req.PaymentID != "" {
		attrs = append(attrs, slog.String("payment_id", red.String(req.PaymentID)))
	}
	attrs = append(attrs,
		slog.String("method", req.Method),
		slog.String("path", red.String(req.Path)),
		slog.Int("status", status),
		slog.Int("attempt", attempt),
		slog.Duration("duration", d),
	)
	if err != nil {
		attrs = append(attrs, slog.String("error", red.String(err.Error())))
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "paykit http attempt", attrs...)
}

// The longest Code, Type and Message kept from a provider's error body (Body keeps 4 KiB).
const (
	maxErrorField   = 256
	maxErrorMessage = 1024
)

// cut returns s cut to at most n bytes on a rune boundary, marked with "…" when cut.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

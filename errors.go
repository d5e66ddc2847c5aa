package paykit

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// The sentinel errors. Every error paykit returns for a failed call is an *Error whose Kind is
// one of these (or the context's error when the caller's context ended the call), so callers
// test with errors.Is(err, paykit.ErrNotFound).
var (
	// ErrInvalidRequest: the request itself is wrong, a bug to fix in the calling code: the
	// provider answered 400, or paykit refused the request before sending anything (a
	// malformed id, a missing field, a currency the provider does not take). A valid request
	// that the payment's state does not allow now is ErrUnprocessable instead.
	ErrInvalidRequest = errors.New("invalid request")
	// ErrUnauthorized: 401 or 403, bad credentials.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrNotFound: 404.
	ErrNotFound = errors.New("not found")
	// ErrConflict: 409 that paykit could not resolve.
	ErrConflict = errors.New("conflict")
	// ErrUnprocessable: a valid request that the payment's state does not allow now (a
	// capture after a cancel, a refund of more than was captured): 422, Ecster's 4424, or
	// paykit's own check of the payment's state before sending anything. Not a bug in the
	// request: alerting that treats ErrInvalidRequest as "our bug" need not fire on it.
	ErrUnprocessable = errors.New("unprocessable")
	// ErrRateLimited: 429 after every allowed retry.
	ErrRateLimited = errors.New("rate limited")
	// ErrUnavailable: 5xx or 408 after every allowed retry, or a network failure.
	ErrUnavailable = errors.New("provider unavailable")
	// ErrStoreUnavailable: a store paykit keeps its state in failed (a DedupStore, an
	// OwnershipStore, a Limiter or an entrecard.Store, e.g. those of package redisstore when
	// Redis cannot be reached); the provider was not asked. An error of this kind also
	// matches ErrUnavailable, so that retry logic keyed on ErrUnavailable retries it too
	// (nothing was done, and the store may be back soon); test ErrStoreUnavailable first to
	// tell the two apart, e.g. to page whoever runs the store rather than blame the provider.
	ErrStoreUnavailable error = &subKind{msg: "store unavailable", of: ErrUnavailable}
	// ErrInvalidSignature: a notification whose signature is missing or wrong.
	ErrInvalidSignature = errors.New("invalid signature")
	// ErrUnsupported: the provider cannot do this operation (see Capabilities).
	ErrUnsupported = errors.New("unsupported by provider")
	// ErrAmountMismatch: a response or notification whose amount or currency differs from
	// what was asked. Never treat it as a success.
	ErrAmountMismatch = errors.New("amount mismatch")
)

// subKind is a sentinel that is a special case of another one: errors.Is(sub, of) holds.
type subKind struct {
	msg string
	of  error
}

func (k *subKind) Error() string { return k.msg }
func (k *subKind) Unwrap() error { return k.of }

// Error is the error paykit returns. Is matches Kind; Unwrap gives Err, the cause underneath
// (a network error, a context error, a JSON error), so errors.Is(err,
// context.DeadlineExceeded) holds when the deadline ended the call. Error text never holds a
// secret, a token or a signature.
type Error struct {
	Provider string // "ecredits", …; empty for checks made before a provider was chosen
	Op       string // what paykit was doing: "create payment", "get request", …
	// PaymentID is the merchant's payment id the call was about, when there is one. Every
	// error from CreatePayment carries it, also when paykit generated the id: after an
	// ambiguous failure (a timeout, a dropped connection) repeat the create with this id, so
	// that the provider finds the first attempt instead of taking a second payment.
	PaymentID  string
	StatusCode int           // the HTTP status, 0 when no response came
	Code       string        // the provider's error code, if any (Ecster's integers as decimal strings)
	Type       string        // the provider's error type, if any
	Message    string        // the provider's or paykit's explanation
	RetryAfter time.Duration // how long the provider asked to wait, if it did
	// Kind is one of the sentinel errors, or the context's error (context.Canceled,
	// context.DeadlineExceeded) when the caller's own context ended the call.
	Kind error
	Err  error // the underlying cause, if any
	// Unprocessed says the provider certainly did not process the call: paykit refused it
	// before sending anything, or no attempt of it was written to a connection, or the
	// provider refused every attempt without processing it (a 4xx other than 408 and 409;
	// 429 included). It is false whenever any attempt may have been processed. Router fails
	// over to another provider only on such an error.
	Unprocessed bool
	// Body is the provider's raw error body, cut to 4 KiB, for diagnosis. It is not part of
	// Error(), because a provider may echo what it was sent.
	Body []byte
}

// Error formats e as `paykit: ecredits: create payment "<id>": 409 conflict: <message>`.
// The id is quoted (Go syntax), so that an id holding a newline or a quote cannot split or
// forge a log line.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("paykit: ")
	if e.Provider != "" {
		b.WriteString(e.Provider)
		b.WriteString(": ")
	}
	if e.Op != "" {
		b.WriteString(e.Op)
		if e.PaymentID != "" {
			b.WriteString(" ")
			b.WriteString(strconv.Quote(e.PaymentID))
		}
		b.WriteString(": ")
	} else if e.PaymentID != "" {
		b.WriteString("payment ")
		b.WriteString(strconv.Quote(e.PaymentID))
		b.WriteString(": ")
	}
	if e.StatusCode != 0 {
		b.WriteString(strconv.Itoa(e.StatusCode))
		b.WriteString(" ")
	}
	if e.Kind != nil {
		b.WriteString(e.Kind.Error())
	} else {
		b.WriteString("error")
	}
	if e.Code != "" {
		b.WriteString(" (code ")
		b.WriteString(e.Code)
		b.WriteString(")")
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Err != nil {
		b.WriteString(": ")
		// A cause that is itself a paykit error (a store's, a token fetch's) loses its own
		// prefix: one error, one "paykit:".
		b.WriteString(strings.TrimPrefix(e.Err.Error(), "paykit: "))
	}
	if e.RetryAfter > 0 {
		b.WriteString(" (retry after ")
		b.WriteString(e.RetryAfter.String())
		b.WriteString(")")
	}
	return b.String()
}

// Is reports whether target is e's Kind, or a sentinel that Kind is a special case of
// (ErrStoreUnavailable is one of ErrUnavailable), so errors.Is(err, paykit.ErrNotFound) works.
func (e *Error) Is(target error) bool {
	if e.Kind == nil || target == nil {
		return false
	}
	if e.Kind == target {
		return true
	}
	k, ok := e.Kind.(*subKind)
	return ok && errors.Is(k, target)
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// KindForStatus maps an HTTP status to the sentinel paykit uses for it, or nil for 2xx/3xx.
func KindForStatus(status int) error {
	switch {
	case status == 400:
		return ErrInvalidRequest
	case status == 401 || status == 403:
		return ErrUnauthorized
	case status == 404:
		return ErrNotFound
	case status == 409:
		return ErrConflict
	case status == 422:
		return ErrUnprocessable
	case status == 429:
		return ErrRateLimited
	case status >= 500, status == 408:
		// 408: the provider timed out waiting for the request; like a 5xx, it says nothing
		// about the request itself.
		return ErrUnavailable
	case status >= 400:
		return ErrInvalidRequest
	}
	return nil
}

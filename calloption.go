package paykit

import (
	"strconv"
	"unicode/utf8"
)

// CallOption changes one Capture, Refund or Cancel call. Calls without options behave as
// they always have.
type CallOption func(*CallOptions)

// CallOptions is what CallOptions set, as a Provider implementation reads them (see
// NewCallOptions).
type CallOptions struct {
	// IdempotencyKey, when not empty, names the operation the merchant means: see
	// IdempotencyKey.
	IdempotencyKey string
}

// MaxIdempotencyKey is the longest operation key, in bytes.
const MaxIdempotencyKey = 255

// IdempotencyKey makes a Capture, Refund or Cancel an operation that acts at most once.
//
// The same (payment id, operation, key) acts at most once at the provider, whichever process
// or replica repeats it and however often: a repeat returns the payment as it is now, with
// nothing sent again. Use it to repeat an operation whose outcome is unknown (a timeout, a
// crash, an error that says it may have happened): store the key with the operation before
// calling, and repeat with the same key. The same key with another amount is ErrConflict
// with nothing sent. The key is recorded at the provider where the provider can hold it
// (Ecster: a digest of it in the transactionReference), so it needs no local store and
// survives restarts.
//
// Without a key every call is its own operation: two calls are two captures. A key must be
// 1 to MaxIdempotencyKey bytes of UTF-8 text without control characters; a bad key is
// ErrInvalidRequest with nothing sent.
func IdempotencyKey(key string) CallOption {
	return func(o *CallOptions) { o.IdempotencyKey = key }
}

// NewCallOptions applies opts, in order, for a Provider implementation. Nil options are
// skipped.
func NewCallOptions(opts ...CallOption) CallOptions {
	var o CallOptions
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	return o
}

// Validate checks the options before anything is sent: a key set to an empty string is
// allowed (it means no key), anything else must be valid UTF-8 without control characters,
// at most MaxIdempotencyKey bytes. The error matches ErrInvalidRequest.
func (o CallOptions) Validate() error {
	k := o.IdempotencyKey
	if k == "" {
		return nil
	}
	if len(k) > MaxIdempotencyKey {
		return invalid("the idempotency key is %d bytes, more than %d", len(k), MaxIdempotencyKey)
	}
	if !utf8.ValidString(k) {
		return invalid("the idempotency key is not valid UTF-8")
	}
	for _, r := range k {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return invalid("the idempotency key holds the control character %s", strconv.QuoteRune(r))
		}
	}
	return nil
}

// CheckAmount checks the amount given to Capture or Refund before anything is sent: the zero
// Money means "all that remains"; an amount of 0 with a currency (a computed rest that came
// to nothing) is ErrInvalidRequest, so that "all" is never reached by accident, and so is a
// negative amount or an amount without a currency.
func CheckAmount(m Money) error {
	switch {
	case m == Money{}:
		return nil
	case m.Amount < 0:
		return invalid("the amount %d must not be negative", m.Amount)
	case m.Amount == 0:
		return invalid("an amount of 0 %s moves nothing; the zero Money (paykit.Money{}) means all that remains", m.Currency)
	case m.Currency == "":
		return invalid("the amount %d has no currency", m.Amount)
	}
	return nil
}

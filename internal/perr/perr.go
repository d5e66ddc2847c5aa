// Package perr builds the *paykit.Error values of a provider package, so that every provider
// names its errors the same way: the provider, the operation, the merchant's payment id.
//
//	var perr = perr.For(ProviderName)
//	return nil, perr.Errorf("capture", paykit.ErrInvalidRequest, "amount %s exceeds %s", a, b)
package perr

import (
	"context"
	"errors"
	"fmt"

	"github.com/paykit/paykit"
)

// For is the error maker of one provider, named by the provider's name.
type For string

// Errorf returns an error of kind for op with a formatted message. An ErrInvalidRequest or
// ErrUnsupported made here is a refusal before anything was sent, so it is marked
// Unprocessed; use Wrap with the cause for an error about something the provider answered.
func (p For) Errorf(op string, kind error, format string, args ...any) *paykit.Error {
	return &paykit.Error{Provider: string(p), Op: op, Kind: kind, Message: fmt.Sprintf(format, args...),
		Unprocessed: kind == paykit.ErrInvalidRequest || kind == paykit.ErrUnsupported}
}

// Wrap returns an error of kind for op caused by err, with msg ("" for none). An
// ErrUnavailable caused by a store's failure (err matches paykit.ErrStoreUnavailable) keeps
// that narrower kind, so that the error says it is the store, not the provider.
func (p For) Wrap(op string, kind error, err error, msg string) *paykit.Error {
	if kind == paykit.ErrUnavailable && errors.Is(err, paykit.ErrStoreUnavailable) {
		kind = paykit.ErrStoreUnavailable
	}
	return &paykit.Error{Provider: string(p), Op: op, Kind: kind, Message: msg, Err: err}
}

// Unsupported returns the ErrUnsupported error of an operation the provider cannot do; why
// says what to do instead.
func (p For) Unsupported(op, why string) *paykit.Error {
	return &paykit.Error{Provider: string(p), Op: op, Kind: paykit.ErrUnsupported, Message: why, Unprocessed: true}
}

// Unprocessable returns the ErrUnprocessable error of a valid request that the payment's
// state does not allow now (a capture after a cancel: nothing remains), found by paykit
// before sending anything, so it is marked Unprocessed. Use it instead of ErrInvalidRequest,
// which says the request itself is wrong (a merchant's bug).
func (p For) Unprocessable(op, format string, args ...any) *paykit.Error {
	return &paykit.Error{Provider: string(p), Op: op, Kind: paykit.ErrUnprocessable, Message: fmt.Sprintf(format, args...), Unprocessed: true}
}

// Store returns the error of op when the provider's store (store names it: "result store")
// failed: paykit.ErrStoreUnavailable, which also matches paykit.ErrUnavailable, or the
// context's error when that ended the call. A store's own *paykit.Error (redisstore's) is
// flattened into it, so the text says "paykit:" once:
// `paykit: entrecard: get payment: store unavailable: result store: redis: connection refused`.
func (p For) Store(op, store string, err error) *paykit.Error {
	e := &paykit.Error{Provider: string(p), Op: op, Kind: paykit.ErrStoreUnavailable, Message: store, Err: err}
	if pe, ok := err.(*paykit.Error); ok && pe.Err != nil && errors.Is(pe, paykit.ErrUnavailable) {
		// The store's own report of its outage (redisstore's): its words without its frame.
		if pe.Message != "" {
			e.Message += ": " + pe.Message
		}
		e.Err = pe.Err
	}
	for _, cerr := range []error{context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, cerr) {
			e.Kind = cerr // the caller's own context ended the call: not an outage
		}
	}
	return e
}

// WithOp names the provider and op on err when it is a *paykit.Error made without them (the
// root package's request checks); other errors pass through.
func (p For) WithOp(err error, op string) error {
	var pe *paykit.Error
	if errors.As(err, &pe) {
		cp := *pe
		cp.Provider, cp.Op = string(p), op
		return &cp
	}
	return err
}

// WithPaymentID returns err with the merchant's payment id set, so that an id paykit
// generated is never lost after a failure. A *paykit.Error is copied (an error value may be
// shared by several callers, e.g. a failed token fetch); anything else is wrapped in one of
// kind paykit.ErrUnavailable (or the context's error when that ended the call), keeping it
// visible to errors.Is and errors.As.
func (p For) WithPaymentID(err error, op, id string) error {
	if err == nil {
		return nil
	}
	var pe *paykit.Error
	if errors.As(err, &pe) {
		cp := *pe
		cp.PaymentID = id
		if cp.Provider == "" {
			cp.Provider = string(p)
		}
		return &cp
	}
	kind := paykit.ErrUnavailable
	for _, cerr := range []error{context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, cerr) {
			// The caller's own context ended the call: not the provider's outage.
			kind = cerr
		}
	}
	return &paykit.Error{Provider: string(p), Op: op, PaymentID: id, Kind: kind, Err: err}
}

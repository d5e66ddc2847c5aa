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

// Wrap returns an error of kind for op caused by err, with msg ("" for none).
func (p For) Wrap(op string, kind error, err error, msg string) *paykit.Error {
	return &paykit.Error{Provider: string(p), Op: op, Kind: kind, Message: msg, Err: err}
}

// Unsupported returns the ErrUnsupported error of an operation the provider cannot do; why
// says what to do instead.
func (p For) Unsupported(op, why string) *paykit.Error {
	return &paykit.Error{Provider: string(p), Op: op, Kind: paykit.ErrUnsupported, Message: why, Unprocessed: true}
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

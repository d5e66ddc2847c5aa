package perr

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
)

const p = For("acme")

func TestErrorf(t *testing.T) {
	t.Parallel()
	err := p.Errorf("capture", paykit.ErrInvalidRequest, "amount %d", 5)
	assert.Equal(t, "paykit: acme: capture: invalid request: amount 5", err.Error())
	assert.ErrorIs(t, err, paykit.ErrInvalidRequest)
}

func TestWrap(t *testing.T) {
	t.Parallel()
	cause := errors.New("boom")
	err := p.Wrap("get", paykit.ErrUnavailable, cause, "reading")
	assert.ErrorIs(t, err, cause)
	assert.ErrorIs(t, err, paykit.ErrUnavailable)
	assert.Equal(t, "paykit: acme: get: provider unavailable: reading: boom", err.Error())
}

func TestUnsupported(t *testing.T) {
	t.Parallel()
	err := p.Unsupported("refund", "refund in the portal")
	assert.ErrorIs(t, err, paykit.ErrUnsupported)
	assert.Equal(t, "paykit: acme: refund: unsupported by provider: refund in the portal", err.Error())
}

func TestWithOp(t *testing.T) {
	t.Parallel()
	orig := &paykit.Error{Op: "validate request", Kind: paykit.ErrInvalidRequest, Message: "bad"}
	err := p.WithOp(orig, "create payment")
	var pe *paykit.Error
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "acme", pe.Provider)
	assert.Equal(t, "create payment", pe.Op)
	assert.Equal(t, "validate request", orig.Op, "the original is not changed")
	other := errors.New("x")
	assert.Same(t, other, p.WithOp(other, "op"))
}

func TestWithPaymentID(t *testing.T) {
	t.Parallel()
	shared := &paykit.Error{Provider: "acme", Op: "authenticate", Kind: paykit.ErrUnauthorized}
	err := p.WithPaymentID(shared, "create payment", "id-1")
	var pe *paykit.Error
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "id-1", pe.PaymentID)
	assert.Empty(t, shared.PaymentID, "a shared error value is copied, not changed")
	assert.ErrorIs(t, err, paykit.ErrUnauthorized)

	// A foreign error is wrapped, still visible.
	err = p.WithPaymentID(fmt.Errorf("wrapped: %w", context.Canceled), "create payment", "id-2")
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "id-2", pe.PaymentID)
	assert.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, paykit.ErrUnavailable, "the caller's cancellation is no outage")
	err = p.WithPaymentID(errors.New("io"), "create payment", "id-3")
	assert.ErrorIs(t, err, paykit.ErrUnavailable)

	assert.NoError(t, p.WithPaymentID(nil, "op", "id"))
}

// A valid request in the wrong state is ErrUnprocessable, refused before sending.
func TestUnprocessable(t *testing.T) {
	t.Parallel()
	err := p.Unprocessable("capture", "nothing remains to capture (status %s)", "ANNULLED")
	assert.ErrorIs(t, err, paykit.ErrUnprocessable)
	assert.NotErrorIs(t, err, paykit.ErrInvalidRequest)
	assert.True(t, err.Unprocessed)
	assert.Equal(t, "paykit: acme: capture: unprocessable: nothing remains to capture (status ANNULLED)", err.Error())
}

// A store's failure says it is the store, once, and still matches ErrUnavailable.
func TestStore(t *testing.T) {
	t.Parallel()
	cause := errors.New("dial tcp: connection refused")
	redisErr := &paykit.Error{Op: "entrecard store: lookup", PaymentID: "o-1", Kind: paykit.ErrStoreUnavailable, Message: "redis", Err: cause}
	err := p.Store("get payment", "result store", redisErr)
	assert.ErrorIs(t, err, paykit.ErrStoreUnavailable)
	assert.ErrorIs(t, err, paykit.ErrUnavailable)
	assert.ErrorIs(t, err, cause)
	assert.Equal(t, "paykit: acme: get payment: store unavailable: result store: redis: dial tcp: connection refused", err.Error())

	plain := p.Store("get payment", "result store", cause)
	assert.Equal(t, "paykit: acme: get payment: store unavailable: result store: dial tcp: connection refused", plain.Error())

	ended := p.Store("get payment", "result store", fmt.Errorf("redis: %w", context.DeadlineExceeded))
	assert.ErrorIs(t, ended, context.DeadlineExceeded)
	assert.NotErrorIs(t, ended, paykit.ErrUnavailable)

	// Wrap keeps the store's narrower kind under an ErrUnavailable, and says paykit once.
	wrapped := p.Wrap("get payment", paykit.ErrUnavailable, redisErr, "the store failed")
	assert.ErrorIs(t, wrapped, paykit.ErrStoreUnavailable)
	assert.Equal(t, 1, strings.Count(wrapped.Error(), "paykit:"), wrapped.Error())
}

package paykit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var allKinds = []error{
	ErrInvalidRequest, ErrUnauthorized, ErrNotFound, ErrConflict, ErrUnprocessable,
	ErrRateLimited, ErrUnavailable, ErrInvalidSignature, ErrUnsupported, ErrAmountMismatch,
}

func TestErrorText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  *Error
		want string
	}{
		{
			name: "everything",
			err: &Error{
				Provider: "ecredits", Op: "create payment", StatusCode: 409, Code: "duplicate",
				Type: "https://example.test/problems/duplicate", Message: "request exists",
				RetryAfter: 2 * time.Second, Kind: ErrConflict, Err: errors.New("cause"),
				Body: []byte(`{"secret":"do not print"}`),
			},
			want: "paykit: ecredits: create payment: 409 conflict (code duplicate): request exists: cause (retry after 2s)",
		},
		{
			name: "validation",
			err:  &Error{Op: "validate request", Kind: ErrInvalidRequest, Message: "amount must be positive"},
			want: "paykit: validate request: invalid request: amount must be positive",
		},
		{
			name: "Ecster integer code",
			err:  &Error{Provider: "ecster", Op: "capture", StatusCode: 422, Code: "4424", Kind: ErrUnprocessable},
			want: "paykit: ecster: capture: 422 unprocessable (code 4424)",
		},
		{
			name: "network failure",
			err:  &Error{Provider: "echelon", Op: "get payin", Kind: ErrUnavailable, Err: context.DeadlineExceeded},
			want: "paykit: echelon: get payin: provider unavailable: context deadline exceeded",
		},
		{
			name: "rate limited",
			err:  &Error{Provider: "echelon", Op: "create payin", StatusCode: 429, Kind: ErrRateLimited, RetryAfter: 1500 * time.Millisecond},
			want: "paykit: echelon: create payin: 429 rate limited (retry after 1.5s)",
		},
		{
			name: "no kind",
			err:  &Error{Message: "odd"},
			want: "paykit: error: odd",
		},
		{
			name: "empty",
			err:  &Error{},
			want: "paykit: error",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q\nwant      %q", got, tt.want)
			}
			if strings.Contains(tt.err.Error(), "do not print") {
				t.Errorf("Error() = %q shows the raw body", tt.err.Error())
			}
		})
	}
}

func TestErrorIsMatchesKind(t *testing.T) {
	t.Parallel()
	for _, kind := range allKinds {
		t.Run(kind.Error(), func(t *testing.T) {
			t.Parallel()
			err := fmt.Errorf("calling the provider: %w", &Error{Provider: "ecster", Kind: kind})
			for _, other := range allKinds {
				if got := errors.Is(err, other); got != (other == kind) {
					t.Errorf("errors.Is(Kind %v, %v) = %v", kind, other, got)
				}
			}
		})
	}
	t.Run("no kind", func(t *testing.T) {
		t.Parallel()
		err := &Error{Message: "x"}
		for _, k := range allKinds {
			if errors.Is(err, k) {
				t.Errorf("an Error without Kind matches %v", k)
			}
		}
		if errors.Is(err, nil) {
			t.Error("an Error without Kind matches nil")
		}
	})
}

func TestErrorUnwrap(t *testing.T) {
	t.Parallel()
	dnsErr := &net.DNSError{Err: "no such host", Name: "api.example.test", IsNotFound: true}
	syntaxErr := new(json.SyntaxError)
	tests := []struct {
		name  string
		cause error
		is    []error
		isNot []error
	}{
		{"deadline", context.DeadlineExceeded, []error{context.DeadlineExceeded, ErrUnavailable}, []error{context.Canceled}},
		{"canceled", context.Canceled, []error{context.Canceled, ErrUnavailable}, []error{context.DeadlineExceeded}},
		{"wrapped deadline", fmt.Errorf("dial: %w", context.DeadlineExceeded), []error{context.DeadlineExceeded}, nil},
		{"network", dnsErr, []error{ErrUnavailable}, []error{context.DeadlineExceeded}},
		{"json", syntaxErr, []error{ErrUnavailable}, nil},
		{"none", nil, []error{ErrUnavailable}, []error{context.DeadlineExceeded, context.Canceled}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := &Error{Provider: "echelon", Op: "get payin", Kind: ErrUnavailable, Err: tt.cause}
			if got := e.Unwrap(); got != tt.cause {
				t.Errorf("Unwrap() = %v, want %v", got, tt.cause)
			}
			err := fmt.Errorf("outer: %w", e)
			for _, target := range tt.is {
				if !errors.Is(err, target) {
					t.Errorf("errors.Is(err, %v) = false, want true", target)
				}
			}
			for _, target := range tt.isNot {
				if errors.Is(err, target) {
					t.Errorf("errors.Is(err, %v) = true, want false", target)
				}
			}
		})
	}

	t.Run("As", func(t *testing.T) {
		t.Parallel()
		err := fmt.Errorf("outer: %w", &Error{Provider: "ecster", StatusCode: 404, Kind: ErrNotFound, Err: dnsErr})
		var pe *Error
		if !errors.As(err, &pe) || pe.Provider != "ecster" || pe.StatusCode != 404 {
			t.Fatalf("errors.As(*Error) = %v, %#v", err, pe)
		}
		var de *net.DNSError
		if !errors.As(err, &de) || de != dnsErr {
			t.Fatalf("errors.As(*net.DNSError) did not find the cause through Unwrap")
		}
		var se *json.SyntaxError
		if errors.As(err, &se) {
			t.Fatalf("errors.As(*json.SyntaxError) found a cause that is not there")
		}
	})
}

func TestKindForStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status int
		want   error
	}{
		{0, nil},
		{100, nil},
		{200, nil},
		{201, nil},
		{204, nil},
		{302, nil},
		{399, nil},
		{400, ErrInvalidRequest},
		{401, ErrUnauthorized},
		{402, ErrInvalidRequest},
		{403, ErrUnauthorized},
		{404, ErrNotFound},
		{405, ErrInvalidRequest},
		{408, ErrUnavailable},
		{409, ErrConflict},
		{410, ErrInvalidRequest},
		{422, ErrUnprocessable},
		{429, ErrRateLimited},
		{499, ErrInvalidRequest},
		{500, ErrUnavailable},
		{502, ErrUnavailable},
		{503, ErrUnavailable},
		{504, ErrUnavailable},
		{599, ErrUnavailable},
	}
	for _, tt := range tests {
		if got := KindForStatus(tt.status); got != tt.want {
			t.Errorf("KindForStatus(%d) = %v, want %v", tt.status, got, tt.want)
		}
	}
}

func TestErrorQuotesPaymentID(t *testing.T) {
	t.Parallel()
	for _, e := range []*Error{
		{Provider: "ecster", Op: "capture", PaymentID: "a\nlevel=ERROR msg=forged", Kind: ErrNotFound},
		{PaymentID: "a\nlevel=ERROR msg=forged", Kind: ErrNotFound},
	} {
		text := e.Error()
		require.NotContains(t, text, "\n", "an id with a newline splits the log line")
		require.Contains(t, text, `"a\nlevel=ERROR msg=forged"`)
	}
	plain := &Error{Provider: "ecster", Op: "capture", PaymentID: "order-1", Kind: ErrNotFound}
	require.Equal(t, `paykit: ecster: capture "order-1": not found`, plain.Error())
}

// A store's failure has a kind of its own that still matches ErrUnavailable, and no other
// sentinel; ErrUnavailable alone does not match ErrStoreUnavailable.
func TestErrStoreUnavailable(t *testing.T) {
	t.Parallel()
	err := fmt.Errorf("wrapped: %w", &Error{Provider: "router", Op: "get payment", PaymentID: "p", Kind: ErrStoreUnavailable, Message: "ownership store"})
	require.ErrorIs(t, err, ErrStoreUnavailable)
	require.ErrorIs(t, err, ErrUnavailable)
	for _, k := range allKinds {
		if k != ErrUnavailable {
			require.NotErrorIs(t, err, k)
		}
	}
	require.NotErrorIs(t, &Error{Kind: ErrUnavailable}, ErrStoreUnavailable, "a provider's outage is not a store's")
	require.ErrorIs(t, ErrStoreUnavailable, ErrUnavailable)
	require.Equal(t, `paykit: router: get payment "p": store unavailable: ownership store`, errors.Unwrap(err).Error())
}

// A cause that is itself a paykit error does not repeat the "paykit:" prefix.
func TestErrorTextOnePrefix(t *testing.T) {
	t.Parallel()
	inner := &Error{Provider: "ecredits", Op: "authenticate", StatusCode: 401, Kind: ErrUnauthorized}
	err := &Error{Provider: "ecredits", Op: "create payment", PaymentID: "p", Kind: ErrUnauthorized, Err: inner}
	require.Equal(t, `paykit: ecredits: create payment "p": unauthorized: ecredits: authenticate: 401 unauthorized`, err.Error())
	wrapped := &Error{Op: "x", Kind: ErrUnavailable, Err: fmt.Errorf("paykit: %w", errors.New("y"))}
	require.Equal(t, "paykit: x: provider unavailable: y", wrapped.Error())
}

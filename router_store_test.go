package paykit

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// failingOwners is an OwnershipStore whose every call fails with err.
type failingOwners struct{ err error }

func (s failingOwners) Claim(context.Context, string, string) (Ownership, error) {
	return Ownership{}, s.err
}
func (s failingOwners) Move(context.Context, string, string, string, int64) error { return s.err }
func (s failingOwners) Owner(context.Context, string) (string, bool, error)       { return "", false, s.err }

// A failing ownership store reads as the store's failure, once: ErrStoreUnavailable (which
// also matches ErrUnavailable), one "paykit:" prefix, and nothing sent to a provider.
func TestRouterStoreFailureSaysItIsTheStore(t *testing.T) {
	t.Parallel()
	cause := errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")
	tests := []struct {
		name     string
		storeErr error
		want     string
	}{
		{
			// What redisstore returns: a *Error of its own, flattened into the Router's.
			name:     "a store that reports its outage as a paykit error",
			storeErr: &Error{Op: "ownership store: read owner", PaymentID: "p1", Kind: ErrStoreUnavailable, Message: "redis", Err: cause},
			want:     `paykit: router: get payment "p1": store unavailable: ownership store: redis: dial tcp 127.0.0.1:6379: connect: connection refused`,
		},
		{
			name:     "a merchant's store with a plain error",
			storeErr: cause,
			want:     `paykit: router: get payment "p1": store unavailable: ownership store: dial tcp 127.0.0.1:6379: connect: connection refused`,
		},
		{
			name:     "an older store that says ErrUnavailable",
			storeErr: &Error{Op: "redisstore: owner", Kind: ErrUnavailable, Message: "Redis failed", Err: cause},
			want:     `paykit: router: get payment "p1": store unavailable: ownership store: Redis failed: dial tcp 127.0.0.1:6379: connect: connection refused`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := newRouteStub("a", Capabilities{Capture: true})
			r := newTestRouter(t, []Provider{a}, []Route{{Providers: []string{"a"}}}, WithOwnershipStore(failingOwners{tt.storeErr}))
			ctx := context.Background()
			_, err := r.GetPayment(ctx, "p1")
			assert.Equal(t, tt.want, err.Error())
			assert.Equal(t, 1, strings.Count(err.Error(), "paykit:"))
			assert.ErrorIs(t, err, ErrStoreUnavailable)
			assert.ErrorIs(t, err, ErrUnavailable, "retry logic keyed on ErrUnavailable retries it")
			assert.ErrorIs(t, err, cause)
			assert.Equal(t, http.StatusServiceUnavailable, RefusalStatus(err), "a webhook answers 503: deliver again")

			_, err = r.CreatePayment(ctx, PaymentRequest{ID: "p2", Amount: sek(100)})
			require.ErrorIs(t, err, ErrStoreUnavailable)
			assert.True(t, strings.HasPrefix(err.Error(), `paykit: router: create payment "p2": store unavailable: ownership store: `), err.Error())
			var pe *Error
			require.ErrorAs(t, err, &pe)
			assert.True(t, pe.Unprocessed)
			for _, call := range []func() error{
				func() error { _, err := r.Capture(ctx, "p1", Money{}); return err },
				func() error { _, err := r.Refund(ctx, "p1", Money{}); return err },
				func() error { _, err := r.Cancel(ctx, "p1"); return err },
			} {
				assert.ErrorIs(t, call(), ErrStoreUnavailable)
			}
			assert.Empty(t, a.callLog(), "nothing sent to the provider")
		})
	}
}

// A store call that the caller's own context ended is the context's error, not an outage.
func TestRouterStoreEndedByTheCaller(t *testing.T) {
	t.Parallel()
	a := newRouteStub("a", Capabilities{})
	r := newTestRouter(t, []Provider{a}, []Route{{Providers: []string{"a"}}}, WithOwnershipStore(failingOwners{context.Canceled}))
	_, err := r.GetPayment(context.Background(), "p1")
	require.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, ErrUnavailable)
}

var errDialRefused = errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")

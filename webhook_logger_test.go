package paykit

import (
	"context"
	"log/slog"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// useDefaultLogger sets the default logger to one capturing every record, for the rest of
// t. A test that calls it must not be parallel: the default is the process's.
func useDefaultLogger(t *testing.T) *captureHandler {
	logs := newCaptureHandler()
	SetDefaultLogger(slog.New(logs))
	t.Cleanup(func() { SetDefaultLogger(nil) })
	return logs
}

// One SetDefaultLogger reaches a Router and a webhook handler built before it, with no
// logger option given: the merchant gives paykit one logger once.
func TestSetDefaultLoggerReachesRouterAndWebhookHandler(t *testing.T) { // not parallel: it sets the process's default logger
	a, b := newRouteStub("a", Capabilities{}), newRouteStub("b", Capabilities{})
	r := newTestRouter(t, []Provider{a, b}, []Route{{Providers: []string{"a", "b"}}})
	p := newStub()
	var c fnCounter
	h := NewWebhookHandler(p, c.fn)
	a.createErr = []error{unprocessed429}

	// r and h were built before the default was set: they still log to it.
	logs := useDefaultLogger(t)
	_, err := r.CreatePayment(context.Background(), PaymentRequest{ID: "after-1", Amount: sek(1)})
	require.NoError(t, err)
	failover := logs.where("payment_id", "after-1")
	require.Len(t, failover, 1)
	assert.Equal(t, slog.LevelWarn, failover[0].Level)
	assert.Equal(t, RouterName, failover[0].Attrs["provider"])
	assert.Equal(t, "create payment", failover[0].Attrs["op"])

	wantDelivery(t, h, note("pay-9", "PAID", "k9"), goodSig, http.StatusOK, "ok\n")
	processed := logs.where("payment_id", "pay-9")
	require.Len(t, processed, 1)
	assert.Equal(t, slog.LevelDebug, processed[0].Level)
	assert.Equal(t, "stub", processed[0].Attrs["provider"])
	assert.Equal(t, "webhook", processed[0].Attrs["op"])

	// A logger of its own still wins.
	own := newCaptureHandler()
	r2 := newTestRouter(t, []Provider{a, b}, []Route{{Providers: []string{"a", "b"}}}, WithRouterLogger(slog.New(own)))
	a.createErr = []error{unprocessed429}
	_, err = r2.CreatePayment(context.Background(), PaymentRequest{ID: "own-1", Amount: sek(1)})
	require.NoError(t, err)
	assert.Len(t, own.where("payment_id", "own-1"), 1)
	assert.Empty(t, logs.where("payment_id", "own-1"))

	// Nil turns logging off again.
	SetDefaultLogger(nil)
	a.createErr = []error{unprocessed429}
	_, err = r.CreatePayment(context.Background(), PaymentRequest{ID: "after-nil", Amount: sek(1)})
	require.NoError(t, err)
	assert.Empty(t, logs.where("payment_id", "after-nil"))
}

// DefaultLogger keeps the attributes and groups given with With and WithGroup, and hands
// the records to whichever logger is the default at the time.
func TestDefaultLoggerWithAttrsAndGroups(t *testing.T) { // not parallel: it sets the process's default logger
	l := DefaultLogger().With("provider", "x").WithGroup("g").With("k", "v")
	first := useDefaultLogger(t)
	l.Info("one", "n", 1)
	second := useDefaultLogger(t)
	l.Info("two")
	require.Len(t, first.all(), 1)
	require.Len(t, second.all(), 1)
	assert.Equal(t, "x", second.all()[0].Attrs["provider"])
	assert.Equal(t, "one", first.all()[0].Msg)
	assert.True(t, l.Enabled(context.Background(), slog.LevelDebug))
	SetDefaultLogger(nil)
	assert.False(t, l.Enabled(context.Background(), slog.LevelError))
}

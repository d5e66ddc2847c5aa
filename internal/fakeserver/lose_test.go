package fakeserver

import (
	"errors"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A lost notification is never sent: recorded with Lost and no attempt, reported by
// WaitDelivered with ErrLost, skipped by Redeliver.
func TestLosePaymentNotifications(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, always(200))
	f := newFake(t, Config{})
	f.LosePaymentNotifications("p1")
	f.Notify(post("p1", rc.URL))
	f.Notify(post("p2", rc.URL))
	err := f.WaitDelivered(guardCtx(t), "p1")
	require.ErrorIs(t, err, ErrLost)
	require.NoError(t, f.WaitDelivered(guardCtx(t), "p2"))
	assert.Zero(t, rc.count("p1"), "never sent")
	_, err = f.Redeliver(guardCtx(t), "p1")
	assert.ErrorIs(t, err, ErrUnknownPayment, "nothing sent to replay")
	for _, d := range f.Deliveries() {
		assert.Equal(t, d.PaymentID == "p1", d.Lost, d.PaymentID)
		if d.Lost {
			assert.True(t, d.Done)
			assert.False(t, d.Delivered)
			assert.Empty(t, d.Attempts)
		}
	}
}

// LoseNotifications loses about its share, and 1 loses all.
func TestLoseNotificationsShare(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, always(200))
	f := newFake(t, Config{})
	f.LoseNotifications(0.3, 7)
	const n = 1000
	for i := range n {
		f.Notify(post("p"+strconv.Itoa(i), rc.URL))
	}
	lost := 0
	for _, d := range f.Deliveries() {
		if d.Lost {
			lost++
		}
	}
	assert.InDelta(t, 300, lost, 60)
	f.LoseNotifications(1, 7)
	f.Notify(post("all", rc.URL))
	assert.ErrorIs(t, f.WaitDelivered(guardCtx(t), "all"), ErrLost)
	f.LoseNotifications(0, 0)
	f.Notify(post("none", rc.URL))
	assert.NoError(t, f.WaitDelivered(guardCtx(t), "none"))
	for i := range n {
		require.NoError(t, ignoreLost(f.WaitDelivered(guardCtx(t), "p"+strconv.Itoa(i))))
	}
}

func ignoreLost(err error) error {
	if err != nil && errors.Is(err, ErrLost) {
		return nil
	}
	return err
}

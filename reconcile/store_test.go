package reconcile_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit/reconcile"
)

var t0 = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// StoreContract checks what every Store promises; redisstore runs it too (through its own
// copy, as this one is in a test file).
func TestMemoryStoreLeases(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := reconcile.NewMemoryStore(0)
	require.NoError(t, s.Add(ctx, "a", t0, t0.Add(time.Minute)))
	require.NoError(t, s.Add(ctx, "b", t0, t0.Add(2*time.Minute)))

	got, err := s.Claim(ctx, t0, t0.Add(time.Hour), 10)
	require.NoError(t, err)
	assert.Empty(t, got, "nothing due yet")

	got, err = s.Claim(ctx, t0.Add(5*time.Minute), t0.Add(10*time.Minute), 1)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, "a", got[0].ID, "the earliest first")
	a := got[0]

	got, err = s.Claim(ctx, t0.Add(5*time.Minute), t0.Add(10*time.Minute), 10)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, "b", got[0].ID, "a claimed entry is not claimed again")

	// b's holder dies: its lease ends at 10 min and b comes back.
	got, err = s.Claim(ctx, t0.Add(10*time.Minute), t0.Add(20*time.Minute), 10)
	require.NoError(t, err)
	ids := []string{}
	for _, e := range got {
		ids = append(ids, e.ID)
	}
	assert.ElementsMatch(t, []string{"a", "b"}, ids, "both leases ended")

	// a's first holder comes back late: its claim no longer holds.
	a.Due, a.Polls = t0.Add(time.Hour), 1
	ok, err := s.Reschedule(ctx, a)
	require.NoError(t, err)
	assert.False(t, ok)
	ok, err = s.Remove(ctx, "a", a.Claim)
	require.NoError(t, err)
	assert.False(t, ok)

	// The new holder reschedules.
	for _, e := range got {
		e.Due, e.Polls = t0.Add(time.Hour), e.Polls+1
		ok, err := s.Reschedule(ctx, e)
		require.NoError(t, err)
		assert.True(t, ok)
	}
	got, err = s.Claim(ctx, t0.Add(time.Hour), t0.Add(2*time.Hour), 10)
	require.NoError(t, err)
	require.Len(t, got, 2)
	for _, e := range got {
		assert.Equal(t, 1, e.Polls)
		assert.Equal(t, t0, e.Since)
	}
	n, err := s.Len(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	ok, err = s.Remove(ctx, "a", "")
	require.NoError(t, err)
	assert.True(t, ok, "an empty claim removes whoever holds it")
}

// Watching an id again makes it due sooner, never later, and keeps its entry.
func TestMemoryStoreAddAgain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := reconcile.NewMemoryStore(0)
	require.NoError(t, s.Add(ctx, "a", t0, t0.Add(time.Hour)))
	require.NoError(t, s.Add(ctx, "a", t0.Add(time.Minute), t0.Add(2*time.Minute)))
	require.NoError(t, s.Add(ctx, "a", t0.Add(2*time.Minute), t0.Add(3*time.Hour)))
	got, err := s.Claim(ctx, t0.Add(2*time.Minute), t0.Add(time.Hour), 10)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, t0, got[0].Since)
}

// The in-memory store is bounded in time: an entry goes retention after its first Watch.
func TestMemoryStoreRetention(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := reconcile.NewMemoryStore(24 * time.Hour)
	require.NoError(t, s.Add(ctx, "old", t0, t0.Add(time.Minute)))
	require.NoError(t, s.Add(ctx, "new", t0.Add(20*time.Hour), t0.Add(21*time.Hour)))
	require.NoError(t, s.Add(ctx, "x", t0.Add(25*time.Hour), t0.Add(30*time.Hour)))
	n, err := s.Len(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	got, err := s.Claim(ctx, t0.Add(25*time.Hour), t0.Add(26*time.Hour), 10)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, "new", got[0].ID)
}

// A Watch while the payment is being read ends the reader's claim: the reader, finding it
// final, cannot remove it, and the payment is read again (the Router watches before a
// refund, which may land while a read of the captured payment is in progress).
func TestMemoryStoreAddEndsAClaim(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := reconcile.NewMemoryStore(0)
	require.NoError(t, s.Add(ctx, "a", t0, t0))
	got, err := s.Claim(ctx, t0, t0.Add(time.Hour), 10)
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.NoError(t, s.Add(ctx, "a", t0.Add(time.Second), t0.Add(time.Minute)))
	ok, err := s.Remove(ctx, "a", got[0].Claim)
	require.NoError(t, err)
	assert.False(t, ok, "the claim ended with the Add")
	again, err := s.Claim(ctx, t0.Add(time.Minute), t0.Add(time.Hour), 10)
	require.NoError(t, err)
	assert.Len(t, again, 1, "read again")
}

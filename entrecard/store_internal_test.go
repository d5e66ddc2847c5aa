package entrecard

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// memoryStoreAt returns a memory store with retention r on clock.
func memoryStoreAt(t *testing.T, clock *fakeClock, opts ...MemoryStoreOption) *memoryStore {
	t.Helper()
	s, ok := NewMemoryStore(opts...).(*memoryStore)
	require.True(t, ok)
	s.now = clock.now
	return s
}

func order(id string) Order {
	return Order{ID: id, Description: "Mug", Quantity: 1, Cost: 10, BuyURL: "https://entrecard.example/buy?id=" + id}
}

func result(id, txn string, status ResultStatus) Result {
	return Result{SellerID: "1001", ID: id, Total: 10, TransactionID: txn, Status: status}
}

// Issue 13, item 13: the in-memory store forgets a payment its retention after the last
// order or new result recorded for it, with its results' transaction ids.
func TestMemoryStoreForgetsAfterRetention(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := &fakeClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := memoryStoreAt(t, clock, WithRetention(time.Hour))
	assert.Equal(t, time.Hour, s.retention)

	_, created, err := s.SaveOrder(ctx, order("old"))
	require.NoError(t, err)
	require.True(t, created)
	_, created, err = s.SaveResult(ctx, result("old", "1", ResultFailed))
	require.NoError(t, err)
	require.True(t, created)

	clock.advance(40 * time.Minute)
	_, _, err = s.SaveOrder(ctx, order("kept"))
	require.NoError(t, err)
	// A new result 40 minutes in starts "old"'s retention again.
	_, _, err = s.SaveResult(ctx, result("old", "2", ResultComplete))
	require.NoError(t, err)
	// A redelivery (a transaction known already) is no new write.
	_, created, err = s.SaveResult(ctx, result("kept", "9", ResultComplete))
	require.NoError(t, err)
	require.True(t, created)

	clock.advance(30 * time.Minute) // 70 minutes after the first writes, 30 after the last
	e, ok, err := s.Lookup(ctx, "old")
	require.NoError(t, err)
	require.True(t, ok, "written again 30 minutes ago: kept")
	assert.Len(t, e.Results, 2)

	clock.advance(30*time.Minute + time.Nanosecond) // an hour and a moment after the last writes
	for _, id := range []string{"old", "kept"} {
		_, ok, err := s.Lookup(ctx, id)
		require.NoError(t, err)
		assert.False(t, ok, "%s is forgotten", id)
	}
	assert.Empty(t, s.byID)
	assert.Empty(t, s.byTxn, "the results' transaction ids go with the payment")
	assert.Empty(t, s.written)

	// A result redelivered after that is recorded again, as for an unknown id.
	_, created, err = s.SaveResult(ctx, result("old", "2", ResultComplete))
	require.NoError(t, err)
	assert.True(t, created)
}

func TestMemoryStoreDefaultRetention(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := &fakeClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	for _, opts := range [][]MemoryStoreOption{nil, {WithRetention(0)}, {WithRetention(-time.Second)}, {nil}} {
		s := memoryStoreAt(t, clock, opts...)
		assert.Equal(t, 30*24*time.Hour, s.retention)
		_, _, err := s.SaveOrder(ctx, order("a"))
		require.NoError(t, err)
	}
	s := memoryStoreAt(t, clock)
	_, _, err := s.SaveOrder(ctx, order("a"))
	require.NoError(t, err)
	clock.advance(DefaultRetention - time.Second)
	_, ok, _ := s.Lookup(ctx, "a")
	assert.True(t, ok, "29 days, 23:59:59 later: kept")
	clock.advance(2 * time.Second)
	_, ok, _ = s.Lookup(ctx, "a")
	assert.False(t, ok, "30 days later: forgotten")
}

// A long-running process with a steady flow of payments keeps only a retention's worth of
// them: what the store holds stays bounded however many payments it has seen.
func TestMemoryStoreDoesNotGrow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := &fakeClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := memoryStoreAt(t, clock, WithRetention(time.Hour))
	const perMinute, minutes = 50, 24 * 60 // a day of payments, one hour retained
	maxByID, maxQueue, maxQueueCap := 0, 0, 0
	for m := range minutes {
		for i := range perMinute {
			id := "p" + strconv.Itoa(m*perMinute+i)
			_, _, err := s.SaveOrder(ctx, order(id))
			require.NoError(t, err)
			_, _, err = s.SaveResult(ctx, result(id, strconv.Itoa(m*perMinute+i), ResultComplete))
			require.NoError(t, err)
		}
		clock.advance(time.Minute)
		s.mu.Lock()
		maxByID = max(maxByID, len(s.byID))
		maxQueue = max(maxQueue, len(s.written))
		maxQueueCap = max(maxQueueCap, cap(s.written))
		assert.Equal(t, len(s.byID), len(s.byTxn), "one result per payment")
		s.mu.Unlock()
	}
	window := 61 * perMinute // the payments of the last hour, and the minute being written
	assert.LessOrEqual(t, maxByID, window, "payments kept")
	assert.LessOrEqual(t, maxQueue, 2*window, "expiry queue (two writes per payment)")
	assert.LessOrEqual(t, maxQueueCap, 8*window, "the queue's array is given back, not grown for ever")
	assert.Greater(t, minutes*perMinute, 20*maxByID, "the store saw far more payments than it holds")
}

// A client whose Config has no Store gets the bounded memory store.
func TestNewDefaultsToTheBoundedMemoryStore(t *testing.T) {
	t.Parallel()
	c, err := New(Config{SellerID: "1001", Secret: "s"})
	require.NoError(t, err)
	s, ok := c.store.(*memoryStore)
	require.True(t, ok, "store is %T", c.store)
	assert.Equal(t, DefaultRetention, s.retention)
	assert.Equal(t, 30*24*time.Hour, DefaultRetention)
}

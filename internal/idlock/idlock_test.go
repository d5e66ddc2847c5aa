package idlock

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOneHolderPerID(t *testing.T) {
	t.Parallel()
	var l Locks
	var inside, most atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			unlock, err := l.Lock(context.Background(), "id-1")
			if !assert.NoError(t, err) {
				return
			}
			n := inside.Add(1)
			for {
				m := most.Load()
				if n <= m || most.CompareAndSwap(m, n) {
					break
				}
			}
			time.Sleep(100 * time.Microsecond)
			inside.Add(-1)
			unlock()
		}()
	}
	wg.Wait()
	assert.Equal(t, int32(1), most.Load(), "two holders of one id at once")
	assert.Zero(t, l.Len(), "entries must go when nobody holds or waits")
}

func TestOtherIDsDoNotWait(t *testing.T) {
	t.Parallel()
	var l Locks
	unlock, err := l.Lock(context.Background(), "a")
	require.NoError(t, err)
	defer unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	unlockB, err := l.Lock(ctx, "b")
	require.NoError(t, err)
	unlockB()
}

func TestContextEndsTheWait(t *testing.T) {
	t.Parallel()
	var l Locks
	unlock, err := l.Lock(context.Background(), "a")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = l.Lock(ctx, "a")
	require.ErrorIs(t, err, context.Canceled)
	unlock()
	unlock() // a second call is harmless
	assert.Zero(t, l.Len())
	again, err := l.Lock(context.Background(), "a")
	require.NoError(t, err)
	again()
}

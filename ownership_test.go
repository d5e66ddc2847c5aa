package paykit

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMemoryOwnershipStoreForgetsAfterRetention moves the package clock, so it does not run
// in parallel.
func TestMemoryOwnershipStoreForgetsAfterRetention(t *testing.T) {
	saved := now
	t.Cleanup(func() { now = saved })
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := t0
	now = func() time.Time { return clock }
	ctx := context.Background()

	s := NewMemoryOwnershipStore(WithOwnershipRetention(time.Hour))
	_, err := s.Claim(ctx, "old", "ecster")
	require.NoError(t, err)
	_, err = s.Claim(ctx, "renewed", "ecster")
	require.NoError(t, err)

	clock = t0.Add(50 * time.Minute)
	o, err := s.Claim(ctx, "renewed", "echelon") // a repeated create renews the owner
	require.NoError(t, err)
	assert.Equal(t, Ownership{Provider: "ecster", Claimed: false, Seq: 2}, o)

	clock = t0.Add(time.Hour) // exactly the retention: still remembered
	owner, ok, err := s.Owner(ctx, "old")
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, "ecster", owner)

	clock = t0.Add(time.Hour + time.Second)
	_, ok, err = s.Owner(ctx, "old")
	require.NoError(t, err)
	assert.False(t, ok, "an owner past its retention must be forgotten")
	owner, ok, err = s.Owner(ctx, "renewed")
	require.NoError(t, err)
	assert.True(t, ok, "the retention counts from the last Claim")
	assert.Equal(t, "ecster", owner)

	// A forgotten id is claimed anew as a first create.
	o, err = s.Claim(ctx, "old", "echelon")
	require.NoError(t, err)
	assert.Equal(t, Ownership{Provider: "echelon", Claimed: true, Seq: 1}, o)

	// 100,000 ids a minute apart over a one-hour retention: at most ~60 are kept.
	for i := range 100_000 {
		clock = clock.Add(time.Minute)
		_, err := s.Claim(ctx, fmt.Sprintf("id-%d", i), "ecster")
		require.NoError(t, err)
	}
	m := s.(*memoryOwnership)
	m.mu.Lock()
	defer m.mu.Unlock()
	assert.LessOrEqual(t, len(m.owners), 61)
	assert.LessOrEqual(t, len(m.claimed), 2*1024, "the expiry queue must shrink too")

	assert.Equal(t, DefaultOwnershipRetention, NewMemoryOwnershipStore().(*memoryOwnership).retention)
	assert.Equal(t, DefaultOwnershipRetention, NewMemoryOwnershipStore(WithOwnershipRetention(0)).(*memoryOwnership).retention)
}

// BenchmarkMemoryStoresPerEntry reports what one remembered payment costs in the in-memory
// ownership and dedupe stores (B/entry, heap in use after a GC, 36-byte ids as NewID makes).
//
//	go test -run '^$' -bench MemoryStoresPerEntry -benchtime=1x .
func BenchmarkMemoryStoresPerEntry(b *testing.B) {
	const entries = 100_000
	ids := make([]string, entries)
	for i := range ids {
		ids[i] = fmt.Sprintf("%08x-2926-4fa7-8fed-c5805f823167", i)
	}
	ctx := context.Background()
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	b.Run("ownership", func(b *testing.B) {
		for range b.N {
			before := heap()
			s := NewMemoryOwnershipStore()
			for _, id := range ids {
				if _, err := s.Claim(ctx, id, "ecster"); err != nil {
					b.Fatal(err)
				}
			}
			after := heap()
			b.ReportMetric(float64(after-before)/entries, "B/entry")
			runtime.KeepAlive(s)
		}
	})
	b.Run("dedupe", func(b *testing.B) {
		for range b.N {
			before := heap()
			s := NewMemoryDedupStore(0)
			for _, id := range ids {
				key := "8:ecredits|state|36:" + id + "|succeeded|1000EUR|0EUR"
				if _, err := s.Claim(ctx, key); err != nil {
					b.Fatal(err)
				}
				if err := s.Finish(ctx, key, true); err != nil {
					b.Fatal(err)
				}
			}
			after := heap()
			b.ReportMetric(float64(after-before)/entries, "B/entry")
			runtime.KeepAlive(s)
		}
	})
}

package redisstore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/redisstore"
)

func TestOwnershipStore(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	s := redisstore.NewOwnershipStore(srv.Client(t), redisstore.WithPrefix("own-test:"))
	ctx := guardCtx(t)

	own, err := s.Claim(ctx, "p", "ecster")
	require.NoError(t, err)
	assert.Equal(t, paykit.Ownership{Provider: "ecster", Claimed: true, Seq: 1}, own)
	own, err = s.Claim(ctx, "p", "echelon")
	require.NoError(t, err)
	assert.Equal(t, paykit.Ownership{Provider: "ecster", Claimed: false, Seq: 2}, own, "the first claim wins; every claim counts")

	require.ErrorIs(t, s.Move(ctx, "p", "ecster", "echelon", 1), paykit.ErrConflict, "claimed again since claim 1")
	require.ErrorIs(t, s.Move(ctx, "p", "echelon", "ecredits", 2), paykit.ErrConflict, "only the owner can be moved from")
	require.NoError(t, s.Move(ctx, "p", "ecster", "echelon", 2))
	owner, ok, err := s.Owner(ctx, "p")
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, "echelon", owner)
	_, ok, err = s.Owner(ctx, "nobody")
	require.NoError(t, err)
	assert.False(t, ok)
	require.ErrorIs(t, s.Move(ctx, "nobody", "a", "b", 1), paykit.ErrConflict)

	// Another replica's store sees the same owners.
	other := redisstore.NewOwnershipStore(srv.Client(t), redisstore.WithPrefix("own-test:"))
	own, err = other.Claim(ctx, "p", "ecredits")
	require.NoError(t, err)
	assert.Equal(t, paykit.Ownership{Provider: "echelon", Claimed: false, Seq: 3}, own)
}

// Replicas claiming one id at once: exactly one claim is recorded, and every caller hears of
// that one owner.
func TestOwnershipStoreConcurrentClaims(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	ctx := guardCtx(t)
	stores := []paykit.OwnershipStore{
		redisstore.NewOwnershipStore(srv.Client(t)),
		redisstore.NewOwnershipStore(srv.Client(t)),
		redisstore.NewOwnershipStore(srv.Client(t)),
	}
	var mu sync.Mutex
	var claims int
	owners := map[string]bool{}
	seqs := map[int64]bool{}
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			own, err := stores[i%3].Claim(ctx, "race", fmt.Sprint("provider-", i))
			assert.NoError(t, err)
			mu.Lock()
			defer mu.Unlock()
			owners[own.Provider] = true
			seqs[own.Seq] = true
			if own.Claimed {
				claims++
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, 1, claims)
	assert.Len(t, owners, 1)
	assert.Len(t, seqs, 30, "every claim has its own number")
}

// With Redis gone the store's errors are ErrUnavailable, which the Router passes on before
// it sends anything.
func TestOwnershipStoreRedisDown(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	s := redisstore.NewOwnershipStore(srv.Client(t))
	srv.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	_, err := s.Claim(ctx, "p", "ecster")
	require.ErrorIs(t, err, paykit.ErrUnavailable)
	_, _, err = s.Owner(ctx, "p")
	require.ErrorIs(t, err, paykit.ErrUnavailable)
	require.ErrorIs(t, s.Move(ctx, "p", "a", "b", 1), paykit.ErrUnavailable)
}

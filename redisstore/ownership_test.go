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

	owner, claimed, err := s.Claim(ctx, "p", "ecster")
	require.NoError(t, err)
	assert.Equal(t, "ecster", owner)
	assert.True(t, claimed)
	owner, claimed, err = s.Claim(ctx, "p", "echelon")
	require.NoError(t, err)
	assert.Equal(t, "ecster", owner, "the first claim wins")
	assert.False(t, claimed)

	require.ErrorIs(t, s.Move(ctx, "p", "echelon", "ecredits"), paykit.ErrConflict)
	require.NoError(t, s.Move(ctx, "p", "ecster", "echelon"))
	owner, ok, err := s.Owner(ctx, "p")
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, "echelon", owner)
	_, ok, err = s.Owner(ctx, "nobody")
	require.NoError(t, err)
	assert.False(t, ok)

	// Another replica's store sees the same owners.
	other := redisstore.NewOwnershipStore(srv.Client(t), redisstore.WithPrefix("own-test:"))
	owner, claimed, err = other.Claim(ctx, "p", "ecredits")
	require.NoError(t, err)
	assert.Equal(t, "echelon", owner)
	assert.False(t, claimed)
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
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			owner, claimed, err := stores[i%3].Claim(ctx, "race", fmt.Sprint("provider-", i))
			assert.NoError(t, err)
			mu.Lock()
			defer mu.Unlock()
			owners[owner] = true
			if claimed {
				claims++
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, 1, claims)
	assert.Len(t, owners, 1)
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
	_, _, err := s.Claim(ctx, "p", "ecster")
	require.ErrorIs(t, err, paykit.ErrUnavailable)
	_, _, err = s.Owner(ctx, "p")
	require.ErrorIs(t, err, paykit.ErrUnavailable)
	require.ErrorIs(t, s.Move(ctx, "p", "a", "b"), paykit.ErrUnavailable)
}

package redisstore_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/entrecard"
	"github.com/paykit/paykit/redisstore"
)

// startCluster starts a one-node Redis Cluster owning every slot. A Cluster refuses a script
// or transaction whose keys hash to different slots (CROSSSLOT) even on one node, so it
// checks the hash tags of every key the package writes.
func startCluster(t *testing.T) redis.UniversalClient {
	t.Helper()
	srv := startRedis(t, "--cluster-enabled", "yes")
	ctx := guardCtx(t)
	admin := srv.Client(t)
	require.NoError(t, admin.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", 0, 16383).Err())
	require.Eventually(t, func() bool {
		info, err := admin.ClusterInfo(ctx).Result()
		return err == nil && strings.Contains(info, "cluster_state:ok")
	}, guard, 10*time.Millisecond, "the one-node cluster becomes ready")
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{srv.Addr}})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

func TestOnACluster(t *testing.T) {
	t.Parallel()
	rdb := startCluster(t)
	ctx := guardCtx(t)

	dedupe := redisstore.NewDedupStore(rdb)
	done, err := dedupe.Claim(ctx, "8:ecredits|event|{x}y")
	require.NoError(t, err)
	require.False(t, done)
	require.NoError(t, dedupe.Finish(ctx, "8:ecredits|event|{x}y", true))
	done, err = dedupe.Claim(ctx, "8:ecredits|event|{x}y")
	require.NoError(t, err)
	require.True(t, done)

	lim := redisstore.NewLimiter(rdb, "echelon:{M}1", 2, 100*time.Millisecond)
	for range 4 {
		require.NoError(t, lim.Wait(ctx))
	}
	n, err := rdb.ZCard(ctx, "paykit:limit:{echelon:{M}1}").Result()
	require.NoError(t, err)
	require.Positive(t, n, "the limiter counted in Redis, not in its local fallback")

	c, err := entrecard.New(entrecard.Config{SellerID: ecSeller, Secret: ecSecret, Store: redisstore.NewEntrecardStore(rdb)})
	require.NoError(t, err)
	_, err = c.CreatePayment(ctx, ecPayment())
	require.NoError(t, err)
	h := paykit.NewWebhookHandler(c, func(context.Context, *paykit.Notification) error { return nil },
		paykit.WithDedupStore(dedupe))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, ecNotify(c, ecResult("order-42", "1", entrecard.ResultComplete)))
	require.Equal(t, http.StatusOK, rec.Code)
	p, err := c.GetPayment(ctx, "order-42")
	require.NoError(t, err)
	require.Equal(t, paykit.StatusSucceeded, p.Status)
}

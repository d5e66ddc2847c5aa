package redisstore_test

import (
	"context"
	"errors"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/internal/logbuf"
	"github.com/paykit/paykit/redisstore"
)

// guard bounds every wait of these tests: it only turns a hang into a failure.
const guard = 20 * time.Second

func guardCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	t.Cleanup(cancel)
	return ctx
}

func TestDedupClaimFinish(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	ctx := guardCtx(t)
	a := redisstore.NewDedupStore(srv.Client(t))
	b := redisstore.NewDedupStore(srv.Client(t)) // another replica

	done, err := a.Claim(ctx, "k1")
	require.NoError(t, err)
	require.False(t, done, "a new key is claimed, not done")
	require.NoError(t, a.Finish(ctx, "k1", true))
	for _, s := range []paykit.DedupStore{a, b} {
		done, err = s.Claim(ctx, "k1")
		require.NoError(t, err)
		require.True(t, done, "a processed key is done for every replica")
	}

	// Released: the next delivery, on another replica, claims it.
	done, err = a.Claim(ctx, "k2")
	require.NoError(t, err)
	require.False(t, done)
	require.NoError(t, a.Finish(ctx, "k2", false))
	done, err = b.Claim(ctx, "k2")
	require.NoError(t, err)
	require.False(t, done, "a released key is claimed again")
	require.NoError(t, b.Finish(ctx, "k2", true))

	// Finish without a claim is a caller's mistake, as with the memory store.
	require.Error(t, a.Finish(ctx, "never-claimed", true))
	done, err = b.Claim(ctx, "never-claimed")
	require.NoError(t, err)
	require.False(t, done, "a refused Finish recorded nothing")
}

func TestDedupWaiterWakesWhenHolderFinishes(t *testing.T) {
	t.Parallel()
	for _, processed := range []bool{true, false} {
		t.Run(map[bool]string{true: "processed", false: "released"}[processed], func(t *testing.T) {
			t.Parallel()
			srv := startRedis(t)
			ctx := guardCtx(t)
			holder := redisstore.NewDedupStore(srv.Client(t))
			waiter := redisstore.NewDedupStore(srv.Client(t))
			done, err := holder.Claim(ctx, "k")
			require.NoError(t, err)
			require.False(t, done)

			type answer struct {
				done bool
				err  error
			}
			got := make(chan answer, 1)
			claiming := make(chan struct{})
			go func() {
				close(claiming)
				done, err := waiter.Claim(ctx, "k")
				got <- answer{done, err}
			}()
			<-claiming
			select {
			case a := <-got:
				t.Fatalf("Claim returned %+v while another replica held the key", a)
			case <-time.After(100 * time.Millisecond):
			}
			require.NoError(t, holder.Finish(ctx, "k", processed))
			select {
			case a := <-got:
				require.NoError(t, a.err)
				assert.Equal(t, processed, a.done, "the waiter sees done only when the holder processed the key")
				if !a.done {
					require.NoError(t, waiter.Finish(ctx, "k", true))
				}
			case <-ctx.Done():
				t.Fatal("the waiting Claim did not wake when the holder finished")
			}
		})
	}
}

func TestDedupClaimHonoursContext(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	a := redisstore.NewDedupStore(srv.Client(t))
	b := redisstore.NewDedupStore(srv.Client(t))
	_, err := a.Claim(guardCtx(t), "k")
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	done, err := b.Claim(ctx, "k")
	require.ErrorIs(t, err, context.DeadlineExceeded, "a Claim waiting on a live holder returns when its context ends")
	require.False(t, done)

	canceled, cancel2 := context.WithCancel(context.Background())
	cancel2()
	_, err = b.Claim(canceled, "k")
	require.ErrorIs(t, err, context.Canceled)
}

// A holder that dies without Finish (its process killed, here its connection closed) keeps
// the key only for its lease; then the redelivery is claimed and processed.
func TestDedupLeaseOfADeadHolderEnds(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	ctx := guardCtx(t)
	const lease = 700 * time.Millisecond
	deadRdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	dead := redisstore.NewDedupStore(deadRdb, redisstore.WithLease(lease))
	done, err := dead.Claim(ctx, "k")
	require.NoError(t, err)
	require.False(t, done)
	require.NoError(t, deadRdb.Close()) // the holder is gone: no Finish will come

	live := redisstore.NewDedupStore(srv.Client(t), redisstore.WithLease(lease))
	short, cancel := context.WithTimeout(ctx, lease/5)
	defer cancel()
	_, err = live.Claim(short, "k")
	require.ErrorIs(t, err, context.DeadlineExceeded, "the lease holds the key while it lasts")

	done, err = live.Claim(ctx, "k") // waits for the lease to end
	require.NoError(t, err)
	require.False(t, done, "after the lease the redelivery claims the key")
	require.NoError(t, live.Finish(ctx, "k", true))
	done, err = live.Claim(ctx, "k")
	require.NoError(t, err)
	require.True(t, done)
}

// A holder whose lease ended and whose key another delivery took must not release the new
// holder's claim; its processed Finish records the key done (fn ran) and is logged.
func TestDedupLateFinishAfterTakeover(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	ctx := guardCtx(t)
	var logs logbuf.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	const lease = 300 * time.Millisecond
	slow := redisstore.NewDedupStore(srv.Client(t), redisstore.WithLease(lease), redisstore.WithLogger(log))
	next := redisstore.NewDedupStore(srv.Client(t), redisstore.WithLease(time.Minute))
	third := redisstore.NewDedupStore(srv.Client(t))

	_, err := slow.Claim(ctx, "release")
	require.NoError(t, err)
	done, err := next.Claim(ctx, "release") // after slow's lease
	require.NoError(t, err)
	require.False(t, done)
	require.NoError(t, slow.Finish(ctx, "release", false)) // too late: must not free next's claim
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	_, err = third.Claim(short, "release")
	require.ErrorIs(t, err, context.DeadlineExceeded, "the late release freed another holder's claim")
	require.Contains(t, logs.String(), "lease ended before Finish")
	require.NoError(t, next.Finish(ctx, "release", true))

	_, err = slow.Claim(ctx, "processed")
	require.NoError(t, err)
	_, err = next.Claim(ctx, "processed")
	require.NoError(t, err)
	require.NoError(t, slow.Finish(ctx, "processed", true)) // fn ran: recorded
	done, err = third.Claim(ctx, "processed")
	require.NoError(t, err)
	require.True(t, done)
	require.NoError(t, next.Finish(ctx, "processed", false)) // changes nothing now
	done, err = third.Claim(ctx, "processed")
	require.NoError(t, err)
	require.True(t, done)
}

func TestDedupKeysTTLAndLayout(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	ctx := guardCtx(t)
	rdb := srv.Client(t)
	s := redisstore.NewDedupStore(rdb, redisstore.WithPrefix("shop{1}:"), redisstore.WithLease(time.Minute), redisstore.WithRetention(time.Hour))
	_, err := s.Claim(ctx, "8:ecredits|event|{id}") // braces of a key never reach the key's hash tag
	require.NoError(t, err)
	keys, err := rdb.Keys(ctx, "*").Result()
	require.NoError(t, err)
	require.Len(t, keys, 1)
	assert.Regexp(t, regexp.MustCompile(`^shop1:dedupe:\{[0-9a-f]{32}\}$`), keys[0], "prefix without braces, a hash tag of the key's hash")
	ttl, err := rdb.PTTL(ctx, keys[0]).Result()
	require.NoError(t, err)
	assert.True(t, ttl > 50*time.Second && ttl <= time.Minute, "a claim lives for its lease, got %v", ttl)

	require.NoError(t, s.Finish(ctx, "8:ecredits|event|{id}", true))
	ttl, err = rdb.PTTL(ctx, keys[0]).Result()
	require.NoError(t, err)
	assert.True(t, ttl > 50*time.Minute && ttl <= time.Hour, "a processed key lives for the retention, got %v", ttl)

	// Default retention: 7 days.
	d := redisstore.NewDedupStore(rdb)
	_, err = d.Claim(ctx, "k")
	require.NoError(t, err)
	require.NoError(t, d.Finish(ctx, "k", true))
	keys, err = rdb.Keys(ctx, "paykit:dedupe:*").Result()
	require.NoError(t, err)
	require.Len(t, keys, 1)
	ttl, err = rdb.PTTL(ctx, keys[0]).Result()
	require.NoError(t, err)
	assert.True(t, ttl > 7*24*time.Hour-time.Minute && ttl <= 7*24*time.Hour, "default retention, got %v", ttl)
}

func TestDedupRetentionEnds(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	ctx := guardCtx(t)
	s := redisstore.NewDedupStore(srv.Client(t), redisstore.WithRetention(200*time.Millisecond))
	_, err := s.Claim(ctx, "k")
	require.NoError(t, err)
	require.NoError(t, s.Finish(ctx, "k", true))
	done, err := s.Claim(ctx, "k")
	require.NoError(t, err)
	require.True(t, done)
	require.Eventually(t, func() bool {
		done, err := s.Claim(ctx, "k")
		require.NoError(t, err)
		if !done {
			require.NoError(t, s.Finish(ctx, "k", false))
		}
		return !done
	}, guard, 20*time.Millisecond, "a processed key is forgotten after the retention")
}

// Many claims of one key at once, on several replicas: exactly one holder at a time, and
// once processed, every later claim is done.
func TestDedupConcurrentClaims(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	ctx := guardCtx(t)
	stores := []paykit.DedupStore{
		redisstore.NewDedupStore(srv.Client(t)),
		redisstore.NewDedupStore(srv.Client(t)),
		redisstore.NewDedupStore(srv.Client(t)),
	}
	var mu sync.Mutex
	holders, ran, dones := 0, 0, 0
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := stores[i%len(stores)]
			done, err := s.Claim(ctx, "same")
			if !assert.NoError(t, err) {
				return
			}
			mu.Lock()
			if done {
				dones++
				mu.Unlock()
				return
			}
			holders++
			assert.Equal(t, 1, holders, "two holders at once")
			mu.Unlock()
			time.Sleep(5 * time.Millisecond)
			mu.Lock()
			holders--
			ran++
			// The first holders fail (release), as a failing fn would; the third processes.
			processed := ran >= 3
			mu.Unlock()
			assert.NoError(t, s.Finish(ctx, "same", processed))
		}()
	}
	wg.Wait()
	assert.Equal(t, 3, ran, "two failed runs and one that processed the key")
	assert.Equal(t, 27, dones)
}

func TestDedupRedisDown(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	ctx := guardCtx(t)
	s := redisstore.NewDedupStore(srv.Client(t))
	srv.Stop()
	done, err := s.Claim(ctx, "k")
	require.Error(t, err)
	require.False(t, done)
	require.ErrorIs(t, err, paykit.ErrUnavailable)
	require.ErrorIs(t, err, paykit.ErrStoreUnavailable, "the store failed, not a provider")
	var pe *paykit.Error
	require.True(t, errors.As(err, &pe))
	assert.Regexp(t, `^paykit: dedupe store: claim: store unavailable: redis: .*connection refused$`, err.Error())
	assert.Equal(t, 1, strings.Count(err.Error(), "paykit:"))
}

package redisstore_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/echelon"
	"github.com/paykit/paykit/echelon/echelontest"
	"github.com/paykit/paykit/redisstore"
)

// Three EchelonPay clients, on three replicas with a Redis client each, share one Redis
// limiter against the fake, which answers 429 to the 11th request arriving in any second.
// Counted from the fake's call log (arrivals, token requests included): nothing was
// refused and no 1-second window saw more than 10 requests. The rate they sustain together
// (≥ 9.5 requests/s is the target) is a speed figure: the test logs it, and
// BenchmarkThreeEchelonClientsShareOneLimit reports it, rather than a timed assertion failing
// on a busy machine.
//
// It runs alone, not in parallel with this package's other tests: its figures are times, and
// the other tests' redis-servers and bursts would only add their scheduling delays to them.
func TestThreeEchelonClientsShareOneLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("about 5 seconds of throttled load")
	}
	r := runSharedLimit(t)
	require.Zero(t, r.throttled, "requests the fake refused with 429")
	require.LessOrEqual(t, r.most, 10, "requests arriving in the busiest 1-second window")
	t.Logf("3 EchelonPay clients, one Redis limiter: %d requests arrived at the fake (%d payins read, the rest tokens and the create) in %v; 429s %d; at most %d in any 1-second window; %.2f requests/s sustained",
		r.arrived, r.read, r.took, r.throttled, r.most, r.rate)
}

// BenchmarkThreeEchelonClientsShareOneLimit reports the rate three EchelonPay clients sharing
// one Redis limiter sustain against the throttling fake (target ≥ 9.5 req/s), with the
// busiest window and the 429s. Run it with -benchtime=1x: one run is five seconds.
func BenchmarkThreeEchelonClientsShareOneLimit(b *testing.B) {
	for range b.N {
		r := runSharedLimit(b)
		b.ReportMetric(r.rate, "req/s")
		b.ReportMetric(float64(r.most), "max/window")
		b.ReportMetric(float64(r.throttled), "429s")
	}
}

type sharedLimitRun struct {
	arrived, read, throttled, most int
	took                           time.Duration
	rate                           float64
}

// runSharedLimit has three clients read one payin until 50 reads were made and measures the
// arrivals at the fake.
func runSharedLimit(t testing.TB) sharedLimitRun {
	srv := startRedis(t)
	fake := echelontest.NewServer(echelontest.Config{RateLimit: echelontest.DefaultRateLimit})
	t.Cleanup(fake.Close)
	cfg := echelon.Config{MerchantCode: echelontest.DefaultMerchantCode, Secret: echelontest.DefaultSecret, BaseURL: fake.URL}
	clients := make([]*echelon.Client, 3)
	for i := range clients {
		lim := redisstore.NewLimiter(srv.Client(t), "echelon:"+cfg.MerchantCode, 10, time.Second)
		c, err := echelon.New(cfg, paykit.WithLimiter(lim))
		require.NoError(t, err)
		clients[i] = c
	}
	ctx := guardCtx(t)
	_, err := clients[0].CreatePayin(ctx, echelon.PayinRequest{ID: "shared-1", Amount: paykit.Money{Amount: 10000, Currency: "INR"}, Method: "VAPAY"})
	require.NoError(t, err)

	// Five callers per client until 50 payins were read: four groups or more of ten after the
	// first requests.
	const want = 50
	run, stop := context.WithCancel(ctx)
	defer stop()
	var done atomic.Int64
	var wg sync.WaitGroup
	for i := range 15 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := clients[i%len(clients)]
			for run.Err() == nil {
				_, err := c.GetPayin(run, "shared-1")
				if err != nil {
					if !errors.Is(err, context.Canceled) {
						assert.NoError(t, err)
					}
					return
				}
				if done.Add(1) >= want {
					stop()
				}
			}
		}()
	}
	wg.Wait()
	require.NoError(t, ctx.Err(), "the run did not end within the guard")

	log := fake.CallLog()
	times := make([]time.Time, 0, len(log))
	throttled := 0
	for _, call := range log {
		if call.Status == 429 {
			throttled++
		}
		times = append(times, call.Time)
	}
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	most := 0
	for i := range times {
		j := i
		for j < len(times) && times[j].Sub(times[i]) < time.Second {
			j++
		}
		most = max(most, j-i)
	}
	// The rate over whole groups of ten after the first ten, which arrive together at the
	// start, so that the sliding window's bunching does not bias it.
	groups := (len(times) - 11) / 10
	require.GreaterOrEqual(t, groups, 4, "%d requests are too few to measure a rate", len(times))
	rate := float64(10*groups) / times[10+10*groups].Sub(times[10]).Seconds()
	return sharedLimitRun{arrived: len(times), read: int(done.Load()), throttled: throttled, most: most,
		took: times[len(times)-1].Sub(times[0]).Round(time.Millisecond), rate: rate}
}

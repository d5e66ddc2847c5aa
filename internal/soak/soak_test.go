package soak_test

import (
	"context"
	"flag"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var (
	flagPayments = flag.Int("soak.payments", 0, "payments in the soak (0: 300, or 60 with -short)")
	flagWorkers  = flag.Int("soak.workers", 24, "merchants running payments at once")
	flagSeed     = flag.Uint64("soak.seed", 0, "random seed of the payments and faults (0: from the clock; printed to repeat a run)")
)

// TestSoak runs the Router over the four fakes with random faults on every fake (5xx, 429,
// connections dropped after processing, malformed answers, slow answers, some slower than the
// clients' timeout), duplicate and out-of-order notifications, and a merchant function that
// fails now and then; then it reconciles every fake's records with the Router's view (see
// reconcile). It logs its counts; run it long with -soak.payments=5000 (make soak).
func TestSoak(t *testing.T) { runSoak(t, false) }

// TestSoakKeyed is TestSoak with operation keys: every capture, refund and cancel carries a
// paykit.IdempotencyKey the merchant stored before calling, and after an error of unknown
// outcome the merchant simply repeats it with the same key (now and then from a new ecster
// Client, a restart of its process), without reading the payment to decide. The same
// reconciliation must come out clean: each keyed operation applied once.
func TestSoakKeyed(t *testing.T) { runSoak(t, true) }

func runSoak(t *testing.T, keyed bool) {
	n := *flagPayments
	if n <= 0 {
		n = 300
		if testing.Short() {
			n = 60
		}
	}
	workers := max(1, *flagWorkers)
	seed := *flagSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("soak: %d payments, %d workers, operation keys %v, seed %d (repeat with -soak.seed=%d)", n, workers, keyed, seed, seed)

	// The guard only turns a hang into a failure; it is no measure of speed.
	guard := 5*time.Minute + time.Duration(n)*200*time.Millisecond
	if dl, ok := t.Deadline(); ok {
		guard = min(guard, time.Until(dl)-20*time.Second)
	}
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()

	w := newWorld(t)
	w.keyed = keyed
	fnRand := rand.New(rand.NewPCG(seed, 0))
	w.hooks.fail = func() bool { return fnRand.IntN(100) < 3 } // called under the recorder's lock

	start := time.Now()
	v := newViolations()
	ledger, _ := w.runPayments(ctx, n, workers, seed, v)
	ran := time.Since(start)

	w.settle(ctx, ledger, v)
	require.NoError(t, ctx.Err(), "the soak's guard timeout ended it")
	report := w.reconcile(ctx, ledger, v)
	t.Logf("soak: %d payments ran in %s, settled and reconciled in %s", n, ran.Round(time.Millisecond), (time.Since(start) - ran).Round(time.Millisecond))
	for _, l := range report.lines {
		t.Logf("  %s", l)
	}
	for _, inv := range invariants {
		t.Logf("  %s: %d", inv, v.n[inv])
	}
	assertClean(t, v)
}

// runPayments runs n payments through w on workers goroutines, with slow answers struck at
// random meanwhile, and returns each payment as the merchant saw it and when its last step
// ended. A merchant or customer step that fails is a violation in v.
func (w *world) runPayments(ctx context.Context, n, workers int, seed uint64, v *violations) ([]*payment, []time.Time) {
	chaosCtx, stopChaos := context.WithCancel(ctx)
	chaosDone := make(chan struct{})
	go func() { defer close(chaosDone); w.slowAnswers(chaosCtx, seed) }()

	ledger := make([]*payment, n)
	ended := make([]time.Time, n)
	var mu sync.Mutex
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				r := rand.New(rand.NewPCG(seed, uint64(i)+1))
				p := newPayment(r, i)
				err := w.run(ctx, r, p)
				mu.Lock()
				ledger[i], ended[i] = p, time.Now()
				if err != nil {
					v.add(vMerchantFailed, "%v", err)
				}
				mu.Unlock()
			}
		}()
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	stopChaos()
	<-chaosDone
	return ledger, ended
}

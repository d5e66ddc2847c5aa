package soak_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/entrecard/entrecardtest"
	"github.com/paykit/paykit/internal/fakeserver"
	"github.com/paykit/paykit/reconcile"
)

var flagLostPayments = flag.Int("soak.lost.payments", 0, "payments in TestSoakLost (0: 120, or 40 with -short)")

// worldOptions is what a soak mode adds to the world newWorld builds.
type worldOptions struct {
	router  []paykit.RouterOption
	webhook []paykit.WebhookOption
	// wrap wraps the merchant's function (hooks.fn) as the webhook handler runs it.
	wrap func(func(context.Context, *paykit.Notification) error) func(context.Context, *paykit.Notification) error
}

// Loss of notifications in TestSoakLost: a share of eCredits' and Ecster's are never sent,
// and none of EchelonPay's. Entrecard loses none: it has no status API, and its client knows
// only the results it was sent, so a lost result is beyond any reconciler (the reconciler
// reports such a payment when its watch ends; package reconcile's tests prove that).
const lostShare = 0.3

// stamps records when fn first succeeded with each state of each payment, and with which
// event (a notification's word, or reconcile.Event for a poll).
type stamps struct {
	mu sync.Mutex
	at map[string]stamp // payment id + " " + PaymentStateKey → first success
	n  map[string]int   // successful runs per payment id + state
}

type stamp struct {
	at    time.Time
	event string
}

func (s *stamps) wrap(fn func(context.Context, *paykit.Notification) error) func(context.Context, *paykit.Notification) error {
	return func(ctx context.Context, n *paykit.Notification) error {
		if err := fn(ctx, n); err != nil {
			return err
		}
		k := n.PaymentID + " " + paykit.PaymentStateKey(n.Payment)
		s.mu.Lock()
		defer s.mu.Unlock()
		if _, ok := s.at[k]; !ok {
			s.at[k] = stamp{time.Now(), n.Event}
		}
		s.n[k]++
		return nil
	}
}

func (s *stamps) get(k string) (stamp, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.at[k]
	return st, ok
}

// TestSoakLost is the soak with notifications lost for good: 30 % of eCredits' and Ecster's
// are never sent, and all of EchelonPay's, on top of the faults, duplicates and failing fn of
// TestSoak. The Router enrols every payment with a reconciler (paykit.WithWatcher) that reads
// the watched payments through the Router and feeds what it reads to the same fn through the
// webhook handler's DedupStore. Every payment's final state (the one its fake holds at the
// end) must reach fn, and no state may run fn twice. It logs the reads per payment and the
// delay from the end of a payment's last step to fn's run with its final state (median and
// 99th percentile, wall-clock: the fakes have no simulated time for notifications).
func TestSoakLost(t *testing.T) {
	n := *flagLostPayments
	if n <= 0 {
		n = 120
		if testing.Short() {
			n = 40
		}
	}
	workers := max(1, *flagWorkers)
	seed := *flagSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("soak lost: %d payments, %d workers, %.0f %% of eCredits' and Ecster's notifications lost, all of EchelonPay's, seed %d (repeat with -soak.seed=%d)",
		n, workers, lostShare*100, seed, seed)
	guard := 5*time.Minute + time.Duration(n)*200*time.Millisecond
	if dl, ok := t.Deadline(); ok {
		guard = min(guard, time.Until(dl)-20*time.Second)
	}
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()

	dedup := paykit.NewMemoryDedupStore(0)
	watch := reconcile.NewMemoryStore(0)
	var reportsMu sync.Mutex
	var reports []reconcile.Report
	recOpts := []reconcile.Option{
		reconcile.WithStore(watch),
		// Simulated seconds to hours: milliseconds here, as the fakes retry in milliseconds.
		reconcile.WithBackoff(20*time.Millisecond, 400*time.Millisecond),
		reconcile.WithInterval(10 * time.Millisecond),
		reconcile.WithRateLimit(500, time.Second),
		reconcile.WithWorkers(8),
		reconcile.WithReport(func(_ context.Context, r reconcile.Report) {
			reportsMu.Lock()
			defer reportsMu.Unlock()
			reports = append(reports, r)
		}),
	}
	st := &stamps{at: map[string]stamp{}, n: map[string]int{}}
	w := newWorld(t, worldOptions{
		router:  []paykit.RouterOption{paykit.WithWatcher(reconcile.NewWatcher(watch, recOpts...))},
		webhook: []paykit.WebhookOption{paykit.WithDedupStore(dedup), paykit.WithOncePerState()},
		wrap:    st.wrap,
	})
	fnRand := rand.New(rand.NewPCG(seed, 0))
	w.hooks.fail = func() bool { return fnRand.IntN(100) < 3 }
	w.ecr.LoseNotifications(lostShare, seed+1)
	w.ecs.LoseNotifications(lostShare, seed+2)
	w.ech.LoseNotifications(1, seed+3)

	rec, err := reconcile.New(w.router, dedup, w.fn, recOpts...)
	require.NoError(t, err)
	recCtx, stopRec := context.WithCancel(ctx)
	recDone := make(chan error, 1)
	go func() { recDone <- rec.Run(recCtx) }()

	start := time.Now()
	v := newViolations()
	ledger, ended := w.runPayments(ctx, n, workers, seed, v)
	for _, c := range w.faults {
		c.ClearFaults()
		c.SetLatency(0)
	}

	// Every notification that was not lost is delivered; every final state reaches fn.
	for _, p := range ledger {
		if p.owner == "" {
			continue
		}
		if err := w.faults[p.owner].WaitDelivered(ctx, p.id); err != nil && !errors.Is(err, fakeserver.ErrLost) {
			v.add(vUndelivered, "payment %d (%s at %s): %v", p.n, p.id, p.owner, err)
		}
	}
	finals := map[string]string{} // payment id → its final state key
	r := rand.New(rand.NewPCG(5, 6))
	for _, p := range ledger {
		if p.owner == "" {
			continue
		}
		pay, err := w.read(ctx, r, p.id)
		if err != nil {
			v.add(vLost, "payment %d (%s at %s): %v", p.n, p.id, p.owner, err)
			continue
		}
		finals[p.id] = p.id + " " + paykit.PaymentStateKey(pay)
	}
	// The reconciler reads every 400 ms at most: 30 s without the final state is a miss,
	// reported with its examples rather than as the guard's timeout.
	finalsCtx, cancelFinals := context.WithTimeout(ctx, 30*time.Second)
	defer cancelFinals()
	for id, k := range finals {
		for {
			if _, ok := st.get(k); ok {
				break
			}
			select {
			case <-finalsCtx.Done():
			case <-time.After(5 * time.Millisecond):
				continue
			}
			v.add(vFnMissed, "payment %s: its final state never reached fn (%s)", id, k)
			break
		}
	}
	stopRec()
	require.NoError(t, <-recDone)
	require.NoError(t, ctx.Err(), "the soak's guard timeout ended it")

	byID := map[string]*payment{}
	for _, p := range ledger {
		if p.owner != "" {
			byID[p.id] = p
		}
	}
	out := &tally{}
	owned := map[string]int{}
	for _, p := range byID {
		owned[p.owner]++
	}
	w.entrecardByItem = map[string][]entrecardtest.Transaction{}
	for _, tx := range w.ent.Transactions() {
		w.entrecardByItem[tx.ItemID] = append(w.entrecardByItem[tx.ItemID], tx)
	}
	w.checkCreates(byID, owned, v, out)
	w.checkViews(ctx, byID, v, out)
	w.checkEcsterRecords(byID, v, out)

	// No state ran fn twice; fn ran only for the owner's payments.
	st.mu.Lock()
	for k, c := range st.n {
		if c != 1 {
			v.add(vFnTwice, "fn ran %d times for %s", c, k)
		}
	}
	st.mu.Unlock()
	for _, c := range w.hooks.snapshot() {
		if p := byID[c.PaymentID]; p == nil || c.PaymentProvider != p.owner {
			v.add(vFnWrongOwner, "fn ran for %s fetched from %s, owned by %v", c.PaymentID, c.PaymentProvider, p)
		}
	}

	// The figures: who brought each final state, how late, and what it cost in reads.
	lost, sent := map[string]int{}, map[string]int{}
	for _, name := range providerNames {
		for _, d := range w.faults[name].Deliveries() {
			if d.Replay {
				continue
			}
			sent[name]++
			if d.Lost {
				lost[name]++
			}
		}
	}
	var viaPoll, viaHook []time.Duration
	for i, p := range ledger {
		if p == nil || p.owner == "" {
			continue
		}
		s, ok := st.get(finals[p.id])
		if !ok {
			continue
		}
		d := max(0, s.at.Sub(ended[i]))
		if s.event == reconcile.Event {
			viaPoll = append(viaPoll, d)
		} else {
			viaHook = append(viaHook, d)
		}
	}
	stats := rec.Stats()
	reportsMu.Lock()
	nReports := len(reports)
	reportsMu.Unlock()
	t.Logf("soak lost: %d payments ran in %s", n, time.Since(start).Round(time.Millisecond))
	for _, l := range out.lines {
		t.Logf("  %s", l)
	}
	t.Logf("  notifications lost on purpose: ecredits %d of %d, ecster %d of %d, echelon %d of %d, entrecard %d of %d",
		lost[nameECredits], sent[nameECredits], lost[nameEcster], sent[nameEcster], lost[nameEchelon], sent[nameEchelon], lost[nameEntrecard], sent[nameEntrecard])
	t.Logf("  final states that reached fn: %d by a poll, %d by a notification", len(viaPoll), len(viaHook))
	t.Logf("  delay from the end of a payment's last step to fn with its final state: by a poll median %s p99 %s; by a notification median %s p99 %s",
		quantile(viaPoll, 0.5), quantile(viaPoll, 0.99), quantile(viaHook, 0.5), quantile(viaHook, 0.99))
	t.Logf("  reconciler: %d reads for %d payments (%.1f per payment), fn ran for %d states, %d payments final, %d read errors, %d fn errors, %d reported",
		stats.Polls, len(byID), float64(stats.Polls)/float64(max(1, len(byID))), stats.Ran, stats.Final, stats.ReadErrors, stats.FnErrors, nReports)
	for _, inv := range invariants {
		t.Logf("  %s: %d", inv, v.n[inv])
	}
	assertClean(t, v)
	assert.Positive(t, len(viaPoll), "some final states only a poll found")
}

// quantile returns the q-quantile of ds (nearest rank), rounded for the log.
func quantile(ds []time.Duration, q float64) string {
	if len(ds) == 0 {
		return "-"
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := min(len(s)-1, int(q*float64(len(s))))
	return fmt.Sprint(s[i].Round(100 * time.Microsecond))
}

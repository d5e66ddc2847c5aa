package soak_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/echelon"
	"github.com/paykit/paykit/echelon/echelontest"
	"github.com/paykit/paykit/ecredits/ecreditstest"
	"github.com/paykit/paykit/ecster"
	"github.com/paykit/paykit/ecster/ecstertest"
	"github.com/paykit/paykit/entrecard/entrecardtest"
	"github.com/paykit/paykit/internal/fakeserver"
)

// The invariants the soak checks; each counts its violations.
const (
	vCreatedTwice   = "created twice at one provider"
	vTwoProviders   = "found at another provider than its owner, or at none"
	vLost           = "lost (GetPayment through the Router fails or names another owner)"
	vStatus         = "final status or amounts differ from the fake's"
	vAppliedTwice   = "capture, refund or cancel applied other than once"
	vFnTwice        = "fn ran more than once for one event"
	vFnMissed       = "event whose fn never ran successfully"
	vFnWrongOwner   = "fn ran for a payment at a provider that does not own it"
	vUndelivered    = "notification never answered 200"
	vMerchantFailed = "merchant or customer step failed"
)

var invariants = []string{vCreatedTwice, vTwoProviders, vLost, vStatus, vAppliedTwice, vFnTwice, vFnMissed, vFnWrongOwner, vUndelivered, vMerchantFailed}

// violations collects what broke, by invariant, with a few examples each.
type violations struct {
	n        map[string]int
	examples map[string][]string
}

func newViolations() *violations {
	return &violations{n: map[string]int{}, examples: map[string][]string{}}
}

func (v *violations) add(inv, format string, args ...any) {
	v.n[inv]++
	if len(v.examples[inv]) < 10 {
		v.examples[inv] = append(v.examples[inv], fmt.Sprintf(format, args...))
	}
}

// settle ends the chaos and waits until every notification of every payment was answered 200.
func (w *world) settle(ctx context.Context, ledger []*payment, v *violations) {
	for _, c := range w.faults {
		c.ClearFaults()
		c.SetLatency(0)
	}
	for _, p := range ledger {
		if p.owner == "" {
			continue
		}
		if err := w.faults[p.owner].WaitDelivered(ctx, p.id); err != nil {
			v.add(vUndelivered, "payment %d (%s at %s): %v", p.n, p.id, p.owner, err)
		}
	}
}

// entrecardTransactions are the buyer's transactions of the item id, oldest first, from the
// index reconcile builds.
func (w *world) entrecardTransactions(id string) []entrecardtest.Transaction {
	return w.entrecardByItem[id]
}

// tally is what the reconciliation counted, for the log.
type tally struct {
	lines []string
}

func (t *tally) addf(format string, args ...any) {
	t.lines = append(t.lines, fmt.Sprintf(format, args...))
}

// reconcile compares every fake's records with the Router's view and the merchant's ledger.
func (w *world) reconcile(ctx context.Context, ledger []*payment, v *violations) *tally {
	out := &tally{}
	w.entrecardByItem = map[string][]entrecardtest.Transaction{}
	for _, t := range w.ent.Transactions() {
		w.entrecardByItem[t.ItemID] = append(w.entrecardByItem[t.ItemID], t)
	}
	byID := make(map[string]*payment, len(ledger))
	owned := map[string]int{}
	eur, eurFailover := 0, 0
	creates := 0
	for _, p := range ledger {
		if p.owner == "" {
			continue // its failure is already a violation
		}
		if q := byID[p.id]; q != nil {
			v.add(vCreatedTwice, "payments %d and %d share id %s", q.n, p.n, p.id)
		}
		byID[p.id] = p
		owned[p.owner]++
		creates += p.creates
		if p.amount.Currency == "EUR" {
			eur++
			if p.owner != p.first {
				eurFailover++
			}
		}
	}
	out.addf("payments by owner: ecredits=%d echelon=%d ecster=%d entrecard=%d; EUR payments failed over from eCredits to EchelonPay: %d of %d",
		owned[nameECredits], owned[nameEchelon], owned[nameEcster], owned[nameEntrecard], eurFailover, eur)
	out.addf("merchant: %d CreatePayment calls for %d payments (%s)", creates, len(byID), strings.Join(w.stats.with("merchant "), ", "))

	w.checkCreates(byID, owned, v, out)
	w.checkViews(ctx, byID, v, out)
	w.checkEcsterRecords(byID, v, out)
	w.checkNotifications(ctx, byID, v, out)

	var faults []string
	for _, name := range providerNames {
		calls := w.faults[name].CallLog()
		hit := map[fakeserver.Fault]int{}
		for _, c := range calls {
			if c.Fault != fakeserver.FaultNone {
				hit[c.Fault]++
			}
		}
		faults = append(faults, fmt.Sprintf("%s %d calls, faulted: fail=%d drop=%d malformed=%d gave-up-while-slow=%d",
			name, len(calls), hit[fakeserver.FaultFail], hit[fakeserver.FaultDrop], hit[fakeserver.FaultMalformed], hit[fakeserver.FaultCanceled]))
	}
	out.addf("calls at the fakes: %s", strings.Join(faults, "; "))
	out.addf("faults queued: %s", strings.Join(w.stats.with("fault "), ", "))
	out.addf("latency changes: %s", strings.Join(w.stats.with("latency "), ", "))
	out.addf("buyer pages (Entrecard): %s", strings.Join(w.stats.with("buyer "), ", "))
	return out
}

// checkCreates counts the creates each fake processed: one per payment it owns, none for an
// id it does not own.
func (w *world) checkCreates(byID map[string]*payment, owned map[string]int, v *violations, out *tally) {
	// eCredits: the id is in the body, so count the processed creates; its fake answers a
	// repeated id 409 without creating.
	ecrCreated, ecr409 := 0, 0
	for _, c := range w.ecr.CallLog() {
		if c.Method == http.MethodPost && c.Route == ecreditstest.RouteRequests {
			switch c.Handled {
			case http.StatusOK:
				ecrCreated++
			case http.StatusConflict:
				ecr409++
			}
		}
	}
	if ecrCreated != owned[nameECredits] {
		v.add(vCreatedTwice, "eCredits processed %d creates for %d payments it owns", ecrCreated, owned[nameECredits])
	}
	// EchelonPay: the id is in the path: count per id.
	echCreated, ech409 := map[string]int{}, 0
	for _, c := range w.ech.CallLog() {
		if c.Method == http.MethodPost && c.Route == echelontest.RoutePayin {
			id, _ := url.PathUnescape(strings.TrimPrefix(c.Path, "/payins/"))
			switch c.Handled {
			case http.StatusOK:
				echCreated[id]++
			case http.StatusConflict:
				ech409++
			}
		}
	}
	for id, n := range echCreated {
		if p := byID[id]; n != 1 || p == nil || p.owner != nameEchelon {
			v.add(vCreatedTwice, "EchelonPay created payin %s %d times (merchant's owner: %v)", id, n, p)
		}
	}
	if len(w.ech.Payins()) != owned[nameEchelon] {
		v.add(vCreatedTwice, "EchelonPay holds %d payins for %d payments it owns", len(w.ech.Payins()), owned[nameEchelon])
	}
	// Ecster: a cart charges no one and may be made again; an order is the payment.
	carts, orders := 0, 0
	for _, c := range w.ecs.CallLog() {
		if c.Route == ecstertest.RouteCarts && c.Handled == http.StatusCreated {
			carts++
		}
	}
	for id, p := range byID {
		if p.owner != nameEcster {
			continue
		}
		n := len(w.ecs.Orders(id))
		orders += n
		if n != 1 {
			v.add(vCreatedTwice, "payment %d (%s): Ecster holds %d orders", p.n, id, n)
		}
	}
	// Entrecard makes nothing at a create (a signed link); the buyer's transactions name the
	// payment.
	for _, t := range w.ent.Transactions() {
		if p := byID[t.ItemID]; p == nil || p.owner != nameEntrecard {
			v.add(vTwoProviders, "Entrecard transaction %s for %s, which Entrecard does not own", t.ID, t.ItemID)
		}
	}
	out.addf("creates processed by the fakes: eCredits %d (+%d answered 409), EchelonPay %d payins (+%d answered 409), Ecster %d carts for %d orders",
		ecrCreated, ecr409, len(echCreated), ech409, carts, orders)

	// Every payment exists at its owner and nowhere else.
	ent, _ := w.router.Provider(nameEntrecard)
	for id, p := range byID {
		var at []string
		if _, ok := w.ecr.Request(id); ok {
			at = append(at, nameECredits)
		}
		if _, ok := w.ech.Payin(id); ok {
			at = append(at, nameEchelon)
		}
		if _, ok := w.ecs.Cart(id); ok {
			at = append(at, nameEcster)
		}
		if _, err := ent.GetPayment(context.Background(), id); err == nil || len(w.entrecardTransactions(id)) > 0 {
			at = append(at, nameEntrecard)
		}
		if len(at) != 1 || at[0] != p.owner {
			v.add(vTwoProviders, "payment %d (%s) owned by %s exists at %v", p.n, id, p.owner, at)
		}
	}
}

// checkViews reads every payment through the Router and compares it with its fake.
func (w *world) checkViews(ctx context.Context, byID map[string]*payment, v *violations, out *tally) {
	r := rand.New(rand.NewPCG(1, 2))
	final := map[paykit.Status]int{}
	for id, p := range byID {
		pay, err := w.read(ctx, r, id)
		if err != nil {
			v.add(vLost, "payment %d (%s at %s): %v", p.n, id, p.owner, err)
			continue
		}
		if pay.Provider != p.owner || pay.ID != id || pay.Amount != p.amount {
			v.add(vLost, "payment %d (%s): the Router shows %s %s for %s, the merchant holds %s for %s", p.n, id, pay.Provider, pay.ID, pay.Amount, p.owner, p.amount)
			continue
		}
		want, captured, refunded := w.fakeStatus(p)
		if pay.Status != want {
			v.add(vStatus, "payment %d (%s at %s, %s): the Router says %s, the fake %s", p.n, id, p.owner, p.outcome, pay.Status, want)
		}
		if captured >= 0 && (pay.Captured.Amount != captured || pay.Refunded.Amount != refunded) {
			v.add(vStatus, "payment %d (%s at %s): the Router shows captured %d refunded %d, the fake %d and %d", p.n, id, p.owner, pay.Captured.Amount, pay.Refunded.Amount, captured, refunded)
		}
		final[pay.Status]++
	}
	var parts []string
	for s, n := range final {
		parts = append(parts, fmt.Sprintf("%s=%d", s, n))
	}
	sort.Strings(parts)
	out.addf("final statuses (Router = fake): %s", strings.Join(parts, " "))
}

// fakeStatus is the payment's status as its fake holds it, in paykit's words, and the
// captured and refunded amounts where the provider has them (-1 otherwise).
func (w *world) fakeStatus(p *payment) (paykit.Status, int64, int64) {
	switch p.owner {
	case nameECredits:
		req, _ := w.ecr.Request(p.id)
		switch {
		case req.Paid():
			return paykit.StatusSucceeded, -1, -1
		case !w.ecr.Now().Before(req.ExpiresAt):
			return paykit.StatusExpired, -1, -1
		}
		return paykit.StatusPending, -1, -1
	case nameEchelon:
		payin, _ := w.ech.Payin(p.id)
		return echelon.ProcessStatus(payin.Status).PaykitStatus(), -1, -1
	case nameEcster:
		o, _ := w.ecs.Order(p.id)
		return o.Status.PaykitStatus(o.DebitedAmount, o.CreditedAmount), int64(o.DebitedAmount), int64(o.CreditedAmount)
	case nameEntrecard:
		// The buyer paid when a transaction completed; otherwise the latest one tells.
		st := paykit.StatusPending
		for _, t := range w.entrecardTransactions(p.id) {
			if st == paykit.StatusSucceeded {
				break
			}
			st = t.Status.PaykitStatus()
		}
		return st, -1, -1
	}
	return paykit.StatusUnknown, -1, -1
}

// checkEcsterRecords compares Ecster's transaction record of each order with what the
// merchant asked: one DEBIT per capture, one CREDIT per refund, one ANNUL per cancel, each
// reference once, amounts adding up.
func (w *world) checkEcsterRecords(byID map[string]*payment, v *violations, out *tally) {
	var debits, credits, annuls, captures, refunds, cancels int
	for id, p := range byID {
		if p.owner != nameEcster {
			continue
		}
		captures += p.captures
		refunds += p.refunds
		cancels += p.cancels
		o, ok := w.ecs.Order(id)
		if !ok {
			continue // counted as a create problem
		}
		count := map[ecster.TransactionType]int{}
		sum := map[ecster.TransactionType]int64{}
		refs := map[string]int{}
		for _, tx := range o.Transactions {
			count[tx.Type]++
			sum[tx.Type] += int64(tx.Amount)
			if tx.TransactionReference != "" {
				refs[tx.TransactionReference]++
			}
		}
		debits += count[ecster.TransactionDebit]
		credits += count[ecster.TransactionCredit]
		annuls += count[ecster.TransactionAnnul]
		for ref, n := range refs {
			if n > 1 {
				v.add(vAppliedTwice, "payment %d (%s): reference %s is on the order %d times", p.n, id, ref, n)
			}
		}
		if count[ecster.TransactionDebit] != p.captures || sum[ecster.TransactionDebit] != p.captured ||
			count[ecster.TransactionCredit] != p.refunds || sum[ecster.TransactionCredit] != p.refunded ||
			count[ecster.TransactionAnnul] != p.cancels {
			v.add(vAppliedTwice, "payment %d (%s): the merchant made %d captures of %d, %d refunds of %d, %d cancels; the order records %d debits of %d, %d credits of %d, %d annuls",
				p.n, id, p.captures, p.captured, p.refunds, p.refunded, p.cancels,
				count[ecster.TransactionDebit], sum[ecster.TransactionDebit], count[ecster.TransactionCredit], sum[ecster.TransactionCredit], count[ecster.TransactionAnnul])
		}
	}
	out.addf("Ecster: the merchant made %d captures, %d refunds, %d cancels; the orders record %d debits, %d credits, %d annuls",
		captures, refunds, cancels, debits, credits, annuls)
}

// checkNotifications compares what the merchant's function saw with what the providers
// sent. A distinct event is, for Entrecard, one result (transaction_id): its signed identity,
// which the DedupKey carries. Ecster, eCredits and EchelonPay sign no event identity (an
// OEN's fields are unsigned, so a forged or replayed one must not run fn again), so for them
// a distinct event is a distinct fetched state of the payment (status, captured, refunded),
// and the state the payment ended in must be among them.
func (w *world) checkNotifications(ctx context.Context, byID map[string]*payment, v *violations, out *tally) {
	calls := w.hooks.snapshot()
	type key struct{ provider, id, event string }
	ok := map[key]int{}
	failed := 0
	perPayment := map[string]map[string]bool{} // payment id → successful event keys
	for _, c := range calls {
		p := byID[c.PaymentID]
		if p == nil || c.Provider != p.owner || c.PaymentProvider != p.owner {
			v.add(vFnWrongOwner, "fn ran for %s at %s (fetched from %s), owned by %v", c.PaymentID, c.Provider, c.PaymentProvider, p)
			continue
		}
		if c.Failed {
			failed++
			continue
		}
		ev := c.DedupKey
		if ev == "" {
			ev = "state " + c.State
		}
		ok[key{c.Provider, c.PaymentID, ev}]++
		if perPayment[c.PaymentID] == nil {
			perPayment[c.PaymentID] = map[string]bool{}
		}
		perPayment[c.PaymentID][ev] = true
	}
	for k, n := range ok {
		if n != 1 {
			v.add(vFnTwice, "fn ran %d times for %s %s event %q", n, k.provider, k.id, k.event)
		}
	}

	// What the providers sent.
	sent := map[string]map[string]bool{} // payment id → distinct events (Ecster, Entrecard)
	originals, replays, attempts := 0, 0, 0
	for _, name := range providerNames {
		for _, d := range w.faults[name].Deliveries() {
			attempts += len(d.Attempts)
			if d.Replay {
				replays++
				continue
			}
			originals++
			if !d.Delivered {
				v.add(vUndelivered, "%s notification %d (%s) of %s: %d attempts", name, d.Seq, d.Event, d.PaymentID, len(d.Attempts))
			}
			ev := ""
			switch name {
			case nameEntrecard:
				u, err := url.Parse(d.URL)
				if err != nil {
					continue
				}
				ev = u.Query().Get("transaction_id")
			default:
				continue
			}
			if sent[d.PaymentID] == nil {
				sent[d.PaymentID] = map[string]bool{}
			}
			sent[d.PaymentID][ev] = true
		}
	}

	distinct := 0
	r := rand.New(rand.NewPCG(3, 4))
	for id, p := range byID {
		switch p.owner {
		case nameEntrecard:
			want, got := len(sent[id]), len(perPayment[id])
			distinct += want
			if got != want {
				v.add(vFnMissed, "payment %d (%s at %s): %d distinct events sent, fn ran successfully for %d", p.n, id, p.owner, want, got)
			}
			// Every transaction the buyer made was notified.
			for _, t := range w.entrecardTransactions(id) {
				if !sent[id][t.ID] {
					v.add(vFnMissed, "payment %d (%s): Entrecard transaction %s was never notified", p.n, id, t.ID)
				}
			}
		default:
			distinct += len(perPayment[id])
			pay, err := w.read(ctx, r, id)
			if err != nil {
				continue // counted as lost
			}
			if !perPayment[id]["state "+paykit.PaymentStateKey(pay)] {
				v.add(vFnMissed, "payment %d (%s at %s): fn never ran for the state it ended in (%s); it saw %v", p.n, id, p.owner, pay.Status, perPayment[id])
			}
		}
	}
	succeeded := len(calls) - failed
	out.addf("notifications: %d sent (all answered 200: %t) in %d attempts, %d duplicates replayed (%s)",
		originals, v.n[vUndelivered] == 0, attempts, replays, strings.Join(w.stats.with("replay "), ", "))
	out.addf("fn: %d runs, %d failed on purpose (redelivered), %d succeeded for %d distinct events (Entrecard results by identity, Ecster, eCredits and EchelonPay by fetched state)",
		len(calls), failed, succeeded, distinct)
}

// assertClean fails t for every invariant that broke, with examples.
func assertClean(t *testing.T, v *violations) {
	t.Helper()
	for _, inv := range invariants {
		assert.Zero(t, v.n[inv], "%s: %d, e.g.\n%s", inv, v.n[inv], strings.Join(v.examples[inv], "\n"))
	}
}

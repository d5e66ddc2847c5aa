package soak_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/echelon"
	"github.com/paykit/paykit/ecredits"
	"github.com/paykit/paykit/ecredits/ecreditstest"
	"github.com/paykit/paykit/ecster"
	"github.com/paykit/paykit/ecster/ecstertest"
	"github.com/paykit/paykit/entrecard"
	"github.com/paykit/paykit/entrecard/entrecardtest"
)

// payment is one checkout as the merchant's database holds it: the id stored before any
// call, the provider that took it, and what the merchant's successful operations confirmed.
type payment struct {
	n      int
	amount paykit.Money
	items  []paykit.Item
	id     string
	first  string // the provider the rules try first
	owner  string // the provider the successful create named
	link   string // Entrecard's buy link (Action.URL)

	creates            int // CreatePayment calls until one succeeded
	captured, refunded int64
	captures, refunds  int // successful Capture and Refund calls
	cancels            int
	outcome            string // what the customer did
	ops                int    // operations the merchant started: numbers its operation keys
}

// maxRepeats bounds how often the merchant repeats one operation before the soak fails:
// the faults are random, but not that persistent.
const maxRepeats = 50

// transient reports whether err leaves the operation to be repeated (with the same id):
// the provider was unavailable, its answer was lost or unreadable, it refused for now, or
// the merchant's own deadline for the call (not ctx, the soak's) ended it on the way.
func transient(ctx context.Context, err error) bool {
	return errors.Is(err, paykit.ErrUnavailable) || errors.Is(err, paykit.ErrRateLimited) ||
		(errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil)
}

// callCtx is the context of one merchant call: now and then a short deadline, as a checkout
// page's request that gives up, ending the call wherever it is (before, during or after the
// provider processed it).
func callCtx(ctx context.Context, r *rand.Rand) (context.Context, context.CancelFunc) {
	if r.IntN(100) < 8 {
		return context.WithTimeout(ctx, time.Duration(1+r.IntN(20))*time.Millisecond)
	}
	return context.WithCancel(ctx)
}

// newPayment picks the n-th checkout: a currency by the shop's mix, an amount, and items.
func newPayment(r *rand.Rand, n int) *payment {
	p := &payment{n: n}
	cur, amount := "", int64(0)
	switch x := r.IntN(100); {
	case x < 28:
		cur, amount = "SEK", 100_00+r.Int64N(5000_00)
	case x < 42:
		cur, amount = "INR", 100_00+r.Int64N(50_000_00)
	case x < 50:
		cur, amount = "IDR", 10_000_00+r.Int64N(1_000_000_00)
	case x < 68:
		cur, amount = "EUR", 5_00+r.Int64N(500_00)
	case x < 80:
		cur, amount = "ECS", 1_00+r.Int64N(1000_00)
	default:
		cur, amount = entrecard.Currency, 2+r.Int64N(500)
	}
	p.amount = paykit.Money{Amount: amount, Currency: cur}
	if cur == "SEK" {
		// Ecster needs rows with a VAT rate: a few articles and the rest as shipping.
		unit := max(1, amount/int64(2+r.IntN(3)))
		qty := int(amount / unit)
		p.items = []paykit.Item{{Reference: "ART-" + strconv.Itoa(n), Name: "Article", Quantity: qty, UnitAmount: paykit.Money{Amount: unit, Currency: cur}, VATRate: 2500}}
		if rest := amount - int64(qty)*unit; rest > 0 {
			p.items = append(p.items, paykit.Item{Reference: "SHIP", Name: "Shipping", Quantity: 1, UnitAmount: paykit.Money{Amount: rest, Currency: cur}, VATRate: 2500})
		}
	}
	return p
}

// newIDFor is the id the merchant stores before the call, in the form the provider the rules
// try first takes (a failover keeps it: EUR's second provider takes a GUID too).
func newIDFor(provider string) string {
	switch provider {
	case nameEntrecard:
		return entrecard.NewID()
	case nameEchelon:
		return echelon.NewID()
	case nameEcster:
		return ecster.NewID()
	}
	return ecredits.NewID()
}

// run plays one checkout: the merchant creates the payment, the customer acts at the
// provider that took it, the merchant captures, refunds or cancels where the provider can,
// and the provider sends duplicates and stale copies of its notifications.
func (w *world) run(ctx context.Context, r *rand.Rand, p *payment) error {
	if err := w.create(ctx, r, p); err != nil {
		return err
	}
	if err := w.customer(ctx, r, p); err != nil {
		return fmt.Errorf("payment %d (%s at %s): customer: %w", p.n, p.id, p.owner, err)
	}
	if err := w.merchantAfter(ctx, r, p); err != nil {
		return fmt.Errorf("payment %d (%s at %s): %w", p.n, p.id, p.owner, err)
	}
	if err := w.duplicates(ctx, r, p); err != nil {
		return fmt.Errorf("payment %d (%s at %s): replays: %w", p.n, p.id, p.owner, err)
	}
	return nil
}

// create is the merchant's CreatePayment: the id is stored before the call (the provider's
// NewID, or, when the merchant lets the Router make one, the id from the first answer or
// error), and after a transient error the create is repeated with that same id until it
// succeeds.
func (w *world) create(ctx context.Context, r *rand.Rand, p *payment) error {
	req := paykit.PaymentRequest{
		Amount:      p.amount,
		Items:       p.items,
		Description: "Soak order " + strconv.Itoa(p.n),
		ReturnURL:   w.shop.URL + "/return",
		CancelURL:   w.shop.URL + "/cancel",
		// The Router names the provider that takes the payment: after a failover, that
		// provider notifies its own endpoint.
		NotifyURL: w.shop.URL + "/webhooks/" + paykit.NotifyPlaceholder,
	}
	cands := w.router.Candidates(req)
	if len(cands) == 0 {
		return fmt.Errorf("payment %d: no route for %s", p.n, p.amount)
	}
	p.first = cands[0]
	if r.IntN(2) == 0 {
		req.ID = newIDFor(p.first)
		p.id = req.ID
	}
	if p.amount.Currency == "EUR" && r.IntN(100) < 35 {
		// eCredits is refusing creates for now: three 429s, as many as the client's
		// attempts, make this create (or another one that takes some of them) fail over.
		w.ecr.FailNext(3, http.StatusTooManyRequests, ecreditstest.OnRoute(http.MethodPost, ecreditstest.RouteRequests))
		w.stats.add("fault ecredits 429 on create (failover)", 1)
	}
	for attempt := 1; ; attempt++ {
		if attempt > maxRepeats {
			return fmt.Errorf("payment %d (%s): create still failing after %d calls", p.n, p.id, maxRepeats)
		}
		if attempt == 1 {
			w.maybeStrike(r, p.first)
		}
		cctx, cancel := callCtx(ctx, r)
		pay, err := w.router.CreatePayment(cctx, req)
		cancel()
		p.creates++
		if err == nil {
			if p.id == "" {
				p.id = pay.ID
			}
			switch {
			case pay.ID != p.id:
				return fmt.Errorf("payment %d: created with id %s, the merchant stored %s", p.n, pay.ID, p.id)
			case pay.Amount != p.amount:
				return fmt.Errorf("payment %d (%s): created for %s, asked %s", p.n, p.id, pay.Amount, p.amount)
			case pay.Status != paykit.StatusPending:
				return fmt.Errorf("payment %d (%s): created %s, not pending", p.n, p.id, pay.Status)
			}
			p.owner = pay.Provider
			if pay.Action != nil {
				p.link = pay.Action.URL
			}
			if attempt > 1 {
				w.stats.add("merchant create repeated", attempt-1)
			}
			return nil
		}
		var pe *paykit.Error
		if !errors.As(err, &pe) || pe.PaymentID == "" {
			return fmt.Errorf("payment %d: create failed without naming the payment id: the id is lost: %v", p.n, err)
		}
		if p.id == "" {
			p.id, req.ID = pe.PaymentID, pe.PaymentID // stored now, before any repeat
		} else if pe.PaymentID != p.id {
			return fmt.Errorf("payment %d: the create's error names id %s, the merchant stored %s", p.n, pe.PaymentID, p.id)
		}
		if !transient(ctx, err) {
			return fmt.Errorf("payment %d (%s): create: %w", p.n, p.id, err)
		}
		w.stats.add("merchant create error "+kindOf(err), 1)
		pause(r)
	}
}

// customer plays the customer at the provider that took the payment, through the fake's
// control methods (which faults never touch, except Entrecard's pages, which are the
// buyer's own HTTP).
func (w *world) customer(ctx context.Context, r *rand.Rand, p *payment) error {
	x := r.IntN(100)
	switch p.owner {
	case nameECredits:
		switch {
		case x < 15:
			p.outcome = "expired"
			return w.ecr.Expire(p.id)
		case x < 25:
			p.outcome = "paid twice"
			if _, err := w.ecr.Pay(p.id); err != nil {
				return err
			}
			_, err := w.ecr.Pay(p.id)
			return err
		}
		p.outcome = "paid"
		_, err := w.ecr.Pay(p.id)
		return err
	case nameEchelon:
		switch {
		case x < 8:
			p.outcome = "processed, paid"
			if err := w.ech.Process(p.id); err != nil {
				return err
			}
		case x < 16:
			p.outcome = "failed"
			return w.ech.Fail(p.id)
		case x < 23:
			p.outcome = "expired"
			return w.ech.Expire(p.id)
		case x < 30:
			p.outcome = "cancelled"
			return w.ech.Cancel(p.id)
		default:
			p.outcome = "paid"
		}
		_, err := w.ech.Pay(p.id)
		return err
	case nameEcster:
		switch {
		case x < 8:
			p.outcome = "declined"
			return w.ecs.Decline(p.id)
		case x < 15:
			p.outcome = "aborted"
			return w.ecs.Abort(p.id)
		}
		p.outcome = "paid"
		_, err := w.ecs.Pay(p.id)
		return err
	case nameEntrecard:
		return w.entrecardBuyer(ctx, r, p, x)
	}
	return fmt.Errorf("unknown owner %q", p.owner)
}

// entrecardBuyer is the buyer's browser at Entrecard: it opens the buy link and confirms or
// cancels, and, being a person, looks at their Entrecard account after an error page before
// trying again (it never pays twice for one click).
func (w *world) entrecardBuyer(ctx context.Context, r *rand.Rand, p *payment, x int) error {
	if p.link == "" {
		return errors.New("no buy link")
	}
	if err := w.page(r, func() error { _, err := w.ent.Open(ctx, p.link); return err }, nil); err != nil {
		return fmt.Errorf("open: %w", err)
	}
	// The buyer's account shows the latest purchase of the item: a new one means the page
	// processed the step even if its answer was lost.
	latest := func() string {
		t, _ := w.ent.Transaction(p.id)
		return t.ID
	}
	switch {
	case x < 10:
		p.outcome = "cancelled"
		before := latest()
		return w.page(r, func() error { return w.ent.Cancel(ctx, p.id, entrecardtest.DefaultBuyer) }, func() bool { return latest() != before })
	case x < 20:
		// Too few credits first: a failed result, then the buyer pays from another account.
		p.outcome = "failed, paid"
		before := latest()
		if err := w.page(r, func() error { return w.ent.Confirm(ctx, p.id, poorBuyer) }, func() bool { return latest() != before }); err != nil {
			return err
		}
	default:
		p.outcome = "paid"
	}
	before := latest()
	return w.page(r, func() error { _, err := w.ent.Pay(p.id); return err }, func() bool { return latest() != before })
}

// page runs a step of the buyer's browser, striking Entrecard's pages first now and then;
// after an error it tries again unless done says the step happened (the page processed it
// and the answer was lost).
func (w *world) page(r *rand.Rand, step func() error, done func() bool) error {
	for attempt := 1; attempt <= maxRepeats; attempt++ {
		if attempt == 1 {
			w.maybeStrike(r, nameEntrecard)
		}
		err := step()
		if err == nil {
			return nil
		}
		if done != nil && done() {
			w.stats.add("buyer page processed, answer lost", 1)
			return nil
		}
		w.stats.add("buyer page error", 1)
		pause(r)
	}
	return fmt.Errorf("the buyer's page kept failing")
}

// merchantAfter is what the merchant does once the customer acted: at Ecster, capture (in
// part and in full), refund in part, or cancel what is not captured; elsewhere nothing but,
// now and then, a capture that the Router must refuse as the owner's ErrUnsupported.
func (w *world) merchantAfter(ctx context.Context, r *rand.Rand, p *payment) error {
	if p.owner != nameEcster {
		if r.IntN(100) < 5 {
			_, err := w.router.Capture(ctx, p.id, paykit.Money{})
			if !errors.Is(err, paykit.ErrUnsupported) {
				return fmt.Errorf("capture at %s: want ErrUnsupported, got %v", p.owner, err)
			}
			w.stats.add("merchant capture unsupported", 1)
		}
		return nil
	}
	if p.outcome != "paid" {
		return nil
	}
	sek := func(a int64) paykit.Money { return paykit.Money{Amount: a, Currency: p.amount.Currency} }
	total := p.amount.Amount
	half := max(1, total/2)
	steps := []func() error{}
	capture := func(m paykit.Money) func() error { return func() error { return w.operate(ctx, r, p, "capture", m) } }
	refund := func(m paykit.Money) func() error { return func() error { return w.operate(ctx, r, p, "refund", m) } }
	cancel := func() error { return w.operate(ctx, r, p, "cancel", paykit.Money{}) }
	switch x := r.IntN(100); {
	case x < 25: // everything ships at once; one article comes back
		steps = append(steps, capture(paykit.Money{}), refund(sek(max(1, total/3))))
	case x < 50: // two shipments, then a return
		steps = append(steps, capture(sek(half)), capture(paykit.Money{}), refund(sek(max(1, half/2))))
	case x < 65: // one shipment, the rest is out of stock
		steps = append(steps, capture(sek(half)), cancel)
	case x < 75: // a return between two shipments
		steps = append(steps, capture(sek(half)), refund(sek(max(1, half/3))), capture(paykit.Money{}))
	case x < 85: // the order is cancelled before shipping
		steps = append(steps, cancel)
	default: // not shipped yet: stays authorized
	}
	for _, s := range steps {
		if err := s(); err != nil {
			return err
		}
	}
	return nil
}

// unknownOutcomeGrace is how long the merchant waits after a capture, refund or cancel whose
// outcome is unknown before reading the payment to decide whether to send it again: longer
// than a request abandoned by its caller can take to reach the fake and be processed.
const unknownOutcomeGrace = time.Second

// operate runs one capture, refund or cancel through the Router the way Ecster's doc asks:
// after a transient error the outcome is unknown, so the merchant reads the payment before
// deciding to send the operation again ("Capture takes an amount, not an idempotency key, so
// a second call is a second capture"), and repeats it, with the same id and amount, only
// when the payment does not show it. Unlike the doc it waits unknownOutcomeGrace first.
func (w *world) operate(ctx context.Context, r *rand.Rand, p *payment, op string, m paykit.Money) error {
	if w.keyed {
		return w.operateKeyed(ctx, r, p, op, m)
	}
	wantCaptured, wantRefunded, landed := p.expect(op, m)
	w.maybeUnknownOutcome(r, op)
	for attempt := 1; attempt <= maxRepeats; attempt++ {
		if attempt == 1 {
			w.maybeStrike(r, nameEcster)
		}
		var pay *paykit.Payment
		var err error
		cctx, cancel := callCtx(ctx, r)
		switch op {
		case "capture":
			pay, err = w.router.Capture(cctx, p.id, m)
		case "refund":
			pay, err = w.router.Refund(cctx, p.id, m)
		default:
			pay, err = w.router.Cancel(cctx, p.id)
		}
		cancel()
		if err == nil {
			if pay.Captured.Amount != wantCaptured || pay.Refunded.Amount != wantRefunded || !landed(pay) {
				return fmt.Errorf("%s %s: the payment shows captured %s, refunded %s (%s); the merchant expects %d and %d",
					op, m, pay.Captured, pay.Refunded, pay.ProviderStatus, wantCaptured, wantRefunded)
			}
			p.captured, p.refunded = pay.Captured.Amount, pay.Refunded.Amount
			w.counted(p, op)
			return nil
		}
		if !transient(ctx, err) {
			return fmt.Errorf("%s %s: %w", op, m, err)
		}
		w.stats.add("merchant "+op+" error "+kindOf(err), 1)
		// A transaction that was on its way when the call failed may land after a read made
		// at once (Ecster has no idempotency keys; see ecster's doc, "Retries"): wait until it
		// can no longer be in flight, then read.
		time.Sleep(unknownOutcomeGrace)
		got, err := w.read(ctx, r, p.id)
		if err != nil {
			return fmt.Errorf("%s %s: reading the payment after an error: %w", op, m, err)
		}
		if landed(got) {
			if got.Captured.Amount != wantCaptured || got.Refunded.Amount != wantRefunded {
				return fmt.Errorf("%s %s: after an error the payment shows captured %s, refunded %s; the merchant expects %d and %d",
					op, m, got.Captured, got.Refunded, wantCaptured, wantRefunded)
			}
			p.captured, p.refunded = got.Captured.Amount, got.Refunded.Amount
			w.counted(p, op)
			w.stats.add("merchant "+op+" landed despite the error", 1)
			return nil
		}
		w.stats.add("merchant "+op+" repeated", 1)
		pause(r)
	}
	return fmt.Errorf("%s %s: still failing after %d calls", op, m, maxRepeats)
}

// expect is what the payment must show once op with m has happened, and how to tell that it
// has.
func (p *payment) expect(op string, m paykit.Money) (wantCaptured, wantRefunded int64, landed func(*paykit.Payment) bool) {
	wantCaptured, wantRefunded = p.captured, p.refunded
	switch op {
	case "capture":
		if m.Amount == 0 {
			wantCaptured = p.amount.Amount // all that remains: nothing was annulled before
		} else {
			wantCaptured += m.Amount
		}
	case "refund":
		wantRefunded += m.Amount
	}
	landed = func(pay *paykit.Payment) bool {
		switch op {
		case "capture":
			return pay.Captured.Amount >= wantCaptured
		case "refund":
			return pay.Refunded.Amount >= wantRefunded
		}
		return pay.ProviderStatus == string(ecster.OrderAnnulled) || pay.ProviderStatus == string(ecster.OrderFullyDelivered)
	}
	return wantCaptured, wantRefunded, landed
}

// maybeUnknownOutcome now and then arranges the worst case for the next capture or refund:
// the transaction goes through, its answer is lost, and the order cannot be read to tell.
// The outcome is unknown to the client.
func (w *world) maybeUnknownOutcome(r *rand.Rand, op string) {
	if op != "cancel" && r.IntN(100) < 10 {
		w.ecs.DropNext(1, ecstertest.OnRoute(http.MethodPost, ecstertest.RouteTransactions))
		w.ecs.FailNext(3, http.StatusServiceUnavailable, ecstertest.OnRoute(http.MethodGet, ecstertest.RouteOrder))
		w.stats.add("fault ecster unknown outcome (drop, then the order unreadable)", 1)
	}
}

// operateKeyed runs one capture, refund or cancel with an operation key, the way the README
// asks: the merchant stores the key with the operation before the first call, and after an
// error of unknown outcome repeats the call with the same key, reading nothing to decide. A
// third of the repeats come from a new ecster Client, as after a restart of the merchant's
// process. Like a merchant's retry queue it waits unknownOutcomeGrace before a repeat, so
// that the attempt it repeats has ended (Ecster itself holds no key: a repeat racing an
// attempt still in flight is the gap the README names).
func (w *world) operateKeyed(ctx context.Context, r *rand.Rand, p *payment, op string, m paykit.Money) error {
	p.ops++
	key := paykit.IdempotencyKey(fmt.Sprintf("shop-%d-%s-%d", p.n, op, p.ops))
	wantCaptured, wantRefunded, landed := p.expect(op, m)
	w.maybeUnknownOutcome(r, op)
	var via paykit.Provider = w.router
	for attempt := 1; attempt <= maxRepeats; attempt++ {
		if attempt == 1 {
			w.maybeStrike(r, nameEcster)
		}
		var pay *paykit.Payment
		var err error
		cctx, cancel := callCtx(ctx, r)
		switch op {
		case "capture":
			pay, err = via.Capture(cctx, p.id, m, key)
		case "refund":
			pay, err = via.Refund(cctx, p.id, m, key)
		default:
			pay, err = via.Cancel(cctx, p.id, key)
		}
		cancel()
		if err == nil {
			if pay.Captured.Amount != wantCaptured || pay.Refunded.Amount != wantRefunded || !landed(pay) {
				return fmt.Errorf("keyed %s %s (attempt %d): the payment shows captured %s, refunded %s (%s); the merchant expects %d and %d",
					op, m, attempt, pay.Captured, pay.Refunded, pay.ProviderStatus, wantCaptured, wantRefunded)
			}
			p.captured, p.refunded = pay.Captured.Amount, pay.Refunded.Amount
			w.counted(p, op)
			if attempt > 1 {
				w.stats.add("merchant keyed "+op+" repeated to success", 1)
			}
			return nil
		}
		if !transient(ctx, err) {
			return fmt.Errorf("keyed %s %s (attempt %d): %w", op, m, attempt, err)
		}
		w.stats.add("merchant "+op+" error "+kindOf(err), 1)
		time.Sleep(unknownOutcomeGrace)
		via = w.router
		if r.IntN(3) == 0 {
			restarted, err := w.newEcster()
			if err != nil {
				return err
			}
			via = restarted
			w.stats.add("merchant keyed "+op+" repeated after a restart", 1)
		} else {
			w.stats.add("merchant keyed "+op+" repeated", 1)
		}
	}
	return fmt.Errorf("keyed %s %s: still failing after %d calls", op, m, maxRepeats)
}

func (w *world) counted(p *payment, op string) {
	switch op {
	case "capture":
		p.captures++
	case "refund":
		p.refunds++
	default:
		p.cancels++
	}
	w.stats.add("merchant "+op, 1)
}

// read is the merchant's GetPayment through the Router, repeated while it fails transiently.
func (w *world) read(ctx context.Context, r *rand.Rand, id string) (*paykit.Payment, error) {
	for attempt := 1; ; attempt++ {
		pay, err := w.router.GetPayment(ctx, id)
		if err == nil || !transient(ctx, err) || attempt >= maxRepeats {
			return pay, err
		}
		pause(r)
	}
}

// duplicates makes the provider send the payment's notifications again: the latest one once
// or twice at the same moment (Redeliver, racing), and an older one, stale now, out of order.
func (w *world) duplicates(ctx context.Context, r *rand.Rand, p *payment) error {
	c := w.faults[p.owner]
	if x := r.IntN(100); x < 30 {
		n := 1 + r.IntN(2)
		var wg sync.WaitGroup
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// An error is a duplicate that got no answer (a fault on the fetch answers
				// 503, which is not an error here): it is lost, as duplicates may be.
				if _, err := c.Redeliver(ctx, p.id); err != nil {
					w.stats.add("replay latest, no answer", 1)
				}
			}()
		}
		wg.Wait()
		w.stats.add("replay latest (Redeliver)", n)
	}
	if r.IntN(100) < 15 {
		var mine []int
		ds := c.Deliveries()
		for i, d := range ds {
			if !d.Replay && !d.Lost && d.PaymentID == p.id && d.URL != "" {
				mine = append(mine, i)
			}
		}
		if len(mine) > 0 {
			d := ds[mine[r.IntN(len(mine))]]
			req, err := http.NewRequestWithContext(ctx, d.Method, d.URL, bytes.NewReader(d.Body))
			if err != nil {
				return err
			}
			req.Header = d.Header.Clone()
			if resp, err := w.shop.Client().Do(req); err == nil {
				resp.Body.Close()
				w.stats.add(fmt.Sprintf("replay older, answered %d", resp.StatusCode), 1)
			}
		}
	}
	return nil
}

// pause is the merchant's short wait before repeating a call.
func pause(r *rand.Rand) { time.Sleep(time.Duration(1+r.IntN(5)) * time.Millisecond) }

// kindOf names the sentinel an error matches, for the counts.
func kindOf(err error) string {
	for _, k := range []error{paykit.ErrRateLimited, paykit.ErrUnavailable, context.DeadlineExceeded, paykit.ErrNotFound, paykit.ErrConflict} {
		if errors.Is(err, k) {
			return k.Error()
		}
	}
	return "other"
}

func itoa(n int) string { return strconv.Itoa(n) }

package ecster_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/ecster"
	"github.com/paykit/paykit/ecster/ecstertest"
)

// replicaOp is one capture or refund the merchant means.
type replicaOp struct {
	payment string
	typ     ecster.TransactionType // DEBIT (capture) or CREDIT (refund)
	amount  int64
	key     string // "" for an operation without a key
	client  int    // the replica that makes the first call

	// What happened, as the merchant learned it.
	ok       bool  // the call (or, keyed, one of its repeats) reported success
	err      error // the last error of an unkeyed call
	attempts int   // calls made (keyed: the first and its repeats)
}

// randomBase finds the reference an unkeyed call's error names ("<id>-<TYPE>-r<hex>", the
// parts of a split refund included): the merchant looks for it on the order.
var randomBase = regexp.MustCompile(`-(DEBIT|CREDIT)-r[0-9a-f]{16}`)

// Three replicas of one merchant (Client values sharing nothing but the fake), concurrent
// keyed and unkeyed captures and refunds on the same payments, under faults: 503s that
// processed nothing, connections dropped after processing, failed order reads, slow answers.
// Keyed operations are repeated after any failure, from another replica, and repeated once
// more after success from a new Client (a restart). At the end the fake's debits and credits
// are exactly what the merchant meant: each keyed operation once, each unkeyed success once,
// each unkeyed failure whose reference is on the order once (and none that is not), and no
// call reported success for an operation that did not happen.
func TestReplicasUnderFaultsMoveExactlyWhatWasMeant(t *testing.T) {
	t.Parallel()
	srv := ecstertest.NewServer(ecstertest.Config{})
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	replicas := []*ecster.Client{newClient(t, srv), newClient(t, srv), newClient(t, srv)}

	const payments, amount = 6, 10000
	var ids []string
	for range payments {
		p, err := replicas[0].CreatePayment(ctx, request(ecster.NewID(), amount))
		require.NoError(t, err)
		mustPay(t, srv, p.ID)
		ids = append(ids, p.ID)
	}

	// Phase one: four captures of 1000 per payment, two keyed; phase two: three refunds of
	// 600 per payment, two keyed. The keyed captures alone (2000) cover the refunds (1800),
	// whatever happens to the unkeyed ones, and 600 after 600 on debits of 1000 splits.
	var captures, refunds []*replicaOp
	for p, id := range ids {
		for i := range 4 {
			op := &replicaOp{payment: id, typ: ecster.TransactionDebit, amount: 1000, client: (p + i) % 3}
			if i%2 == 0 {
				op.key = fmt.Sprintf("capture-%d-%d", p, i)
			}
			captures = append(captures, op)
		}
		for i := range 3 {
			op := &replicaOp{payment: id, typ: ecster.TransactionCredit, amount: 600, client: (p + i + 1) % 3}
			if i != 1 {
				op.key = fmt.Sprintf("refund-%d-%d", p, i)
			}
			refunds = append(refunds, op)
		}
	}

	faults := func() {
		srv.FailNext(6, http.StatusServiceUnavailable, postTx) // not processed
		srv.DropNext(6, postTx)                                // processed, answer lost
		srv.FailNext(9, http.StatusServiceUnavailable, getOrder)
		srv.SetLatency(2 * time.Millisecond)
	}
	run := func(ops []*replicaOp) {
		var wg sync.WaitGroup
		for _, op := range ops {
			wg.Add(1)
			go func() {
				defer wg.Done()
				do := func(c *ecster.Client) error {
					var opts []paykit.CallOption
					if op.key != "" {
						opts = append(opts, paykit.IdempotencyKey(op.key))
					}
					var err error
					if op.typ == ecster.TransactionDebit {
						_, err = c.Capture(ctx, op.payment, sek(op.amount), opts...)
					} else {
						_, err = c.Refund(ctx, op.payment, sek(op.amount), opts...)
					}
					return err
				}
				if op.key == "" {
					op.err = do(replicas[op.client])
					op.ok = op.err == nil
					return
				}
				// Keyed: repeat after any failure, each time from the next replica.
				for attempt := 0; attempt < 12 && !op.ok; attempt++ {
					err := do(replicas[(op.client+attempt)%3])
					op.attempts++
					assert.NotErrorIs(t, err, paykit.ErrConflict, "%s", op.key)
					op.ok = err == nil
				}
			}()
		}
		wg.Wait()
		srv.ClearFaults()
		srv.SetLatency(0)
	}
	faults()
	run(captures)
	faults()
	run(refunds)

	// Every keyed operation succeeded in the end, and a repeat from a restarted client sends
	// nothing.
	posts := srv.Calls(http.MethodPost, ecstertest.RouteTransactions)
	restarted := newClient(t, srv)
	for _, op := range append(append([]*replicaOp(nil), captures...), refunds...) {
		if op.key == "" {
			continue
		}
		require.True(t, op.ok, "keyed %s never succeeded", op.key)
		var err error
		if op.typ == ecster.TransactionDebit {
			_, err = restarted.Capture(ctx, op.payment, sek(op.amount), paykit.IdempotencyKey(op.key))
		} else {
			_, err = restarted.Refund(ctx, op.payment, sek(op.amount), paykit.IdempotencyKey(op.key))
		}
		require.NoError(t, err, op.key)
	}
	assert.Equal(t, posts, srv.Calls(http.MethodPost, ecstertest.RouteTransactions), "the restart's repeats sent nothing")

	for _, id := range ids {
		txs := srv.Transactions(id)
		o, _ := srv.Order(id)
		for _, typ := range []ecster.TransactionType{ecster.TransactionDebit, ecster.TransactionCredit} {
			onFake := ofType(txs, typ)
			claimed := map[int]bool{} // index in onFake → accounted for by an operation
			claim := func(match func(ref string) bool) (n int, a ecster.Amount) {
				for i, tx := range onFake {
					if match(tx.TransactionReference) {
						assert.False(t, claimed[i], "%s claimed twice", tx.TransactionReference)
						claimed[i] = true
						n++
						a += tx.Amount
					}
				}
				return n, a
			}
			var unkeyedOK int64
			var unkeyedOKCount int
			for _, op := range append(append([]*replicaOp(nil), captures...), refunds...) {
				if op.payment != id || op.typ != typ {
					continue
				}
				switch {
				case op.key != "":
					base := ecster.TransactionReference(id, typ, op.key)
					n, a := claim(func(ref string) bool { return ref == base || strings.HasPrefix(ref, base+".") })
					assert.Equal(t, ecster.Amount(op.amount), a, "keyed %s moved its amount once", op.key)
					if typ == ecster.TransactionDebit {
						assert.Equal(t, 1, n, "keyed %s: one DEBIT", op.key)
					}
				case op.ok:
					unkeyedOK += op.amount
					unkeyedOKCount++
				default:
					// The merchant checks the fake for the reference the error names.
					m := randomBase.FindString(op.err.Error())
					if m == "" {
						continue // refused before anything could land: nothing to look for
					}
					base := id + m
					// Whatever landed of it (all, nothing, or the first parts of a split
					// refund, as the error says) is accounted for by this failure.
					claim(func(ref string) bool { return ref == base || strings.HasPrefix(ref, base+".") })
				}
			}
			// What is left on the fake is the unkeyed successes: exactly their amount, and
			// each success a transaction (or a split) of its own.
			var rest ecster.Amount
			var restTxs []ecster.Transaction
			for i, tx := range onFake {
				if !claimed[i] {
					rest += tx.Amount
					restTxs = append(restTxs, tx)
					assert.Regexp(t, `^`+regexp.QuoteMeta(id+"-"+string(typ)+"-r")+`[0-9a-f]{16}(\.\d+\.\d+)?$`, tx.TransactionReference)
				}
			}
			assert.Equal(t, ecster.Amount(unkeyedOK), rest, "%s of %s: the unkeyed successes, no more, no less", typ, id)
			bases := map[string]bool{}
			for _, tx := range restTxs {
				bases[strings.SplitN(tx.TransactionReference, ".", 2)[0]] = true
			}
			assert.Len(t, bases, unkeyedOKCount, "%s of %s: one operation per success", typ, id)
		}
		var debits, credits ecster.Amount
		for _, tx := range txs {
			switch tx.Type {
			case ecster.TransactionDebit:
				debits += tx.Amount
			case ecster.TransactionCredit:
				credits += tx.Amount
			}
		}
		assert.Equal(t, debits, o.DebitedAmount)
		assert.Equal(t, credits, o.CreditedAmount)
	}
	var repeated, failed int
	for _, op := range append(captures, refunds...) {
		switch {
		case op.key != "" && op.attempts > 1:
			repeated++
		case op.key == "" && !op.ok:
			failed++
		}
	}
	t.Logf("%d keyed operations repeated after a failure, %d unkeyed calls failed; %d transaction POSTs", repeated, failed, posts)
}

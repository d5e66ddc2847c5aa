package ecster_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/ecster"
	"github.com/paykit/paykit/ecster/ecstertest"
)

var getOrder = ecstertest.OnRoute(http.MethodGet, ecstertest.RouteOrder)

// newClient is another Client of srv sharing nothing with the others: a restart, or a
// replica.
func newClient(t *testing.T, srv *ecstertest.Server, opts ...paykit.Option) *ecster.Client {
	t.Helper()
	c, err := ecster.New(ecster.Config{APIKey: ecstertest.DefaultAPIKey, MerchantKey: ecstertest.DefaultMerchantKey, BaseURL: srv.URL},
		append([]paykit.Option{fastRetry}, opts...)...)
	require.NoError(t, err)
	return c
}

// sum adds up the amounts of txs.
func sum(txs []ecster.Transaction) ecster.Amount {
	var a ecster.Amount
	for _, tx := range txs {
		a += tx.Amount
	}
	return a
}

// loseTheAnswer makes the next transaction POST go through at the fake with its answer lost
// (the connection drops), and the order read that follows fail: the call cannot tell
// whether it happened.
func loseTheAnswer(srv *ecstertest.Server) {
	srv.DropNext(1, postTx)
	srv.FailNext(3, http.StatusServiceUnavailable, getOrder) // every attempt of one read
}

// A refund whose answer is lost and whose follow-up read fails returns an error that says it
// may have happened. The merchant repeats it with the same key: nothing is credited again,
// from this client or from a new one. Without a key the repeat is a second refund: that is
// the documented behaviour, and the reason for keys.
func TestKeyedRefundRepeatedAfterALostAnswerCreditsOnce(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, ecstertest.Config{}, ecster.Config{})
	ctx := ctxT(t)
	id := ordered(t, ctx, srv, c, 10000, ecster.OrderReady)
	_, err := c.Capture(ctx, id, paykit.Money{})
	require.NoError(t, err)
	key := paykit.IdempotencyKey("refund-" + id + "-1")

	before := srv.Calls(http.MethodPost, ecstertest.RouteTransactions)
	loseTheAnswer(srv)
	_, err = c.Refund(ctx, id, sek(5000), key)
	require.ErrorIs(t, err, paykit.ErrUnavailable)
	assert.Contains(t, err.Error(), "may have been processed")
	assert.Contains(t, err.Error(), ecster.TransactionReference(id, ecster.TransactionCredit, "refund-"+id+"-1"))
	posts := srv.Calls(http.MethodPost, ecstertest.RouteTransactions)
	require.Equal(t, before+1, posts)

	p, err := c.Refund(ctx, id, sek(5000), key)
	require.NoError(t, err, "the repeat finds the refund on the order")
	assert.Equal(t, sek(5000), p.Refunded)
	assert.Equal(t, paykit.StatusPartiallyRefunded, p.Status)
	p, err = newClient(t, srv).Refund(ctx, id, sek(5000), key)
	require.NoError(t, err, "a restarted client too")
	assert.Equal(t, sek(5000), p.Refunded)

	credits := ofType(srv.Transactions(id), ecster.TransactionCredit)
	require.Len(t, credits, 1, "one CREDIT")
	assert.Equal(t, ecster.Amount(5000), credits[0].Amount, "50 SEK back for a 50 SEK refund")
	assert.Equal(t, ecster.TransactionReference(id, ecster.TransactionCredit, "refund-"+id+"-1"), credits[0].TransactionReference)
	assert.Equal(t, posts, srv.Calls(http.MethodPost, ecstertest.RouteTransactions), "nothing sent again")

	t.Run("without a key the repeat is a second refund", func(t *testing.T) {
		t.Parallel()
		srv, c := setup(t, ecstertest.Config{}, ecster.Config{})
		ctx := ctxT(t)
		id := ordered(t, ctx, srv, c, 10000, ecster.OrderReady)
		_, err := c.Capture(ctx, id, paykit.Money{})
		require.NoError(t, err)
		loseTheAnswer(srv)
		_, err = c.Refund(ctx, id, sek(5000))
		require.ErrorIs(t, err, paykit.ErrUnavailable)
		p, err := c.Refund(ctx, id, sek(5000))
		require.NoError(t, err)
		assert.Equal(t, sek(10000), p.Refunded)
		assert.Len(t, ofType(srv.Transactions(id), ecster.TransactionCredit), 2, "two calls without a key are two refunds")
	})
}

// A keyed capture, then a new Client (a restart) with the same key: one DEBIT, whether the
// first call's outcome was unknown or a success, and whatever amount form the repeat uses.
func TestKeyedCaptureAcrossARestart(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, ecstertest.Config{}, ecster.Config{})
	ctx := ctxT(t)
	id := ordered(t, ctx, srv, c, 1000, ecster.OrderReady)

	loseTheAnswer(srv)
	_, err := c.Capture(ctx, id, sek(400), paykit.IdempotencyKey("cap-1"))
	require.ErrorIs(t, err, paykit.ErrUnavailable)

	restarted := newClient(t, srv)
	p, err := restarted.Capture(ctx, id, sek(400), paykit.IdempotencyKey("cap-1"))
	require.NoError(t, err)
	assert.Equal(t, sek(400), p.Captured)
	assert.Equal(t, paykit.StatusPartiallyCaptured, p.Status)
	debits := ofType(srv.Transactions(id), ecster.TransactionDebit)
	require.Len(t, debits, 1)
	assert.Equal(t, ecster.TransactionReference(id, ecster.TransactionDebit, "cap-1"), debits[0].TransactionReference)

	// A second keyed capture of all that remains, and its repeats: the repeat with "all"
	// returns the payment as it is (nothing remains, which without the key would be refused).
	p, err = restarted.Capture(ctx, id, paykit.Money{}, paykit.IdempotencyKey("cap-2"))
	require.NoError(t, err)
	assert.Equal(t, paykit.StatusSucceeded, p.Status)
	posts := srv.Calls(http.MethodPost, ecstertest.RouteTransactions)
	for _, cl := range []*ecster.Client{c, restarted, newClient(t, srv)} {
		for _, amount := range []paykit.Money{{}, sek(600)} {
			p, err = cl.Capture(ctx, id, amount, paykit.IdempotencyKey("cap-2"))
			require.NoError(t, err)
			assert.Equal(t, sek(1000), p.Captured)
		}
		p, err = cl.Capture(ctx, id, sek(400), paykit.IdempotencyKey("cap-1"))
		require.NoError(t, err)
		assert.Equal(t, sek(1000), p.Captured, "the payment as it is now")
	}
	assert.Equal(t, posts, srv.Calls(http.MethodPost, ecstertest.RouteTransactions), "no repeat sent anything")
	assert.Len(t, ofType(srv.Transactions(id), ecster.TransactionDebit), 2)

	// A keyed cancel of a fresh payment: once.
	id2 := ordered(t, ctx, srv, c, 1000, ecster.OrderReady)
	loseTheAnswer(srv)
	_, err = c.Cancel(ctx, id2, paykit.IdempotencyKey("cancel"))
	require.Error(t, err)
	p, err = newClient(t, srv).Cancel(ctx, id2, paykit.IdempotencyKey("cancel"))
	require.NoError(t, err)
	assert.Equal(t, paykit.StatusCanceled, p.Status)
	assert.Len(t, ofType(srv.Transactions(id2), ecster.TransactionAnnul), 1)
}

// The same key with another explicit amount is ErrConflict, with nothing sent (not even
// the order read again, past the one the key is looked up in).
func TestSameKeyOtherAmountIsAConflict(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, ecstertest.Config{}, ecster.Config{})
	ctx := ctxT(t)
	id := ordered(t, ctx, srv, c, 1000, ecster.OrderReady)
	_, err := c.Capture(ctx, id, sek(400), paykit.IdempotencyKey("k1"))
	require.NoError(t, err)
	_, err = c.Capture(ctx, id, sek(300))
	require.NoError(t, err)
	_, err = c.Refund(ctx, id, sek(500), paykit.IdempotencyKey("r1")) // split: 400 + 100
	require.NoError(t, err)
	posts := srv.Calls(http.MethodPost, ecstertest.RouteTransactions)

	for name, do := range map[string]func() error{
		"capture 500 with the key of 400": func() error {
			_, err := c.Capture(ctx, id, sek(500), paykit.IdempotencyKey("k1"))
			return err
		},
		"capture 300 from a restart": func() error {
			_, err := newClient(t, srv).Capture(ctx, id, sek(300), paykit.IdempotencyKey("k1"))
			return err
		},
		"refund 400 with the key of a split of 500": func() error {
			_, err := c.Refund(ctx, id, sek(400), paykit.IdempotencyKey("r1"))
			return err
		},
	} {
		err := do()
		require.ErrorIs(t, err, paykit.ErrConflict, name)
		var pe *paykit.Error
		require.ErrorAs(t, err, &pe)
		assert.True(t, pe.Unprocessed, name)
		assert.Equal(t, id, pe.PaymentID, name)
	}
	assert.Equal(t, posts, srv.Calls(http.MethodPost, ecstertest.RouteTransactions), "no transaction POST")

	// The key is per operation: the refund's key on a capture is a capture of its own.
	p, err := c.Capture(ctx, id, sek(100), paykit.IdempotencyKey("r1"))
	require.NoError(t, err)
	assert.Equal(t, sek(800), p.Captured)
}

// A keyed refund split over two debits whose second part failed: the repeat with the same
// key sends only the missing part, whether it names the amount or asks for "all" (which
// means all of that refund, not all that is refundable now). Total credited: the refund.
func TestKeyedSplitRefundCompletedByARepeat(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, ecstertest.Config{}, ecster.Config{})
	ctx := ctxT(t)
	id := ordered(t, ctx, srv, c, 2000, ecster.OrderReady)
	for _, a := range []int64{300, 700, 500} {
		_, err := c.Capture(ctx, id, sek(a))
		require.NoError(t, err)
	}
	var posts int
	c2 := clientWith(t, srv, func(r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/transactions") {
			if posts++; posts == 2 {
				srv.FailNext(3, http.StatusServiceUnavailable, postTx) // every send of part two
			}
		}
	})
	key := paykit.IdempotencyKey("refund-500")
	_, err := c2.Refund(ctx, id, sek(500), key)
	require.ErrorIs(t, err, paykit.ErrUnavailable)
	assert.Contains(t, err.Error(), "300 of the 500 asked was credited before this failed")
	base := ecster.TransactionReference(id, ecster.TransactionCredit, "refund-500")
	assert.Contains(t, err.Error(), base)
	credits := ofType(srv.Transactions(id), ecster.TransactionCredit)
	require.Len(t, credits, 1)
	assert.Equal(t, base+".1.500", credits[0].TransactionReference)

	p, err := newClient(t, srv).Refund(ctx, id, paykit.Money{}, key)
	require.NoError(t, err)
	assert.Equal(t, sek(500), p.Refunded, "only the missing 200, not all that is refundable")
	credits = ofType(srv.Transactions(id), ecster.TransactionCredit)
	require.Len(t, credits, 2)
	assert.Equal(t, base+".2.500", credits[1].TransactionReference)
	assert.Equal(t, ecster.Amount(200), credits[1].Amount)

	before := srv.Calls(http.MethodPost, ecstertest.RouteTransactions)
	for _, amount := range []paykit.Money{{}, sek(500)} {
		p, err = c.Refund(ctx, id, amount, key)
		require.NoError(t, err)
		assert.Equal(t, sek(500), p.Refunded)
	}
	assert.Equal(t, before, srv.Calls(http.MethodPost, ecstertest.RouteTransactions))
	assert.Equal(t, ecster.Amount(500), sum(ofType(srv.Transactions(id), ecster.TransactionCredit)), "total credited is the refund")
}

// The same with the amount named in the repeat, after a split whose second part was refused
// outright (4xx): the repeat completes it.
func TestKeyedSplitRefundRefusedHalfWayThenRepeated(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, ecstertest.Config{}, ecster.Config{})
	ctx := ctxT(t)
	id := ordered(t, ctx, srv, c, 1000, ecster.OrderReady)
	for _, a := range []int64{300, 700} {
		_, err := c.Capture(ctx, id, sek(a))
		require.NoError(t, err)
	}
	var posts int
	c2 := clientWith(t, srv, func(r *http.Request) {
		if r.Method == http.MethodPost {
			if posts++; posts == 2 {
				srv.FailNext(1, http.StatusBadRequest, postTx)
			}
		}
	})
	key := paykit.IdempotencyKey("r")
	_, err := c2.Refund(ctx, id, sek(800), key)
	require.ErrorIs(t, err, paykit.ErrInvalidRequest)
	p, err := c.Refund(ctx, id, sek(800), key)
	require.NoError(t, err)
	assert.Equal(t, sek(800), p.Refunded)
	assert.Equal(t, ecster.Amount(800), sum(ofType(srv.Transactions(id), ecster.TransactionCredit)))
	assert.Equal(t, paykit.StatusPartiallyRefunded, p.Status)
}

// A bad key is ErrInvalidRequest before anything is sent.
func TestBadKeyIsRefused(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, ecstertest.Config{}, ecster.Config{})
	ctx := ctxT(t)
	id := ordered(t, ctx, srv, c, 1000, ecster.OrderReady)
	calls := len(srv.CallLog())
	for _, key := range []string{"a\nb", strings.Repeat("k", paykit.MaxIdempotencyKey+1), string([]byte{0xff})} {
		_, err := c.Capture(ctx, id, sek(1), paykit.IdempotencyKey(key))
		require.ErrorIs(t, err, paykit.ErrInvalidRequest)
		_, err = c.Cancel(ctx, id, paykit.IdempotencyKey(key))
		require.ErrorIs(t, err, paykit.ErrInvalidRequest)
	}
	assert.Len(t, srv.CallLog(), calls)
}

// Money{0, "SEK"} is not "all": Capture and Refund refuse it before anything is sent. The
// zero Money still means all.
func TestZeroAmountWithACurrencyIsRefused(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, ecstertest.Config{}, ecster.Config{})
	ctx := ctxT(t)
	id := ordered(t, ctx, srv, c, 1000, ecster.OrderReady)
	_, err := c.Capture(ctx, id, sek(600))
	require.NoError(t, err)
	calls := len(srv.CallLog())
	for name, do := range map[string]func() error{
		"capture": func() error { _, err := c.Capture(ctx, id, sek(0)); return err },
		"refund":  func() error { _, err := c.Refund(ctx, id, sek(0)); return err },
		"keyed":   func() error { _, err := c.Refund(ctx, id, sek(0), paykit.IdempotencyKey("x")); return err },
	} {
		err := do()
		require.ErrorIs(t, err, paykit.ErrInvalidRequest, name)
		assert.Contains(t, err.Error(), "means all that remains", name)
	}
	assert.Len(t, srv.CallLog(), calls, "nothing sent")
	o, _ := srv.Order(id)
	assert.Equal(t, ecster.Amount(600), o.DebitedAmount)
	assert.Zero(t, o.CreditedAmount)

	p, err := c.Refund(ctx, id, paykit.Money{})
	require.NoError(t, err)
	assert.Equal(t, sek(600), p.Refunded, "the zero Money is all")
}

// Two replicas (Clients sharing nothing but the fake) capture half each at the same moment;
// the first transaction POST the fake sees fails with a 503 that processed nothing. Both
// read the order before either sends. A reference made from a process-local counter named
// both debits alike, and the one whose send failed found the other's debit and reported
// success with half debited. Every success must be a DEBIT of its own.
func TestReplicasCapturingAtOnceEachGetTheirOwnDebit(t *testing.T) {
	t.Parallel()
	srv, setupClient := setup(t, ecstertest.Config{}, ecster.Config{})
	ctx := ctxT(t)
	id := ordered(t, ctx, srv, setupClient, 1000, ecster.OrderReady)

	// Hold each replica's first send until both have read the order and are about to send.
	var arrived sync.WaitGroup
	arrived.Add(2)
	replica := func() *ecster.Client {
		var once sync.Once
		return clientWithTransport(t, srv, roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/transactions") {
				once.Do(func() { arrived.Done(); arrived.Wait() })
			}
			return http.DefaultTransport.RoundTrip(r)
		}))
	}
	a, b := replica(), replica()
	srv.FailNext(1, http.StatusServiceUnavailable, postTx)

	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, cl := range []*ecster.Client{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = cl.Capture(ctx, id, sek(500))
		}()
	}
	wg.Wait()

	var succeeded ecster.Amount
	for _, err := range errs {
		if err == nil {
			succeeded += 500
		}
	}
	debits := ofType(srv.Transactions(id), ecster.TransactionDebit)
	refs := map[string]bool{}
	for _, d := range debits {
		refs[d.TransactionReference] = true
	}
	assert.Len(t, refs, len(debits), "no two debits share a reference")
	o, _ := srv.Order(id)
	assert.Equal(t, succeeded, o.DebitedAmount, "the debited amount is the sum of the successful captures")
	assert.Equal(t, ecster.Amount(1000), succeeded, "both succeed: the one whose send failed sent its own debit again")
	assert.Len(t, debits, 2)
}

// Two calls with one key at the same moment in two processes can both send (Ecster holds no
// key): the order then shows the key's reference twice. A later repeat with the key's amount
// returns the payment as it is, nothing sent, and does not take the duplicate for another
// amount (no ErrConflict).
func TestKeyedRepeatAfterADuplicateLanded(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, ecstertest.Config{}, ecster.Config{})
	ctx := ctxT(t)
	id := ordered(t, ctx, srv, c, 1000, ecster.OrderReady)
	o, _ := srv.Order(id)
	ref := ecster.TransactionReference(id, ecster.TransactionDebit, "dup")
	for range 2 {
		_, err := c.Debit(ctx, o.ID, ecster.TransactionRequest{Amount: 100, TransactionReference: ref})
		require.NoError(t, err)
	}
	posts := srv.Calls(http.MethodPost, ecstertest.RouteTransactions)
	p, err := c.Capture(ctx, id, sek(100), paykit.IdempotencyKey("dup"))
	require.NoError(t, err)
	assert.Equal(t, sek(200), p.Captured, "the payment as it is, the duplicate shown")
	_, err = c.Capture(ctx, id, sek(200), paykit.IdempotencyKey("dup"))
	require.ErrorIs(t, err, paykit.ErrConflict, "the key's operation was 100")
	assert.Equal(t, posts, srv.Calls(http.MethodPost, ecstertest.RouteTransactions))
}

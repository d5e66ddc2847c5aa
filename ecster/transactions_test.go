package ecster_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strconv"
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

var postTx = ecstertest.OnRoute(http.MethodPost, ecstertest.RouteTransactions)

// A debit that Ecster processed but whose answer was lost (the connection dropped) is found
// on the order: the capture succeeds and the fake holds exactly one debit.
func TestDebitWhoseConnectionDropsAfterProcessingIsNotRepeated(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, ecstertest.Config{}, ecster.Config{})
	ctx := ctxT(t)
	id := ordered(t, ctx, srv, c, 1000, ecster.OrderReady)

	srv.DropNext(1, postTx)
	p, err := c.Capture(ctx, id, sek(400))
	require.NoError(t, err)
	assert.Equal(t, sek(400), p.Captured)
	assert.Equal(t, paykit.StatusPartiallyCaptured, p.Status)

	debits := ofType(srv.Transactions(id), ecster.TransactionDebit)
	require.Len(t, debits, 1, "exactly one debit on Ecster's side")
	assert.Regexp(t, randomRef(id, ecster.TransactionDebit), debits[0].TransactionReference)
	assert.Equal(t, 1, srv.Calls(http.MethodPost, ecstertest.RouteTransactions), "sent once, never again")
	assert.Equal(t, 1, srv.Calls(http.MethodGet, ecstertest.RouteOrder), "the order was read to find it")
}

// The same for an answer that came but cannot be read, and for a 5xx after processing
// (simulated with MalformedNext, which processes the call).
func TestDebitWithUnreadableAnswerIsNotRepeated(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, ecstertest.Config{}, ecster.Config{})
	ctx := ctxT(t)
	id := ordered(t, ctx, srv, c, 1000, ecster.OrderReady)

	srv.MalformedNext(1, postTx)
	p, err := c.Capture(ctx, id, paykit.Money{})
	require.NoError(t, err)
	assert.Equal(t, paykit.StatusSucceeded, p.Status)
	assert.Len(t, ofType(srv.Transactions(id), ecster.TransactionDebit), 1)
	assert.Equal(t, 1, srv.Calls(http.MethodPost, ecstertest.RouteTransactions))
}

// A debit that failed before Ecster processed it (a 503 that processed nothing) is not on
// the order, so it is sent again, with the same reference: exactly one debit after the
// second send.
func TestDebitThatFailedBeforeProcessingIsSentAgain(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusInternalServerError, http.StatusServiceUnavailable, http.StatusBadGateway} {
		srv, setupClient := setup(t, ecstertest.Config{}, ecster.Config{})
		ctx := ctxT(t)
		id := ordered(t, ctx, srv, setupClient, 1000, ecster.OrderReady)
		var sent []string
		c := clientWith(t, srv, func(r *http.Request) { sent = append(sent, sentReference(t, r)...) })

		srv.FailNext(1, status, postTx)
		p, err := c.Capture(ctx, id, sek(250))
		require.NoError(t, err, status)
		assert.Equal(t, sek(250), p.Captured)
		debits := ofType(srv.Transactions(id), ecster.TransactionDebit)
		require.Len(t, debits, 1, "exactly one debit after the second send")
		assert.Regexp(t, randomRef(id, ecster.TransactionDebit), debits[0].TransactionReference)
		assert.Equal(t, []string{debits[0].TransactionReference, debits[0].TransactionReference}, sent, "sent again with the same reference")
		assert.Equal(t, 2, srv.Calls(http.MethodPost, ecstertest.RouteTransactions))
		assert.Equal(t, 1, srv.Calls(http.MethodGet, ecstertest.RouteOrder), "read once between the sends")
	}
}

// When every send fails before processing, the capture gives up after the retry policy's
// attempts, each send checked on the order first; the fake holds no debit.
func TestDebitGivesUpWhenEverySendFails(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, ecstertest.Config{}, ecster.Config{})
	ctx := ctxT(t)
	id := ordered(t, ctx, srv, c, 1000, ecster.OrderReady)

	srv.FailNext(5, http.StatusServiceUnavailable, postTx)
	_, err := c.Capture(ctx, id, sek(250))
	require.ErrorIs(t, err, paykit.ErrUnavailable)
	assert.Regexp(t, regexp.QuoteMeta(id+"-DEBIT-r")+"[0-9a-f]{16}", err.Error(), "the error names the reference")
	var pe *paykit.Error
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, id, pe.PaymentID)
	assert.Equal(t, 3, srv.Calls(http.MethodPost, ecstertest.RouteTransactions), "MaxAttempts sends")
	assert.Empty(t, ofType(srv.Transactions(id), ecster.TransactionDebit))
}

// Ecster refusing a debit (4xx) is final: nothing is read or sent again.
func TestRefusedDebitIsNotReconciled(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, ecstertest.Config{}, ecster.Config{})
	ctx := ctxT(t)
	id := ordered(t, ctx, srv, c, 1000, ecster.OrderPendingSignature)

	_, err := c.Capture(ctx, id, sek(100))
	require.ErrorIs(t, err, paykit.ErrUnprocessable)
	var pe *paykit.Error
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "4424", pe.Code)
	assert.Equal(t, http.StatusUnprocessableEntity, pe.StatusCode)
	assert.Equal(t, 1, srv.Calls(http.MethodPost, ecstertest.RouteTransactions))
	assert.Equal(t, 0, srv.Calls(http.MethodGet, ecstertest.RouteOrder))
}

// When the order cannot be read after a dropped debit, the outcome is unknown: the error
// says so and names the reference, and the debit is not sent again.
func TestUnknownOutcomeIsNotResent(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, ecstertest.Config{}, ecster.Config{})
	ctx := ctxT(t)
	id := ordered(t, ctx, srv, c, 1000, ecster.OrderReady)

	srv.DropNext(1, postTx)
	srv.FailNext(10, http.StatusServiceUnavailable, ecstertest.OnRoute(http.MethodGet, ecstertest.RouteOrder))
	_, err := c.Capture(ctx, id, sek(400))
	require.ErrorIs(t, err, paykit.ErrUnavailable)
	landed := ofType(srv.Transactions(id), ecster.TransactionDebit)
	require.Len(t, landed, 1, "it had gone through")
	ref := landed[0].TransactionReference
	assert.Contains(t, err.Error(), ref)
	assert.Contains(t, err.Error(), "may have been processed")
	assert.Equal(t, 1, srv.Calls(http.MethodPost, ecstertest.RouteTransactions), "not sent again without knowing")

	// The merchant looks (GetPayment) and sees it; the next capture (no key: its own
	// operation) gets a reference of its own.
	srv.ClearFaults()
	p, err := c.GetPayment(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, sek(400), p.Captured)
	_, err = c.Capture(ctx, id, sek(400))
	require.NoError(t, err)
	debits := ofType(srv.Transactions(id), ecster.TransactionDebit)
	require.Len(t, debits, 2)
	assert.Regexp(t, randomRef(id, ecster.TransactionDebit), debits[1].TransactionReference)
	assert.NotEqual(t, ref, debits[1].TransactionReference)
}

// Two partial captures of the same amount are two debits with different references.
func TestTwoCapturesOfTheSameAmountAreTwoDebits(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, ecstertest.Config{}, ecster.Config{})
	ctx := ctxT(t)
	id := ordered(t, ctx, srv, c, 1000, ecster.OrderReady)

	for range 2 {
		_, err := c.Capture(ctx, id, sek(300))
		require.NoError(t, err)
	}
	debits := ofType(srv.Transactions(id), ecster.TransactionDebit)
	require.Len(t, debits, 2)
	assert.Regexp(t, randomRef(id, ecster.TransactionDebit), debits[0].TransactionReference)
	assert.Regexp(t, randomRef(id, ecster.TransactionDebit), debits[1].TransactionReference)
	assert.NotEqual(t, debits[0].TransactionReference, debits[1].TransactionReference)
	p, err := c.GetPayment(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, sek(600), p.Captured)
}

// Concurrent captures of one payment in one process are serialized: each gets its own
// reference, and none is lost.
func TestConcurrentCapturesGetTheirOwnReferences(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, ecstertest.Config{}, ecster.Config{})
	ctx := ctxT(t)
	id := ordered(t, ctx, srv, c, 1000, ecster.OrderReady)

	var wg sync.WaitGroup
	errs := make([]error, 5)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = c.Capture(ctx, id, sek(100))
		}()
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	seen := map[string]bool{}
	for _, d := range ofType(srv.Transactions(id), ecster.TransactionDebit) {
		assert.False(t, seen[d.TransactionReference], "reference %s used twice", d.TransactionReference)
		seen[d.TransactionReference] = true
	}
	assert.Len(t, seen, 5)
	p, err := c.GetPayment(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, sek(500), p.Captured)
}

// A refund larger than what one debit has left is split over several debits, oldest
// first, each CREDIT naming its debit.
func TestRefundIsSplitOverDebits(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, ecstertest.Config{}, ecster.Config{})
	ctx := ctxT(t)
	id := ordered(t, ctx, srv, c, 1000, ecster.OrderReady)
	for _, a := range []int64{300, 200, 500} {
		_, err := c.Capture(ctx, id, sek(a))
		require.NoError(t, err)
	}
	_, err := c.Refund(ctx, id, sek(100))
	require.NoError(t, err)
	p, err := c.Refund(ctx, id, sek(600)) // 200 left on the first, 200 on the second, 200 of the third
	require.NoError(t, err)
	assert.Equal(t, sek(700), p.Refunded)
	assert.Equal(t, paykit.StatusPartiallyRefunded, p.Status)

	txs := srv.Transactions(id)
	debits, credits := ofType(txs, ecster.TransactionDebit), ofType(txs, ecster.TransactionCredit)
	require.Len(t, debits, 3)
	require.Len(t, credits, 4)
	type part struct {
		debit  string
		amount ecster.Amount
	}
	var got []part
	refs := map[string]bool{}
	for _, cr := range credits {
		got = append(got, part{cr.DebitTransaction, cr.Amount})
		refs[cr.TransactionReference] = true
	}
	assert.Equal(t, []part{{debits[0].ID, 100}, {debits[0].ID, 200}, {debits[1].ID, 200}, {debits[2].ID, 200}}, got)
	assert.Len(t, refs, 4, "each credit has its own reference")
	assert.Regexp(t, randomRef(id, ecster.TransactionCredit), credits[0].TransactionReference, "a refund one debit takes whole: one reference")
	base := strings.TrimSuffix(credits[1].TransactionReference, ".1.600")
	assert.Regexp(t, randomRef(id, ecster.TransactionCredit), base, "the split's parts share one k")
	for i, cr := range credits[1:] {
		assert.Equal(t, base+"."+strconv.Itoa(i+1)+".600", cr.TransactionReference, "part %d of 600", i+1)
	}

	// More than is left is refused before anything is sent: the order's state, not the
	// request, is what refuses it.
	before := srv.Calls(http.MethodPost, ecstertest.RouteTransactions)
	_, err = c.Refund(ctx, id, sek(301))
	require.ErrorIs(t, err, paykit.ErrUnprocessable)
	assert.Equal(t, before, srv.Calls(http.MethodPost, ecstertest.RouteTransactions))
	p, err = c.Refund(ctx, id, paykit.Money{})
	require.NoError(t, err)
	assert.Equal(t, paykit.StatusRefunded, p.Status)
	_, err = c.Refund(ctx, id, paykit.Money{})
	require.ErrorIs(t, err, paykit.ErrUnprocessable, "nothing left to refund")
}

// A split refund whose second part Ecster refuses reports what was credited before.
func TestSplitRefundFailingHalfWay(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, ecstertest.Config{}, ecster.Config{})
	ctx := ctxT(t)
	id := ordered(t, ctx, srv, c, 1000, ecster.OrderReady)
	for _, a := range []int64{300, 700} {
		_, err := c.Capture(ctx, id, sek(a))
		require.NoError(t, err)
	}
	// Let the first part through, refuse the second.
	var calls int
	c2 := clientWith(t, srv, func(r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/transactions") {
			calls++
			if calls == 2 {
				srv.FailNext(1, http.StatusBadRequest, postTx)
			}
		}
	})
	_, err := c2.Refund(ctx, id, sek(500))
	require.ErrorIs(t, err, paykit.ErrInvalidRequest)
	assert.Contains(t, err.Error(), "300 of the 500 asked was credited before this failed")
	p, err := c.GetPayment(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, sek(300), p.Refunded)
}

// Amounts are checked before anything is sent. One no order of this amount could take
// (above the order's amount, another currency, negative) is ErrInvalidRequest: the request
// is wrong. One the order's state refuses now (a refund before a capture, more than remains
// after a capture) is ErrUnprocessable: valid on an order in another state.
func TestAmountsAreCheckedBeforeSending(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, ecstertest.Config{}, ecster.Config{})
	ctx := ctxT(t)
	id := ordered(t, ctx, srv, c, 1000, ecster.OrderReady)
	for name, do := range map[string]func() error{
		"capture above the amount": func() error { _, err := c.Capture(ctx, id, sek(1001)); return err },
		"refund above the amount":  func() error { _, err := c.Refund(ctx, id, sek(1001)); return err },
		"capture in EUR":           func() error { _, err := c.Capture(ctx, id, paykit.Money{Amount: 10, Currency: "EUR"}); return err },
		"negative capture":         func() error { _, err := c.Capture(ctx, id, sek(-1)); return err },
		"id too long":              func() error { _, err := c.Capture(ctx, strings.Repeat("x", 65), sek(1)); return err },
	} {
		err := do()
		require.ErrorIs(t, err, paykit.ErrInvalidRequest, name)
		require.NotErrorIs(t, err, paykit.ErrUnprocessable, name)
	}
	for name, do := range map[string]func() error{
		"refund before a capture": func() error { _, err := c.Refund(ctx, id, sek(1)); return err },
		"refund all of nothing":   func() error { _, err := c.Refund(ctx, id, paykit.Money{}); return err },
	} {
		err := do()
		require.ErrorIs(t, err, paykit.ErrUnprocessable, name)
		require.NotErrorIs(t, err, paykit.ErrInvalidRequest, name)
	}
	assert.Equal(t, 0, srv.Calls(http.MethodPost, ecstertest.RouteTransactions))

	_, err := c.Capture(ctx, ecster.NewID(), sek(1))
	require.ErrorIs(t, err, paykit.ErrNotFound, "no order for that id")
	_, err = c.Capture(ctx, id, sek(700))
	require.NoError(t, err)
	before := srv.Calls(http.MethodPost, ecstertest.RouteTransactions)
	_, err = c.Capture(ctx, id, sek(301))
	require.ErrorIs(t, err, paykit.ErrUnprocessable, "above what remains after a capture")
	require.NotErrorIs(t, err, paykit.ErrInvalidRequest)
	var pe *paykit.Error
	require.ErrorAs(t, err, &pe)
	assert.True(t, pe.Unprocessed, "nothing was sent")
	assert.Equal(t, id, pe.PaymentID)
	assert.Equal(t, before, srv.Calls(http.MethodPost, ecstertest.RouteTransactions))
}

// The caller's context ends after Ecster processed the debit but before the answer came:
// the error matches context.Canceled (not ErrUnavailable), names the reference, and nothing
// is sent again.
func TestCallerContextEndingMidFlight(t *testing.T) {
	t.Parallel()
	srv := ecstertest.NewServer(ecstertest.Config{})
	t.Cleanup(srv.Close)
	ctx := ctxT(t)
	setupClient, err := ecster.New(ecster.Config{APIKey: ecstertest.DefaultAPIKey, MerchantKey: ecstertest.DefaultMerchantKey, BaseURL: srv.URL})
	require.NoError(t, err)
	id := ordered(t, ctx, srv, setupClient, 1000, ecster.OrderReady)

	callCtx, cancel := context.WithCancel(ctx)
	c := clientWithTransport(t, srv, roundTripFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := http.DefaultTransport.RoundTrip(r)
		if err == nil && r.Method == http.MethodPost {
			// Ecster processed it; the caller gives up before reading the answer.
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			cancel()
			return nil, context.Canceled
		}
		return resp, err
	}))
	_, err = c.Capture(callCtx, id, sek(400))
	require.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, paykit.ErrUnavailable, "a closed browser tab is not an outage")
	debits := ofType(srv.Transactions(id), ecster.TransactionDebit)
	require.Len(t, debits, 1)
	assert.Contains(t, err.Error(), debits[0].TransactionReference)
	assert.Equal(t, 1, srv.Calls(http.MethodPost, ecstertest.RouteTransactions))
}

// A debit whose caller gave up before Ecster saw it, and that lands later (a slow network),
// must not share its reference with the next capture: every operation without a key gets a
// random reference of its own, so no reconciliation can take one for the other.
func TestUnknownOutcomeNeverSharesItsReference(t *testing.T) {
	t.Parallel()
	srv := ecstertest.NewServer(ecstertest.Config{})
	t.Cleanup(srv.Close)
	ctx := ctxT(t)

	var mu sync.Mutex
	var held *http.Request
	var heldBody []byte
	callCtx, cancel := context.WithCancel(ctx)
	c := clientWithTransport(t, srv, roundTripFunc(func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		first := held == nil && r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/transactions")
		if first {
			held = r.Clone(context.Background())
			heldBody, _ = io.ReadAll(r.Body)
		}
		mu.Unlock()
		if first {
			cancel() // the caller goes away while the request is on its way
			return nil, context.Canceled
		}
		return http.DefaultTransport.RoundTrip(r)
	}))
	id := ordered(t, ctx, srv, c, 1000, ecster.OrderReady)

	_, err := c.Capture(callCtx, id, sek(100))
	require.ErrorIs(t, err, context.Canceled)
	p, err := c.Capture(ctx, id, sek(100))
	require.NoError(t, err)
	assert.Equal(t, sek(100), p.Captured)

	// The held request lands now.
	mu.Lock()
	held.Body = io.NopCloser(strings.NewReader(string(heldBody)))
	held.RequestURI = ""
	mu.Unlock()
	resp, err := http.DefaultTransport.RoundTrip(held)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)

	debits := ofType(srv.Transactions(id), ecster.TransactionDebit)
	require.Len(t, debits, 2)
	assert.Regexp(t, randomRef(id, ecster.TransactionDebit), debits[0].TransactionReference)
	assert.Regexp(t, randomRef(id, ecster.TransactionDebit), debits[1].TransactionReference)
	assert.NotEqual(t, debits[0].TransactionReference, debits[1].TransactionReference, "the second capture did not take the first one's reference")
	assert.Contains(t, string(heldBody), debits[1].TransactionReference, "the late one is the first capture's")
}

// A transaction on the order with our reference but another amount is not ours: the call
// fails with ErrAmountMismatch instead of taking it for a success or sending again.
func TestReconciliationChecksTheAmount(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, ecstertest.Config{}, ecster.Config{})
	ctx := ctxT(t)
	order := ordered(t, ctx, srv, c, 1000, ecster.OrderReady)
	o, ok := srv.Order(order)
	require.True(t, ok)

	_, err := c.Debit(ctx, o.ID, ecster.TransactionRequest{Amount: 100, TransactionReference: "shared-ref"})
	require.NoError(t, err)
	srv.DropNext(1, postTx)
	_, err = c.Debit(ctx, o.ID, ecster.TransactionRequest{Amount: 200, TransactionReference: "shared-ref"})
	require.ErrorIs(t, err, paykit.ErrAmountMismatch)
	assert.Equal(t, 2, srv.Calls(http.MethodPost, ecstertest.RouteTransactions))
}

// The native Debit, Credit and Annul reconcile too, with a reference of their own when the
// caller gives none.
func TestNativeTransactions(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, ecstertest.Config{}, ecster.Config{})
	ctx := ctxT(t)
	id := ordered(t, ctx, srv, c, 1000, ecster.OrderReady)
	o, _ := srv.Order(id)

	srv.DropNext(1, postTx)
	res, err := c.Debit(ctx, o.ID, ecster.TransactionRequest{Amount: 600})
	require.NoError(t, err)
	assert.Equal(t, ecster.OrderPartiallyDelivered, res.OrderStatus)
	assert.True(t, strings.HasPrefix(res.Transaction.TransactionReference, "paykit-"), res.Transaction.TransactionReference)
	assert.Len(t, ofType(srv.Transactions(id), ecster.TransactionDebit), 1)

	res2, err := c.Credit(ctx, o.ID, ecster.TransactionRequest{Amount: 100, DebitTransaction: res.Transaction.ID, TransactionReference: "credit-1", Message: "returned"})
	require.NoError(t, err)
	assert.Equal(t, "credit-1", res2.Transaction.TransactionReference)
	assert.Equal(t, res.Transaction.ID, res2.Transaction.DebitTransaction)

	res3, err := c.Annul(ctx, o.ID, ecster.TransactionRequest{Amount: 400})
	require.NoError(t, err)
	assert.Equal(t, ecster.OrderFullyDelivered, res3.OrderStatus)

	for name, do := range map[string]func() error{
		"credit without debit": func() error { _, err := c.Credit(ctx, o.ID, ecster.TransactionRequest{Amount: 1}); return err },
		"zero amount":          func() error { _, err := c.Debit(ctx, o.ID, ecster.TransactionRequest{}); return err },
		"no order id":          func() error { _, err := c.Annul(ctx, "", ecster.TransactionRequest{Amount: 1}); return err },
	} {
		assert.ErrorIs(t, do(), paykit.ErrInvalidRequest, name)
	}
	_, err = c.Debit(ctx, o.ID, ecster.TransactionRequest{Amount: 1})
	var pe *paykit.Error
	require.True(t, errors.As(err, &pe))
	assert.ErrorIs(t, err, paykit.ErrUnprocessable, "a FULLY_DELIVERED order takes no debit")
	assert.Equal(t, "4424", pe.Code)
}

// A resend whose wait the caller's deadline would cut short is not started: the call ends
// at once with the provider's failure (ErrUnavailable), not a deadline error, and the debit
// was sent once.
func TestResendWaitPastTheDeadline(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, ecstertest.Config{}, ecster.Config{}, paykit.WithRetry(paykit.RetryPolicy{MaxAttempts: 3, MinWait: time.Minute, MaxWait: time.Minute}))
	ctx := ctxT(t)
	id := ordered(t, ctx, srv, c, 1000, ecster.OrderReady)

	srv.FailNext(1, http.StatusServiceUnavailable, postTx)
	short, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := c.Capture(short, id, sek(100))
	require.ErrorIs(t, err, paykit.ErrUnavailable)
	assert.NotErrorIs(t, err, context.DeadlineExceeded)
	assert.NoError(t, short.Err(), "it did not wait for the deadline")
	var pe *paykit.Error
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, time.Minute, pe.RetryAfter, "the wait it did not start")
	assert.Equal(t, 1, srv.Calls(http.MethodPost, ecstertest.RouteTransactions))
}

// A debit whose first send failed and landed only after the order was read: the resend is
// refused (nothing remains to debit), and the order, read again, shows the first send went
// through. The capture succeeds with exactly one debit.
func TestFirstSendLandingLateIsFoundAfterTheRefusedResend(t *testing.T) {
	t.Parallel()
	srv := ecstertest.NewServer(ecstertest.Config{})
	t.Cleanup(srv.Close)
	ctx := ctxT(t)

	var mu sync.Mutex
	var held *http.Request
	var heldBody []byte
	posts := 0
	c := clientWithTransport(t, srv, roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/transactions") {
			return http.DefaultTransport.RoundTrip(r)
		}
		mu.Lock()
		defer mu.Unlock()
		posts++
		if posts == 1 { // held on the way; the client hears a 502
			held = r.Clone(context.Background())
			heldBody, _ = io.ReadAll(r.Body)
			return &http.Response{StatusCode: http.StatusBadGateway, Body: io.NopCloser(strings.NewReader(`{"code":5020,"type":"Bad gateway"}`)),
				Header: http.Header{"Content-Type": {"application/json"}}, Request: r}, nil
		}
		// The held send lands just before the resend.
		held.Body = io.NopCloser(strings.NewReader(string(heldBody)))
		resp, err := http.DefaultTransport.RoundTrip(held)
		if err != nil {
			return nil, err
		}
		resp.Body.Close()
		return http.DefaultTransport.RoundTrip(r)
	}))
	id := ordered(t, ctx, srv, c, 1000, ecster.OrderReady)

	p, err := c.Capture(ctx, id, paykit.Money{})
	require.NoError(t, err)
	assert.Equal(t, paykit.StatusSucceeded, p.Status)
	assert.Len(t, ofType(srv.Transactions(id), ecster.TransactionDebit), 1)
	assert.Equal(t, 2, srv.Calls(http.MethodPost, ecstertest.RouteTransactions), "the late one and the refused resend")
}

// An error after part of a split refund went through does not claim that nothing was
// processed.
func TestSplitRefundErrorIsNotUnprocessed(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, ecstertest.Config{}, ecster.Config{})
	ctx := ctxT(t)
	id := ordered(t, ctx, srv, c, 1000, ecster.OrderReady)
	for _, a := range []int64{300, 700} {
		_, err := c.Capture(ctx, id, sek(a))
		require.NoError(t, err)
	}
	_, err := c.Refund(ctx, id, sek(2000))
	var pe *paykit.Error
	require.ErrorAs(t, err, &pe)
	assert.True(t, pe.Unprocessed, "refused before anything was sent")

	var calls int
	c2 := clientWith(t, srv, func(r *http.Request) {
		if r.Method == http.MethodPost {
			if calls++; calls == 2 {
				srv.FailNext(1, http.StatusBadRequest, postTx)
			}
		}
	})
	_, err = c2.Refund(ctx, id, sek(500))
	require.ErrorAs(t, err, &pe)
	assert.False(t, pe.Unprocessed, "300 was credited")
}

// randomRef matches the reference of an operation of typ on payment id made without a key:
// "<id>-<TYPE>-r" and 16 hex digits.
func randomRef(id string, typ ecster.TransactionType) *regexp.Regexp {
	return regexp.MustCompile("^" + regexp.QuoteMeta(id+"-"+string(typ)+"-r") + "[0-9a-f]{16}$")
}

// sentReference returns the transactionReference of r when it is a transaction POST.
func sentReference(t *testing.T, r *http.Request) []string {
	t.Helper()
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/transactions") {
		return nil
	}
	b, err := r.GetBody()
	require.NoError(t, err)
	var body struct {
		TransactionReference string `json:"transactionReference"`
	}
	require.NoError(t, json.NewDecoder(b).Decode(&body))
	return []string{body.TransactionReference}
}

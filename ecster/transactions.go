package ecster

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/internal/ids"
	"github.com/paykit/paykit/internal/transport"
)

// TransactionRequest is a DEBIT, CREDIT or ANNUL of an order (POST
// /v1/orders/{orderId}/transactions).
type TransactionRequest struct {
	// Amount in minor units; it must be positive.
	Amount Amount
	// TransactionReference names the transaction in Ecster's balance reports, and lets the
	// client find it on the order after a failure that may have reached Ecster. It must be
	// unique to the operation: two transactions with one reference cannot be told apart.
	// Empty: a random one is made ("paykit-" and 32 hex digits).
	TransactionReference string
	// DebitTransaction is, for a CREDIT, the id of the DEBIT transaction it credits
	// (required); other types ignore it.
	DebitTransaction string
	// CloseDebit, on a DEBIT, closes the order for further debits (credits stay possible).
	CloseDebit bool
	// Message goes with the transaction.
	Message string
}

// TransactionResult is Ecster's answer to a transaction: the order's status after it, and
// the transaction as Ecster recorded it.
type TransactionResult struct {
	OrderStatus OrderStatus
	Transaction Transaction
}

type wireTxRequest struct {
	Type                 TransactionType `json:"type"`
	Amount               Amount          `json:"amount"`
	TransactionReference string          `json:"transactionReference"`
	DebitTransaction     string          `json:"debitTransaction,omitempty"`
	CloseDebit           bool            `json:"closeDebit,omitempty"`
	Message              string          `json:"message,omitempty"`
}

type wireTxAnswer struct {
	OrderStatus OrderStatus     `json:"orderStatus"`
	Transaction wireTransaction `json:"transaction"`
}

// Debit debits (captures) amount of an order. See Credit for how a failure is resolved.
func (c *Client) Debit(ctx context.Context, orderID string, r TransactionRequest) (*TransactionResult, error) {
	res, _, _, err := c.transact(ctx, "debit", orderID, TransactionDebit, r)
	return res, err
}

// Credit credits (refunds) amount of a DEBIT transaction, r.DebitTransaction.
//
// Ecster has no idempotency key, so a transaction is never sent again blindly. After a
// failure that may have reached Ecster (a timeout, a dropped connection, a 5xx, an answer
// that cannot be read) the client reads the order: a transaction with r's reference there
// means it went through, and Credit returns it as a success; only when it is not there is
// the transaction sent again (up to paykit.WithRetry's MaxAttempts sends in all). When the
// order cannot be read, or the caller's context ends, the error says that the outcome is
// unknown and names the reference: read the order before deciding to send it again.
func (c *Client) Credit(ctx context.Context, orderID string, r TransactionRequest) (*TransactionResult, error) {
	res, _, _, err := c.transact(ctx, "credit", orderID, TransactionCredit, r)
	return res, err
}

// Annul annuls amount of what an order has not debited. See Credit for how a failure is
// resolved.
func (c *Client) Annul(ctx context.Context, orderID string, r TransactionRequest) (*TransactionResult, error) {
	res, _, _, err := c.transact(ctx, "annul", orderID, TransactionAnnul, r)
	return res, err
}

// transact sends one transaction and resolves its failures as Credit describes. fresh is the
// order as read while resolving a failure, when that is how the result was found. reached
// reports that the transaction may have reached Ecster without the call learning that it
// took effect: its reference must not be used for another operation.
func (c *Client) transact(ctx context.Context, op, orderID string, typ TransactionType, r TransactionRequest) (res *TransactionResult, fresh *Order, reached bool, err error) {
	bad := func(format string, args ...any) (*TransactionResult, *Order, bool, error) {
		return nil, nil, false, perr.Errorf(op, paykit.ErrInvalidRequest, format, args...)
	}
	switch {
	case orderID == "":
		return bad("the order id is empty")
	case r.Amount <= 0:
		return bad("the amount must be positive, got %d", r.Amount)
	case typ == TransactionCredit && r.DebitTransaction == "":
		return bad("a CREDIT needs the id of the DEBIT transaction it credits")
	}
	if r.TransactionReference == "" {
		r.TransactionReference = "paykit-" + ids.Hex32()
	}
	ref := r.TransactionReference
	body := wireTxRequest{Type: typ, Amount: r.Amount, TransactionReference: ref, Message: r.Message}
	switch typ {
	case TransactionCredit:
		body.DebitTransaction = r.DebitTransaction
	case TransactionDebit:
		body.CloseDebit = r.CloseDebit
	}
	path := "/v1/orders/" + url.PathEscape(orderID) + "/transactions"
	for send := 1; ; send++ {
		var out wireTxAnswer
		_, sendErr := c.http.Do(ctx, transport.Request{
			Op: op, Method: "POST", Path: path, Body: body, Result: &out,
			// Never repeated by the transport once it may have reached Ecster: only the
			// order, read below, says whether to send it again.
			Repeatable: false,
		})
		if sendErr == nil {
			res := &TransactionResult{OrderStatus: out.OrderStatus, Transaction: out.Transaction.decode()}
			if res.Transaction.Amount != r.Amount {
				return nil, nil, false, perr.Errorf(op, paykit.ErrAmountMismatch,
					"asked %s of %d, Ecster answered a transaction of %d (transactionReference %s)", typ, r.Amount, res.Transaction.Amount, ref)
			}
			return res, nil, false, nil
		}
		if !mayHaveReached(sendErr) {
			// Ecster answered and refused (4xx), or said it did not process it (429).
			if !reached {
				return nil, nil, false, sendErr
			}
			// A resend refused after an earlier send may have reached Ecster: that earlier
			// one may have landed since the order was read (a debit then leaves nothing to
			// debit again, which is why this one was refused). The order tells.
			if o, getErr := c.getOrder(ctx, op, orderID); getErr == nil {
				if tx := o.transaction(ref); tx != nil && tx.Type == typ && tx.Amount == r.Amount {
					return &TransactionResult{OrderStatus: o.Status, Transaction: *tx}, o, false, nil
				}
			}
			var pe *paykit.Error
			if errors.As(sendErr, &pe) {
				cp := *pe
				cp.Unprocessed = false // this send was refused, an earlier one may have landed
				cp.Message = "transactionReference " + ref + ": sent again after a failure, and refused: " + cp.Message
				return nil, nil, true, &cp
			}
			return nil, nil, true, sendErr
		}
		reached = true
		if cerr := ctx.Err(); cerr != nil {
			// The caller stopped waiting while the transaction was on its way. The order
			// cannot be read on a context that has ended, and the caller's deadline is not
			// ours to extend: say what is known.
			return nil, nil, true, outcome(sendErr, op, cerr, ref, "the caller's context ended while it was sent: it may have been processed")
		}
		if noAnswer(sendErr) {
			// No answer came (a timeout, a dropped connection): the transaction may still be
			// on its way or being processed, and a read made at once would not show it, so
			// that the send below would make a second one. Give it the retry policy's wait
			// first. (Ecster has no idempotency key: no wait closes this gap entirely; see
			// the package doc, "Retries".)
			if err := c.pause(ctx, send); err != nil {
				var past *pastDeadline
				if errors.As(err, &past) {
					e := outcome(sendErr, op, paykit.ErrUnavailable, ref, "no answer came, and the context's deadline leaves no time to tell whether it was processed")
					e.RetryAfter = past.wait
					return nil, nil, true, e
				}
				return nil, nil, true, outcome(sendErr, op, err, ref, "no answer came, and the caller's context ended before the order could be read to tell whether it was processed")
			}
		}
		o, getErr := c.getOrder(ctx, op, orderID)
		if getErr != nil {
			kind := error(paykit.ErrUnavailable)
			if cerr := ctx.Err(); cerr != nil {
				kind = cerr
			}
			return nil, nil, true, outcome(sendErr, op, kind, ref,
				"it may have been processed, and the order could not be read to tell ("+getErr.Error()+")")
		}
		if tx := o.transaction(ref); tx != nil {
			if tx.Type != typ || tx.Amount != r.Amount {
				return nil, o, false, perr.Errorf(op, paykit.ErrAmountMismatch,
					"the order holds transactionReference %s as %s of %d, not %s of %d: not sending it again", ref, tx.Type, tx.Amount, typ, r.Amount)
			}
			return &TransactionResult{OrderStatus: o.Status, Transaction: *tx}, o, false, nil
		}
		if send >= c.settings.Retry.MaxAttempts {
			return nil, o, true, outcome(sendErr, op, paykit.ErrUnavailable, ref, "it was not on the order when read after the last attempt")
		}
		if err := c.pause(ctx, send); err != nil {
			var past *pastDeadline
			if errors.As(err, &past) {
				// Like the transport's own retries: a wait the deadline would cut short is
				// not started, and the call ends with the provider's failure, saying how
				// long the wait would have been.
				e := outcome(sendErr, op, paykit.ErrUnavailable, ref, "it was not on the order when read, and the context's deadline leaves no time to send it again")
				e.RetryAfter = past.wait
				return nil, o, true, e
			}
			return nil, o, true, outcome(sendErr, op, err, ref, "it was not on the order when read, and the caller's context ended before it could be sent again")
		}
	}
}

// noAnswer reports whether a failed send got no answer at all (no status): a network failure
// or a timeout, after which the transaction may still be on its way.
func noAnswer(err error) bool {
	var pe *paykit.Error
	return errors.As(err, &pe) && pe.StatusCode == 0
}

// mayHaveReached reports whether a failed send may have been processed by Ecster: no answer
// (a network failure, a timeout, the caller's context), a 5xx, or a 2xx that could not be
// read. A 4xx or a 429 is Ecster refusing it.
func mayHaveReached(err error) bool {
	return errors.Is(err, paykit.ErrUnavailable) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// outcome is the error of a transaction whose failure was not resolved: the last send's error
// with kind and a message naming the reference, so that the merchant can look for it.
func outcome(sendErr error, op string, kind error, ref, what string) *paykit.Error {
	e := &paykit.Error{Provider: ProviderName, Op: op, Kind: kind, Err: sendErr}
	var pe *paykit.Error
	if errors.As(sendErr, &pe) {
		// The send's status and cause stay for diagnosis; its Kind does not, so that a call
		// the caller's context ended is not also ErrUnavailable.
		cp := *pe
		cp.Kind, cp.Op = kind, op
		// Some send may have reached Ecster, whatever the last one's fate.
		cp.Unprocessed = false
		e = &cp
	}
	e.Message = "transactionReference " + ref + ": " + what
	return e
}

// pastDeadline says a wait before sending again would outlast the context's deadline.
type pastDeadline struct{ wait time.Duration }

func (p *pastDeadline) Error() string { return "the wait would pass the context's deadline" }

// pause waits before a transaction is sent again: exponential with full jitter between the
// retry policy's MinWait and MaxWait. A wait that would pass ctx's deadline is not started.
func (c *Client) pause(ctx context.Context, n int) error {
	p := c.settings.Retry
	upper := p.MaxWait
	if n < 62 && p.MinWait > 0 && p.MinWait <= p.MaxWait>>n {
		upper = p.MinWait << n
	}
	d := p.MinWait
	if upper > p.MinWait {
		d += rand.N(upper - p.MinWait + 1)
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
		return &pastDeadline{wait: d}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// TransactionReference is the transactionReference paykit's Provider gives the seq-th
// transaction of type typ that it makes for payment id: "<id>-<TYPE>-<seq>", e.g.
// "order-1001-DEBIT-2". It appears in Ecster's balance reports.
func TransactionReference(id string, typ TransactionType, seq int) string {
	return id + "-" + string(typ) + "-" + strconv.Itoa(seq)
}

// referencePrefix is what TransactionReference(id, typ, n) starts with.
func referencePrefix(id string, typ TransactionType) string { return id + "-" + string(typ) + "-" }

// referenceSeq returns the sequence number of ref if it is TransactionReference(id, typ, n),
// whose prefix is prefix.
func referenceSeq(ref, prefix string) (int, bool) {
	rest, ok := strings.CutPrefix(ref, prefix)
	if !ok || rest == "" || rest[0] == '0' || !digitsOnly(rest) {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	return n, err == nil
}

// opLocks serializes the Provider's transactions on one payment within the process, and
// remembers sequence numbers that may be in use on Ecster's side without the client having
// seen them there.
//
// The sequence number of a transaction is one more than the highest of its payment and type
// found on the order when the operation starts, and than any number this client handed out
// whose outcome stayed unknown (a caller whose context ended mid-flight, an order that could
// not be read). So a later operation never reuses the reference of one that may still land:
// a reconciliation looking for its own reference can never take another operation's
// transaction for it. Two operations of the same amount get different references.
type opLocks struct {
	mu       sync.Mutex
	locks    map[string]*opLock
	reserved map[string]int // id|type → the highest sequence number whose outcome is unknown
}

type opLock struct {
	ch    chan struct{} // holds one token while the lock is taken
	users int
}

// maxReserved bounds the remembered sequence numbers; past it the oldest are not told from
// the others and any may be forgotten (the order, read first, still holds every one that
// landed).
const maxReserved = 10000

func newOpLocks() *opLocks {
	return &opLocks{locks: make(map[string]*opLock), reserved: make(map[string]int)}
}

// lock takes the lock of payment id, or returns ctx's error when ctx ends first.
func (l *opLocks) lock(ctx context.Context, id string) (unlock func(), err error) {
	l.mu.Lock()
	lk := l.locks[id]
	if lk == nil {
		lk = &opLock{ch: make(chan struct{}, 1)}
		l.locks[id] = lk
	}
	lk.users++
	l.mu.Unlock()
	release := func() {
		l.mu.Lock()
		lk.users--
		if lk.users == 0 {
			delete(l.locks, id)
		}
		l.mu.Unlock()
	}
	select {
	case lk.ch <- struct{}{}:
		return func() { <-lk.ch; release() }, nil
	case <-ctx.Done():
		release()
		return nil, ctx.Err()
	}
}

func reservedKey(id string, typ TransactionType) string { return id + "\x00" + string(typ) }

// next returns the sequence number for the next transaction of typ on payment id, whose
// order is o.
func (l *opLocks) next(id string, typ TransactionType, o *Order) int {
	high := 0
	prefix := referencePrefix(id, typ)
	for _, t := range o.Transactions {
		if n, ok := referenceSeq(t.TransactionReference, prefix); ok && n > high {
			high = n
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	k := reservedKey(id, typ)
	if r, ok := l.reserved[k]; ok {
		if r <= high {
			delete(l.reserved, k) // landed: the order shows it now
		} else {
			high = r
		}
	}
	return high + 1
}

// reserve records that seq of typ on payment id may be in use on Ecster's side.
func (l *opLocks) reserve(id string, typ TransactionType, seq int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := reservedKey(id, typ)
	if _, ok := l.reserved[k]; !ok && len(l.reserved) >= maxReserved {
		for old := range l.reserved {
			delete(l.reserved, old)
			break
		}
	}
	if seq > l.reserved[k] {
		l.reserved[k] = seq
	}
}

// sequenced sends a transaction of the Provider for payment id on order o, with the next
// sequence number's reference.
func (c *Client) sequenced(ctx context.Context, op, id string, o *Order, typ TransactionType, r TransactionRequest) (*TransactionResult, *Order, error) {
	seq := c.ops.next(id, typ, o)
	r.TransactionReference = TransactionReference(id, typ, seq)
	res, fresh, reached, err := c.transact(ctx, op, o.ID, typ, r)
	if err != nil && reached {
		c.ops.reserve(id, typ, seq)
	}
	return res, fresh, err
}

// apply returns o as it is after res, a transaction Ecster answered for it.
func (o *Order) apply(res *TransactionResult) *Order {
	cp := *o
	cp.Transactions = append(append([]Transaction(nil), o.Transactions...), res.Transaction)
	if res.OrderStatus != "" {
		cp.Status = res.OrderStatus
	}
	switch res.Transaction.Type {
	case TransactionDebit:
		cp.DebitedAmount += res.Transaction.Amount
	case TransactionCredit:
		cp.CreditedAmount += res.Transaction.Amount
	}
	return &cp
}

// describe is a short text of what a refund split managed before it failed.
func describe(done, want Amount) string {
	return fmt.Sprintf("%d of the %d asked was credited before this failed", done, want)
}

package ecster

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
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
	res, _, _, err := c.transact(ctx, "debit", "", orderID, TransactionDebit, r)
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
	res, _, _, err := c.transact(ctx, "credit", "", orderID, TransactionCredit, r)
	return res, err
}

// Annul annuls amount of what an order has not debited. See Credit for how a failure is
// resolved.
func (c *Client) Annul(ctx context.Context, orderID string, r TransactionRequest) (*TransactionResult, error) {
	res, _, _, err := c.transact(ctx, "annul", "", orderID, TransactionAnnul, r)
	return res, err
}

// transact sends one transaction and resolves its failures as Credit describes; paymentID,
// when known, is the merchant's payment id of the order (for the attempts' log lines). fresh
// is the order as read while resolving a failure, when that is how the result was found. reached
// reports that the transaction may have reached Ecster without the call learning that it
// took effect: its reference must not be used for another operation.
func (c *Client) transact(ctx context.Context, op, paymentID, orderID string, typ TransactionType, r TransactionRequest) (res *TransactionResult, fresh *Order, reached bool, err error) {
	bad := func(format string, args ...any) (*TransactionResult, *Order, bool, error) {
		return nil, nil, false, perr.Errorf(op, paykit.ErrInvalidRequest, format, args...)
	}
	if err := checkPathID("the order id", orderID); err != nil {
		return bad("%v", err)
	}
	switch {
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
			Op: op, PaymentID: paymentID, Method: "POST", Path: path, URLTemplate: "/v1/orders/{id}/transactions", Body: body, Result: &out,
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
			if o, getErr := c.getOrder(ctx, op, paymentID, orderID); getErr == nil {
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
			// No answer came (a timeout, a dropped connection, a gateway's 502/504): the transaction may still be
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
		o, getErr := c.getOrder(ctx, op, paymentID, orderID)
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

// noAnswer reports whether a failed send got no answer from Ecster itself: no status at all
// (a network failure, a timeout), or a gateway's 502 or 504 (a proxy or load balancer in
// front of Ecster gave up waiting, while the request may still be on its way to Ecster or
// being processed there). After either, a read made at once may not show the transaction yet.
func noAnswer(err error) bool {
	var pe *paykit.Error
	if !errors.As(err, &pe) {
		return false
	}
	switch pe.StatusCode {
	case 0, http.StatusBadGateway, http.StatusGatewayTimeout:
		return true
	}
	return false
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

// TransactionReference is the transactionReference of the Provider's operation of type typ
// on payment id made with paykit.IdempotencyKey(key): "<id>-<TYPE>-k<16 hex digits>", e.g.
// "order-1001-DEBIT-k04d5edcd7e21fd53" for the key "capture-order-1001-1". The hex digits are the first 8 bytes of a SHA-256
// over the id, the type and the key, so the same key always gives the same reference, in any
// process, and the reference shows nothing of the key. A refund split over several debits
// gives its parts this reference followed by ".<part>.<total>" (see the package doc). An
// operation without a key gets "<id>-<TYPE>-r<16 random hex digits>" instead: "k" and "r"
// tell keyed and random references apart. Both appear in Ecster's balance reports.
func TransactionReference(id string, typ TransactionType, key string) string {
	return id + "-" + string(typ) + "-" + keyedK(id, typ, key)
}

// keyedK is the k of an operation key: "k" and 16 hex digits of a digest of the id, the type
// and the key, each length-prefixed so that no value can imitate another's.
func keyedK(id string, typ TransactionType, key string) string {
	h := sha256.New()
	h.Write([]byte("paykit ecster operation key v1\x00"))
	for _, f := range []string{id, string(typ), key} {
		h.Write([]byte(strconv.Itoa(len(f)) + ":" + f + "\x00"))
	}
	return "k" + hex.EncodeToString(h.Sum(nil)[:8])
}

// randomK is the k of an operation without a key: "r" and 16 random hex digits. Never a
// counter: two clients (replicas, or one before and after a restart) must never name two
// different operations alike, or a reconciliation would take one for the other.
func randomK() string { return "r" + ids.Hex32()[:16] }

// reference is the transactionReference "<id>-<TYPE>-<k>".
func reference(id string, typ TransactionType, k string) string {
	return id + "-" + string(typ) + "-" + k
}

// partReference is the reference of part n of a refund of total split over several debits:
// "<base>.<n>.<total>". The total is in it so that a repeat with the same key, which finds
// only some parts on the order, knows what the whole was meant to be.
func partReference(base string, n int, total Amount) string {
	return base + "." + strconv.Itoa(n) + "." + strconv.FormatInt(int64(total), 10)
}

// parsePart reads a reference made by partReference for base: part n of total. ok is false
// for any other reference.
func parsePart(ref, base string) (n int, total Amount, ok bool) {
	rest, found := strings.CutPrefix(ref, base+".")
	if !found {
		return 0, 0, false
	}
	ns, ts, found := strings.Cut(rest, ".")
	if !found || !canonicalDigits(ns) || !canonicalDigits(ts) {
		return 0, 0, false
	}
	n, err := strconv.Atoi(ns)
	if err != nil || n < 1 {
		return 0, 0, false
	}
	t, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || t < 1 {
		return 0, 0, false
	}
	return n, Amount(t), true
}

// canonicalDigits reports whether s is a decimal number as strconv writes it: digits, no
// leading zero.
func canonicalDigits(s string) bool {
	return s != "" && (s == "0" || s[0] != '0') && digitsOnly(s)
}

// keyedState is what the order shows of the operation with base reference base: its
// transactions of typ, what they add up to, the amount the operation was for, and the highest
// part number of a split refund.
type keyedState struct {
	txs      []Transaction
	done     Amount
	planned  Amount // the total of a split refund, from its parts' references; 0: no part
	single   Amount // the amount of the first transaction with the base reference itself
	lastPart int
}

// total is the amount the key's operation was for: a split refund's planned total, else its
// one transaction's amount (a duplicate that landed anyway does not change what was meant).
func (st keyedState) total() Amount {
	if st.planned > 0 {
		return st.planned
	}
	return st.single
}

func (o *Order) keyed(base string, typ TransactionType) keyedState {
	var st keyedState
	for _, t := range o.Transactions {
		if t.Type != typ {
			continue
		}
		if t.TransactionReference == base {
			if st.single == 0 {
				st.single = t.Amount
			}
			st.txs = append(st.txs, t)
			st.done += t.Amount
			continue
		}
		if n, total, ok := parsePart(t.TransactionReference, base); ok {
			st.txs = append(st.txs, t)
			st.done += t.Amount
			st.planned = max(st.planned, total)
			st.lastPart = max(st.lastPart, n)
		}
	}
	return st
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

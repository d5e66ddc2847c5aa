package ecster

import (
	"context"
	"errors"
	"time"

	"github.com/paykit/paykit"
)

// ProviderName is the name in Payment.Provider and Notification.Provider.
const ProviderName = "ecster"

var _ paykit.Provider = (*Client)(nil)

// Name returns "ecster".
func (c *Client) Name() string { return ProviderName }

// Capabilities: Ecster captures (debits) and refunds (credits), in part too, cancels (annuls)
// what is not debited, and sends OENs.
func (c *Client) Capabilities() paykit.Capabilities {
	return paykit.Capabilities{Capture: true, PartialCapture: true, Refund: true, PartialRefund: true, Cancel: true, Webhooks: true}
}

// now is swappable so tests can move time.
var now = time.Now

// CreatePayment creates a checkout cart and returns a pending payment whose Action is an
// ActionClientToken holding the cart key, for Ecster's checkout script in the consumer's
// browser. The cart becomes an order when the consumer completes the checkout; until then
// ProviderID is empty, and GetPayment on this Client answers the payment as this call
// returned it (another Client, e.g. another replica, answers paykit.ErrNotFound). Reference
// is the id: Ecster keeps one reference, the orderReference, and every read answers it.
//
// req.Items are required (Ecster needs a VAT rate per row) and must add up to req.Amount;
// req.ID (NewID when empty, at most 64 characters) is the orderReference; req.NotifyURL is
// the notificationUrl (signed when Config.NotifySecret is set), req.ReturnURL the returnUrl,
// req.Description the cart's message, req.Locale the checkout's locale (else Config.Locale).
// req.Reference and req.CancelURL are not sent: Ecster's one reference is the orderReference,
// which holds the id, and its checkout has no cancel URL.
//
// A repeated CreatePayment for an id whose order exists returns the order's current state,
// with no Action and no new cart: a payment that is authorized or paid offers no new way to
// pay. Before the order exists, a repeat in the same process replaces the cart it made before
// (the old key expires, so the consumer cannot complete two orders); otherwise it makes a
// new cart. Calls with one id on one Client run one after the other, so two at the same
// moment make one payable cart. Every error carries the payment id in
// paykit.Error.PaymentID.
func (c *Client) CreatePayment(ctx context.Context, req paykit.PaymentRequest) (pay *paykit.Payment, err error) {
	const op = "create payment"
	if req.ID == "" {
		req.ID = NewID()
	}
	ctx, done := c.settings.Hooks.StartOperation(ctx, ProviderName, paykit.OpCreatePayment, req.ID)
	defer func() { done.Payment(pay, err) }()
	p, err := c.createPayment(ctx, op, req)
	if err != nil {
		return nil, perr.WithPaymentID(err, op, req.ID)
	}
	return p, nil
}

func (c *Client) createPayment(ctx context.Context, op string, req paykit.PaymentRequest) (*paykit.Payment, error) {
	if err := checkOrderReference(req.ID); err != nil {
		return nil, perr.Errorf(op, paykit.ErrInvalidRequest, "%v", err)
	}
	if err := req.Validate(); err != nil {
		return nil, perr.WithOp(err, op)
	}
	if len(req.Items) == 0 {
		return nil, perr.Errorf(op, paykit.ErrInvalidRequest, "Items are required: Ecster needs a VAT rate for every row")
	}
	cart := CartRequest{
		OrderReference:  req.ID,
		Locale:          req.Locale,
		ReturnURL:       req.ReturnURL,
		Amount:          Amount(req.Amount.Amount),
		Currency:        req.Amount.Currency,
		Message:         req.Description,
		NotificationURL: req.NotifyURL,
		Consumer:        consumerOf(req.Customer),
	}
	for _, it := range req.Items {
		cart.Rows = append(cart.Rows, CartRow{PartNumber: it.Reference, Name: it.Name, Quantity: it.Quantity,
			UnitAmount: Amount(it.UnitAmount.Amount), VATRate: Percent(it.VATRate)})
	}
	// Validate everything before the first request, so that a bad request sends nothing.
	if _, err := c.cartBody(op, cart); err != nil {
		return nil, err
	}
	// One create (or operation) per id at a time in this client: the order read, the
	// remembered cart key and the store of the new key below must not interleave with
	// another create of the same id, or two calls at the same moment would both find no
	// cart and make two payable ones.
	unlock, err := c.locks.Lock(ctx, req.ID)
	if err != nil {
		return nil, perr.Wrap(op, err, err, "waiting for another call on the payment")
	}
	defer unlock()

	existing, err := c.orderFor(ctx, op, req.ID)
	switch {
	case err == nil:
		// The consumer completed a checkout for this id already: its state, never a new cart.
		if o := existing.Money(existing.Amount); o != req.Amount {
			return nil, perr.Errorf(op, paykit.ErrAmountMismatch, "an order with orderReference %s exists already for %s, not %s", req.ID, o, req.Amount)
		}
		c.carts.forget(req.ID)
		return c.payment(existing), nil
	case !errors.Is(err, paykit.ErrNotFound):
		return nil, err
	}

	var made *Cart
	if prev, ok := c.carts.get(req.ID); ok {
		made, err = c.UpdateCart(ctx, prev.key, cart)
		if err != nil && (errors.Is(err, paykit.ErrNotFound) || errors.Is(err, paykit.ErrInvalidRequest) || errors.Is(err, paykit.ErrUnprocessable)) {
			// The old key is gone (completed, expired, or replaced by an update whose
			// answer was lost): a new cart it is.
			made, err = nil, nil
		}
		if err != nil {
			return nil, perr.WithOp(err, op)
		}
	}
	if made == nil {
		if made, err = c.CreateCart(ctx, cart); err != nil {
			return nil, perr.WithOp(err, op)
		}
	}
	e := cartEntry{key: made.Key, amount: req.Amount, created: now()}
	c.carts.put(req.ID, e)
	return pending(req.ID, e), nil
}

// pending is the payment id whose cart e this client made, while the consumer has not
// completed the checkout: what CreatePayment returns, and GetPayment until the order exists.
// Its Reference is the id, as on every read of the order (Ecster keeps one reference, the
// orderReference, and it holds the id).
func pending(id string, e cartEntry) *paykit.Payment {
	zero := paykit.Money{Currency: e.amount.Currency}
	return &paykit.Payment{
		Provider:  ProviderName,
		ID:        id,
		Reference: id,
		Amount:    e.amount,
		Captured:  zero,
		Refunded:  zero,
		Status:    paykit.StatusPending,
		Action:    &paykit.Action{Type: paykit.ActionClientToken, Token: e.key},
		CreatedAt: e.created,
	}
}

func consumerOf(cu *paykit.Customer) *Consumer {
	if cu == nil {
		return nil
	}
	out := &Consumer{}
	if cu.FirstName != "" || cu.LastName != "" {
		out.Name = &Name{FirstName: cu.FirstName, LastName: cu.LastName}
	}
	if cu.Email != "" || cu.Phone != "" {
		out.ContactInfo = &ContactInfo{Email: cu.Email}
		if cu.Phone != "" {
			out.ContactInfo.Cellular = &Phone{Number: cu.Phone}
		}
	}
	if out.Name == nil && out.ContactInfo == nil {
		return nil
	}
	return out
}

// payment turns an order into paykit's Payment: Captured is debitedAmount, Refunded
// creditedAmount, Status the contract's map (OrderStatus.PaykitStatus), Reference the
// orderReference, which is the payment id.
func (c *Client) payment(o *Order) *paykit.Payment {
	return &paykit.Payment{
		Provider:       ProviderName,
		ID:             o.OrderReference,
		ProviderID:     o.ID,
		Reference:      o.OrderReference,
		Amount:         o.Money(o.Amount),
		Captured:       o.Money(o.DebitedAmount),
		Refunded:       o.Money(o.CreditedAmount),
		Status:         o.Status.PaykitStatus(o.DebitedAmount, o.CreditedAmount),
		ProviderStatus: string(o.Status),
		CreatedAt:      o.Created,
	}
}

// GetPayment fetches the newest order whose orderReference is id. Until the consumer has
// completed the checkout Ecster knows no order (a cart is none, and carts cannot be read):
// a payment this Client created is then pending, with its cart key in an ActionClientToken,
// as CreatePayment returned it, so that an order page shown right after the checkout began
// works. A Client that did not create it (another replica, or this one after a restart or
// after forgetting it: it remembers the last 10,000 carts at most) answers
// paykit.ErrNotFound until the order exists. Reference is the payment id on every call.
func (c *Client) GetPayment(ctx context.Context, id string) (pay *paykit.Payment, err error) {
	const op = "get payment"
	ctx, done := c.settings.Hooks.StartOperation(ctx, ProviderName, paykit.OpGetPayment, id)
	defer func() { done.Payment(pay, err) }()
	if err := checkOrderReference(id); err != nil {
		return nil, perr.WithPaymentID(perr.Errorf(op, paykit.ErrInvalidRequest, "%v", err), op, id)
	}
	o, err := c.orderFor(ctx, op, id)
	if errors.Is(err, paykit.ErrNotFound) {
		if e, ok := c.carts.get(id); ok {
			return pending(id, e), nil
		}
	}
	if err != nil {
		return nil, perr.WithPaymentID(err, op, id)
	}
	return c.payment(o), nil
}

// Capture debits amount of the order (a DEBIT transaction); a zero Money debits all that
// remains, and an amount of 0 with a currency is paykit.ErrInvalidRequest (nothing sent). It
// returns the payment as it is after the debit.
//
// What the order's state does not allow now is paykit.ErrUnprocessable, nothing sent:
// nothing remains (after a Cancel, or a full capture), an amount above what remains (the
// order's amount less what is debited or annulled), a payment whose checkout the consumer has
// not completed (one this Client created: GetPayment shows it pending). So is an order Ecster
// does not let debit (not READY or PARTIALLY_DELIVERED; Ecster's 4424). A request no order of
// this payment could ever take is paykit.ErrInvalidRequest: an amount above the order's
// amount, in another currency, or negative.
//
// With paykit.IdempotencyKey the debit carries TransactionReference(id, DEBIT, key), and the
// order is read before anything is sent: when that reference is there the capture happened
// already, and the payment comes back as it is, nothing sent (the same key with another
// explicit amount is paykit.ErrConflict). Without a key every call is its own capture, with
// a random reference. Either way the debit is never sent twice blindly: after a failure that
// may have reached Ecster the order is read, and the debit sent again only when its
// reference is not there (see Client.Credit and the package doc, "Retries").
func (c *Client) Capture(ctx context.Context, id string, amount paykit.Money, opts ...paykit.CallOption) (pay *paykit.Payment, err error) {
	const op = "capture"
	ctx, done := c.settings.Hooks.StartOperation(ctx, ProviderName, paykit.OpCapture, id)
	defer func() { done.Payment(pay, err) }()
	p, err := c.operate(ctx, op, id, amount, TransactionDebit, opts)
	return p, perr.WithPaymentID(err, op, id)
}

// Refund credits amount of what the order has debited (CREDIT transactions); a zero Money
// credits all that is debited and not credited, and an amount of 0 with a currency is
// paykit.ErrInvalidRequest (nothing sent). Each CREDIT names the DEBIT it credits; a refund
// larger than what one debit has left is split over several debits, oldest first, each part
// with its own reference. Nothing to credit, or an amount above what is debited and not
// credited, is paykit.ErrUnprocessable before anything is sent (an amount above the order's
// amount, or in another currency, is paykit.ErrInvalidRequest: no state allows it). When
// one part of a split fails, the parts before it stay credited and the error says how much
// was.
//
// With paykit.IdempotencyKey a repeat finds the refund's parts on the order: when they are
// all there it returns the payment as it is, nothing sent; when only some are (a split that
// failed half-way), it sends only the missing ones. The same key with another explicit
// amount than the refund's is paykit.ErrConflict. Without a key every call is its own
// refund.
func (c *Client) Refund(ctx context.Context, id string, amount paykit.Money, opts ...paykit.CallOption) (pay *paykit.Payment, err error) {
	const op = "refund"
	ctx, done := c.settings.Hooks.StartOperation(ctx, ProviderName, paykit.OpRefund, id)
	defer func() { done.Payment(pay, err) }()
	p, err := c.operate(ctx, op, id, amount, TransactionCredit, opts)
	return p, perr.WithPaymentID(err, op, id)
}

// Cancel annuls what the order has not debited (an ANNUL transaction): the order becomes
// ANNULLED (canceled) when nothing was debited, FULLY_DELIVERED when part was. Nothing left
// to annul (a second Cancel, or after a full capture) is paykit.ErrUnprocessable, nothing
// sent. With paykit.IdempotencyKey a repeat whose ANNUL is on the order returns the payment
// as it is, nothing sent.
func (c *Client) Cancel(ctx context.Context, id string, opts ...paykit.CallOption) (pay *paykit.Payment, err error) {
	const op = "cancel"
	ctx, done := c.settings.Hooks.StartOperation(ctx, ProviderName, paykit.OpCancel, id)
	defer func() { done.Payment(pay, err) }()
	p, err := c.operate(ctx, op, id, paykit.Money{}, TransactionAnnul, opts)
	return p, perr.WithPaymentID(err, op, id)
}

// operate runs one of the Provider's operations (a DEBIT, a CREDIT split over debits, an
// ANNUL) on payment id: it checks what it can before anything is sent, takes the payment's
// lock, reads its order, answers a keyed repeat from the order, checks amount against what
// the operation may still move, and sends.
func (c *Client) operate(ctx context.Context, op, id string, amount paykit.Money, typ TransactionType, opts []paykit.CallOption) (*paykit.Payment, error) {
	if err := checkOrderReference(id); err != nil {
		return nil, perr.Errorf(op, paykit.ErrInvalidRequest, "%v", err)
	}
	co := paykit.NewCallOptions(opts...)
	if err := co.Validate(); err != nil {
		return nil, perr.WithOp(err, op)
	}
	if err := paykit.CheckAmount(amount); err != nil {
		return nil, perr.WithOp(err, op)
	}
	unlock, err := c.locks.Lock(ctx, id)
	if err != nil {
		return nil, perr.Wrap(op, err, err, "waiting for another operation on the payment")
	}
	defer unlock()
	o, err := c.orderFor(ctx, op, id)
	if err != nil {
		if _, ok := c.carts.get(id); ok && errors.Is(err, paykit.ErrNotFound) {
			// GetPayment shows this payment pending: the operation is valid, its time has
			// not come.
			return nil, perr.Unprocessable(op, "the payment is pending: the consumer has not completed the checkout, so there is no order yet")
		}
		return nil, err
	}
	if amount.Currency != "" && amount.Currency != o.Currency {
		return nil, perr.Errorf(op, paykit.ErrInvalidRequest, "the amount is in %s, the order in %s", amount.Currency, o.Currency)
	}
	want := Amount(amount.Amount)

	k := randomK()
	if key := co.IdempotencyKey; key != "" {
		k = keyedK(id, typ, key)
		st := o.keyed(reference(id, typ, k), typ)
		if len(st.txs) > 0 {
			// The key's operation happened, in full or (a split refund) in part.
			total := st.total()
			if want != 0 && want != total {
				e := perr.Errorf(op, paykit.ErrConflict, "the operation key was used for %s of %s, not %s: nothing sent", typ, o.Money(total), o.Money(want))
				e.Unprocessed = true
				return nil, e
			}
			if st.done >= total {
				return c.payment(o), nil
			}
			// A split refund that failed half-way: send only the parts that are missing.
			after, err := c.refund(ctx, op, id, o, k, total, total-st.done, st.lastPart)
			if err != nil {
				return nil, err
			}
			return c.payment(after), nil
		}
	}

	var rest Amount
	var what string
	switch typ {
	case TransactionCredit:
		rest, what = o.Refundable(), "is debited and not credited"
	case TransactionAnnul:
		rest, what = o.Remaining(), "remains to annul"
	default:
		rest, what = o.Remaining(), "remains to capture"
	}
	// A request the order's state refuses now (nothing remains, or less than asked) is
	// ErrUnprocessable: it would be valid on an order in another state. One no order of this
	// amount could ever take is ErrInvalidRequest: the request itself is wrong.
	switch {
	case want == 0 && rest == 0:
		return nil, perr.Unprocessable(op, "nothing %s (the order is %s)", what, o.Status)
	case want == 0:
		want = rest
	case want > o.Amount:
		return nil, perr.Errorf(op, paykit.ErrInvalidRequest, "%s exceeds the order's amount, %s", o.Money(want), o.Money(o.Amount))
	case want > rest:
		return nil, perr.Unprocessable(op, "%s exceeds the %s that %s (the order is %s)", o.Money(want), o.Money(rest), what, o.Status)
	}
	var after *Order
	if typ == TransactionCredit {
		after, err = c.refund(ctx, op, id, o, k, want, want, 0)
	} else {
		after, err = c.send(ctx, op, o, typ, TransactionRequest{Amount: want, TransactionReference: reference(id, typ, k)})
	}
	if err != nil {
		return nil, err
	}
	return c.payment(after), nil
}

// refund credits amount of order o's debits, oldest first, as the parts of a refund of total
// whose reference's k is k; the parts numbered up to done are on the order already (a
// repeat with the same key). A refund that one debit can take whole, from the start, is one
// CREDIT with the reference "<id>-CREDIT-<k>"; the parts of a split are
// "<id>-CREDIT-<k>.<n>.<total>".
func (c *Client) refund(ctx context.Context, op, id string, o *Order, k string, total, amount Amount, done int) (*Order, error) {
	var plan []DebitRest
	left := amount
	for _, d := range o.DebitRest() {
		if left == 0 {
			break
		}
		if d.Rest > 0 {
			take := min(d.Rest, left)
			plan = append(plan, DebitRest{Debit: d.Debit, Rest: take})
			left -= take
		}
	}
	if left > 0 {
		return nil, perr.Unprocessable(op, "the debits have %d left to credit, less than the %d asked", amount-left, amount)
	}
	base := reference(id, TransactionCredit, k)
	var credited Amount
	for i, part := range plan {
		ref := base
		if done > 0 || len(plan) > 1 {
			ref = partReference(base, done+i+1, total)
		}
		next, err := c.send(ctx, op, o, TransactionCredit, TransactionRequest{Amount: part.Rest, DebitTransaction: part.Debit.ID, TransactionReference: ref})
		if err != nil {
			if credited > 0 {
				var pe *paykit.Error
				if errors.As(err, &pe) {
					cp := *pe
					// The parts credited so far are named by their references' common
					// start, so that a merchant (or a repeat with the same key) can find them.
					cp.Message = describe(credited, amount) + " (transactionReferences " + base + ".*); " + cp.Message
					cp.Unprocessed = false // the parts before it were credited
					err = &cp
				}
			}
			return nil, err
		}
		o = next
		credited += part.Rest
	}
	return o, nil
}

// send makes one transaction on order o and returns the order as it is after it.
func (c *Client) send(ctx context.Context, op string, o *Order, typ TransactionType, r TransactionRequest) (*Order, error) {
	res, fresh, _, err := c.transact(ctx, op, o.OrderReference, o.ID, typ, r)
	if err != nil {
		return nil, err
	}
	if fresh != nil {
		return fresh, nil
	}
	return o.apply(res), nil
}

// NewID returns a new payment id Ecster takes as an orderReference (NewID; paykit.IDMaker).
func (c *Client) NewID() string { return NewID() }

var _ paykit.IDMaker = (*Client)(nil)

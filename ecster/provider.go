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
// GetPayment is paykit.ErrNotFound and ProviderID is empty.
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
// new cart. Every error carries the payment id in paykit.Error.PaymentID.
func (c *Client) CreatePayment(ctx context.Context, req paykit.PaymentRequest) (*paykit.Payment, error) {
	const op = "create payment"
	if req.ID == "" {
		req.ID = NewID()
	}
	p, err := c.createPayment(ctx, op, req)
	if err != nil {
		return nil, perr.WithPaymentID(err, op, req.ID)
	}
	return p, nil
}

func (c *Client) createPayment(ctx context.Context, op string, req paykit.PaymentRequest) (*paykit.Payment, error) {
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
	if key := c.carts.get(req.ID); key != "" {
		made, err = c.UpdateCart(ctx, key, cart)
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
	c.carts.put(req.ID, made.Key)
	reference := req.Reference
	if reference == "" {
		reference = req.ID
	}
	zero := paykit.Money{Currency: req.Amount.Currency}
	return &paykit.Payment{
		Provider:  ProviderName,
		ID:        req.ID,
		Reference: reference,
		Amount:    req.Amount,
		Captured:  zero,
		Refunded:  zero,
		Status:    paykit.StatusPending,
		Action:    &paykit.Action{Type: paykit.ActionClientToken, Token: made.Key},
		CreatedAt: now(),
	}, nil
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
// creditedAmount, Status the contract's map (OrderStatus.PaykitStatus).
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

// GetPayment fetches the newest order whose orderReference is id. It is paykit.ErrNotFound
// while the consumer has not completed the checkout (a cart is no order yet).
func (c *Client) GetPayment(ctx context.Context, id string) (*paykit.Payment, error) {
	const op = "get payment"
	if err := checkOrderReference(id); err != nil {
		return nil, perr.WithPaymentID(perr.Errorf(op, paykit.ErrInvalidRequest, "%v", err), op, id)
	}
	o, err := c.orderFor(ctx, op, id)
	if err != nil {
		return nil, perr.WithPaymentID(err, op, id)
	}
	return c.payment(o), nil
}

// Capture debits amount of the order (a DEBIT transaction); a zero Money debits all that
// remains. An amount above what remains (the order's amount less what is debited or
// annulled) is paykit.ErrInvalidRequest before anything is sent; an order Ecster does not let
// debit (not READY or PARTIALLY_DELIVERED) is paykit.ErrUnprocessable (Ecster's 4424). It
// returns the payment as it is after the debit.
//
// The debit is never sent twice blindly: it carries TransactionReference(id, DEBIT, n), and
// after a failure that may have reached Ecster the order is read, and the debit sent again
// only when that reference is not there (see Client.Credit).
func (c *Client) Capture(ctx context.Context, id string, amount paykit.Money, opts ...paykit.CallOption) (*paykit.Payment, error) {
	const op = "capture"
	p, err := c.operate(ctx, op, id, amount, func(o *Order, want Amount) (*Order, error) {
		return c.send(ctx, op, id, o, TransactionDebit, TransactionRequest{Amount: want})
	}, func(o *Order) (Amount, string) { return o.Remaining(), "remains to capture" })
	return p, perr.WithPaymentID(err, op, id)
}

// Refund credits amount of what the order has debited (CREDIT transactions); a zero Money
// credits all that is debited and not credited. Each CREDIT names the DEBIT it credits;
// a refund larger than what one debit has left is split over several debits, oldest first.
// An amount above what is debited and not credited is paykit.ErrInvalidRequest before
// anything is sent. When one part of a split fails, the parts before it stay credited and
// the error says how much was.
func (c *Client) Refund(ctx context.Context, id string, amount paykit.Money, opts ...paykit.CallOption) (*paykit.Payment, error) {
	const op = "refund"
	p, err := c.operate(ctx, op, id, amount, func(o *Order, want Amount) (*Order, error) {
		var plan []DebitRest
		left := want
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
			return nil, perr.Errorf(op, paykit.ErrInvalidRequest, "the debits have %d left to credit, less than the %d asked", want-left, want)
		}
		var done Amount
		for _, part := range plan {
			next, err := c.send(ctx, op, id, o, TransactionCredit, TransactionRequest{Amount: part.Rest, DebitTransaction: part.Debit.ID})
			if err != nil {
				if done > 0 {
					var pe *paykit.Error
					if errors.As(err, &pe) {
						cp := *pe
						cp.Message = describe(done, want) + "; " + cp.Message
						cp.Unprocessed = false // the parts before it were credited
						err = &cp
					}
				}
				return nil, err
			}
			o = next
			done += part.Rest
		}
		return o, nil
	}, func(o *Order) (Amount, string) { return o.Refundable(), "is debited and not credited" })
	return p, perr.WithPaymentID(err, op, id)
}

// Cancel annuls what the order has not debited (an ANNUL transaction): the order becomes
// ANNULLED (canceled) when nothing was debited, FULLY_DELIVERED when part was. Nothing left
// to annul is paykit.ErrInvalidRequest.
func (c *Client) Cancel(ctx context.Context, id string, opts ...paykit.CallOption) (*paykit.Payment, error) {
	const op = "cancel"
	p, err := c.operate(ctx, op, id, paykit.Money{}, func(o *Order, want Amount) (*Order, error) {
		return c.send(ctx, op, id, o, TransactionAnnul, TransactionRequest{Amount: want})
	}, func(o *Order) (Amount, string) { return o.Remaining(), "remains to annul" })
	return p, perr.WithPaymentID(err, op, id)
}

// operate runs one of the Provider's transactions on payment id: it takes the payment's
// lock, reads its order, checks amount against what the operation may still move (limit),
// and runs do with the amount to move.
func (c *Client) operate(ctx context.Context, op, id string, amount paykit.Money,
	do func(o *Order, want Amount) (*Order, error), limit func(o *Order) (Amount, string)) (*paykit.Payment, error) {
	if err := checkOrderReference(id); err != nil {
		return nil, perr.Errorf(op, paykit.ErrInvalidRequest, "%v", err)
	}
	if amount.Amount < 0 {
		return nil, perr.Errorf(op, paykit.ErrInvalidRequest, "the amount must not be negative")
	}
	unlock, err := c.ops.lock(ctx, id)
	if err != nil {
		return nil, perr.Wrap(op, err, err, "waiting for another operation on the payment")
	}
	defer unlock()
	o, err := c.orderFor(ctx, op, id)
	if err != nil {
		return nil, err
	}
	if amount.Currency != "" && amount.Currency != o.Currency {
		return nil, perr.Errorf(op, paykit.ErrInvalidRequest, "the amount is in %s, the order in %s", amount.Currency, o.Currency)
	}
	rest, what := limit(o)
	want := Amount(amount.Amount)
	switch {
	case want == 0 && rest == 0:
		return nil, perr.Errorf(op, paykit.ErrInvalidRequest, "nothing %s", what)
	case want == 0:
		want = rest
	case want > rest:
		return nil, perr.Errorf(op, paykit.ErrInvalidRequest, "%s exceeds the %s that %s", o.Money(want), o.Money(rest), what)
	}
	after, err := do(o, want)
	if err != nil {
		return nil, err
	}
	return c.payment(after), nil
}

// send makes one transaction of the Provider on order o and returns the order as it is after
// it.
func (c *Client) send(ctx context.Context, op, id string, o *Order, typ TransactionType, r TransactionRequest) (*Order, error) {
	res, fresh, err := c.sequenced(ctx, op, id, o, typ, r)
	if err != nil {
		return nil, err
	}
	if fresh != nil {
		return fresh, nil
	}
	return o.apply(res), nil
}

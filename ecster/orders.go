package ecster

import (
	"context"
	"net/url"
	"strconv"
	"time"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/internal/transport"
)

// Order is an Ecster order: what a cart becomes when the consumer completes the checkout.
type Order struct {
	ID             string // Ecster's id (the OEN's orderId, the checkout's internalReference)
	MerchantID     string
	Status         OrderStatus
	Created        time.Time
	Amount         Amount
	Currency       string
	DebitedAmount  Amount // what has been debited (captured) so far
	CreditedAmount Amount // what has been credited (refunded) so far
	OrderReference string // the merchant's reference: paykit's payment id
	Properties     OrderProperties
	Consumer       *Consumer
	Transactions   []Transaction

	// summary: the answer had no transactions member, as a search may answer summaries, or
	// an empty one that cannot be the whole list (money moved).
	summary bool
}

// OrderProperties are the order's payment method and its terms.
type OrderProperties struct {
	Method    string `json:"method"`    // INVOICE, PARTPAYMENT, CARD, SWISH
	Submethod string `json:"submethod"` // e.g. INVOICE_SE_1
}

// Transaction is one transaction of an order.
type Transaction struct {
	ID                   string
	Type                 TransactionType
	Created              time.Time
	Amount               Amount
	TransactionReference string
	// DebitTransaction is, on a CREDIT, the id of the DEBIT it credits (ASSUMPTION: Ecster
	// shows it on the order as it takes it in the request).
	DebitTransaction string
	Message          string
}

// Money returns a as paykit.Money in the order's currency.
func (o *Order) Money(a Amount) paykit.Money {
	return paykit.Money{Amount: int64(a), Currency: o.Currency}
}

// Remaining is what the order still lets the merchant debit (or annul): its amount less what
// is debited and what was annulled.
func (o *Order) Remaining() Amount {
	rest := o.Amount - o.DebitedAmount
	for _, t := range o.Transactions {
		if t.Type == TransactionAnnul {
			rest -= t.Amount
		}
	}
	return max(rest, 0)
}

// Refundable is what the order still lets the merchant credit: debited less credited.
func (o *Order) Refundable() Amount { return max(o.DebitedAmount-o.CreditedAmount, 0) }

// DebitRest returns, for each DEBIT transaction (oldest first), what it has left to credit:
// its amount less the CREDITs against it. A CREDIT that names no debit is set against the
// oldest debits with something left, as Ecster's order shows no other hint.
func (o *Order) DebitRest() []DebitRest {
	var out []DebitRest
	index := map[string]int{}
	for _, t := range o.Transactions {
		if t.Type == TransactionDebit {
			index[t.ID] = len(out)
			out = append(out, DebitRest{Debit: t, Rest: t.Amount})
		}
	}
	var loose Amount
	for _, t := range o.Transactions {
		if t.Type != TransactionCredit {
			continue
		}
		if i, ok := index[t.DebitTransaction]; ok && t.DebitTransaction != "" {
			out[i].Rest -= t.Amount
			continue
		}
		loose += t.Amount
	}
	for i := range out {
		if loose <= 0 {
			break
		}
		take := min(loose, max(out[i].Rest, 0))
		out[i].Rest -= take
		loose -= take
	}
	for i := range out {
		out[i].Rest = max(out[i].Rest, 0)
	}
	return out
}

// DebitRest is a DEBIT transaction and what it has left to credit.
type DebitRest struct {
	Debit Transaction
	Rest  Amount
}

// transaction returns the transaction with reference ref, or nil.
func (o *Order) transaction(ref string) *Transaction {
	for i := range o.Transactions {
		if o.Transactions[i].TransactionReference == ref {
			return &o.Transactions[i]
		}
	}
	return nil
}

type wireOrder struct {
	ID             string            `json:"id"`
	MerchantID     string            `json:"merchantId"`
	Status         OrderStatus       `json:"status"`
	Created        Timestamp         `json:"created"`
	Amount         Amount            `json:"amount"`
	Currency       string            `json:"currency"`
	DebitedAmount  Amount            `json:"debitedAmount"`
	CreditedAmount Amount            `json:"creditedAmount"`
	OrderReference string            `json:"orderReference"`
	Properties     OrderProperties   `json:"properties"`
	Consumer       *Consumer         `json:"consumer"`
	Transactions   []wireTransaction `json:"transactions"`
}

type wireTransaction struct {
	ID                   string          `json:"id"`
	Type                 TransactionType `json:"type"`
	Created              Timestamp       `json:"created"`
	Amount               Amount          `json:"amount"`
	TransactionReference string          `json:"transactionReference"`
	DebitTransaction     string          `json:"debitTransaction"`
	Message              string          `json:"message"`
}

func (w *wireTransaction) decode() Transaction {
	return Transaction{ID: w.ID, Type: w.Type, Created: w.Created.Time, Amount: w.Amount,
		TransactionReference: w.TransactionReference, DebitTransaction: w.DebitTransaction, Message: w.Message}
}

func (w *wireOrder) decode() Order {
	o := Order{
		ID: w.ID, MerchantID: w.MerchantID, Status: w.Status, Created: w.Created.Time, Amount: w.Amount,
		Currency: w.Currency, DebitedAmount: w.DebitedAmount, CreditedAmount: w.CreditedAmount,
		OrderReference: w.OrderReference, Properties: w.Properties, Consumer: w.Consumer,
		// A summary: no transactions member, or an empty one while the order shows money
		// moved (debited, credited, or annulled): the transactions are elsewhere, and an
		// operation key's reference must never be judged absent from a list without them.
		summary: w.Transactions == nil || (len(w.Transactions) == 0 &&
			(w.DebitedAmount > 0 || w.CreditedAmount > 0 || w.Status == OrderAnnulled)),
	}
	if len(w.Transactions) > 0 {
		o.Transactions = make([]Transaction, len(w.Transactions))
		for i := range w.Transactions {
			o.Transactions[i] = w.Transactions[i].decode()
		}
	}
	return o
}

// GetOrder fetches an order by Ecster's id (GET /v1/orders/{orderId}).
func (c *Client) GetOrder(ctx context.Context, orderID string) (*Order, error) {
	return c.getOrder(ctx, "get order", "", orderID)
}

// getOrder fetches an order by Ecster's id; paymentID, when known, is the merchant's payment
// id the call is about (for the attempt's log line).
func (c *Client) getOrder(ctx context.Context, op, paymentID, orderID string) (*Order, error) {
	if err := checkPathID("the order id", orderID); err != nil {
		return nil, perr.Errorf(op, paykit.ErrInvalidRequest, "%v", err)
	}
	var w wireOrder
	_, err := c.http.Do(ctx, transport.Request{Op: op, PaymentID: paymentID, Method: "GET", Path: "/v1/orders/" + url.PathEscape(orderID), URLTemplate: "/v1/orders/{id}", Result: &w, Repeatable: true})
	if err != nil {
		return nil, err
	}
	o := w.decode()
	return &o, nil
}

// OrderQuery is a search of orders (GET /v1/orders); every field is optional.
type OrderQuery struct {
	OrderReference string     // at most 64 characters
	MerchantID     string     // for API keys that serve several merchants
	NationalID     NationalID // the consumer's
	PaymentMethod  string     // PARTPAYMENT, INVOICE, CARD, SWISH
	Status         OrderStatus
	From, To       time.Time // created between; zero: unbounded
}

func (q OrderQuery) values(op string) (url.Values, error) {
	v := url.Values{}
	if q.OrderReference != "" {
		if err := checkOrderReference(q.OrderReference); err != nil {
			return nil, perr.Errorf(op, paykit.ErrInvalidRequest, "%v", err)
		}
		v.Set("orderReference", q.OrderReference)
	}
	if q.MerchantID != "" {
		v.Set("merchantId", q.MerchantID)
	}
	if q.NationalID != "" {
		id, err := ParseNationalID(string(q.NationalID))
		if err != nil {
			return nil, perr.Errorf(op, paykit.ErrInvalidRequest, "%v", err)
		}
		v.Set("nationalId", string(id))
	}
	if q.PaymentMethod != "" {
		v.Set("paymentMethod", q.PaymentMethod)
	}
	if q.Status != "" {
		v.Set("status", string(q.Status))
	}
	if !q.From.IsZero() {
		v.Set("from", FormatTimestamp(q.From))
	}
	if !q.To.IsZero() {
		v.Set("to", FormatTimestamp(q.To))
	}
	if !q.From.IsZero() && !q.To.IsZero() && q.To.Before(q.From) {
		return nil, perr.Errorf(op, paykit.ErrInvalidRequest, "To is before From")
	}
	return v, nil
}

// FindOrders searches orders (GET /v1/orders?orderReference=…&merchantId=…&nationalId=…
// &paymentMethod=…&status=…&from=…&to=…). Ecster answers a JSON array; no paging is known
// (ASSUMPTION), so the array is the whole answer.
func (c *Client) FindOrders(ctx context.Context, q OrderQuery) ([]Order, error) {
	return c.findOrders(ctx, "find orders", q)
}

func (c *Client) findOrders(ctx context.Context, op string, q OrderQuery) ([]Order, error) {
	v, err := q.values(op)
	if err != nil {
		return nil, err
	}
	var w []wireOrder
	_, err = c.http.Do(ctx, transport.Request{Op: op, PaymentID: q.OrderReference, Method: "GET", Path: "/v1/orders", URLTemplate: "/v1/orders", Query: v, Result: &w, Repeatable: true})
	if err != nil {
		return nil, err
	}
	out := make([]Order, len(w))
	for i := range w {
		out[i] = w[i].decode()
	}
	return out, nil
}

// orderFor returns the newest order whose orderReference is id (ErrNotFound when there is
// none: a cart the consumer has not completed is no order yet).
func (c *Client) orderFor(ctx context.Context, op, id string) (*Order, error) {
	orders, err := c.findOrders(ctx, op, OrderQuery{OrderReference: id})
	if err != nil {
		return nil, err
	}
	var newest *Order
	for i := range orders {
		o := &orders[i]
		if o.OrderReference != "" && o.OrderReference != id {
			continue // a search that matched loosely: not this payment's
		}
		if newest == nil || !o.Created.Before(newest.Created) {
			newest = o
		}
	}
	if newest == nil {
		return nil, perr.Errorf(op, paykit.ErrNotFound, "no order has orderReference %s: the consumer has not completed the checkout", strconv.Quote(id))
	}
	if newest.summary {
		// Ecster's documentation calls the search's answer order summaries: the
		// transactions, which the operations and their references need, come with the
		// order itself.
		full, err := c.getOrder(ctx, op, id, newest.ID)
		if err != nil {
			return nil, err
		}
		newest = full
	}
	if newest.OrderReference == "" {
		newest.OrderReference = id
	}
	return newest, nil
}

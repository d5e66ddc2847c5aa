package ecstertest

import (
	"net/http"
	"strings"
	"time"

	"github.com/paykit/paykit/ecster"
)

// order is an Ecster order as the server keeps it.
type order struct {
	id        string
	ref       string
	status    ecster.OrderStatus
	created   time.Time
	amount    int64
	currency  string
	debited   int64
	credited  int64
	annulled  int64
	method    string
	submethod string
	consumer  *ecster.Consumer
	notifyURL string
	txs       []*transaction
}

// transaction is one transaction of an order.
type transaction struct {
	id        string
	typ       ecster.TransactionType
	created   time.Time
	amount    int64
	reference string
	debit     string // CREDIT: the DEBIT's id
	message   string
	credited  int64 // DEBIT: what CREDITs took from it
}

// remaining is what the order still lets the merchant debit or annul.
func (o *order) remaining() int64 { return o.amount - o.debited - o.annulled }

type orderJSON struct {
	ID             string            `json:"id"`
	MerchantID     string            `json:"merchantId"`
	Status         string            `json:"status"`
	Created        string            `json:"created"`
	Amount         int64             `json:"amount"`
	Currency       string            `json:"currency"`
	DebitedAmount  int64             `json:"debitedAmount"`
	CreditedAmount int64             `json:"creditedAmount"`
	OrderReference string            `json:"orderReference"`
	Properties     propertiesJSON    `json:"properties"`
	Consumer       *ecster.Consumer  `json:"consumer,omitempty"`
	Transactions   []transactionJSON `json:"transactions"`
}

type propertiesJSON struct {
	Method    string `json:"method"`
	Submethod string `json:"submethod"`
}

type transactionJSON struct {
	ID                   string `json:"id"`
	Type                 string `json:"type"`
	Created              string `json:"created"`
	Amount               int64  `json:"amount"`
	TransactionReference string `json:"transactionReference,omitempty"`
	DebitTransaction     string `json:"debitTransaction,omitempty"`
	Message              string `json:"message,omitempty"`
}

// stockholm is the offset of the timestamps the fake writes in orders (CET, as Ecster's
// examples); OENs are written in UTC with "Z", as Ecster's OEN example.
var stockholm = time.FixedZone("CET", 3600)

// public is t as the client reads it.
func (t *transaction) public() ecster.Transaction {
	return ecster.Transaction{ID: t.id, Type: t.typ, Created: t.created, Amount: ecster.Amount(t.amount),
		TransactionReference: t.reference, DebitTransaction: t.debit, Message: t.message}
}

// getOrder serves GET /v1/orders/{orderId}.
func (s *Server) getOrder(id string) response {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[id]
	if !ok {
		return errorResponse(http.StatusNotFound, codeNotFound, "No order with id "+id+".")
	}
	return bodyResponse(http.StatusOK, OrderBody(s.snapshotLocked(o)))
}

// findOrders serves GET /v1/orders?orderReference=&merchantId=&nationalId=&paymentMethod=
// &status=&from=&to=: every order matching all the parameters given, oldest first.
func (s *Server) findOrders(r *http.Request) response {
	q := r.URL.Query()
	ref := q.Get("orderReference")
	if len(ref) > 64 {
		return invalid("orderReference is at most 64 characters.")
	}
	var from, to time.Time
	for name, t := range map[string]*time.Time{"from": &from, "to": &to} {
		if v := q.Get(name); v != "" {
			parsed, err := ecster.ParseTimestamp(v)
			if err != nil {
				return invalid(name + " must be a timestamp, YYYY-MM-DDTHH:MM:SS+HH:MM.")
			}
			*t = parsed
		}
	}
	nationalID := q.Get("nationalId")
	if nationalID != "" {
		if err := ecster.NationalID(nationalID).Validate(); err != nil {
			return invalid("nationalId: " + err.Error())
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var candidates []*order
	if ref != "" {
		candidates = s.refs[ref]
	} else {
		for _, list := range s.refs {
			candidates = append(candidates, list...)
		}
	}
	var out []ecster.Order
	for _, o := range candidates {
		switch {
		case q.Get("merchantId") != "" && q.Get("merchantId") != s.cfg.MerchantID,
			q.Get("paymentMethod") != "" && !strings.EqualFold(q.Get("paymentMethod"), o.method),
			q.Get("status") != "" && q.Get("status") != string(o.status),
			!from.IsZero() && o.created.Before(from),
			!to.IsZero() && o.created.After(to),
			nationalID != "" && (o.consumer == nil || !o.consumer.NationalID.Equal(ecster.NationalID(nationalID))):
			continue
		}
		out = append(out, s.snapshotLocked(o))
	}
	return bodyResponse(http.StatusOK, OrdersBody(out...))
}

type transactionAnswer struct {
	OrderStatus string          `json:"orderStatus"`
	Transaction transactionJSON `json:"transaction"`
}

// transaction serves POST /v1/orders/{orderId}/transactions with Ecster's rules: a DEBIT
// only in READY or PARTIALLY_DELIVERED and never more than remains; a CREDIT against one
// DEBIT of the order, up to what that debit has left; an ANNUL of at most what remains, in
// READY or PARTIALLY_DELIVERED. Anything else is 4424.
func (s *Server) transaction(orderID string, body []byte) response {
	m, ok := decodeObject(body)
	if !ok {
		return invalid("The body must be one JSON object.")
	}
	typeWord, _ := m["type"].(string)
	typ := ecster.ParseTransactionType(typeWord)
	if typ != ecster.TransactionDebit && typ != ecster.TransactionCredit && typ != ecster.TransactionAnnul {
		return invalid("type must be DEBIT, CREDIT or ANNUL.")
	}
	amount, hasAmount := int64(0), false
	if v, present := m["amount"]; present {
		if amount, ok = integer(v); !ok || amount <= 0 {
			return invalid("amount must be a positive integer (minor units).")
		}
		hasAmount = true
	}
	if !hasAmount && typ != ecster.TransactionAnnul {
		return invalid("amount is required.")
	}
	ref, _ := m["transactionReference"].(string)
	if v, present := m["transactionReference"]; present {
		if _, isString := v.(string); !isString {
			return invalid("transactionReference must be a string.")
		}
	}
	debitID, _ := m["debitTransaction"].(string)
	if typ == ecster.TransactionCredit && debitID == "" {
		return invalid("debitTransaction is required for a CREDIT.")
	}
	closeDebit, _ := m["closeDebit"].(bool)
	message, _ := m["message"].(string)

	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[orderID]
	if !ok {
		return errorResponse(http.StatusNotFound, codeNotFound, "No order with id "+orderID+".")
	}
	t := &transaction{typ: typ, amount: amount, reference: ref, message: message}
	var event ecster.OrderEvent
	switch typ {
	case ecster.TransactionDebit:
		switch {
		case !o.status.Debitable():
			return invalidState("a DEBIT needs READY or PARTIALLY_DELIVERED, the order is " + string(o.status) + ".")
		case amount > o.remaining():
			return invalidState("the DEBIT exceeds what remains to debit.")
		}
		o.debited += amount
		if o.remaining() == 0 || closeDebit {
			o.status, event = ecster.OrderFullyDelivered, ecster.EventFullDebit
		} else {
			o.status, event = ecster.OrderPartiallyDelivered, ecster.EventPartialDebit
		}
	case ecster.TransactionCredit:
		var debit *transaction
		for _, d := range o.txs {
			if d.typ == ecster.TransactionDebit && d.id == debitID {
				debit = d
			}
		}
		switch {
		case debit == nil:
			return invalidState("debitTransaction names no DEBIT of this order.")
		case amount > debit.amount-debit.credited:
			return invalidState("the CREDIT exceeds what the DEBIT has left to credit.")
		}
		debit.credited += amount
		o.credited += amount
		t.debit = debitID
		event = ecster.EventPartialCredit
		if o.credited == o.debited {
			event = ecster.EventFullCredit
		}
	case ecster.TransactionAnnul:
		if !o.status.Debitable() {
			return invalidState("an ANNUL needs READY or PARTIALLY_DELIVERED, the order is " + string(o.status) + ".")
		}
		if !hasAmount {
			amount = o.remaining()
			t.amount = amount
		}
		if amount > o.remaining() {
			return invalidState("the ANNUL exceeds what remains.")
		}
		o.annulled += amount
		switch {
		case o.remaining() > 0:
			event = ecster.EventPartialAnnulment
		case o.debited > 0:
			o.status, event = ecster.OrderFullyDelivered, ecster.EventPartialAnnulment
		default:
			o.status, event = ecster.OrderAnnulled, ecster.EventFullAnnulment
		}
	}
	t.id = randomID(20)
	t.created = s.Now()
	o.txs = append(o.txs, t)
	s.notifyLocked(o, event, t.id)
	return bodyResponse(http.StatusCreated, TransactionBody(o.status, t.public()))
}

// Order returns the newest order of the payment with paymentID (the orderReference), as
// the client would read it.
func (s *Server) Order(paymentID string) (ecster.Order, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := s.refs[paymentID]
	if len(list) == 0 {
		return ecster.Order{}, false
	}
	return s.snapshotLocked(list[len(list)-1]), true
}

// Orders returns every order of the payment with paymentID, oldest first.
func (s *Server) Orders(paymentID string) []ecster.Order {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []ecster.Order
	for _, o := range s.refs[paymentID] {
		out = append(out, s.snapshotLocked(o))
	}
	return out
}

// Transactions returns every transaction recorded on the orders of the payment with
// paymentID, oldest first: the record of what Ecster would bill. The initial transaction
// each order starts with (INITIAL) is included.
func (s *Server) Transactions(paymentID string) []ecster.Transaction {
	var out []ecster.Transaction
	for _, o := range s.Orders(paymentID) {
		out = append(out, o.Transactions...)
	}
	return out
}

func (s *Server) snapshotLocked(o *order) ecster.Order {
	out := ecster.Order{
		ID: o.id, MerchantID: s.cfg.MerchantID, Status: o.status, Created: o.created, Amount: ecster.Amount(o.amount),
		Currency: o.currency, DebitedAmount: ecster.Amount(o.debited), CreditedAmount: ecster.Amount(o.credited),
		OrderReference: o.ref, Properties: ecster.OrderProperties{Method: o.method, Submethod: o.submethod}, Consumer: o.consumer,
	}
	for _, t := range o.txs {
		out.Transactions = append(out.Transactions, t.public())
	}
	return out
}

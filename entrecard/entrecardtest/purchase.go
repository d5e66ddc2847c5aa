package entrecardtest

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/paykit/paykit/entrecard"
	"github.com/paykit/paykit/internal/fakeserver"
)

// Transaction is a purchase the buyer confirmed or cancelled, with its result. Its ItemID is
// the merchant's payment id.
type Transaction struct {
	ID          string // transaction_id
	SellerID    string
	ItemID      string // the merchant's payment id
	Description string
	Quantity    int
	Cost        int64
	Total       int64
	Buyer       string // "" when the buyer cancelled without signing in
	Status      entrecard.ResultStatus
	NotifyURL   string
	SuccessURL  string
	CancelURL   string
	Result      string    // the signed result query sent to the notify URL and appended to the redirect
	Created     time.Time // by the server's clock (Now)
}

// purchase creates the transaction of a confirmed (or cancelled) link, moves the credits,
// starts delivering the result and redirects the buyer.
func (s *Server) purchase(l link, buyer string, cancel bool) response {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Confirming needs a signed-in buyer; cancelling does not, but a name given must be known.
	if _, ok := s.buyers[buyer]; !ok && (buyer != "" || !cancel) {
		return textResponse(http.StatusUnauthorized, "Sign in as a known buyer.")
	}
	total := l.total()
	status := entrecard.ResultCancelled
	if !cancel {
		switch {
		case s.buyers[buyer] < total:
			status = entrecard.ResultFailed
		case s.escrow:
			status = entrecard.ResultEscrow
		default:
			status = entrecard.ResultComplete
		}
	}
	if status.IsComplete() {
		fee := entrecard.Fee(total)
		s.buyers[buyer] -= total
		s.sellers[l.seller].balance += total - fee
		s.fees += fee
	}
	id := strconv.FormatInt(s.nextTxn, 10)
	s.nextTxn++
	t := &Transaction{
		ID: id, SellerID: l.seller, ItemID: l.id, Description: l.description, Quantity: l.quantity,
		Cost: l.cost, Total: total, Buyer: buyer, Status: status,
		NotifyURL: l.notify, SuccessURL: l.success, CancelURL: l.cancel, Created: s.Now(),
	}
	t.Result = ResultQuery(s.sellers[l.seller].secret, entrecard.Result{SellerID: l.seller, ID: l.id, Total: total, TransactionID: id, Status: status})
	s.txns = append(s.txns, t)
	s.byTxn[id] = t
	s.fake.Notify(s.resultNotification(t))

	back := l.cancel
	if status.IsComplete() {
		back = l.success
	}
	return redirectResponse(appendQuery(back, t.Result))
}

// userAgent is the User-Agent of the fake's deliveries.
const userAgent = "entrecardtest"

// resultNotification is the delivery of t's result: a GET of the notify URL with the result
// appended, or a POST of it as a form (Config.NotifyMethod).
func (s *Server) resultNotification(t *Transaction) fakeserver.Notification {
	n := fakeserver.Notification{
		PaymentID: t.ItemID,
		Event:     string(t.Status),
		Method:    s.cfg.NotifyMethod,
		Header:    http.Header{"User-Agent": {userAgent}},
	}
	if n.Method == http.MethodPost {
		n.URL, n.Body = t.NotifyURL, []byte(t.Result)
		n.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		n.URL = appendQuery(t.NotifyURL, t.Result)
	}
	return n
}

// Transactions returns every transaction so far, oldest first.
func (s *Server) Transactions() []Transaction {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Transaction, len(s.txns))
	for i, t := range s.txns {
		out[i] = *t
	}
	return out
}

// Transaction returns the latest transaction of the payment with paymentID (the item id):
// a payment may have several (a failed one, then a complete one).
func (s *Server) Transaction(paymentID string) (Transaction, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.txns) - 1; i >= 0; i-- {
		if s.txns[i].ItemID == paymentID {
			return *s.txns[i], true
		}
	}
	return Transaction{}, false
}

// transactionIDOf reads the transaction_id of the result appended to a redirect (the last
// one: the merchant's own query comes first).
func transactionIDOf(location string) string {
	u, err := url.Parse(location)
	if err != nil {
		return ""
	}
	ids := u.Query()["transaction_id"]
	if len(ids) == 0 {
		return ""
	}
	return ids[len(ids)-1]
}

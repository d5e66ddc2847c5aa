package ecster

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/internal/notifyurl"
)

// OEN is an Order Event Notification: Ecster's signal that something happened to an order.
// It is not signed and holds no amounts: fetch the order before acting on it
// (paykit.NewWebhookHandler does).
type OEN struct {
	OrderID        string      // Ecster's order id
	OrderReference string      // the merchant's reference (paykit's payment id); may be empty
	Status         OrderStatus // the order's status when it was sent (ANNULED read as ANNULLED)
	Time           time.Time
	Event          OrderEvent // what happened (PARTIAL_DEDIT/FULL_DEDIT read as …_DEBIT)
	// TransactionID is the transaction the event is about, when the OEN names one (not in
	// the document; one public integration reads it when present).
	TransactionID string
}

// DedupKey identifies the OEN as sent: the same for every redelivery of this OEN, different
// for another event of the order. It is made of the order id, the time, the status and the
// event, and the transaction id when the OEN names one (Ecster's times are whole seconds: two
// partial debits within one second would otherwise look like one event), each
// length-prefixed so that no value can imitate another's.
//
// None of these fields is signed: anyone who can reach the notification URL can make a new
// key with a made-up time. Do not use it to decide that an event is new; ParseNotification
// leaves paykit.Notification.DedupKey empty for that reason, and the webhook handler keys on
// the fetched payment state.
func (n *OEN) DedupKey() string {
	var b bytes.Buffer
	fields := []string{n.OrderID, n.Time.UTC().Format(time.RFC3339Nano), string(n.Status), string(n.Event)}
	if n.TransactionID != "" {
		fields = append(fields, n.TransactionID)
	}
	for _, f := range fields {
		b.WriteString(strconv.Itoa(len(f)))
		b.WriteByte(':')
		b.WriteString(f)
		b.WriteByte('|')
	}
	return b.String()
}

// ParseOEN reads the JSON body of an OEN, {orderId, orderReference, status, time, event}.
// orderId, status, time and event are required (the document gives each a cardinality of
// one); unknown members are ignored, and unknown status and event words are kept. A body that
// is not an OEN is an error matching paykit.ErrInvalidRequest.
func ParseOEN(body []byte) (*OEN, error) {
	const op = "parse OEN"
	var w struct {
		OrderID        *string `json:"orderId"`
		OrderReference *string `json:"orderReference"`
		Status         *string `json:"status"`
		Time           *string `json:"time"`
		Event          *string `json:"event"`
		// Not in the document: read leniently, so that a number there cannot make an OEN
		// unreadable.
		TransactionID json.RawMessage `json:"transactionId"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&w); err != nil {
		return nil, perr.Wrap(op, paykit.ErrInvalidRequest, err, "the body is not an OEN")
	}
	if dec.More() {
		return nil, perr.Errorf(op, paykit.ErrInvalidRequest, "the body holds more than one JSON value")
	}
	switch {
	case w.OrderID == nil || *w.OrderID == "":
		return nil, perr.Errorf(op, paykit.ErrInvalidRequest, "orderId is missing")
	case w.Status == nil || *w.Status == "":
		return nil, perr.Errorf(op, paykit.ErrInvalidRequest, "status is missing")
	case w.Event == nil || *w.Event == "":
		return nil, perr.Errorf(op, paykit.ErrInvalidRequest, "event is missing")
	case w.Time == nil:
		return nil, perr.Errorf(op, paykit.ErrInvalidRequest, "time is missing")
	}
	t, err := ParseTimestamp(*w.Time)
	if err != nil {
		return nil, perr.Wrap(op, paykit.ErrInvalidRequest, err, "time")
	}
	n := &OEN{OrderID: *w.OrderID, Status: ParseOrderStatus(*w.Status), Time: t, Event: ParseOrderEvent(*w.Event)}
	if w.OrderReference != nil {
		n.OrderReference = *w.OrderReference
	}
	n.TransactionID = rawText(w.TransactionID)
	return n, nil
}

// ParseNotification verifies and parses an OEN that Ecster POSTed to a cart's
// notificationUrl, in this order, refusing before anything is fetched:
//
//  1. with Config.NotificationHeader, the header must carry NotificationHeaderValue
//     (compared in constant time); missing or wrong is paykit.ErrInvalidSignature;
//  2. with Config.NotifySecret, the URL must carry a valid paykit_sig for its paykit_id, and
//     the body's orderReference, when there is one, must be that id
//     (paykit.ErrInvalidSignature otherwise);
//  3. the body is read up to the handler's limit and parsed (ParseOEN).
//
// PaymentID is the orderReference. An OEN without one takes the signed paykit_id, or else is
// resolved through GET /v1/orders/{orderId}: when that fails the error matches
// paykit.ErrUnavailable, so that paykit.NewWebhookHandler answers 503 and Ecster delivers
// again (an order Ecster does not know, 404, is malformed: 400).
//
// Event is the normalized event word. DedupKey and Status are left empty: nothing in an OEN
// is signed, so neither its time nor its status can tell a redelivery from a new event (a
// forged or replayed OEN with a made-up time would run the merchant's function again).
// paykit.NewWebhookHandler then keys the notification on the payment state it fetches: the
// same state runs the function once, a changed state runs it again. An orderReference (or
// orderId to be fetched) that breaks the id rule is paykit.ErrInvalidRequest.
func (c *Client) ParseNotification(r *http.Request) (n *paykit.Notification, err error) {
	const op = "parse notification"
	r, done := c.settings.Hooks.StartNotification(r, ProviderName)
	defer func() { done.Notification(n, err) }()
	if r.Method != http.MethodPost {
		return nil, perr.Errorf(op, paykit.ErrInvalidRequest, "method %s: OENs are POSTs", r.Method)
	}
	if err := c.checkHeader(r); err != nil {
		return nil, err
	}
	signedID := ""
	if c.signer.Enabled() {
		id, err := c.signer.Verify(r.URL)
		if err != nil {
			msg := "the notification URL's paykit signature does not match"
			if errors.Is(err, notifyurl.ErrMissing) {
				msg = "the notification URL carries no paykit signature"
			}
			return nil, perr.Errorf(op, paykit.ErrInvalidSignature, "%s", msg)
		}
		signedID = id
	}
	body, err := paykit.ReadNotificationBody(r)
	if err != nil {
		return nil, perr.WithOp(err, op)
	}
	oen, err := ParseOEN(body)
	if err != nil {
		return nil, perr.WithOp(err, op)
	}
	id := oen.OrderReference
	if id != "" {
		// The id goes on to GetPayment's query: the id rule holds for it as for any other.
		if err := checkOrderReference(id); err != nil {
			return nil, perr.Errorf(op, paykit.ErrInvalidRequest, "the OEN's %v", err)
		}
	}
	switch {
	case signedID != "" && id != "" && id != signedID:
		return nil, perr.Errorf(op, paykit.ErrInvalidSignature, "the OEN names another orderReference than its URL is signed for")
	case id == "" && signedID != "":
		id = signedID
	case id == "":
		o, err := c.getOrder(r.Context(), op, "", oen.OrderID)
		switch {
		case errors.Is(err, paykit.ErrInvalidRequest):
			// An orderId no path may carry (".", "..", control characters): malformed,
			// refused before anything was sent.
			return nil, perr.Wrap(op, paykit.ErrInvalidRequest, err, "the OEN's orderId is not an order id")
		case errors.Is(err, paykit.ErrNotFound):
			return nil, perr.Wrap(op, paykit.ErrInvalidRequest, err, "the OEN names an order Ecster does not know")
		case err != nil:
			return nil, perr.Wrap(op, paykit.ErrUnavailable, err, "the OEN has no orderReference and its order could not be read")
		case o.OrderReference == "":
			return nil, perr.Errorf(op, paykit.ErrInvalidRequest, "the OEN's order has no orderReference")
		}
		id = o.OrderReference
	}
	// No DedupKey: nothing in an OEN is signed (the header authenticates the sender at best,
	// and a forged or replayed OEN with a made-up time would be a "new" event), so the
	// webhook handler keys the OEN on the payment state it fetches instead.
	return &paykit.Notification{
		Provider:  ProviderName,
		PaymentID: id,
		Event:     string(oen.Event),
	}, nil
}

// checkHeader checks the custom OEN header when one is configured. Both sides are hashed
// before the constant-time compare, so that not even the value's length shows in the time
// taken.
func (c *Client) checkHeader(r *http.Request) error {
	const op = "parse notification"
	if c.cfg.NotificationHeader == "" {
		return nil
	}
	values := r.Header.Values(c.cfg.NotificationHeader)
	if len(values) == 0 {
		return perr.Errorf(op, paykit.ErrInvalidSignature, "the OEN lacks the %s header", c.cfg.NotificationHeader)
	}
	want := sha256.Sum256([]byte(c.cfg.NotificationHeaderValue))
	got := sha256.Sum256([]byte(values[0]))
	if len(values) != 1 || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
		return perr.Errorf(op, paykit.ErrInvalidSignature, "the OEN's %s header does not match", c.cfg.NotificationHeader)
	}
	return nil
}

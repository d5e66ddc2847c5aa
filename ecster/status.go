package ecster

import (
	"encoding/json"
	"strings"

	"github.com/paykit/paykit"
)

// OrderStatus is an Ecster order's status ("orderstatus"). Words paykit does not know pass
// through unchanged; the misspelling ANNULED is read as ANNULLED.
type OrderStatus string

// The order statuses of the provider's document, each named Order and its value (never
// Status…, which is paykit's own vocabulary: OrderStatus.PaykitStatus maps one to the other).
const (
	OrderReady              OrderStatus = "READY"               // ready to be delivered (debited)
	OrderPendingPayment     OrderStatus = "PENDING_PAYMENT"     // payment is being processed
	OrderPendingDecision    OrderStatus = "PENDING_DECISION"    // awaiting Ecster's decision
	OrderPendingSignature   OrderStatus = "PENDING_SIGNATURE"   // approved, awaiting the consumer's signed contract
	OrderPendingProcessing  OrderStatus = "PENDING_PROCESSING"  // approved, needs further processing
	OrderDenied             OrderStatus = "DENIED"              // denied; cannot be delivered
	OrderFailed             OrderStatus = "FAILED"              // payment failed
	OrderAborted            OrderStatus = "ABORTED"             // the consumer aborted
	OrderPartiallyDelivered OrderStatus = "PARTIALLY_DELIVERED" // part debited; the rest may follow
	OrderFullyDelivered     OrderStatus = "FULLY_DELIVERED"     // all debited, or the rest closed; credits still possible
	OrderAnnulled           OrderStatus = "ANNULLED"            // annulled by the merchant
	OrderExpired            OrderStatus = "EXPIRED"             // too old
	OrderBlocked            OrderStatus = "BLOCKED"             // stopped by Ecster, e.g. suspected fraud
	OrderManualProcessing   OrderStatus = "MANUAL_PROCESSING"   // handled manually by Ecster
)

// jsonString reads a JSON string. The words and times of Ecster's answers hold no escapes,
// so those are read without a second pass of the JSON decoder (an order holds many of them);
// anything else goes through encoding/json.
func jsonString(b []byte) (string, error) {
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		plain := true
		for _, c := range b[1 : len(b)-1] {
			if c == '\\' || c == '"' || c < 0x20 || c >= 0x80 {
				plain = false
				break
			}
		}
		if plain {
			return string(b[1 : len(b)-1]), nil
		}
	}
	var v string
	err := json.Unmarshal(b, &v)
	return v, err
}

// ParseOrderStatus normalizes an order status word: ANNULED (one L, as older integrations
// spell it) is ANNULLED; anything else is kept as it came.
func ParseOrderStatus(s string) OrderStatus {
	if s == "ANNULED" {
		return OrderAnnulled
	}
	return OrderStatus(s)
}

// UnmarshalJSON reads the status with ParseOrderStatus.
func (s *OrderStatus) UnmarshalJSON(b []byte) error {
	v, err := jsonString(b)
	if err != nil {
		return err
	}
	*s = ParseOrderStatus(v)
	return nil
}

// Debitable reports whether Ecster accepts a DEBIT (or an ANNUL) of an order in status s:
// READY and PARTIALLY_DELIVERED.
func (s OrderStatus) Debitable() bool {
	return s == OrderReady || s == OrderPartiallyDelivered
}

// PaykitStatus maps s to paykit's vocabulary, given what the order has debited and credited:
//
//	READY                                    authorized
//	PENDING_* and MANUAL_PROCESSING          pending
//	PARTIALLY_DELIVERED                      partially_captured; partially_refunded once something is credited
//	FULLY_DELIVERED                          succeeded; partially_refunded or refunded by credited against debited
//	ANNULLED, ABORTED                        canceled
//	DENIED, FAILED, BLOCKED                  failed
//	EXPIRED                                  expired
//	anything else                            unknown
func (s OrderStatus) PaykitStatus(debited, credited Amount) paykit.Status {
	switch s {
	case OrderReady:
		return paykit.StatusAuthorized
	case OrderPendingPayment, OrderPendingDecision, OrderPendingSignature, OrderPendingProcessing, OrderManualProcessing:
		return paykit.StatusPending
	case OrderPartiallyDelivered:
		if credited > 0 {
			return paykit.StatusPartiallyRefunded
		}
		return paykit.StatusPartiallyCaptured
	case OrderFullyDelivered:
		switch {
		case credited <= 0:
			return paykit.StatusSucceeded
		case credited < debited:
			return paykit.StatusPartiallyRefunded
		}
		return paykit.StatusRefunded
	case OrderAnnulled, OrderAborted:
		return paykit.StatusCanceled
	case OrderDenied, OrderFailed, OrderBlocked:
		return paykit.StatusFailed
	case OrderExpired:
		return paykit.StatusExpired
	}
	return paykit.StatusUnknown
}

// OrderEvent is what happened to an order, as an OEN names it ("orderevent"). Words paykit
// does not know pass through; the document's misspellings PARTIAL_DEDIT and FULL_DEDIT are
// read as PARTIAL_DEBIT and FULL_DEBIT.
type OrderEvent string

// The order events.
const (
	EventCreated          OrderEvent = "CREATED"           // the checkout made an order (Ecster's OEN example)
	EventPartialCredit    OrderEvent = "PARTIAL_CREDIT"    // credited less than debited in total
	EventFullCredit       OrderEvent = "FULL_CREDIT"       // credited all that was debited
	EventPartialDebit     OrderEvent = "PARTIAL_DEBIT"     // debited part: PARTIALLY_DELIVERED
	EventFullDebit        OrderEvent = "FULL_DEBIT"        // debited all: FULLY_DELIVERED
	EventPartialAnnulment OrderEvent = "PARTIAL_ANNULMENT" // the rest annulled after a partial debit: FULLY_DELIVERED
	EventFullAnnulment    OrderEvent = "FULL_ANNULMENT"    // annulled: ANNULLED
)

// ParseOrderEvent normalizes an event word: PARTIAL_DEDIT and FULL_DEDIT (the spellings of
// Ecster's document) are PARTIAL_DEBIT and FULL_DEBIT; anything else is kept.
func ParseOrderEvent(s string) OrderEvent {
	switch s {
	case "PARTIAL_DEDIT":
		return EventPartialDebit
	case "FULL_DEDIT":
		return EventFullDebit
	}
	return OrderEvent(s)
}

// UnmarshalJSON reads the event with ParseOrderEvent.
func (e *OrderEvent) UnmarshalJSON(b []byte) error {
	v, err := jsonString(b)
	if err != nil {
		return err
	}
	*e = ParseOrderEvent(v)
	return nil
}

// TransactionType is the type of an order transaction.
type TransactionType string

// The transaction types. INITIAL (the document) and ORIGINAL (Ecster's order example) both
// name the read-only transaction an order starts with.
const (
	TransactionDebit    TransactionType = "DEBIT"
	TransactionCredit   TransactionType = "CREDIT"
	TransactionAnnul    TransactionType = "ANNUL"
	TransactionInitial  TransactionType = "INITIAL"
	TransactionOriginal TransactionType = "ORIGINAL"
)

// ParseTransactionType normalizes a transaction type: ANNULL (one page of Ecster's
// documentation) is ANNUL; anything else is kept.
func ParseTransactionType(s string) TransactionType {
	if s == "ANNULL" {
		return TransactionAnnul
	}
	return TransactionType(s)
}

// UnmarshalJSON reads the type with ParseTransactionType.
func (t *TransactionType) UnmarshalJSON(b []byte) error {
	v, err := jsonString(b)
	if err != nil {
		return err
	}
	*t = ParseTransactionType(v)
	return nil
}

// The payment methods of an order (Order.Properties.Method) and of PaymentMethods.
const (
	MethodInvoice     = "INVOICE"
	MethodPartPayment = "PARTPAYMENT"
	MethodAccount     = "ACCOUNT" // a part-payment account, in older integrations
	MethodCard        = "CARD"
	MethodSwish       = "SWISH"
)

// IsPartPayment reports whether method is part payment, which Ecster names PARTPAYMENT and
// older integrations ACCOUNT.
func IsPartPayment(method string) bool {
	m := strings.ToUpper(method)
	return m == MethodPartPayment || m == MethodAccount
}

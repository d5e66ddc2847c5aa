package ecreditstest

import (
	"encoding/json"
	"time"
)

// The builders below return exactly the bodies the fake answers, for a merchant's own
// responders (httpmock or an http.Handler of their own): the mocked answers are then
// eCredits' as the fake speaks them, and a test in this package checks each builder against
// the fake, so the two cannot drift apart. The package ecredits Example "httpmock" uses them.

// AuthBody returns the body of a successful POST /api/authentication:
// {"token": token, "expiresAt": expiresAt}, the time written as eCredits writes it (UTC,
// seven fraction digits, "+00:00"). The client sends the token back as it is and refreshes
// it shortly before expiresAt, so any string does for a mock.
func AuthBody(token string, expiresAt time.Time) []byte {
	return marshal(authResponse{Token: token, ExpiresAt: formatTime(expiresAt)})
}

// RequestBody returns the body the fake answers for the transaction request r: to its create
// (POST /api/v1/requests, 200) and to GET /api/v1/requests/{id} without generateQrCode, which
// is how ecredits.Client.CreatePayment and GetPayment ask. Set, as Request returns them:
//
//   - ID, the payment id (qrCodeString and href are made from it);
//   - AmountDue, what the customer pays in ECS (for a EUR request: the EUR amount × the
//     fake's rate, DefaultECSPerEUR, e.g. 99.99 EUR → 9999 ECS, Money{Amount: 999900});
//   - FiatAmountDue, the EUR amount asked, or the zero Money for a request made in ECS;
//   - PaymentReference, "" for none (written as null);
//   - ExpiresAt: a request whose expiresAt has passed reads as expired.
//
// TestMode, CreatedAt and Payments are not part of the body (Paid shows in PaidBody).
func RequestBody(r TransactionRequest) []byte {
	t := &txRequest{id: r.ID, amountDue: r.AmountDue, fiat: r.FiatAmountDue, expiresAt: r.ExpiresAt}
	if r.PaymentReference != "" {
		ref := r.PaymentReference
		t.paymentReference = &ref
	}
	return marshal(t.toJSON(false, ""))
}

// PaidBody returns the body of GET /api/v1/requests/{id}/paid: a bare true or false.
func PaidBody(paid bool) []byte { return marshal(paid) }

// PaymentsBody returns the body of GET /api/v1/requests/{id}/payments: the transaction
// hashes that paid the request, oldest first ([] for none).
func PaymentsBody(hashes []string) []byte { return marshal(append([]string{}, hashes...)) }

// marshal is how every answer of the fake is encoded (jsonResponse uses it too).
func marshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// Every value the fake answers with marshals; reaching this is a bug of the fake.
		panic("ecreditstest: marshal answer: " + err.Error())
	}
	return b
}

package ecreditstest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/ecredits"
)

const (
	qrBasic        = "Basic"
	qrHTMLEmbedded = "HtmlEmbedded"
)

// placeholderGIF is a 1×1 GIF standing in for the QR code image (the provider answers a GIF:
// its sample starts "R0lGODlh", base64 of "GIF89a").
var placeholderGIF = []byte{
	'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0, 0x80, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff,
	'!', 0xf9, 4, 1, 0, 0, 0, 0, ',', 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 'D', 1, 0, ';',
}

// txRequest is a transaction request as the server keeps it.
type txRequest struct {
	id               string // as created
	amountDue        paykit.Money
	fiat             paykit.Money // zero for ECS requests
	paymentReference *string
	testMode         bool
	createdAt        time.Time
	expiresAt        time.Time
	payments         []string
}

// TransactionRequest is a snapshot of a transaction request held by the server.
type TransactionRequest struct {
	ID               string       // as it was created (its case kept)
	AmountDue        paykit.Money // in ECS
	FiatAmountDue    paykit.Money // the EUR amount asked; zero Money for ECS requests
	PaymentReference string
	TestMode         bool
	CreatedAt        time.Time // by the server's clock
	ExpiresAt        time.Time
	Payments         []string // transaction hashes, oldest first
}

// Paid reports whether at least one transaction paid the request.
func (r TransactionRequest) Paid() bool { return len(r.Payments) > 0 }

func (t *txRequest) snapshot() TransactionRequest {
	r := TransactionRequest{
		ID:            t.id,
		AmountDue:     t.amountDue,
		FiatAmountDue: t.fiat,
		TestMode:      t.testMode,
		CreatedAt:     t.createdAt,
		ExpiresAt:     t.expiresAt,
		Payments:      append([]string(nil), t.payments...),
	}
	if t.paymentReference != nil {
		r.PaymentReference = *t.paymentReference
	}
	return r
}

// Request returns the transaction request with paymentID (the request id, compared ignoring
// case).
func (s *Server) Request(paymentID string) (TransactionRequest, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.requests[idKey(paymentID)]
	if !ok {
		return TransactionRequest{}, false
	}
	return t.snapshot(), true
}

// requestJSON is the shape of a transaction request on the wire.
type requestJSON struct {
	ID               string       `json:"id"`
	FiatCurrencyCode *string      `json:"fiatCurrencyCode"`
	FiatAmountDue    *json.Number `json:"fiatAmountDue"`
	AmountDue        json.Number  `json:"amountDue"`
	CurrencyCode     string       `json:"currencyCode"`
	QRCodeBase64     *string      `json:"qrCodeBase64"`
	QRCodeHTML       *string      `json:"qrCodeHtml"`
	QRCodeString     string       `json:"qrCodeString"`
	Href             string       `json:"href"`
	PaymentReference *string      `json:"paymentReference"`
	ExpiresAt        string       `json:"expiresAt"`
}

// decimalNumber writes m as an exact JSON number without trailing fraction zeros.
func decimalNumber(m paykit.Money) json.Number {
	d, err := m.Decimal()
	if err != nil {
		panic("ecreditstest: " + err.Error()) // the fake only holds ECS and EUR
	}
	if strings.Contains(d, ".") {
		d = strings.TrimSuffix(strings.TrimRight(d, "0"), ".")
	}
	return json.Number(d)
}

func (t *txRequest) toJSON(generateQR bool, qrType string) requestJSON {
	out := requestJSON{
		ID:               t.id,
		AmountDue:        decimalNumber(t.amountDue),
		CurrencyCode:     "ECS",
		QRCodeString:     "eCreditsPayment:" + t.id,
		Href:             "https://auth.ecredits.com/payment?code=" + t.id,
		PaymentReference: t.paymentReference,
		ExpiresAt:        formatTime(t.expiresAt),
	}
	if !t.fiat.IsZero() {
		code, n := t.fiat.Currency, decimalNumber(t.fiat)
		out.FiatCurrencyCode, out.FiatAmountDue = &code, &n
	}
	if generateQR {
		img := base64.StdEncoding.EncodeToString(placeholderGIF)
		out.QRCodeBase64 = &img
		if qrType == qrHTMLEmbedded {
			html := `<div class="ecredits-qr"><img src="data:image/gif;base64,` + img +
				`" alt="eCredits payment QR code"/><p>Scan the code with the eCredits eWallet App ` +
				`or <a href="` + out.Href + `">open the app</a>.</p></div>`
			out.QRCodeHTML = &html
		}
	}
	return out
}

// createRequest serves POST /api/v1/requests.
func (s *Server) createRequest(r *http.Request) response {
	fields, resp, ok := decodeObject(r)
	if !ok {
		return resp
	}
	errs := map[string][]string{}

	id, ok := stringField(fields, "id", true, errs)
	if ok && !isGUID(id) {
		errs["id"] = append(errs["id"], "The JSON value could not be converted to System.Guid.")
	} else if ok && strings.Trim(id, "0-") == "" {
		errs["id"] = append(errs["id"], "The id field is required.")
	}

	currency, curOK := stringField(fields, "currencyCode", true, errs)
	if curOK && currency != "ECS" && currency != "EUR" {
		errs["currencyCode"] = append(errs["currencyCode"], "Currently only ECS and EUR are supported.")
		curOK = false
	}

	var amount paykit.Money
	switch raw := fields["amountDue"].(type) {
	case nil:
		errs["amountDue"] = append(errs["amountDue"], "The amountDue field is required.")
	case json.Number:
		// ECS and EUR both have two fraction digits, so the parse does not depend on a
		// currency that may itself be invalid.
		parseAs := "ECS"
		if curOK {
			parseAs = currency
		}
		m, err := paykit.ParseMoney(raw.String(), parseAs)
		switch {
		case err != nil:
			errs["amountDue"] = append(errs["amountDue"], fmt.Sprintf(
				"The amountDue %s is not a decimal with at most 2 fraction digits (exponent notation is not accepted).", raw))
		case m.Amount <= 0:
			errs["amountDue"] = append(errs["amountDue"], "The amountDue field must be greater than 0.")
		default:
			amount = m
		}
	default:
		errs["amountDue"] = append(errs["amountDue"], "The JSON value could not be converted to System.Decimal.")
	}

	ref, hasRef := stringField(fields, "paymentReference", false, errs)
	generateQR := boolField(fields, "generateQrCode", errs)
	testMode := boolField(fields, "testMode", errs)
	qrType, hasType := stringField(fields, "qrCodeType", false, errs)
	if hasType && qrType != qrBasic && qrType != qrHTMLEmbedded {
		errs["qrCodeType"] = append(errs["qrCodeType"], `The qrCodeType must be "Basic" or "HtmlEmbedded".`)
	}

	t := &txRequest{id: id, testMode: testMode}
	if hasRef && ref != "" { // an empty reference is no reference: answered as null
		t.paymentReference = &ref
	}
	if len(errs) == 0 {
		if currency == "EUR" {
			t.fiat = amount
			if amount.Amount > math.MaxInt64/s.cfg.ECSPerEUR {
				errs["amountDue"] = append(errs["amountDue"], "The amountDue is too large.")
			}
			t.amountDue = paykit.Money{Amount: amount.Amount * s.cfg.ECSPerEUR, Currency: "ECS"}
		} else {
			t.amountDue = amount
		}
	}
	if len(errs) > 0 {
		return validationResponse(errs)
	}

	now := s.Now()
	t.createdAt, t.expiresAt = now, now.Add(s.cfg.RequestLifetime)
	s.mu.Lock()
	if _, exists := s.requests[idKey(id)]; exists {
		s.mu.Unlock()
		return problemResponse(http.StatusConflict, "A transaction request with id "+id+" already exists.")
	}
	s.requests[idKey(id)] = t
	out := t.toJSON(generateQR, qrType)
	s.mu.Unlock()
	return jsonResponse(http.StatusOK, out)
}

// lookup finds the request of a path id; the answer is 400 or 404 when there is none.
// s.mu must be held.
func (s *Server) lookupLocked(id string) (*txRequest, response, bool) {
	if !isGUID(id) {
		return nil, validationResponse(map[string][]string{"id": {"The value '" + id + "' is not valid."}}), false
	}
	t, ok := s.requests[idKey(id)]
	if !ok {
		return nil, problemResponse(http.StatusNotFound, "No transaction request with id "+id+"."), false
	}
	return t, response{}, true
}

// getRequest serves GET /api/v1/requests/{id}.
func (s *Server) getRequest(r *http.Request, id string) response {
	q := r.URL.Query()
	errs := map[string][]string{}
	generateQR := false
	if v := q.Get("generateQrCode"); v != "" {
		switch strings.ToLower(v) {
		case "true":
			generateQR = true
		case "false":
		default:
			errs["generateQrCode"] = []string{"The value '" + v + "' is not valid."}
		}
	}
	qrType := q.Get("qrCodeType")
	if qrType != "" && qrType != qrBasic && qrType != qrHTMLEmbedded {
		errs["qrCodeType"] = []string{"The value '" + qrType + "' is not valid."}
	}
	if len(errs) > 0 {
		return validationResponse(errs)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, resp, ok := s.lookupLocked(id)
	if !ok {
		return resp
	}
	return jsonResponse(http.StatusOK, t.toJSON(generateQR, qrType))
}

// getPayments serves GET /api/v1/requests/{id}/payments.
func (s *Server) getPayments(id string) response {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, resp, ok := s.lookupLocked(id)
	if !ok {
		return resp
	}
	return jsonResponse(http.StatusOK, append([]string{}, t.payments...))
}

// getPaid serves GET /api/v1/requests/{id}/paid.
func (s *Server) getPaid(id string) response {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, resp, ok := s.lookupLocked(id)
	if !ok {
		return resp
	}
	return jsonResponse(http.StatusOK, len(t.payments) > 0)
}

// Pay simulates the customer paying the request with paymentID (the merchant's payment id,
// which is the request id; compared ignoring case): the fake records a new transaction hash,
// which it returns (Request shows it too), and sends a status-1 (Settled) webhook. Paying
// again records another hash and sends another webhook. A request past its expiresAt cannot
// be paid (ErrExpired); an unknown id is ErrUnknownPayment.
func (s *Server) Pay(paymentID string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.controlLocked(paymentID)
	if err != nil {
		return "", err
	}
	if !s.Now().Before(t.expiresAt) {
		return "", fmt.Errorf("%w: %s", ErrExpired, paymentID)
	}
	hash := "0x" + randomHex(32)
	t.payments = append(t.payments, hash)
	s.queueWebhookLocked(ecredits.WebhookEvent{RequestID: t.id, Status: ecredits.RequestSettled, TransactionHash: hash, TestMode: t.testMode})
	return hash, nil
}

// Expire simulates eCredits expiring the request with paymentID: its expiresAt moves into
// the past (unless it is there already) and a status-2 (Expired) webhook is sent. A paid
// request does not expire (ErrPaid).
func (s *Server) Expire(paymentID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.controlLocked(paymentID)
	if err != nil {
		return err
	}
	if len(t.payments) > 0 {
		return fmt.Errorf("%w: %s", ErrPaid, paymentID)
	}
	if now := s.Now(); now.Before(t.expiresAt) {
		t.expiresAt = now.Add(-time.Second)
	}
	s.queueWebhookLocked(ecredits.WebhookEvent{RequestID: t.id, Status: ecredits.RequestExpired, TestMode: t.testMode})
	return nil
}

// controlLocked finds the request a control method acts on. s.mu must be held.
func (s *Server) controlLocked(paymentID string) (*txRequest, error) {
	if s.fake.Closed() {
		return nil, ErrClosed
	}
	t, ok := s.requests[idKey(paymentID)]
	if !ok {
		return nil, fmt.Errorf("%w: no transaction request %s", ErrUnknownPayment, paymentID)
	}
	return t, nil
}

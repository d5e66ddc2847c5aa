package echelontest

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/internal/fakeserver"
)

// ProcessStatus is a payin's or payout's process.status as the fake writes it (the native
// word, as echelon.ProcessStatus reads it; not paykit's vocabulary).
type ProcessStatus string

// The process statuses the fake uses.
const (
	ProcessNew        ProcessStatus = "NEW"        // created, not paid
	ProcessProcessing ProcessStatus = "PROCESSING" // Process: the operator is on it
	ProcessSuccess    ProcessStatus = "SUCCESS"    // Pay
	ProcessFailed     ProcessStatus = "FAILED"     // Fail
	ProcessCancelled  ProcessStatus = "CANCELLED"  // Cancel
	ProcessExpired    ProcessStatus = "EXPIRED"    // Expire
)

type kind int

const (
	payinKind kind = iota
	payoutKind
)

func (k kind) String() string {
	if k == payoutKind {
		return "payout"
	}
	return "payin"
}

// payment is a payin or payout as the server keeps it.
type payment struct {
	kind        kind
	seq         int
	id          string
	amount, fee paykit.Money
	method      string
	operator    string
	account     accountJSON
	email       string
	reference   string
	callbackURL string
	returnURL   string
	redirectURL string
	status      ProcessStatus
	createdAt   time.Time
	processedAt time.Time
	expireAt    time.Time
}

// Payin is a snapshot of a payin held by the server: everything its GET answer shows
// (PayinBody writes that answer from it), and the callbackUrl it was created with.
type Payin struct {
	ID          string
	Amount, Fee paykit.Money
	Method      string
	Operator    string
	Status      ProcessStatus // process.status
	CallbackURL string        // exactly as the create gave it
	ReturnURL   string
	// RedirectURL is the operator's page of a method with Redirect; the others have the
	// account to transfer to (BankName, BranchName, AccountNumber) instead.
	RedirectURL   string
	BankName      string
	BranchName    string
	AccountNumber string
	Reference     string    // what the customer's transfer quotes
	CreatedAt     time.Time // by the server's clock
	ProcessedAt   time.Time // when it reached a final status
	ExpireAt      time.Time
}

// Payout is a snapshot of a payout held by the server: everything its GET answer shows
// (PayoutBody writes that answer from it), and the callbackUrl it was created with.
type Payout struct {
	ID            string
	Amount, Fee   paykit.Money
	Method        string
	Operator      string
	AccountName   string
	AccountNumber string
	Email         string
	Reference     string
	Status        ProcessStatus
	CallbackURL   string
	CreatedAt     time.Time
	ProcessedAt   time.Time
}

func (p *payment) payin() Payin {
	return Payin{
		ID: p.id, Amount: p.amount, Fee: p.fee, Method: p.method, Operator: p.operator, Status: p.status,
		CallbackURL: p.callbackURL, ReturnURL: p.returnURL, RedirectURL: p.redirectURL,
		BankName: p.account.BankName, BranchName: p.account.BranchName, AccountNumber: p.account.AccountNumber,
		Reference: p.reference, CreatedAt: p.createdAt, ProcessedAt: p.processedAt, ExpireAt: p.expireAt,
	}
}

func (p *payment) payout() Payout {
	return Payout{
		ID: p.id, Amount: p.amount, Fee: p.fee, Method: p.method, Operator: p.operator,
		AccountName: p.account.AccountName, AccountNumber: p.account.AccountNumber, Email: p.email,
		Reference: p.reference, Status: p.status, CallbackURL: p.callbackURL, CreatedAt: p.createdAt,
		ProcessedAt: p.processedAt,
	}
}

// Payin returns the payin with paymentID (the merchant's idPayin).
func (s *Server) Payin(paymentID string) (Payin, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.payins[paymentID]
	if !ok {
		return Payin{}, false
	}
	return p.payin(), true
}

// Payout returns the payout with paymentID (the merchant's idPayout).
func (s *Server) Payout(paymentID string) (Payout, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.payouts[paymentID]
	if !ok {
		return Payout{}, false
	}
	return p.payout(), true
}

// Payins returns every payin, oldest first.
func (s *Server) Payins() []Payin {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Payin, 0, len(s.payins))
	for _, p := range sorted(s.payins) {
		out = append(out, p.payin())
	}
	return out
}

// Payouts returns every payout, oldest first.
func (s *Server) Payouts() []Payout {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Payout, 0, len(s.payouts))
	for _, p := range sorted(s.payouts) {
		out = append(out, p.payout())
	}
	return out
}

func sorted(m map[string]*payment) []*payment {
	ps := make([]*payment, 0, len(m))
	for _, p := range m {
		ps = append(ps, p)
	}
	slices.SortFunc(ps, func(a, b *payment) int { return a.seq - b.seq })
	return ps
}

// Balance returns the merchant's balance in currency: the opening balance, plus payins that
// succeeded less their fee, less payouts with their fee (taken when the payout is created,
// given back when it fails, is cancelled or expires).
func (s *Server) Balance(currency string) paykit.Money {
	s.mu.Lock()
	defer s.mu.Unlock()
	return paykit.Money{Amount: s.balances[currency], Currency: currency}
}

// The wire shapes.
type moneyJSON struct {
	Amount       json.Number `json:"amount"`
	CurrencyCode string      `json:"currencyCode"`
}

type accountJSON struct {
	BankName      string `json:"bankName,omitempty"`
	BranchName    string `json:"branchName,omitempty"`
	AccountName   string `json:"accountName,omitempty"`
	AccountNumber string `json:"accountNumber,omitempty"`
}

type processJSON struct {
	Status      ProcessStatus `json:"status"`
	CreatedAt   string        `json:"createdAt,omitempty"`
	ProcessedAt *string       `json:"processedAt"`
	IsTest      bool          `json:"isTest"`
}

type methodResponseJSON struct {
	IDPayin             string       `json:"idPayin,omitempty"`
	IDPayout            string       `json:"idPayout,omitempty"`
	PaymentMethodCode   string       `json:"paymentMethodCode"`
	PaymentOperatorCode string       `json:"paymentOperatorCode,omitempty"`
	Account             *accountJSON `json:"account,omitempty"`
	Money               *moneyJSON   `json:"money,omitempty"`
	ExpireAt            string       `json:"expireAt,omitempty"`
	Reference           string       `json:"reference,omitempty"`
	ReturnURL           string       `json:"returnUrl,omitempty"`
	RedirectURL         string       `json:"redirectUrl,omitempty"`
	EmailAddress        string       `json:"emailAddress,omitempty"`
}

type envelopeJSON struct {
	PaymentRequested struct {
		Money moneyJSON `json:"money"`
	} `json:"paymentRequested"`
	Process               processJSON        `json:"process"`
	Fee                   moneyJSON          `json:"fee"`
	PaymentMethodResponse methodResponseJSON `json:"paymentMethodResponse"`
}

// timeLayout writes times as RFC 3339 in UTC with milliseconds (ASSUMPTION: the document
// shows none).
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// formatTime writes t, or "" for the zero time (which the fake's payments never hold, but a
// Payin given to PayinBody may).
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeLayout)
}

// decimal writes m as an exact decimal without trailing fraction zeros (5000, 42.05, 0.1).
func decimal(m paykit.Money) string {
	d, err := m.Decimal()
	if err != nil {
		panic("echelontest: " + err.Error()) // the fake only holds currencies paykit knows
	}
	if strings.Contains(d, ".") {
		d = strings.TrimSuffix(strings.TrimRight(d, "0"), ".")
	}
	return d
}

func moneyOf(m paykit.Money) moneyJSON {
	return moneyJSON{Amount: json.Number(decimal(m)), CurrencyCode: m.Currency}
}

func (p *payment) toJSON() envelopeJSON {
	var e envelopeJSON
	e.PaymentRequested.Money = moneyOf(p.amount)
	e.Process = processJSON{Status: p.status, CreatedAt: formatTime(p.createdAt), IsTest: true}
	if !p.processedAt.IsZero() {
		t := formatTime(p.processedAt)
		e.Process.ProcessedAt = &t
	}
	fee := p.fee
	if fee.Currency == "" { // not set in a Payin given to PayinBody: no fee
		fee = paykit.Money{Currency: p.amount.Currency}
	}
	e.Fee = moneyOf(fee)
	r := methodResponseJSON{PaymentMethodCode: p.method, PaymentOperatorCode: p.operator}
	if p.kind == payinKind {
		r.IDPayin = p.id
		m := moneyOf(p.amount)
		r.Money = &m
		r.ExpireAt = formatTime(p.expireAt)
		r.Reference = p.reference
		r.ReturnURL = p.returnURL
		r.RedirectURL = p.redirectURL
		if p.account != (accountJSON{}) {
			a := p.account
			r.Account = &a
		}
	} else {
		r.IDPayout = p.id
		r.Reference = p.reference
		a := p.account
		r.Account = &a
		r.EmailAddress = p.email
	}
	e.PaymentMethodResponse = r
	return e
}

// readMoney reads a {amount, currencyCode} object exactly. It returns a message for a 400
// when the value is not one: amount must be a JSON number greater than zero with no more
// fraction digits than its currency has (exponent notation is refused), and currencyCode a
// currency the fake knows.
func readMoney(raw any, field string) (paykit.Money, string) {
	obj, ok := raw.(map[string]any)
	if !ok {
		return paykit.Money{}, field + " must be an object {amount, currencyCode}."
	}
	cur, _ := obj["currencyCode"].(string)
	if _, known := paykit.CurrencyExponent(cur); !known || cur == "EC" || cur == "ECS" {
		return paykit.Money{}, field + ".currencyCode " + quote(cur) + " is not supported."
	}
	num, ok := obj["amount"].(json.Number)
	if !ok {
		return paykit.Money{}, field + ".amount must be a JSON number."
	}
	m, err := paykit.ParseMoney(num.String(), cur)
	if err != nil {
		return paykit.Money{}, field + ".amount " + num.String() + " is not a decimal with the currency's fraction digits (exponent notation is not accepted)."
	}
	if m.Amount <= 0 {
		return paykit.Money{}, field + ".amount must be greater than 0."
	}
	return m, ""
}

func findMethod(methods []Method, code, operator string) (Method, string) {
	for _, m := range methods {
		if m.Code != code {
			continue
		}
		if operator == "" {
			return m, ""
		}
		for _, o := range m.Operators {
			if o.Code == operator {
				return m, ""
			}
		}
		return m, "Unknown paymentOperatorCode " + quote(operator) + " for " + code + "."
	}
	return Method{}, "Unknown paymentMethodCode " + quote(code) + "."
}

// validURL reports whether s is an absolute http(s) URL, as a callbackUrl or returnUrl must be.
func validURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// createPayment serves POST /payins/{id} and POST /payouts/{id}.
func (s *Server) createPayment(r *http.Request, k kind, id string, tok *issued) response {
	fields, resp, ok := decodeObject(r)
	if !ok {
		return resp
	}
	requested, _ := fields["paymentRequested"].(map[string]any)
	if requested == nil {
		return badRequest("paymentRequested.money is required.")
	}
	amount, msg := readMoney(requested["money"], "paymentRequested.money")
	if msg != "" {
		return badRequest(msg)
	}
	if lim := tok.info.Money; lim != nil && *lim != amount {
		return errorResponse(http.StatusForbidden, "FORBIDDEN", "The auth token is limited to another amount.")
	}
	pm, _ := fields["paymentMethod"].(map[string]any)
	if pm == nil {
		return badRequest("paymentMethod is required.")
	}
	p := &payment{kind: k, id: id, amount: amount}
	p.method, _ = pm["paymentMethodCode"].(string)
	p.operator, _ = pm["paymentOperatorCode"].(string)
	methods := s.cfg.PayinMethods
	if k == payoutKind {
		methods = s.cfg.PayoutMethods
	}
	method, msg := findMethod(methods, p.method, p.operator)
	if msg != "" {
		return badRequest(msg)
	}
	p.callbackURL, _ = fields["callbackUrl"].(string)
	if p.callbackURL != "" && !validURL(p.callbackURL) {
		return badRequest("callbackUrl must be an absolute http(s) URL.")
	}
	if k == payinKind {
		p.returnURL, _ = fields["returnUrl"].(string)
		if p.returnURL != "" && !validURL(p.returnURL) {
			return badRequest("returnUrl must be an absolute http(s) URL.")
		}
	} else {
		if acc, _ := pm["account"].(map[string]any); acc != nil {
			p.account.AccountName, _ = acc["accountName"].(string)
			p.account.AccountNumber, _ = acc["accountNumber"].(string)
		}
		if p.account.AccountNumber == "" {
			return badRequest("paymentMethod.account.accountNumber is required.")
		}
		p.email, _ = pm["emailAddress"].(string)
	}
	p.fee = paykit.Money{Amount: s.fee(amount.Amount), Currency: amount.Currency}

	now := s.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	store := s.payins
	if k == payoutKind {
		store = s.payouts
	}
	if _, exists := store[id]; exists {
		return errorResponse(http.StatusConflict, "CONFLICT", "The "+k.String()+" "+id+" was already accepted.")
	}
	if k == payoutKind {
		debit := amount.Amount + p.fee.Amount
		if s.balances[amount.Currency] < debit {
			return errorResponse(http.StatusUnprocessableEntity, "INSUFFICIENT_BALANCE", "The balance does not cover the payout and its fee.")
		}
		s.balances[amount.Currency] -= debit
	}
	s.seq++
	p.seq, p.status, p.createdAt = s.seq, ProcessNew, now
	if k == payinKind {
		p.expireAt = now.Add(s.cfg.PayinLifetime)
		p.reference = fmt.Sprintf("VA%06d", p.seq)
		if method.Redirect {
			p.redirectURL = "https://operator.example/pay?payin=" + url.QueryEscape(id)
		} else {
			p.account = accountJSON{BankName: "Echelon Test Bank", BranchName: "Main", AccountNumber: fmt.Sprintf("8800%08d", p.seq)}
		}
	}
	if k == payoutKind {
		p.reference = fmt.Sprintf("PO%06d", p.seq)
	}
	store[id] = p
	s.fake.SetPaymentNotifyURL(id, p.callbackURL)
	return jsonResponse(http.StatusOK, p.toJSON())
}

// fee is FeePercent of amount (in minor units), rounded down.
func (s *Server) fee(amount int64) int64 {
	pct := int64(s.cfg.FeePercent)
	switch {
	case pct <= 0:
		return 0
	case amount > math.MaxInt64/pct:
		// Too large to multiply first; the rounding is the same to within a minor unit.
		return amount / 100 * pct
	}
	return amount * pct / 100
}

// getPayment serves GET /payins/{id} and GET /payouts/{id}.
func (s *Server) getPayment(k kind, id string) response {
	s.mu.Lock()
	defer s.mu.Unlock()
	store := s.payins
	if k == payoutKind {
		store = s.payouts
	}
	p, ok := store[id]
	if !ok {
		return errorResponse(http.StatusNotFound, "NOT_FOUND", "No "+k.String()+" "+id+".")
	}
	return jsonResponse(http.StatusOK, p.toJSON())
}

// paymentOptions serves POST /payins/!availablePaymentOptions.
func (s *Server) paymentOptions(r *http.Request) response {
	fields, resp, ok := decodeObject(r)
	if !ok {
		return resp
	}
	if _, msg := readMoney(fields["money"], "money"); msg != "" {
		return badRequest(msg)
	}
	type operatorJSON struct {
		Code string `json:"code"`
		Name string `json:"name"`
	}
	type optionJSON struct {
		PaymentMethodCode string         `json:"paymentMethodCode"`
		PaymentOperators  []operatorJSON `json:"paymentOperators"`
	}
	data := make([]optionJSON, 0, len(s.cfg.PayinMethods))
	for _, m := range s.cfg.PayinMethods {
		o := optionJSON{PaymentMethodCode: m.Code, PaymentOperators: []operatorJSON{}}
		for _, op := range m.Operators {
			o.PaymentOperators = append(o.PaymentOperators, operatorJSON(op))
		}
		data = append(data, o)
	}
	return jsonResponse(http.StatusOK, map[string]any{"data": data})
}

// getBalances serves GET /balances?currencies=INR,IDR: the balances in the currencies asked
// for (unknown ones ignored), or in every currency the merchant holds.
func (s *Server) getBalances(r *http.Request) response {
	var asked []string
	if v := r.URL.Query().Get("currencies"); v != "" {
		asked = strings.Split(v, ",")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if asked == nil {
		for c := range s.balances {
			asked = append(asked, c)
		}
		slices.Sort(asked)
	}
	data := []moneyJSON{}
	for _, c := range asked {
		if amount, ok := s.balances[c]; ok {
			data = append(data, moneyOf(paykit.Money{Amount: amount, Currency: c}))
		}
	}
	return jsonResponse(http.StatusOK, map[string]any{"data": data})
}

// Pay simulates the customer paying the payin with paymentID (SUCCESS; the amount less the
// fee is credited to the merchant's balance), or, for a payout, the operator paying it out
// (SUCCESS). It returns the payment's reference (paymentMethodResponse.reference: what the
// customer's transfer quotes). A callback goes to the payment's callbackUrl.
func (s *Server) Pay(paymentID string) (string, error) {
	return s.transition(paymentID, ProcessSuccess)
}

// Process simulates the operator taking the payin or payout into processing (PROCESSING):
// a callback goes out, though the payment is still pending.
func (s *Server) Process(paymentID string) error {
	_, err := s.transition(paymentID, ProcessProcessing)
	return err
}

// Fail simulates the operator failing the payin or payout (FAILED). A failed payout's amount
// and fee go back to the balance.
func (s *Server) Fail(paymentID string) error {
	_, err := s.transition(paymentID, ProcessFailed)
	return err
}

// Expire simulates EchelonPay expiring the payin or payout unpaid (EXPIRED).
func (s *Server) Expire(paymentID string) error {
	_, err := s.transition(paymentID, ProcessExpired)
	return err
}

// Cancel simulates the customer or the operator cancelling the payin or payout (CANCELLED).
func (s *Server) Cancel(paymentID string) error {
	_, err := s.transition(paymentID, ProcessCancelled)
	return err
}

// transition moves the payin with paymentID, or else the payout with it, to status, sends a
// callback and returns the payment's reference. A payment in a final status does not move
// (ErrFinal).
func (s *Server) transition(paymentID string, status ProcessStatus) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fake.Closed() {
		return "", ErrClosed
	}
	p, ok := s.payins[paymentID]
	if !ok {
		if p, ok = s.payouts[paymentID]; !ok {
			return "", fmt.Errorf("%w: no payin or payout %s", ErrUnknownPayment, paymentID)
		}
	}
	if p.status != ProcessNew && p.status != ProcessProcessing {
		return "", fmt.Errorf("%w: %s %s is %s", ErrFinal, p.kind, paymentID, p.status)
	}
	p.status = status
	if status != ProcessProcessing {
		p.processedAt = s.Now()
	}
	switch {
	case p.kind == payinKind && status == ProcessSuccess:
		s.balances[p.amount.Currency] += p.amount.Amount - p.fee.Amount
	case p.kind == payoutKind && status != ProcessSuccess && status != ProcessProcessing:
		s.balances[p.amount.Currency] += p.amount.Amount + p.fee.Amount
	}
	s.notifyLocked(p)
	return p.reference, nil
}

// notifyLocked queues the callback of p: an anemic POST of {"idPayin": id} or {"idPayout":
// id} to exactly the callbackUrl the payment was created with, query included (or
// Config.NotifyURL when it had none), until the receiver answers 200. s.mu must be held.
func (s *Server) notifyLocked(p *payment) {
	field := "idPayin"
	if p.kind == payoutKind {
		field = "idPayout"
	}
	body, _ := json.Marshal(map[string]string{field: p.id})
	s.fake.Notify(fakeserver.Notification{
		PaymentID: p.id,
		Event:     string(p.status),
		Method:    http.MethodPost,
		URL:       p.callbackURL,
		Header:    http.Header{"Content-Type": {contentTypeJSON}},
		Body:      body,
	})
}

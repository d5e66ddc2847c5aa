package echelon

import (
	"context"
	"errors"
	"net/url"
	"strings"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/internal/ids"
	"github.com/paykit/paykit/internal/transport"
)

// envelope is the JSON of a payin or a payout as GET /payins/{id} and GET /payouts/{id}
// answer it (and the creates, which answer the same shape or a part of it). Unknown fields
// are ignored, as the document asks.
type envelope struct {
	PaymentRequested *struct {
		Money *wireMoney `json:"money"`
	} `json:"paymentRequested"`
	Process *struct {
		Status      string `json:"status"`
		CreatedAt   string `json:"createdAt"`
		ProcessedAt string `json:"processedAt"`
		IsTest      bool   `json:"isTest"`
	} `json:"process"`
	Fee      *wireMoney `json:"fee"`
	Response *struct {
		IDPayin             string     `json:"idPayin"`
		IDPayout            string     `json:"idPayout"`
		PaymentMethodCode   string     `json:"paymentMethodCode"`
		PaymentOperatorCode string     `json:"paymentOperatorCode"`
		Account             *Account   `json:"account"`
		Money               *wireMoney `json:"money"`
		ExpireAt            string     `json:"expireAt"`
		Reference           string     `json:"reference"`
		ReturnURL           string     `json:"returnUrl"`
		RedirectURL         string     `json:"redirectUrl"`
	} `json:"paymentMethodResponse"`
}

// common is what payins and payouts share, read from an envelope.
type common struct {
	amount, fee            paykit.Money
	status                 paykit.Status
	providerStatus         string
	test                   bool
	createdAt, processedAt string
}

// readCommon reads the parts of e that payins and payouts share. The amount must be there and
// exact; the fee is read when answered. A create's answer may leave out process (the
// document's payout answer does): an accepted payment that says nothing of its state is
// pending.
func (e *envelope) readCommon(op string, created bool) (common, error) {
	var c common
	var m *wireMoney
	if e.PaymentRequested != nil {
		m = e.PaymentRequested.Money
	}
	amount, err := m.read(op, "paymentRequested.money")
	if err != nil {
		return c, err
	}
	c.amount = amount
	if e.Fee != nil && (e.Fee.Amount != "" || e.Fee.CurrencyCode != "") {
		if c.fee, err = e.Fee.read(op, "fee"); err != nil {
			return c, err
		}
	}
	switch {
	case e.Process != nil && e.Process.Status != "":
		c.providerStatus = e.Process.Status
		c.status = ProcessStatus(e.Process.Status).PaykitStatus()
	case created:
		c.status = paykit.StatusPending
	default:
		c.status = paykit.StatusUnknown
	}
	if e.Process != nil {
		c.test = e.Process.IsTest
		c.createdAt, c.processedAt = e.Process.CreatedAt, e.Process.ProcessedAt
	}
	return c, nil
}

// checkID validates a merchant id before it goes into a path or a token: paykit's id rule
// (internal/ids.Check: not empty, not "." or "..", which a normalising proxy would resolve to
// another endpoint, no control characters, valid UTF-8, at most 64 bytes), then EchelonPay's
// own: its paths for actions start with '!' (/payins/!availablePaymentOptions), so an id may
// not. A refusal matches paykit.ErrInvalidRequest, and nothing is sent.
func checkID(op, id string) error {
	if err := ids.Check(id); err != nil {
		return perr.Errorf(op, paykit.ErrInvalidRequest, "%v", err)
	}
	if strings.HasPrefix(id, "!") {
		return perr.Errorf(op, paykit.ErrInvalidRequest, "id %q starts with '!', which EchelonPay's action paths use", id)
	}
	return nil
}

// lockID takes this client's lock of the payin or payout id (collection "payins" or
// "payouts": one id may name a payin and a payout, which are not the same thing), so that two
// creates of it in this client run one after the other. EchelonPay itself keeps one payin or
// payout per id across clients and processes (a repeat answers 409).
func (c *Client) lockID(ctx context.Context, collection, id string) (unlock func(), err error) {
	if c.locks == nil { // a Client not made by New
		return func() {}, nil
	}
	return c.locks.Lock(ctx, collection+"/"+id)
}

// idPath is the path of a payin or payout: the id escaped as one segment.
func idPath(collection, id string) string { return "/" + collection + "/" + url.PathEscape(id) }

// idTemplate is idPath's URL template, the id left out: "/payins/{id}".
func idTemplate(collection string) string { return "/" + collection + "/{id}" }

// create sends a create keyed by the merchant's id (POST /payins/{id}, POST /payouts/{id})
// and reads its answer into out. The create is repeated after an ambiguous failure (the id
// makes it safe); when EchelonPay answers 409, because an earlier attempt or an earlier call
// created it already, the existing resource is fetched into out and existed is true.
func (c *Client) create(ctx context.Context, op, collection, id string, body any, out *envelope) (existed bool, err error) {
	_, err = c.http.Do(ctx, transport.Request{
		Op:          op,
		Method:      "POST",
		Path:        idPath(collection, id),
		URLTemplate: idTemplate(collection),
		PaymentID:   id,
		Body:        body,
		Result:      out,
		Repeatable:  true, // keyed by the id: a repeat answers 409, resolved below
	})
	if errors.Is(err, paykit.ErrConflict) {
		*out = envelope{}
		if gerr := c.get(ctx, op, collection, id, out); gerr != nil {
			return false, gerr
		}
		return true, nil
	}
	return false, err
}

// get fetches a payin or payout into out.
func (c *Client) get(ctx context.Context, op, collection, id string, out *envelope) error {
	_, err := c.http.Do(ctx, transport.Request{Op: op, Method: "GET", Path: idPath(collection, id), URLTemplate: idTemplate(collection), PaymentID: id, Result: out, Repeatable: true})
	return err
}

// conflictMismatch is the error of a create whose id exists already for another amount: the
// merchant reused an id, or the first attempt was made with another amount. It matches
// paykit.ErrAmountMismatch and, through the 409 underneath, paykit.ErrConflict.
func conflictMismatch(op, what, id string, asked, found paykit.Money) error {
	return &paykit.Error{
		Provider: ProviderName, Op: op, StatusCode: 409, Kind: paykit.ErrAmountMismatch,
		Message: what + " " + id + " exists already for " + found.String() + ", not " + asked.String(),
		Err:     perr.Errorf(op, paykit.ErrConflict, "%s %s exists already", what, id),
	}
}

package echelon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/internal/hookwire"
	"github.com/paykit/paykit/internal/webhookcore"
)

// callbackKind says which resource a callback endpoint serves.
type callbackKind int

const (
	callbackPayin callbackKind = iota
	callbackPayout
)

func (k callbackKind) String() string {
	if k == callbackPayout {
		return "payout"
	}
	return "payin"
}

// callback is what a callback says, once its URL signature (when there is a NotifySecret)
// has been checked: the id of the payin or payout to fetch. Nothing else in it is trusted.
type callback struct {
	ID    string
	Event string // "payin" or "payout": what changed
}

// callbackBody is the part of a callback body paykit reads. Both ids are read raw, so that
// one of an unexpected type (a number) does not make the whole body unreadable; field names
// match regardless of case.
type callbackBody struct {
	IDPayin  json.RawMessage `json:"idPayin"`
	IDPayout json.RawMessage `json:"idPayout"`
}

// parseCallbackBody reads the ids a callback body names, leniently: unknown fields are
// ignored, an id may be a JSON string or number, and a body that is not a JSON object names
// nothing (the signed URL may still name the payment).
func parseCallbackBody(body []byte) (idPayin, idPayout string) {
	var b callbackBody
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&b); err != nil {
		return "", ""
	}
	return idText(b.IDPayin), idText(b.IDPayout)
}

// idText returns the id a JSON value holds: a string's text, or a number's digits.
func idText(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return ""
	}
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	}
	return ""
}

// readCallback verifies and reads a callback for kind. With a NotifySecret the URL's
// signature is checked first, before the body is read, so that a forged callback costs
// nothing, and certainly no request of the merchant's budget.
func (c *Client) readCallback(op string, r *http.Request, kind callbackKind) (callback, error) {
	signedID := ""
	if c.signer.Enabled() {
		id, err := c.signer.Verify(r.URL)
		if err != nil {
			return callback{}, perr.Wrap(op, paykit.ErrInvalidSignature, err, "")
		}
		signedID = id
	}
	if r.Method != http.MethodPost {
		return callback{}, perr.Errorf(op, paykit.ErrInvalidRequest, "method %s: EchelonPay callbacks are POSTs", r.Method)
	}
	body, err := paykit.ReadNotificationBody(r)
	if err != nil {
		return callback{}, perr.WithOp(err, op)
	}
	idPayin, idPayout := parseCallbackBody(body)
	id, other := idPayin, idPayout
	if kind == callbackPayout {
		id, other = idPayout, idPayin
	}
	if id == "" && other != "" {
		return callback{}, perr.Errorf(op, paykit.ErrInvalidRequest, "the callback is about a %s, not a %s", otherKind(kind), kind)
	}
	switch {
	case signedID == "":
	case id == "":
		// An empty or unreadable body: the signed URL names the payment.
		id = signedID
	case id != signedID:
		return callback{}, perr.Errorf(op, paykit.ErrInvalidSignature, "the callback names another %s than its signed URL", kind)
	}
	if id == "" {
		return callback{}, perr.Errorf(op, paykit.ErrInvalidRequest, "the callback names no %s", kind)
	}
	// An id that no payin or payout can have is refused here (400), before it is fetched:
	// "..", a NUL or 5,000 characters must not reach a path.
	if err := checkID(op, id); err != nil {
		return callback{}, err
	}
	return callback{ID: id, Event: kind.String()}, nil
}

func otherKind(k callbackKind) callbackKind {
	if k == callbackPayout {
		return callbackPayin
	}
	return callbackPayout
}

// payoutHandlerName is the name PayoutWebhookHandler goes by in its dedupe keys, its log
// lines and what it reports to paykit's Hooks.
const payoutHandlerName = ProviderName + " payout"

// PayoutWebhookHandler returns the http.Handler to mount at the callback URL of payouts
// (PayoutRequest.CallbackURL). It follows the rules of paykit.NewWebhookHandler, with the
// same code: the body is read with a size limit (413 past it); with Config.NotifySecret, a
// callback whose URL is not signed is refused with 401 before anything is fetched; a
// callback that names no payout is 400; the payout is fetched (503 when it cannot be) and fn
// gets the fetched Payout, never anything the callback claims. A callback carries no signed
// event identity, so fn runs once per fetched state of a payout (its paykit Status): a
// redelivery, also one arriving at the same moment, is answered 200 without running fn again,
// and a later change runs it again. An error from fn answers 500, so that EchelonPay calls
// back again. opts are paykit's WebhookOptions (WithDedupStore, WithMaxBodyBytes,
// WithWebhookLogger, WithWebhookHooks).
//
// With paykit.WithWebhookHooks, each callback is reported as NewWebhookHandler's
// deliveries are: a paykit.OpHandleNotification operation (the GetPayout's HTTP attempts
// nest under it when the client has hooks too) whose payment id is the payout's, its
// verdict (Hooks.Webhook) and the latency of each dedupe store call (Hooks.Store). Their
// provider is "echelon payout", as in the handler's log lines, so that a payout callback
// whose function fails is told apart from a payin's.
func (c *Client) PayoutWebhookHandler(fn func(context.Context, *Payout) error, opts ...paykit.WebhookOption) http.Handler {
	s := paykit.NewWebhookSettings(opts...)
	return webhookcore.Handler(webhookcore.Spec[string, *Payout]{
		// Not ProviderName alone: a payout's dedupe keys must not meet those of a payin with
		// the same id in a shared store.
		Name:     payoutHandlerName,
		Store:    s.Store,
		MaxBody:  s.MaxBody,
		Logger:   s.Logger,
		Observer: hookwire.WebhookObserver(s.Hooks, payoutHandlerName),
		Parse: func(r *http.Request) (webhookcore.Parsed[string], error) {
			cb, err := c.readCallback("parse payout callback", r, callbackPayout)
			if err != nil {
				return webhookcore.Parsed[string]{}, err
			}
			return webhookcore.Parsed[string]{Value: cb.ID, ID: cb.ID}, nil
		},
		Refusal: paykit.RefusalStatus,
		Fetch: func(ctx context.Context, id string) (*Payout, error) {
			p, err := c.GetPayout(ctx, id)
			if err == nil && p == nil {
				err = errors.New("no payout and no error")
			}
			return p, err
		},
		StateKey: func(p *Payout) string { return string(p.Status) },
		Run: func(ctx context.Context, _ string, p *Payout) error {
			return fn(ctx, p)
		},
	})
}

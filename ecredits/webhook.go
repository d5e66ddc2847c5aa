package ecredits

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/internal/signature"
)

// WebhookEvent is the body of an eCredits webhook, verified. The signature it came with is
// not kept: it covers only the request id.
type WebhookEvent struct {
	RequestID       string
	Status          RequestStatus
	TransactionHash string
	TestMode        bool
}

type wireWebhook struct {
	RequestID       string          `json:"requestId"`
	Status          json.RawMessage `json:"status"`
	TransactionHash string          `json:"transactionHash"`
	Signature       string          `json:"signature"`
	TestMode        bool            `json:"testMode"`
}

// Sign returns the signature eCredits puts on a webhook for requestID:
// base64(HMAC-SHA256(key = secret, message = lowercase(requestID))). It lets a merchant test
// a webhook endpoint with a genuine-looking notification.
func Sign(secret, requestID string) string {
	return signature.NewHMACSHA256([]byte(secret)).Base64([]byte(strings.ToLower(requestID)))
}

// VerifyWebhook checks body's signature under secret and returns the event. A bad or missing
// signature matches paykit.ErrInvalidSignature; a body that is not a webhook matches
// paykit.ErrInvalidRequest. An empty secret verifies nothing: every body is
// paykit.ErrInvalidSignature. Only the request id is signed: fetch the request before
// trusting the status (NewWebhookHandler does). RequestID is the id as the body spells it.
func VerifyWebhook(secret string, body []byte) (*WebhookEvent, error) {
	if secret == "" {
		return nil, perr.Errorf("verify webhook", paykit.ErrInvalidSignature, "the webhook signing secret is empty: no webhook can be verified")
	}
	return verifyWebhook(signature.NewHMACSHA256([]byte(secret)), body)
}

// VerifyWebhook is the package's VerifyWebhook with the client's WebhookSecret, whose keyed
// HMAC state the client keeps instead of rebuilding it per notification. Without a
// WebhookSecret every body is paykit.ErrInvalidSignature.
func (c *Client) VerifyWebhook(body []byte) (*WebhookEvent, error) {
	if c.webhook == nil {
		return nil, errNoWebhookSecret("verify webhook")
	}
	return verifyWebhook(c.webhook, body)
}

// errNoWebhookSecret refuses a webhook that a client without a WebhookSecret cannot verify.
func errNoWebhookSecret(op string) error {
	return perr.Errorf(op, paykit.ErrInvalidSignature,
		"the WebhookSecret is not configured (ecredits.Config.WebhookSecret): every webhook is refused")
}

func verifyWebhook(mac *signature.HMACSHA256, body []byte) (*WebhookEvent, error) {
	const op = "verify webhook"
	var w wireWebhook
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&w); err != nil {
		return nil, perr.Wrap(op, paykit.ErrInvalidRequest, err, "the body is not a webhook")
	}
	if w.RequestID == "" {
		return nil, perr.Errorf(op, paykit.ErrInvalidRequest, "requestId is missing")
	}
	if w.Signature == "" {
		return nil, perr.Errorf(op, paykit.ErrInvalidSignature, "the signature is missing")
	}
	// The id is lowercased before signing, as the document's ToLowerInvariant does; ids are
	// GUIDs, so ASCII lowercasing is the same thing.
	if !mac.VerifyBase64([]byte(strings.ToLower(w.RequestID)), w.Signature) {
		return nil, perr.Errorf(op, paykit.ErrInvalidSignature, "the signature does not match")
	}
	if err := checkID(op, w.RequestID); err != nil {
		return nil, err
	}
	var status int
	if err := json.Unmarshal(w.Status, &status); err != nil {
		return nil, perr.Wrap(op, paykit.ErrInvalidRequest, err, "status is not a number")
	}
	return &WebhookEvent{RequestID: w.RequestID, Status: RequestStatus(status), TransactionHash: w.TransactionHash, TestMode: w.TestMode}, nil
}

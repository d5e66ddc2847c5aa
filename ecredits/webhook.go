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
// paykit.ErrInvalidRequest. Only the request id is signed: fetch the request before trusting
// the status (NewWebhookHandler does).
func VerifyWebhook(secret string, body []byte) (*WebhookEvent, error) {
	return verifyWebhook(signature.NewHMACSHA256([]byte(secret)), body)
}

// VerifyWebhook is the package's VerifyWebhook with the client's WebhookSecret, whose keyed
// HMAC state the client keeps instead of rebuilding it per notification.
func (c *Client) VerifyWebhook(body []byte) (*WebhookEvent, error) {
	return verifyWebhook(c.webhook, body)
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
	if !IsGUID(w.RequestID) {
		return nil, perr.Errorf(op, paykit.ErrInvalidRequest, "requestId %q is not a GUID", w.RequestID)
	}
	var status int
	if err := json.Unmarshal(w.Status, &status); err != nil {
		return nil, perr.Wrap(op, paykit.ErrInvalidRequest, err, "status is not a number")
	}
	return &WebhookEvent{RequestID: w.RequestID, Status: RequestStatus(status), TransactionHash: w.TransactionHash, TestMode: w.TestMode}, nil
}

package ecreditstest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/paykit/paykit/ecredits"
	"github.com/paykit/paykit/internal/fakeserver"
	"github.com/paykit/paykit/internal/signature"
)

// webhookJSON is the webhook body, fields in the document's order.
type webhookJSON struct {
	RequestID       string                 `json:"requestId"`
	Status          ecredits.RequestStatus `json:"status"`
	TransactionHash *string                `json:"transactionHash"`
	Signature       string                 `json:"signature"`
	TestMode        bool                   `json:"testMode"`
}

// WebhookBody returns the JSON body of a webhook for ev, signed with secret as eCredits
// signs (ecredits.Sign): what the fake sends, for testing a webhook handler without a
// server. An empty TransactionHash is written as null.
func WebhookBody(secret string, ev ecredits.WebhookEvent) []byte {
	return webhookBody(sign(secret, ev.RequestID), ev)
}

// sign is the fake's own signer, not ecredits.Sign, so that the SDK's tests against the
// fake compare two implementations.
func sign(secret, requestID string) string {
	return signature.NewHMACSHA256([]byte(secret)).Base64([]byte(strings.ToLower(requestID)))
}

func webhookBody(sig string, ev ecredits.WebhookEvent) []byte {
	w := webhookJSON{RequestID: ev.RequestID, Status: ev.Status, Signature: sig, TestMode: ev.TestMode}
	if ev.TransactionHash != "" {
		h := ev.TransactionHash
		w.TransactionHash = &h
	}
	b, err := json.Marshal(w)
	if err != nil {
		panic("ecreditstest: marshal webhook: " + err.Error()) // cannot happen
	}
	return b
}

// NewWebhookRequest returns an incoming (server-side) webhook request to target carrying
// WebhookBody(secret, ev), ready for handler.ServeHTTP(recorder, req) (it is made with
// httptest.NewRequest, so it cannot be sent with an http.Client; post WebhookBody for that).
func NewWebhookRequest(target, secret string, ev ecredits.WebhookEvent) *http.Request {
	r := httptest.NewRequest(http.MethodPost, target, bytes.NewReader(WebhookBody(secret, ev)))
	r.Header.Set("Content-Type", contentTypeJSON)
	return r
}

// queueWebhookLocked hands a webhook for ev to the delivery machinery, which posts it to the
// webhook URL configured now until it gets 200. s.mu must be held; callers check that the
// server is open (a Close that comes between leaves the webhook unsent).
func (s *Server) queueWebhookLocked(ev ecredits.WebhookEvent) {
	s.fake.Notify(fakeserver.Notification{
		PaymentID: ev.RequestID,
		Event:     ev.Status.String(),
		Method:    http.MethodPost,
		Header:    http.Header{"Content-Type": {contentTypeJSON}},
		Body:      webhookBody(s.signer.Base64([]byte(strings.ToLower(ev.RequestID))), ev),
	})
}

package ecreditstest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/paykit/paykit/internal/signature"
)

// WebhookStatus is the status code a webhook carries.
type WebhookStatus int

// The webhook statuses of the provider's document.
const (
	StatusPending WebhookStatus = 0 // not fully paid yet
	StatusSettled WebhookStatus = 1 // paid
	StatusExpired WebhookStatus = 2 // not paid in time
)

// WebhookEvent is what a webhook tells.
type WebhookEvent struct {
	RequestID       string // the transaction request id, in the case it was created with
	Status          WebhookStatus
	TransactionHash string // empty: written as null
	TestMode        bool
}

// webhookJSON is the webhook body, fields in the document's order.
type webhookJSON struct {
	RequestID       string        `json:"requestId"`
	Status          WebhookStatus `json:"status"`
	TransactionHash *string       `json:"transactionHash"`
	Signature       string        `json:"signature"`
	TestMode        bool          `json:"testMode"`
}

// SignWebhook returns the signature eCredits puts in a webhook for requestID:
// base64(HMAC-SHA256(key = secret, message = lower-case(requestID))).
func SignWebhook(secret, requestID string) string {
	return signature.NewHMACSHA256([]byte(secret)).Base64([]byte(strings.ToLower(requestID)))
}

// WebhookBody returns the JSON body of a webhook for ev, signed with secret: what the fake
// sends, for testing a webhook handler without a server.
func WebhookBody(secret string, ev WebhookEvent) []byte {
	return webhookBody(SignWebhook(secret, ev.RequestID), ev)
}

func webhookBody(sig string, ev WebhookEvent) []byte {
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
func NewWebhookRequest(target, secret string, ev WebhookEvent) *http.Request {
	r := httptest.NewRequest(http.MethodPost, target, bytes.NewReader(WebhookBody(secret, ev)))
	r.Header.Set("Content-Type", contentTypeJSON)
	return r
}

// Delivery is one webhook the server sent or is sending, with every attempt so far.
type Delivery struct {
	Seq      int    // 1 for the first webhook of the server, then 2, …
	URL      string // where it goes (the webhook URL when the event happened)
	Event    WebhookEvent
	Body     []byte // the JSON posted, the same for every attempt
	Attempts []Attempt
	// Delivered: an attempt got 200. Done: no more attempts will be made (delivered, out of
	// attempts, or the server closed).
	Delivered, Done bool
}

// Attempt is one POST of a webhook.
type Attempt struct {
	Time       time.Time // wall-clock time the attempt started
	StatusCode int       // the receiver's status; 0 when there was no answer
	Err        error     // the transport error when there was no answer
}

// queueWebhookLocked starts delivering ev when a webhook URL is configured. s.mu must be
// held; callers check that the server is open, and a Close that comes between leaves the
// webhook undelivered.
func (s *Server) queueWebhookLocked(ev WebhookEvent) {
	if s.webhookURL == "" {
		return
	}
	d := &Delivery{
		Seq:   len(s.deliveries) + 1,
		URL:   s.webhookURL,
		Event: ev,
		Body:  webhookBody(s.signer.Base64([]byte(strings.ToLower(ev.RequestID))), ev),
	}
	s.deliveries = append(s.deliveries, d)
	if !s.fake.Go(func() { s.deliver(d) }) {
		d.Done = true // closed meanwhile: left undelivered
	}
	s.notifyLocked()
}

// deliver posts d until it gets 200, waiting longer after each failure.
func (s *Server) deliver(d *Delivery) {
	wait := s.cfg.RetryMinWait
	for attempt := 1; ; attempt++ {
		a := Attempt{Time: time.Now()}
		a.StatusCode, a.Err = s.post(d.URL, d.Body)
		s.mu.Lock()
		d.Attempts = append(d.Attempts, a)
		d.Delivered = a.StatusCode == http.StatusOK
		d.Done = d.Delivered || attempt >= s.cfg.MaxDeliveryAttempts
		s.notifyLocked()
		done := d.Done
		s.mu.Unlock()
		if done {
			return
		}
		if !s.fake.Sleep(wait) { // closed: stop, also when the wait ended at the same time
			s.mu.Lock()
			d.Done = true
			s.notifyLocked()
			s.mu.Unlock()
			return
		}
		wait = min(2*wait, s.cfg.RetryMaxWait)
	}
}

func (s *Server) post(url string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(s.fake.Context(), http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", contentTypeJSON)
	resp, err := s.hook.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

// Deliveries returns every webhook queued so far, oldest first, with its attempts.
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Delivery, len(s.deliveries))
	for i, d := range s.deliveries {
		out[i] = *d
		out[i].Body = append([]byte(nil), d.Body...)
		out[i].Attempts = append([]Attempt(nil), d.Attempts...)
	}
	return out
}

// WaitDelivered waits until at least one webhook for the request id (compared ignoring case)
// was queued and every webhook queued for it so far is done. It returns nil when all of them
// got 200, an error matching ErrGaveUp when one ended without, ErrNoWebhookURL when there is
// none and no webhook URL is configured, ErrClosed when the server closed first, or the
// context's error.
func (s *Server) WaitDelivered(ctx context.Context, id string) error {
	key := idKey(id)
	for {
		s.mu.Lock()
		ch := s.changed
		found, pending := 0, 0
		var failed *Delivery
		for _, d := range s.deliveries {
			if idKey(d.Event.RequestID) != key {
				continue
			}
			found++
			switch {
			case !d.Done:
				pending++
			case !d.Delivered && failed == nil:
				failed = d
			}
		}
		noURL, closed := s.webhookURL == "", s.fake.Closed()
		var err error
		switch {
		case found > 0 && pending == 0 && failed != nil:
			err = fmt.Errorf("%w: webhook %d for %s after %d attempts", ErrGaveUp, failed.Seq, id, len(failed.Attempts))
		case found > 0 && pending == 0:
			s.mu.Unlock()
			return nil
		case found == 0 && noURL:
			err = fmt.Errorf("%w (request %s)", ErrNoWebhookURL, id)
		case closed:
			err = ErrClosed
		}
		s.mu.Unlock()
		if err != nil {
			return err
		}
		select {
		case <-ch:
		case <-s.fake.Context().Done(): // Close came: look again
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

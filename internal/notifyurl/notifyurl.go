// Package notifyurl signs the notification URLs paykit sends to providers that do not sign
// their notifications (EchelonPay callbacks, Ecster OENs), and verifies them when the
// notification arrives.
//
// Neither provider signs what it sends, and each notification makes the webhook handler
// spend a GET of the merchant's API budget, so a forged flood could starve real calls. With
// a secret, the URL sent carries paykit_id=<payment id>&paykit_sig=<HMAC-SHA256(secret,
// payment id), unpadded base64url>, the merchant's own query kept; a notification whose URL
// lacks a valid signature is refused before anything is fetched.
package notifyurl

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/url"
)

// The query parameters paykit adds.
const (
	ParamID        = "paykit_id"
	ParamSignature = "paykit_sig"
)

// Errors of Verify.
var (
	ErrMissing = errors.New("the notification URL carries no paykit signature")
	ErrInvalid = errors.New("the notification URL's paykit signature does not match")
)

// Signer signs and verifies notification URLs with one secret. The zero value (no secret)
// leaves URLs as they are and verifies nothing.
type Signer struct {
	key []byte
}

// New returns a Signer for secret; an empty secret makes a Signer that does nothing.
func New(secret string) Signer {
	if secret == "" {
		return Signer{}
	}
	return Signer{key: []byte(secret)}
}

// Enabled reports whether the Signer has a secret.
func (s Signer) Enabled() bool { return len(s.key) > 0 }

func (s Signer) sum(id string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(id))
	return m.Sum(nil)
}

// Signature returns the signature of id: unpadded base64url of HMAC-SHA256(secret, id).
func (s Signer) Signature(id string) string {
	return base64.RawURLEncoding.EncodeToString(s.sum(id))
}

// Sign returns rawURL with paykit_id and paykit_sig for id added to its query, keeping the
// merchant's own parameters (any paykit_ ones it had are replaced). Without a secret, or for
// an empty URL, rawURL comes back unchanged.
func (s Signer) Sign(rawURL, id string) (string, error) {
	if !s.Enabled() || rawURL == "" {
		return rawURL, nil
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set(ParamID, id)
	q.Set(ParamSignature, s.Signature(id))
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// Verify checks the signature in u's query and returns the signed payment id. It reports
// ErrMissing when the URL carries none and ErrInvalid when it does not match (compared in
// constant time); a parameter given twice is invalid.
func (s Signer) Verify(u *url.URL) (string, error) {
	q := u.Query()
	ids, sigs := q[ParamID], q[ParamSignature]
	if len(ids) == 0 || len(sigs) == 0 {
		return "", ErrMissing
	}
	if len(ids) != 1 || len(sigs) != 1 || ids[0] == "" {
		return "", ErrInvalid
	}
	got, err := base64.RawURLEncoding.DecodeString(sigs[0])
	if err != nil || !hmac.Equal(got, s.sum(ids[0])) {
		return "", ErrInvalid
	}
	return ids[0], nil
}

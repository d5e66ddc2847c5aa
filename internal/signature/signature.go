// Package signature holds the keyed hashes providers sign with and a constant-time compare.
// Verifiers compare decoded bytes with Equal so that the time taken tells nothing of how much
// of a forged signature was right.
package signature

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // Entrecard's documented signature is SHA-1; it is not our choice.
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"sync"
)

// HMACSHA256 computes HMAC-SHA256 of message under key. It keeps the keyed state (the inner
// and outer pads) and reuses it, so signing many messages with one key does not redo the key
// schedule; it is safe for concurrent use.
type HMACSHA256 struct {
	pool sync.Pool
}

// NewHMACSHA256 returns a signer for key.
func NewHMACSHA256(key []byte) *HMACSHA256 {
	k := append([]byte(nil), key...)
	s := &HMACSHA256{}
	s.pool.New = func() any { return hmac.New(sha256.New, k) }
	return s
}

// Sum returns HMAC-SHA256(key, message).
func (s *HMACSHA256) Sum(message []byte) []byte {
	h := s.pool.Get().(hash.Hash)
	h.Reset()
	h.Write(message)
	sum := h.Sum(nil)
	s.pool.Put(h)
	return sum
}

// Base64 returns the standard, padded base64 of HMAC-SHA256(key, message).
func (s *HMACSHA256) Base64(message []byte) string {
	return base64.StdEncoding.EncodeToString(s.Sum(message))
}

// base64Len is the length of the standard, padded base64 of an HMAC-SHA256.
var base64Len = base64.StdEncoding.EncodedLen(sha256.Size)

// VerifyBase64 reports whether sig is the standard, padded base64 of HMAC-SHA256(key,
// message), comparing the decoded bytes in constant time. Only the one canonical encoding
// passes: the length check refuses the CR and LF characters the decoder would skip.
func (s *HMACSHA256) VerifyBase64(message []byte, sig string) bool {
	if len(sig) != base64Len {
		return false
	}
	got, err := base64.StdEncoding.Strict().DecodeString(sig)
	if err != nil || len(got) != sha256.Size {
		return false
	}
	return Equal(got, s.Sum(message))
}

// SHA1Hex returns the lowercase hex SHA-1 of message.
func SHA1Hex(message []byte) string {
	sum := sha1.Sum(message) //nolint:gosec // see the import
	return hex.EncodeToString(sum[:])
}

// VerifySHA1Hex reports whether sig is the hex SHA-1 of message (either case), comparing the
// decoded bytes in constant time.
func VerifySHA1Hex(message []byte, sig string) bool {
	got, err := hex.DecodeString(sig)
	if err != nil || len(got) != sha1.Size {
		return false
	}
	want := sha1.Sum(message) //nolint:gosec // see the import
	return Equal(got, want[:])
}

// Equal compares a and b in constant time (for equal lengths).
func Equal(a, b []byte) bool { return hmac.Equal(a, b) }

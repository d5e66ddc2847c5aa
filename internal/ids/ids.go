// Package ids generates the merchant ids paykit makes when a PaymentRequest has none.
package ids

import (
	"crypto/rand"
	"encoding/hex"
)

// UUID returns a random (version 4) UUID in its dashed lowercase form, e.g.
// "70df7b42-2926-4fa7-8fed-c5805f823167". It fits eCredits, which wants a GUID.
func UUID() string {
	b := random16()
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:36], b[10:16])
	return string(out[:])
}

// Hex32 returns a random UUID v4 as 32 lowercase hex digits without dashes. It fits
// Entrecard, whose item id is at most 32 characters of [A-Za-z0-9_-].
func Hex32() string {
	b := random16()
	return hex.EncodeToString(b[:])
}

func random16() [16]byte {
	var b [16]byte
	// crypto/rand.Read never fails on supported platforms (it panics inside if the OS
	// generator is broken), so there is no error to hand on.
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	return b
}

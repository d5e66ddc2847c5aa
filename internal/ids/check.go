package ids

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// MaxLen is the longest payment id any provider takes, in bytes.
const MaxLen = 64

// Check applies the id rule every provider shares to an id that goes into a URL path or
// query: not empty, not "." or ".." (a dot-segment that a normalising proxy would resolve to
// another endpoint), valid UTF-8 without control characters, at most MaxLen bytes. Each
// provider adds its own rule after it (eCredits: a GUID; Entrecard: [A-Za-z0-9_-]{1,32}).
// The error says what is wrong and never repeats the id, which may hold anything.
func Check(id string) error {
	switch {
	case id == "":
		return errors.New("the payment id is empty")
	case id == "." || id == "..":
		return fmt.Errorf("the payment id %q is a dot-segment, which a URL path cannot carry", id)
	case len(id) > MaxLen:
		return fmt.Errorf("the payment id is %d bytes, more than %d", len(id), MaxLen)
	case !utf8.ValidString(id):
		return errors.New("the payment id is not valid UTF-8")
	}
	for _, r := range id {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return fmt.Errorf("the payment id holds the control character %q", r)
		}
	}
	return nil
}

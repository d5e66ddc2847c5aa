package transport

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"
)

// Redacted replaces a secret wherever paykit prints text that may hold one.
const Redacted = "[REDACTED]"

// maxErrorBody bounds the raw error body kept in paykit.Error.Body.
const maxErrorBody = 4 << 10

// Redactor removes known secrets from text. Secrets shorter than 4 bytes are ignored: they
// would blank out ordinary words.
type Redactor struct {
	secrets []string
}

// NewRedactor returns a Redactor for secrets.
func NewRedactor(secrets ...string) *Redactor {
	r := &Redactor{}
	for _, s := range secrets {
		if len(s) >= 4 {
			r.secrets = append(r.secrets, s)
		}
	}
	return r
}

// String returns s with every secret replaced by Redacted.
func (r *Redactor) String(s string) string {
	for _, sec := range r.secrets {
		if strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, Redacted)
		}
	}
	return s
}

// Body returns a redacted copy of b cut to 4 KiB. The whole body is redacted before it is
// cut, so that a secret straddling the cut leaves no prefix of itself behind, and the cut
// falls on a rune boundary.
func (r *Redactor) Body(b []byte) []byte {
	s := r.String(string(b))
	if len(s) > maxErrorBody {
		cut := maxErrorBody
		for i := 0; i < utf8.UTFMax-1 && !utf8.RuneStart(s[cut]); i++ {
			cut--
		}
		s = s[:cut]
	}
	return []byte(s)
}

// with returns a Redactor that also removes extra (e.g. the bearer token of one attempt).
func (r *Redactor) with(extra string) *Redactor {
	if len(extra) < 4 {
		return r
	}
	return &Redactor{secrets: append(slices.Clip(r.secrets), extra)}
}

// Error returns err with its text redacted. errors.Is and errors.As still see the original
// chain, so a redacted context error stays a context error; and code that walks the chain
// with errors.Unwrap and prints each link (error reporters do) sees redacted text all the way
// down. A *url.Error (what an HTTP client returns, its URL holding the path and query) stays
// a *url.Error, with its URL redacted.
func (r *Redactor) Error(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	red := r.String(msg)
	if red == msg {
		return err
	}
	if ue, ok := err.(*url.Error); ok {
		return &url.Error{Op: ue.Op, URL: r.String(ue.URL), Err: r.Error(ue.Err)}
	}
	return &redactedError{msg: red, err: err, r: r}
}

type redactedError struct {
	msg string
	err error // the original, whose text holds a secret
	r   *Redactor
}

func (e *redactedError) Error() string { return e.msg }

// Unwrap returns the redacted cause under the original error.
func (e *redactedError) Unwrap() error {
	switch u := e.err.(type) {
	case interface{ Unwrap() error }:
		return e.r.Error(u.Unwrap())
	case interface{ Unwrap() []error }:
		var errs []error
		for _, in := range u.Unwrap() {
			errs = append(errs, e.r.Error(in))
		}
		return errors.Join(errs...)
	}
	return nil
}

// Is matches what the original error matches.
func (e *redactedError) Is(target error) bool { return errors.Is(e.err, target) }

// As finds what the original error holds: a caller asking for a type gets the value.
func (e *redactedError) As(target any) bool { return errors.As(e.err, target) }

package transport

import "strings"

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

// Body returns a redacted copy of b cut to 4 KiB.
func (r *Redactor) Body(b []byte) []byte {
	if len(b) > maxErrorBody {
		b = b[:maxErrorBody]
	}
	return []byte(r.String(string(b)))
}

// Error returns err with its text redacted; errors.Is and errors.As still see the original
// chain, so a redacted context error stays a context error.
func (r *Redactor) Error(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if red := r.String(msg); red != msg {
		return &redactedError{msg: red, err: err}
	}
	return err
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

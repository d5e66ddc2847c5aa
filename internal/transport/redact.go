package transport

import (
	"encoding/json"
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

// minSecret is the shortest secret redacted: shorter ones would blank out ordinary words.
const minSecret = 4

// Redactor removes known secrets from text, in every form a provider may echo them: as they
// are, JSON-escaped (encoding/json writes <, > and & as \u003c, \u003e, \u0026, and " and \
// with a backslash; other encoders also write / as \/ or use capital hex), URL-escaped
// (url.QueryEscape, url.PathEscape, with either case of hex), and JSON-escaped after
// URL-escaping. The forms are computed once per secret.
type Redactor struct {
	secrets []string // as given, at least minSecret bytes long
	forms   []string // every form of every secret, longest first, without repeats
	// first marks the bytes a form starts with, so that Body skips the others at once.
	first [256]bool
	rep   *strings.Replacer // nil without secrets
}

// NewRedactor returns a Redactor for secrets. Secrets shorter than 4 bytes are ignored.
func NewRedactor(secrets ...string) *Redactor {
	var kept []string
	for _, s := range secrets {
		if len(s) >= minSecret {
			kept = append(kept, s)
		}
	}
	return newRedactor(kept)
}

func newRedactor(secrets []string) *Redactor {
	r := &Redactor{secrets: secrets}
	seen := make(map[string]bool)
	for _, s := range secrets {
		for _, f := range secretForms(s) {
			if !seen[f] {
				seen[f] = true
				r.forms = append(r.forms, f)
			}
		}
	}
	// Longest first: where two forms match at the same place (a secret and the escaped form
	// that begins with it), the whole longer one goes. strings.Replacer and Body both try
	// the forms in this order.
	slices.SortStableFunc(r.forms, func(a, b string) int { return len(b) - len(a) })
	pairs := make([]string, 0, 2*len(r.forms))
	for _, f := range r.forms {
		r.first[f[0]] = true
		pairs = append(pairs, f, Redacted)
	}
	if len(pairs) > 0 {
		r.rep = strings.NewReplacer(pairs...)
	}
	return r
}

// secretForms returns s and the escaped forms a provider may echo it in (some may repeat).
func secretForms(s string) []string {
	var out []string
	for _, u := range []string{s, url.QueryEscape(s), url.PathEscape(s)} {
		for _, j := range []string{u, jsonEscape(u, true), jsonEscape(u, false)} {
			slashed := strings.ReplaceAll(j, "/", `\/`)
			out = append(out, j, flipHexCase(j), slashed, flipHexCase(slashed))
		}
	}
	return out
}

// jsonEscape returns s as encoding/json writes it inside a string, with or without its
// escaping of <, > and &.
func jsonEscape(s string, html bool) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(html)
	if err := enc.Encode(s); err != nil {
		return s // cannot happen for a string
	}
	out := strings.TrimSuffix(b.String(), "\n")
	return out[1 : len(out)-1]
}

// flipHexCase returns s with the hex digits of its %XX escapes in lower case and those of its
// \uXXXX escapes in upper case: the other spelling of what Go's encoders write.
func flipHexCase(s string) string {
	if !strings.ContainsAny(s, `%\`) {
		return s
	}
	b := []byte(s)
	for i := 0; i < len(b); i++ {
		switch {
		case b[i] == '%' && i+2 < len(b) && isHex(b[i+1]) && isHex(b[i+2]):
			b[i+1], b[i+2] = toLowerHex(b[i+1]), toLowerHex(b[i+2])
			i += 2
		case b[i] == '\\' && i+5 < len(b) && b[i+1] == 'u' && isHex(b[i+2]) && isHex(b[i+3]) && isHex(b[i+4]) && isHex(b[i+5]):
			for k := i + 2; k <= i+5; k++ {
				b[k] = toUpperHex(b[k])
			}
			i += 5
		case b[i] == '\\' && i+1 < len(b):
			i++ // an escaped character, e.g. \\ followed by u, is not a \u escape
		}
	}
	return string(b)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func toLowerHex(c byte) byte {
	if 'A' <= c && c <= 'F' {
		return c + 'a' - 'A'
	}
	return c
}

func toUpperHex(c byte) byte {
	if 'a' <= c && c <= 'f' {
		return c - ('a' - 'A')
	}
	return c
}

// String returns s with every form of every secret replaced by Redacted.
func (r *Redactor) String(s string) string {
	if r.rep == nil {
		return s
	}
	for _, f := range r.forms {
		if strings.Contains(s, f) {
			return r.rep.Replace(s)
		}
	}
	return s
}

// Body returns a redacted copy of b cut to 4 KiB, on a rune boundary. It reads b only as far
// as the cut needs: it redacts while it copies, and a secret that begins before the cut is
// matched in full (reading past the cut), so a secret straddling the cut leaves no prefix of
// itself behind. A large body is thus neither copied nor scanned whole.
func (r *Redactor) Body(b []byte) []byte {
	out := make([]byte, 0, min(len(b), maxErrorBody+1))
	// One byte past the cut is copied, to see whether the cut splits a rune.
	for i := 0; i < len(b) && len(out) <= maxErrorBody; {
		if r.first[b[i]] {
			if n := r.matchAt(b[i:]); n > 0 {
				out = append(out, Redacted...)
				i += n
				continue
			}
		}
		j := i + 1
		for j < len(b) && !r.first[b[j]] && len(out)+j-i <= maxErrorBody {
			j++
		}
		out = append(out, b[i:j]...)
		i = j
	}
	if len(out) > maxErrorBody {
		cut := maxErrorBody
		for k := 0; k < utf8.UTFMax-1 && !utf8.RuneStart(out[cut]); k++ {
			cut--
		}
		out = out[:cut]
	}
	return out
}

// matchAt returns the length of the longest form b starts with, or 0.
func (r *Redactor) matchAt(b []byte) int {
	for _, f := range r.forms {
		if len(b) >= len(f) && string(b[:len(f)]) == f {
			return len(f)
		}
	}
	return 0
}

// with returns a Redactor that also removes extra (e.g. the bearer token of one attempt).
func (r *Redactor) with(extra string) *Redactor {
	if len(extra) < minSecret {
		return r
	}
	return newRedactor(append(slices.Clip(r.secrets), extra))
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

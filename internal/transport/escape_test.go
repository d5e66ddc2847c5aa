package transport

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
)

// awkwardSecrets hold each character that JSON or URL escaping changes.
var awkwardSecrets = []struct{ name, secret string }{
	{"less than", "sk_<live>_a"},
	{"greater than", "sk_live_>b9"},
	{"ampersand", "sk_live&c=d"},
	{"quote", `sk_live_"e"`},
	{"backslash", `sk_live\f\u`},
	{"slash and space", "sk/live g+h"},
	{"all", `s<k>&"\/ %`},
}

// echoForms returns the ways a provider may echo s, made here with the standard library (not
// with the Redactor's own code): JSON-escaped with and without HTML escaping, with \/ for /,
// with capital \u hex, URL-escaped for a query or a path (and with lower-case hex), and a
// path-escaped URL inside a JSON string.
func echoForms(s string) map[string]string {
	jsonHTML := func(v string) string {
		b, _ := json.Marshal(v)
		return string(b[1 : len(b)-1])
	}
	jsonPlain := func(v string) string {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(v)
		out := strings.TrimSpace(buf.String())
		return out[1 : len(out)-1]
	}
	upperU := strings.NewReplacer(`\u003c`, `\u003C`, `\u003e`, `\u003E`)
	lowerPct := strings.NewReplacer("%3C", "%3c", "%3E", "%3e", "%2F", "%2f", "%5C", "%5c", "%22", "%22", "%26", "%26", "%3D", "%3d", "%2B", "%2b")
	return map[string]string{
		"raw":               s,
		"json":              jsonHTML(s),
		"json without html": jsonPlain(s),
		"json, \\/":         strings.ReplaceAll(jsonHTML(s), "/", `\/`),
		"json, capital hex": upperU.Replace(jsonHTML(s)),
		"query":             url.QueryEscape(s),
		"query, lower hex":  lowerPct.Replace(url.QueryEscape(s)),
		"path":              url.PathEscape(s),
		"json of path":      jsonHTML(url.PathEscape(s)),
	}
}

// TestRedactorEscapedForms: every form of a secret is redacted, wherever it is in the text.
func TestRedactorEscapedForms(t *testing.T) {
	t.Parallel()
	for _, sec := range awkwardSecrets {
		r := NewRedactor(sec.secret)
		for form, echoed := range echoForms(sec.secret) {
			t.Run(sec.name+"/"+form, func(t *testing.T) {
				t.Parallel()
				in := "before " + echoed + " middle " + echoed + " after"
				want := "before " + Redacted + " middle " + Redacted + " after"
				assert.Equal(t, want, r.String(in))
				assert.Equal(t, want, string(r.Body([]byte(in))))
			})
		}
	}
}

// TestRedactionEscapedEndToEnd: a secret or token that the provider echoes escaped, in an
// error body, its message or the URL of a failed request, is redacted from Error.Body, the
// Message, Error() and every link of the chain, and the debug log.
func TestRedactionEscapedEndToEnd(t *testing.T) {
	t.Parallel()
	for _, sec := range awkwardSecrets {
		t.Run(sec.name, func(t *testing.T) {
			t.Parallel()
			secret := sec.secret
			tok := "tok_" + strings.ReplaceAll(sec.secret, "sk", "tk") + "_zz"
			srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/net" {
					hijackClose(t, w, r)
					return
				}
				// encoding/json escapes the secret and token in the body; the URL forms
				// are escaped before.
				writeJSON(w, http.StatusBadRequest, map[string]any{
					"title":  "refused " + secret,
					"detail": "token " + tok,
					"code":   url.QueryEscape(secret),
					"type":   "https://api.example/p/" + url.PathEscape(tok),
					"errors": map[string]string{"key": "echo " + url.PathEscape(secret)},
				})
			})
			var logBuf bytes.Buffer
			c := newTestClient(t, srv.URL, func(cfg *Config) {
				cfg.Secrets = []string{secret}
				cfg.Auth = staticAuth(tok)
				cfg.Settings.Retry.MaxAttempts = 1
				cfg.Settings.Logger = slog.New(slog.NewJSONHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
			})
			var forbidden []string
			for _, s := range []string{secret, tok} {
				for _, f := range echoForms(s) {
					forbidden = append(forbidden, f)
				}
			}
			check := func(what, text string) {
				t.Helper()
				for _, f := range forbidden {
					assert.NotContains(t, text, f, what)
				}
			}
			_, err := c.Do(context.Background(), Request{Op: "get", Method: http.MethodGet, Path: "/fail"})
			checkKind(t, err, paykit.ErrInvalidRequest)
			pe := asError(t, err)
			assert.Contains(t, pe.Message, "refused "+Redacted, "the provider's words around the secret stay")
			check("Body", string(pe.Body))
			check("Message/Code/Type", pe.Message+" "+pe.Code+" "+pe.Type)
			check("Error()", err.Error())

			// The secret in the query and the path of a request that gets no answer: the
			// url.Error quotes the escaped URL.
			_, err = c.Do(context.Background(), Request{
				Op: "get", Method: http.MethodGet, Path: "/net",
				Query: url.Values{"key": {secret}, "token": {tok}},
			})
			checkKind(t, err, paykit.ErrUnavailable)
			check("Error()", err.Error())
			for e := error(err); e != nil; {
				check("a wrapped Error()", e.Error())
				u, ok := e.(interface{ Unwrap() error })
				if !ok {
					break
				}
				e = u.Unwrap()
			}
			require.NotEmpty(t, logBuf.String())
			check("log", logBuf.String())
		})
	}
}

// refBody is what Redactor.Body must return: the whole text redacted, then cut to 4 KiB on a
// rune boundary. Slow on a large body; Body must give the same without reading it all.
func refBody(r *Redactor, b []byte) []byte {
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

// TestRedactorBodyAtTheCut: a secret in any form that straddles the 4 KiB cut leaves no
// prefix of itself behind, also when the redaction before it shortened the text (long
// secrets become the shorter Redacted) and so pulled text from past the cut into the kept part.
func TestRedactorBodyAtTheCut(t *testing.T) {
	t.Parallel()
	long := "sk_live_" + strings.Repeat("L", 60) + "<&>"
	r := NewRedactor(long)
	for form, echoed := range echoForms(long) {
		t.Run(form, func(t *testing.T) {
			t.Parallel()
			for _, before := range []int{0, 3, 50} { // occurrences before the cut that shrink
				for off := maxErrorBody - len(echoed) - 2; off <= maxErrorBody+2; off++ {
					var b strings.Builder
					for range before {
						b.WriteString(echoed)
						b.WriteString("..")
					}
					// Place one occurrence so that it straddles where the cut falls after
					// the earlier ones shrank.
					shrunk := before * (len(Redacted) + 2)
					pad := off - shrunk
					if pad < 0 {
						continue
					}
					b.WriteString(strings.Repeat("x", pad))
					b.WriteString(echoed)
					b.WriteString(strings.Repeat("y", 200))
					in := []byte(b.String())
					got := r.Body(in)
					require.Equal(t, string(refBody(r, in)), string(got), "before=%d off=%d", before, off)
					assert.LessOrEqual(t, len(got), maxErrorBody)
					// No start of the form at the end of what is kept.
					for k := 1; k <= len(echoed) && k <= len(got); k++ {
						if k > 1 && strings.HasSuffix(string(got), echoed[:k]) {
							t.Fatalf("before=%d off=%d: the body ends with %q, a prefix of the secret", before, off, echoed[:k])
						}
					}
				}
			}
		})
	}
}

// TestRedactorBodyReadsOnlyAPrefix: Body of a 64 MiB body costs about the 4 KiB it keeps, not a
// copy of the body. Not parallel: it reads the process's allocation counter.
func TestRedactorBodyReadsOnlyAPrefix(t *testing.T) {
	r := NewRedactor("sk_live_<secret>", "another-secret")
	body := bytes.Repeat([]byte("0123456789abcdef"), 4<<20) // 64 MiB
	copy(body[maxErrorBody-5:], "sk_live_<secret>")
	r.Body(body) // warm up
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	got := r.Body(body)
	runtime.ReadMemStats(&after)
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("Body of a 64 MiB body allocated %d bytes", allocated)
	assert.Less(t, allocated, uint64(64<<10))
	assert.True(t, strings.HasSuffix(string(got), "[REDA"), "the secret at the cut is redacted: ...%q", got[len(got)-20:])
}

// FuzzRedactorBody: Body equals redacting the whole body and then cutting it, for any body
// and secret.
func FuzzRedactorBody(f *testing.F) {
	f.Add("sk_<x>&\"\\", 4090, 3)
	f.Add("abcd", 4094, 0)
	f.Add("tok/with space", 0, 400)
	f.Add("ééééé", 4093, 1)
	f.Fuzz(func(t *testing.T, secret string, pad, repeats int) {
		if pad < 0 || pad > 3*maxErrorBody || repeats < 0 || repeats > 500 {
			return
		}
		r := NewRedactor(secret, "fixed-other-secret")
		var b strings.Builder
		for i := range repeats {
			if i%2 == 0 {
				b.WriteString(secret)
			} else {
				b.WriteString(url.QueryEscape(secret))
			}
		}
		b.WriteString(strings.Repeat("é", pad/2))
		b.WriteString(secret)
		b.WriteString("tail")
		in := []byte(b.String())
		require.Equal(t, string(refBody(r, in)), string(r.Body(in)))
	})
}

package transport

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/paykit/paykit"
)

// staticAuth hands out one token.
type staticAuth string

func (a staticAuth) Token(context.Context) (string, error) { return string(a), nil }
func (a staticAuth) Invalidate(string)                     {}
func (a staticAuth) Fresh(string) bool                     { return true }

func TestRedaction(t *testing.T) {
	t.Parallel()
	const (
		secret = "sk_live_SUPERSECRET_4242"
		tok    = "tok_DISTINCTIVE_9f3a7c1e"
	)
	echo := fmt.Sprintf("key %s, Authorization: Bearer %s", secret, tok)
	srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Get("Authorization"); got != "Bearer "+tok {
			t.Errorf("Authorization = %q, want the bearer token", got)
		}
		switch {
		case r.URL.Path == "/ok":
			writeJSON(w, http.StatusOK, okPayment)
		case r.URL.Path == "/fail":
			writeJSON(w, http.StatusBadRequest, map[string]any{
				"type": secret, "code": tok, "title": "refused " + secret, "detail": echo,
				"errors": map[string][]string{secret: {tok}},
			})
		case r.URL.Path == "/garbled":
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte("not JSON: " + echo))
		case strings.HasPrefix(r.URL.Path, "/net/"):
			hijackClose(t, w, r)
		default:
			t.Errorf("unexpected path %q", r.URL.Path)
		}
	})
	var logBuf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := newTestClient(t, srv.URL, func(cfg *Config) {
		cfg.Secrets = []string{secret}
		cfg.Auth = staticAuth(tok)
		cfg.Settings.Logger = logger
		cfg.Settings.Retry.MaxAttempts = 2
	})

	calls := []struct {
		path     string
		query    url.Values
		wantKind error // nil: success
		attempts int
		status   int // logged status
	}{
		{"/ok", nil, nil, 1, 200},
		{"/fail", nil, paykit.ErrInvalidRequest, 1, 400},
		{"/garbled", nil, paykit.ErrUnavailable, 2, 200},
		{"/net/" + secret, url.Values{"key": {secret}, "token": {tok}}, paykit.ErrUnavailable, 2, 0},
	}
	forbidden := []string{secret, tok, "Bearer " + tok}
	check := func(what, s string) {
		t.Helper()
		for _, f := range forbidden {
			if strings.Contains(s, f) {
				t.Errorf("%s holds %q: %s", what, f, s)
			}
		}
	}
	type logLine struct {
		Level, Msg, Provider, Op, Method, Path, Error string
		Status, Attempt                               int
		Duration                                      *int64
	}
	var wantLines []logLine
	for _, call := range calls {
		var out payment
		_, err := c.Do(context.Background(), Request{Op: "get", Method: http.MethodGet, Path: call.path, Query: call.query, Result: &out, Repeatable: true})
		for a := 1; a <= call.attempts; a++ {
			wantLines = append(wantLines, logLine{Method: "GET", Path: call.path, Status: call.status, Attempt: a})
		}
		if call.wantKind == nil {
			if err != nil {
				t.Errorf("%s: %v", call.path, err)
			}
			continue
		}
		checkKind(t, err, call.wantKind)
		pe := asError(t, err)
		check(call.path+": Error()", err.Error())
		check(call.path+": Body", string(pe.Body))
		check(call.path+": Code/Type/Message", pe.Code+" "+pe.Type+" "+pe.Message)
		for e := errors.Unwrap(err); e != nil; e = errors.Unwrap(e) {
			check(call.path+": wrapped Error()", e.Error())
		}
		if call.path == "/fail" && !strings.Contains(pe.Message, "refused "+Redacted) {
			t.Errorf("Message %q lost the provider's words around the secret", pe.Message)
		}
	}

	check("log", logBuf.String())
	sc := bufio.NewScanner(&logBuf)
	var i int
	for ; sc.Scan(); i++ {
		var got logLine
		if err := json.Unmarshal(sc.Bytes(), &got); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		if i >= len(wantLines) {
			t.Errorf("extra log line %s", sc.Text())
			continue
		}
		want := wantLines[i]
		want.Path = strings.ReplaceAll(want.Path, secret, Redacted)
		if got.Level != "DEBUG" || got.Provider != "testprov" || got.Method != want.Method || got.Path != want.Path ||
			got.Status != want.Status || got.Attempt != want.Attempt || got.Duration == nil {
			t.Errorf("log line %d = %s\nwant method %s path %s status %d attempt %d with a duration",
				i, sc.Text(), want.Method, want.Path, want.Status, want.Attempt)
		}
	}
	if i != len(wantLines) {
		t.Errorf("log has %d lines, want one per attempt: %d", i, len(wantLines))
	}
}

// TestNoLogBelowDebug: a logger above debug level gets no attempt lines.
func TestNoLogBelowDebug(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	var buf bytes.Buffer
	c := newTestClient(t, srv.URL, func(cfg *Config) {
		cfg.Settings.Logger = slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	})
	if _, err := c.Do(context.Background(), Request{Op: "get", Method: http.MethodGet, Path: "/x"}); err != nil {
		t.Fatal(err)
	}
	if buf.Len() != 0 {
		t.Errorf("info-level logger got %q", buf.String())
	}
}

func TestRedactor(t *testing.T) {
	t.Parallel()
	r := NewRedactor("abc", "", "longsecret", "secret")
	tests := []struct{ in, want string }{
		{"abc stays (too short to redact)", "abc stays (too short to redact)"},
		{"x longsecret y secret", "x " + Redacted + " y " + Redacted},
		{"nothing here", "nothing here"},
	}
	for _, tt := range tests {
		if got := r.String(tt.in); got != tt.want {
			t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	// Every link of the chain reads clean, and errors.Is/As still find what is underneath.
	chains := map[string]error{
		"fmt wrap": fmt.Errorf("dial with longsecret: %w", fmt.Errorf("inner longsecret: %w", context.Canceled)),
		"url.Error": &url.Error{Op: "Get", URL: "https://api.example.com/x?key=longsecret",
			Err: fmt.Errorf("read longsecret: %w", context.Canceled)},
		"join": errors.Join(errors.New("one longsecret"), fmt.Errorf("two longsecret: %w", context.Canceled)),
	}
	for name, orig := range chains {
		err := r.Error(orig)
		for e := err; e != nil; e = errors.Unwrap(e) {
			if strings.Contains(e.Error(), "longsecret") {
				t.Errorf("%s: a link reads %q", name, e.Error())
			}
			if j, ok := e.(interface{ Unwrap() []error }); ok {
				for _, in := range j.Unwrap() {
					if strings.Contains(in.Error(), "longsecret") {
						t.Errorf("%s: a joined error reads %q", name, in.Error())
					}
				}
			}
		}
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s: errors.Is(Canceled) = false after redaction", name)
		}
	}
	var ue *url.Error
	if err := r.Error(chains["url.Error"]); !errors.As(err, &ue) || ue.URL != "https://api.example.com/x?key="+Redacted {
		t.Errorf("url.Error after redaction: %#v", err)
	}
	if plain := errors.New("plain"); r.Error(plain) != plain {
		t.Errorf("an error without secrets should come back as it is")
	}
	if r.Error(nil) != nil {
		t.Errorf("Error(nil) != nil")
	}
}

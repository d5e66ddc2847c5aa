package transport

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paykit/paykit"
)

func decodeTestClient(t *testing.T, url string) *Client {
	t.Helper()
	c, err := New(Config{Provider: "test", BaseURL: url, Settings: paykit.Settings{
		Timeout: 5 * time.Second,
		Retry:   paykit.RetryPolicy{MaxAttempts: 3, MinWait: time.Millisecond, MaxWait: 2 * time.Millisecond},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A retry decodes into a fresh Result: fields an earlier broken answer filled do not survive.
func TestRetryDecodesIntoFreshResult(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			_, _ = w.Write([]byte(`{"a":"stale","b":"not a number"}`))
			return
		}
		_, _ = w.Write([]byte(`{"b":2}`))
	}))
	t.Cleanup(srv.Close)
	var out struct {
		A string `json:"a"`
		B int    `json:"b"`
	}
	_, err := decodeTestClient(t, srv.URL).Do(context.Background(), Request{Op: "get", Method: "GET", Path: "/x", Result: &out, Repeatable: true})
	if err != nil {
		t.Fatal(err)
	}
	if n.Load() != 2 || out.A != "" || out.B != 2 {
		t.Fatalf("after %d attempts Result = %+v, want {A: B:2}", n.Load(), out)
	}
}

// A broken answer that holds a credential is not kept in the error.
func TestSecretAnswerNotKept(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"token":"fresh-token-abc",`))
	}))
	t.Cleanup(srv.Close)
	c := decodeTestClient(t, srv.URL)
	var out struct{ Token string }
	for _, secret := range []bool{true, false} {
		_, err := c.Do(context.Background(), Request{Op: "auth", Method: "POST", Path: "/auth", Result: &out, NoAuth: true, SecretAnswer: secret})
		var pe *paykit.Error
		if !errors.As(err, &pe) || !errors.Is(err, paykit.ErrUnavailable) {
			t.Fatalf("err = %v", err)
		}
		if kept := strings.Contains(string(pe.Body), "fresh-token-abc"); kept == secret {
			t.Fatalf("SecretAnswer=%t: body kept = %t", secret, kept)
		}
	}
}

// A context error joined to a network error keeps the text on one line and both visible.
func TestJoinedCauseOneLine(t *testing.T) {
	t.Parallel()
	base := errors.New("dial tcp: refused")
	err := joinCause(base, context.Canceled)
	if strings.Contains(err.Error(), "\n") || !errors.Is(err, base) || !errors.Is(err, context.Canceled) {
		t.Fatalf("joinCause = %q", err.Error())
	}
	if joinCause(nil, context.Canceled) != context.Canceled {
		t.Fatal("joinCause(nil, c) is not c")
	}
}

// 408 is retried like a 5xx: only when the request is repeatable.
func TestRequestTimeoutStatusRetriedWhenRepeatable(t *testing.T) {
	t.Parallel()
	for _, repeatable := range []bool{true, false} {
		var n atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n.Add(1)
			w.WriteHeader(http.StatusRequestTimeout)
		}))
		_, err := decodeTestClient(t, srv.URL).Do(context.Background(), Request{Op: "op", Method: "POST", Path: "/x", Repeatable: repeatable})
		srv.Close()
		want := int32(1)
		if repeatable {
			want = 3
		}
		if !errors.Is(err, paykit.ErrUnavailable) || n.Load() != want {
			t.Fatalf("repeatable=%t: %d attempts, err %v; want %d attempts and ErrUnavailable", repeatable, n.Load(), err, want)
		}
	}
}

package transport

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/internal/token"
)

type refusingLimiter struct{}

func (refusingLimiter) Wait(context.Context) error { return errors.New("no turn before the deadline") }

// Error.Unprocessed is true only when no attempt of the call may have been processed.
func TestErrorSaysWhenNothingWasProcessed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		answers    []int // the server's answer to each attempt; 0 drops the connection after reading
		repeatable bool
		want       bool
	}{
		{"429 every time", []int{429, 429, 429}, false, true},
		{"400", []int{400}, false, true},
		{"403", []int{403}, false, true},
		{"404", []int{404}, false, true},
		{"409: something exists", []int{409}, true, false},
		{"408", []int{408}, false, false},
		{"503, not repeated", []int{503}, false, false},
		{"503 then 429", []int{503, 429, 429}, true, false},
		{"dropped after the request was read", []int{0}, false, false},
		{"dropped, then 429", []int{0, 429, 429}, true, false},
		{"429, then 400", []int{429, 400}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var n atomic.Int64
			srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				i := int(n.Add(1)) - 1
				status := tt.answers[min(i, len(tt.answers)-1)]
				if status == 0 {
					hijackClose(t, w, r)
					return
				}
				writeJSON(w, status, map[string]string{"message": "no"})
			})
			c := newTestClient(t, srv.URL, nil)
			_, err := c.Do(context.Background(), Request{Op: "create", Method: http.MethodPost, Path: "/x", Body: map[string]int{"a": 1}, Repeatable: tt.repeatable})
			require.Error(t, err)
			e := asError(t, err)
			assert.Equal(t, tt.want, e.Unprocessed, "%v after %d attempts", err, n.Load())
		})
	}

	t.Run("never written: the dial is refused", func(t *testing.T) {
		t.Parallel()
		c := newTestClient(t, "http://"+closedAddr(t), nil)
		_, err := c.Do(context.Background(), Request{Op: "create", Method: http.MethodPost, Path: "/x", Body: []byte("{}")})
		require.ErrorIs(t, err, paykit.ErrUnavailable)
		assert.True(t, asError(t, err).Unprocessed)
	})
	t.Run("refused by the limiter", func(t *testing.T) {
		t.Parallel()
		srv, hits := newServer(t, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(200) })
		c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Settings.Limiter = refusingLimiter{} })
		_, err := c.Do(context.Background(), Request{Op: "create", Method: http.MethodPost, Path: "/x"})
		require.Error(t, err)
		assert.True(t, asError(t, err).Unprocessed)
		assert.Zero(t, hits.Load())
	})
	t.Run("a body that cannot be encoded", func(t *testing.T) {
		t.Parallel()
		c := newTestClient(t, "http://127.0.0.1:1", nil)
		_, err := c.Do(context.Background(), Request{Op: "create", Method: http.MethodPost, Path: "/x", Body: make(chan int)})
		require.ErrorIs(t, err, paykit.ErrInvalidRequest)
		assert.True(t, asError(t, err).Unprocessed)
	})
}

// A provider's long error message is cut, so that an error's text stays a log line.
func TestLongErrorMessageIsCut(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 5000)
	srv, _ := newServer(t, func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, 400, map[string]string{"message": long, "code": strings.Repeat("c", 1000)})
	})
	c := newTestClient(t, srv.URL, nil)
	_, err := c.Do(context.Background(), Request{Op: "get", Method: http.MethodGet, Path: "/x"})
	e := asError(t, err)
	assert.LessOrEqual(t, len(e.Message), maxErrorMessage+len("…"))
	assert.True(t, utf8.ValidString(e.Message))
	assert.True(t, strings.HasSuffix(e.Message, "…"))
	assert.LessOrEqual(t, len(e.Code), maxErrorField+len("…"))
	assert.Less(t, len(err.Error()), 2000)
}

// A failed token fetch is not retried once more by the call that needed it: the fetch is
// itself a call through Do, retried there, and retrying both would multiply the requests.
func TestTokenFailureIsNotRetriedTwice(t *testing.T) {
	t.Parallel()
	var authCalls atomic.Int64
	auth, _ := newServer(t, func(w http.ResponseWriter, _ *http.Request) {
		authCalls.Add(1)
		writeJSON(w, 503, map[string]string{"message": "down"})
	})
	authClient := newTestClient(t, auth.URL, nil)
	src := token.NewSource(func(ctx context.Context) (token.Token, error) {
		_, err := authClient.Do(ctx, Request{Op: "authenticate", Method: http.MethodPost, Path: "/auth", NoAuth: true, Repeatable: true})
		return token.Token{}, err
	})
	api, served := newServer(t, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(200) })
	c := newTestClient(t, api.URL, func(cfg *Config) { cfg.Auth = src })
	_, err := c.Do(context.Background(), Request{Op: "get", Method: http.MethodGet, Path: "/x", Repeatable: true})
	require.ErrorIs(t, err, paykit.ErrUnavailable)
	assert.Equal(t, int64(fastPolicy.MaxAttempts), authCalls.Load(), "the fetch's own retries, once")
	assert.Zero(t, served.Load())
}

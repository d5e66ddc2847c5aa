package webhookcore

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadBody(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		body    string
		limit   int64 // in the request's context; 0: none
		def     int64
		wantErr bool
	}{
		{"under the default", "abc", 0, 4, false},
		{"at the default", "abcd", 0, 4, false},
		{"over the default", "abcde", 0, 4, true},
		{"the context's limit wins", "abcdefgh", 8, 4, false},
		{"over the context's limit", "abcdefghi", 8, 100, true},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tt.body))
		if tt.limit > 0 {
			r = r.WithContext(WithBodyLimit(r.Context(), tt.limit))
		}
		got, err := ReadBody(r, tt.def)
		if tt.wantErr {
			assert.ErrorIs(t, err, ErrBodyTooLarge, tt.name)
			continue
		}
		require.NoError(t, err, tt.name)
		assert.Equal(t, tt.body, string(got), tt.name)
	}
	assert.Equal(t, int64(7), BodyLimit(context.Background(), 7))
	assert.Equal(t, int64(7), BodyLimit(WithBodyLimit(context.Background(), 0), 7), "a limit of 0 is none")
}

type memStore struct {
	mu   sync.Mutex
	done map[string]bool
}

func (s *memStore) Claim(_ context.Context, key string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.done[key], nil
}

func (s *memStore) Finish(_ context.Context, key string, processed bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if processed {
		s.done[key] = true
	}
	return nil
}

// The handler answers as its doc says, and the parser sees the handler's limit.
func TestHandlerAnswers(t *testing.T) {
	t.Parallel()
	errSig := errors.New("bad signature")
	errDown := errors.New("down")
	var seenLimit int64
	var runs int
	state := "pending"
	h := Handler(Spec[string, string]{
		Name: "p", Store: &memStore{done: map[string]bool{}}, MaxBody: 64,
		Parse: func(r *http.Request) (Parsed[string], error) {
			seenLimit = BodyLimit(r.Context(), 0)
			b, err := ReadBody(r, 0)
			if err != nil {
				return Parsed[string]{}, err
			}
			switch string(b) {
			case "forged":
				return Parsed[string]{}, errSig
			case "later":
				return Parsed[string]{}, errDown
			case "noid":
				return Parsed[string]{Value: "x"}, nil
			}
			return Parsed[string]{Value: string(b), ID: "pay-1"}, nil
		},
		Refusal: func(err error) int {
			switch err {
			case errSig:
				return http.StatusUnauthorized
			case errDown:
				return http.StatusServiceUnavailable
			}
			return http.StatusBadRequest
		},
		Fetch:    func(context.Context, string) (string, error) { return state, nil },
		StateKey: func(s string) string { return s },
		Run:      func(context.Context, string, string) error { runs++; return nil },
	})
	post := func(body string) int {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body)))
		return rec.Code
	}
	assert.Equal(t, http.StatusUnauthorized, post("forged"))
	assert.Equal(t, http.StatusServiceUnavailable, post("later"))
	assert.Equal(t, http.StatusBadRequest, post("noid"))
	assert.Equal(t, http.StatusRequestEntityTooLarge, post(strings.Repeat("x", 65)))
	assert.Equal(t, 0, runs)
	assert.Equal(t, http.StatusOK, post("event"))
	assert.Equal(t, int64(64), seenLimit)
	assert.Equal(t, http.StatusOK, post("event"))
	assert.Equal(t, 1, runs, "the same fetched state runs fn once")
	state = "paid"
	assert.Equal(t, http.StatusOK, post("event"))
	assert.Equal(t, 2, runs, "a new state runs it again")
}

package webhookcore

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
)

// countingBody counts the reads of a request body.
type countingBody struct {
	io.Reader
	reads *atomic.Int64
}

func (b countingBody) Read(p []byte) (int, error) {
	b.reads.Add(1)
	return b.Reader.Read(p)
}

// A method the provider does not notify with is answered 405 with an Allow header, before
// the body is read or the provider asked: a browser's GET of the notify URL is no malformed
// notification.
func TestHandlerRefusesOtherMethods(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		methods   []string
		method    string
		wantCode  int
		wantAllow string
	}{
		{"POST by default", nil, http.MethodPost, http.StatusOK, ""},
		{"GET by default", nil, http.MethodGet, http.StatusMethodNotAllowed, "POST"},
		{"HEAD by default", nil, http.MethodHead, http.StatusMethodNotAllowed, "POST"},
		{"PUT by default", nil, http.MethodPut, http.StatusMethodNotAllowed, "POST"},
		{"DELETE by default", nil, http.MethodDelete, http.StatusMethodNotAllowed, "POST"},
		{"GET where allowed", []string{http.MethodGet, http.MethodPost}, http.MethodGet, http.StatusOK, ""},
		{"DELETE where GET and POST are", []string{http.MethodGet, http.MethodPost}, http.MethodDelete, http.StatusMethodNotAllowed, "GET, POST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var parses, runs, reads atomic.Int64
			h := Handler(Spec[string, string]{
				Name: "p", Store: &memStore{done: map[string]bool{}}, MaxBody: 64, Methods: tt.methods,
				Parse: func(r *http.Request) (Parsed[string], error) {
					parses.Add(1)
					return Parsed[string]{Value: "v", ID: "pay-1"}, nil
				},
				Refusal:  func(error) int { return http.StatusBadRequest },
				Fetch:    func(context.Context, string) (string, error) { return "paid", nil },
				StateKey: func(s string) string { return s },
				Run:      func(context.Context, string, string) error { runs.Add(1); return nil },
			})
			req := httptest.NewRequest(tt.method, "/", nil)
			req.Body = io.NopCloser(countingBody{Reader: strings.NewReader("event"), reads: &reads})
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			assert.Equal(t, tt.wantCode, rec.Code)
			assert.Equal(t, tt.wantAllow, rec.Header().Get("Allow"))
			if tt.wantCode == http.StatusMethodNotAllowed {
				assert.Zero(t, reads.Load(), "the body is not read")
				assert.Zero(t, parses.Load(), "the provider is not asked")
				assert.Zero(t, runs.Load())
			} else {
				assert.Equal(t, int64(1), runs.Load())
			}
		})
	}
}

package transport

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit"
)

// bigAnswer answers every request with status and a body of size bytes: a JSON object padded
// to that size, written in 64 KiB blocks. declared sends a Content-Length; otherwise the body
// is chunked, its size unknown to the client until it ends.
func bigAnswer(status int, size int64, declared bool) http.HandlerFunc {
	const head, tail = `{"id":"pay_123","amount":4200,"pad":"`, `"}`
	block := bytes.Repeat([]byte("x"), 64<<10)
	return func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		if declared {
			w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
		}
		w.WriteHeader(status)
		if !declared {
			w.(http.Flusher).Flush() // headers out now: chunked, no length
		}
		if _, err := io.WriteString(w, head); err != nil {
			return
		}
		for pad := size - int64(len(head)+len(tail)); pad > 0; {
			n := min(pad, int64(len(block)))
			if _, err := w.Write(block[:n]); err != nil {
				return // the client hung up, as it should past the limit
			}
			pad -= n
		}
		_, _ = io.WriteString(w, tail)
	}
}

// TestAnswerLimit: answers up to MaxResponseBytes are read, 2xx and error bodies alike; a longer
// one is ErrUnavailable saying so, with its status, and retried only when the request is
// repeatable (the provider processed it).
func TestAnswerLimit(t *testing.T) {
	t.Parallel()
	const limit = 64 << 10
	for _, status := range []int{200, 400, 503} {
		for _, declared := range []bool{true, false} {
			for _, size := range []int64{limit, limit + 1, 4 * limit} {
				for _, kind := range requestKinds {
					name := fmt.Sprintf("%d/declared=%t/%d bytes/%s", status, declared, size, kind.name)
					t.Run(name, func(t *testing.T) {
						t.Parallel()
						srv, served := newServer(t, bigAnswer(status, size, declared))
						c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.MaxResponseBytes = limit })
						var out payment
						_, err := c.Do(context.Background(), kind.req(&out))

						if size <= limit {
							if status == 200 {
								require.NoError(t, err)
								assert.Equal(t, okPayment, out)
								return
							}
							require.Error(t, err)
							assert.NotContains(t, err.Error(), "exceeded")
							assert.Len(t, asError(t, err).Body, maxErrorBody, "the error body is read and kept, cut")
							return
						}
						require.Error(t, err)
						checkKind(t, err, paykit.ErrUnavailable)
						pe := asError(t, err)
						assert.Equal(t, status, pe.StatusCode)
						assert.Contains(t, pe.Message, fmt.Sprintf("exceeded %d bytes", limit))
						assert.Empty(t, pe.Body)
						want := int64(1)
						if kind.repeatable {
							want = int64(fastPolicy.MaxAttempts)
						}
						assert.Equal(t, want, served.Load(), "attempts")
					})
				}
			}
		}
	}
}

// TestDefaultAnswerLimit: without MaxResponseBytes the limit is 10 MiB; a negative one is
// refused.
func TestDefaultAnswerLimit(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t, bigAnswer(200, DefaultMaxResponseBytes+1, true))
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Settings.Retry.MaxAttempts = 1 })
	_, err := c.Do(context.Background(), Request{Op: "get", Method: http.MethodGet, Path: "/x", Repeatable: true})
	checkKind(t, err, paykit.ErrUnavailable)
	assert.Contains(t, err.Error(), "exceeded 10485760 bytes")

	_, err = New(Config{Provider: "testprov", BaseURL: srv.URL, MaxResponseBytes: -1})
	checkKind(t, err, paykit.ErrInvalidRequest)
}

// TestTooLargeAnswerMemoryBounded: refusing an answer far past the limit allocates about the
// limit at most, not a multiple of the answer. Not parallel: it reads the process's
// allocation counter, which other tests running at the same time would move.
func TestTooLargeAnswerMemoryBounded(t *testing.T) {
	const (
		limit = 1 << 20
		size  = 64 << 20
	)
	for _, declared := range []bool{true, false} {
		for _, status := range []int{200, 500} {
			t.Run(fmt.Sprintf("declared=%t/%d", declared, status), func(t *testing.T) {
				srv, _ := newServer(t, bigAnswer(status, size, declared))
				c := newTestClient(t, srv.URL, func(cfg *Config) {
					cfg.MaxResponseBytes = limit
					cfg.Settings.Retry.MaxAttempts = 1
				})
				req := Request{Op: "get", Method: http.MethodGet, Path: "/x", Result: &payment{}}
				// Warm up (connections, resty's pools), then measure one call.
				_, err := c.Do(context.Background(), req)
				require.Error(t, err)
				runtime.GC()
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				_, err = c.Do(context.Background(), req)
				runtime.ReadMemStats(&after)
				checkKind(t, err, paykit.ErrUnavailable)
				allocated := after.TotalAlloc - before.TotalAlloc
				t.Logf("a %d MiB answer with a %d MiB limit allocated %.2f MiB", size>>20, limit>>20, float64(allocated)/(1<<20))
				assert.Less(t, allocated, uint64(2*limit), "allocated %d bytes for a limit of %d", allocated, limit)
			})
		}
	}
}

// BenchmarkTooLargeAnswer is one call answered with a 200 MiB error body, the default limit
// of 10 MiB: B/op shows what refusing it costs (611 MiB per call before the limit).
func BenchmarkTooLargeAnswer(b *testing.B) {
	for _, declared := range []bool{true, false} {
		b.Run(fmt.Sprintf("declared=%t", declared), func(b *testing.B) {
			srv, _ := newServer(b, bigAnswer(500, 200<<20, declared))
			c := newTestClient(b, srv.URL, func(cfg *Config) { cfg.Settings.Retry.MaxAttempts = 1 })
			ctx := context.Background()
			req := Request{Op: "get", Method: http.MethodGet, Path: "/x"}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Do(ctx, req); err == nil {
					b.Fatal("a 200 MiB answer was accepted")
				}
			}
		})
	}
}

// TestGzipAnswerLimit: the limit counts the answer as decompressed (net/http decompresses a
// gzip answer to the gzip it asked for on the fly, its size unknown), so a small compressed
// answer that inflates past the limit is refused without inflating it all.
func TestGzipAnswerLimit(t *testing.T) {
	t.Parallel()
	const limit = 1 << 20
	tests := []struct {
		name    string
		body    []byte
		tooLong bool
	}{
		{"small JSON", []byte(`{"id":"pay_123","amount":4200}`), false},
		{"16 MiB of zeros, a few KiB compressed", make([]byte, 16<<20), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var zipped bytes.Buffer
			zw := gzip.NewWriter(&zipped)
			_, err := zw.Write(tt.body)
			require.NoError(t, err)
			require.NoError(t, zw.Close())
			srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
					t.Errorf("Accept-Encoding = %q, want gzip", r.Header.Get("Accept-Encoding"))
				}
				w.Header().Set("Content-Encoding", "gzip")
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write(zipped.Bytes())
			})
			c := newTestClient(t, srv.URL, func(cfg *Config) {
				cfg.MaxResponseBytes = limit
				cfg.Settings.Retry.MaxAttempts = 1
			})
			var out payment
			_, err = c.Do(context.Background(), Request{Op: "get", Method: http.MethodGet, Path: "/x", Result: &out})
			if !tt.tooLong {
				require.NoError(t, err)
				assert.Equal(t, okPayment, out)
				return
			}
			checkKind(t, err, paykit.ErrUnavailable)
			assert.Contains(t, err.Error(), fmt.Sprintf("exceeded %d bytes", limit))
		})
	}
}

// TestReadBody covers readBody's cases directly, sizes declared or not.
func TestReadBody(t *testing.T) {
	t.Parallel()
	errRead := errors.New("connection reset")
	tests := []struct {
		name     string
		body     string
		declared int64 // -1: unknown
		limit    int64
		wantErr  error
	}{
		{"empty, declared", "", 0, 10, nil},
		{"empty, unknown", "", -1, 10, nil},
		{"at the limit, declared", "0123456789", 10, 10, nil},
		{"at the limit, unknown", "0123456789", -1, 10, nil},
		{"one past, declared", "0123456789a", 11, 10, errTooLarge},
		{"one past, unknown", "0123456789a", -1, 10, errTooLarge},
		{"many chunks", strings.Repeat("abcdefgh", 40000), -1, 1 << 20, nil},
		{"many chunks, one past", strings.Repeat("a", 1<<20+1), -1, 1 << 20, errTooLarge},
		{"declared short of what came", "012345", 10, 10, io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// One byte per read: the chunking is exercised at every boundary.
			got, err := readBody(iotest.OneByteReader(strings.NewReader(tt.body)), tt.declared, tt.limit)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				assert.Nil(t, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.body, string(got))
		})
	}
	t.Run("read error", func(t *testing.T) {
		t.Parallel()
		r := io.MultiReader(strings.NewReader("abc"), iotest.ErrReader(errRead))
		_, err := readBody(r, -1, 10)
		require.ErrorIs(t, err, errRead)
	})
}

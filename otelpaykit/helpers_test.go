package otelpaykit_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/otelpaykit"
)

// rec is one test's OpenTelemetry SDK: spans in memory, metrics read by hand.
type rec struct {
	spans  *tracetest.SpanRecorder
	reader *sdkmetric.ManualReader
	hooks  *paykit.Hooks
}

func newRec(t *testing.T) *rec {
	t.Helper()
	r := &rec{spans: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader()}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(r.spans))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r.reader))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()); _ = mp.Shutdown(context.Background()) })
	h, err := otelpaykit.NewHooks(otelpaykit.WithTracerProvider(tp), otelpaykit.WithMeterProvider(mp))
	require.NoError(t, err)
	r.hooks = h
	return r
}

func (r *rec) ended() []sdktrace.ReadOnlySpan { return r.spans.Ended() }

func (r *rec) metrics(t *testing.T) metricdata.ResourceMetrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, r.reader.Collect(context.Background(), &rm))
	return rm
}

// named returns the ended spans called name, in the order they ended.
func named(spans []sdktrace.ReadOnlySpan, name string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range spans {
		if s.Name() == name {
			out = append(out, s)
		}
	}
	return out
}

// children returns the spans whose parent is p.
func children(spans []sdktrace.ReadOnlySpan, p sdktrace.ReadOnlySpan) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range spans {
		if s.Parent().SpanID() == p.SpanContext().SpanID() {
			out = append(out, s)
		}
	}
	return out
}

func childNames(spans []sdktrace.ReadOnlySpan, p sdktrace.ReadOnlySpan) []string {
	var out []string
	for _, c := range children(spans, p) {
		out = append(out, c.Name())
	}
	return out
}

// attrs returns a span's attributes as strings.
func attrs(kvs []attribute.KeyValue) map[string]string {
	m := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		m[string(kv.Key)] = kv.Value.Emit()
	}
	return m
}

func hasEvent(s sdktrace.ReadOnlySpan, name string) (map[string]string, bool) {
	for _, e := range s.Events() {
		if e.Name == name {
			return attrs(e.Attributes), true
		}
	}
	return nil, false
}

// matches reports whether set holds every key and value of want.
func matches(set attribute.Set, want map[string]string) bool {
	for k, v := range want {
		got, ok := set.Value(attribute.Key(k))
		if !ok || got.Emit() != v {
			return false
		}
	}
	return true
}

// counter sums the data points of the Int64 counter name whose attributes match want.
func counter(rm metricdata.ResourceMetrics, name string, want map[string]string) int64 {
	var n int64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != name {
				continue
			}
			if sum, ok := m.Data.(metricdata.Sum[int64]); ok {
				for _, dp := range sum.DataPoints {
					if matches(dp.Attributes, want) {
						n += dp.Value
					}
				}
			}
		}
	}
	return n
}

// histCount counts the recordings of the histogram name whose attributes match want.
func histCount(rm metricdata.ResourceMetrics, name string, want map[string]string) uint64 {
	var n uint64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != name {
				continue
			}
			if h, ok := m.Data.(metricdata.Histogram[float64]); ok {
				for _, dp := range h.DataPoints {
					if matches(dp.Attributes, want) {
						n += dp.Count
					}
				}
			}
		}
	}
	return n
}

// everyString returns every text recorded: span names, status descriptions, span and event
// attributes, and the attributes of every metric data point.
func everyString(spans []sdktrace.ReadOnlySpan, rm metricdata.ResourceMetrics) []string {
	var out []string
	add := func(kvs []attribute.KeyValue) {
		for _, kv := range kvs {
			out = append(out, string(kv.Key)+"="+kv.Value.Emit())
		}
	}
	for _, s := range spans {
		out = append(out, s.Name(), s.Status().Description)
		add(s.Attributes())
		for _, e := range s.Events() {
			out = append(out, e.Name)
			add(e.Attributes)
		}
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			out = append(out, m.Name)
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, dp := range d.DataPoints {
					add(dp.Attributes.ToSlice())
				}
			case metricdata.Histogram[float64]:
				for _, dp := range d.DataPoints {
					add(dp.Attributes.ToSlice())
				}
			}
		}
	}
	return out
}

// wire records what crosses the wire in both directions: every request body and answer
// body a client sent and got, its bearer tokens, and every webhook body, signature header
// and signature query value a handler was sent. None of it may reach telemetry.
type wire struct {
	mu      sync.Mutex
	secrets []string
	bodies  []string
}

func (w *wire) add(secret bool, vs ...string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, v := range vs {
		if len(v) < 8 {
			continue // too short to tell apart from an id or a word
		}
		if secret {
			w.secrets = append(w.secrets, v)
		} else {
			w.bodies = append(w.bodies, v)
		}
	}
}

// client is an *http.Client that records the wire and sends through http.DefaultTransport.
func (w *wire) client() *http.Client {
	return &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if a := r.Header.Get("Authorization"); a != "" {
			w.add(true, a, strings.TrimPrefix(a, "Bearer "))
		}
		if r.Body != nil {
			b, _ := io.ReadAll(r.Body)
			w.add(false, string(b))
			r.Body = io.NopCloser(bytes.NewReader(b))
		}
		resp, err := http.DefaultTransport.RoundTrip(r)
		if err != nil {
			return nil, err
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		w.add(false, string(b))
		resp.Body = io.NopCloser(bytes.NewReader(b))
		return resp, nil
	})}
}

// handler wraps a webhook handler, recording what it was sent.
func (w *wire) handler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		for k, vs := range r.Header {
			if strings.Contains(strings.ToLower(k), "sig") || strings.Contains(strings.ToLower(k), "auth") {
				w.add(true, vs...)
			}
		}
		for k, vs := range r.URL.Query() {
			if strings.Contains(strings.ToLower(k), "sig") || strings.Contains(strings.ToLower(k), "mac") {
				w.add(true, vs...)
			}
		}
		b, _ := io.ReadAll(r.Body)
		w.add(false, string(b), r.URL.RawQuery) // a query (Entrecard's result) is a body too
		r.Body = io.NopCloser(bytes.NewReader(b))
		h.ServeHTTP(rw, r)
	})
}

// requireClean fails when any recorded text holds a secret of secrets or of the wire, or a
// whole body.
func requireClean(t *testing.T, r *rec, w *wire, secrets ...string) {
	t.Helper()
	texts := everyString(r.ended(), r.metrics(t))
	require.NotEmpty(t, texts)
	w.mu.Lock()
	secrets = append(secrets, w.secrets...)
	bodies := append([]string(nil), w.bodies...)
	w.mu.Unlock()
	require.NotEmpty(t, bodies, "the flow sent nothing to check against")
	for _, text := range texts {
		for _, s := range secrets {
			require.NotContains(t, text, s, "a secret, token or signature reached telemetry")
		}
		for _, b := range bodies {
			require.NotContains(t, text, b, "a body reached telemetry")
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// shop is the merchant's server: webhook handlers mounted on a mux, recorded by w.
func shop(t *testing.T, w *wire) (*http.ServeMux, string) {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(w.handler(mux))
	t.Cleanup(srv.Close)
	return mux, srv.URL
}

func newPost(ctx context.Context, url, body string, header map[string]string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return req, nil
}

func getStatus(t *testing.T, w *wire, url string) int {
	t.Helper()
	resp, err := w.client().Get(url)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

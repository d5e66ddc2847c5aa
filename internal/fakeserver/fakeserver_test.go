package fakeserver

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fake is a Server with a toy provider: routes /a and /b, handlers that echo the body with
// 201, and counts of what was processed.
type fake struct {
	*Server
	processed atomic.Int32
	arrived   chan struct{} // a token for each call that arrived, as far as there is room
	mu        sync.Mutex
	bodies    []string // the bodies the handler saw
}

func newFake(t *testing.T, cfg Config) *fake {
	t.Helper()
	f := &fake{arrived: make(chan struct{}, 16)}
	cfg.Route = func(path string) string {
		select {
		case f.arrived <- struct{}{}:
		default:
		}
		switch path {
		case "/a", "/b":
			return path
		}
		return ""
	}
	cfg.Handle = func(r *http.Request, route string) Response {
		if route == "" {
			return text(http.StatusNotFound, "no such route")
		}
		b, _ := io.ReadAll(r.Body)
		f.processed.Add(1)
		f.mu.Lock()
		f.bodies = append(f.bodies, string(b))
		f.mu.Unlock()
		return text(http.StatusCreated, "handled "+route+": "+string(b))
	}
	cfg.Fail = func(status int) Response { return text(status, "injected") }
	cfg.Malformed = func(resp Response) Response {
		return Response{Status: http.StatusOK, Body: resp.Body[:len(resp.Body)/2]}
	}
	f.Server = New(cfg)
	t.Cleanup(func() { f.Close() })
	return f
}

func text(status int, s string) Response {
	return Response{Status: status, Header: http.Header{"Content-Type": {"text/plain"}}, Body: []byte(s)}
}

type answer struct {
	status int
	header http.Header
	body   string
}

// do sends one request on a fresh connection (so that Go's transport never resends it
// after a dropped connection).
func do(ctx context.Context, s *Server, method, path, body string) (answer, error) {
	req, err := http.NewRequestWithContext(ctx, method, s.URL+path, strings.NewReader(body))
	if err != nil {
		return answer{}, err
	}
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: string(b)}, err
}

func mustDo(t *testing.T, s *Server, method, path, body string) answer {
	t.Helper()
	a, err := do(context.Background(), s, method, path, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return a
}

func lastCall(t *testing.T, s *Server) Call {
	t.Helper()
	log := s.CallLog()
	if len(log) == 0 {
		t.Fatal("no call logged")
	}
	return log[len(log)-1]
}

func TestFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		queue  func(s *Server)
		method string
		path   string
		// What the caller gets: an error (a dropped connection), or status and body.
		wantErr    bool
		wantStatus int
		wantBody   string
		wantHeader map[string]string
		// What is logged and whether the handler ran.
		want      Call
		processed bool
	}{
		{
			name:       "none",
			queue:      func(*Server) {},
			method:     http.MethodPost,
			path:       "/a",
			wantStatus: 201, wantBody: "handled /a: hello",
			want:      Call{Method: http.MethodPost, Path: "/a", Route: "/a", Status: 201, Handled: 201},
			processed: true,
		},
		{
			name:       "fail",
			queue:      func(s *Server) { s.FailNext(1, 503, RetryAfter("7")) },
			method:     http.MethodPost,
			path:       "/a",
			wantStatus: 503, wantBody: "injected", wantHeader: map[string]string{"Retry-After": "7"},
			want: Call{Method: http.MethodPost, Path: "/a", Route: "/a", Status: 503, Fault: FaultFail},
		},
		{
			name:       "fail without Retry-After",
			queue:      func(s *Server) { s.FailNext(1, 502) },
			method:     http.MethodGet,
			path:       "/b",
			wantStatus: 502, wantBody: "injected", wantHeader: map[string]string{"Retry-After": ""},
			want: Call{Method: http.MethodGet, Path: "/b", Route: "/b", Status: 502, Fault: FaultFail},
		},
		{
			name:       "fail with a status that is not one",
			queue:      func(s *Server) { s.FailNext(1, 7) },
			method:     http.MethodPost,
			path:       "/a",
			wantStatus: 500, wantBody: "injected",
			want: Call{Method: http.MethodPost, Path: "/a", Route: "/a", Status: 500, Fault: FaultFail},
		},
		{
			name:      "drop",
			queue:     func(s *Server) { s.DropNext(1) },
			method:    http.MethodPost,
			path:      "/a",
			wantErr:   true,
			want:      Call{Method: http.MethodPost, Path: "/a", Route: "/a", Status: 0, Handled: 201, Fault: FaultDrop},
			processed: true,
		},
		{
			name:       "malformed",
			queue:      func(s *Server) { s.MalformedNext(1) },
			method:     http.MethodPost,
			path:       "/a",
			wantStatus: 200, wantBody: "handled ", // the first half of "handled /a: hello"
			want:      Call{Method: http.MethodPost, Path: "/a", Route: "/a", Status: 200, Handled: 201, Fault: FaultMalformed},
			processed: true,
		},
		{
			name:       "a fault on another route waits",
			queue:      func(s *Server) { s.FailNext(1, 503, OnRoute(http.MethodPost, "/b")) },
			method:     http.MethodPost,
			path:       "/a",
			wantStatus: 201, wantBody: "handled /a: hello",
			want:      Call{Method: http.MethodPost, Path: "/a", Route: "/a", Status: 201, Handled: 201},
			processed: true,
		},
		{
			name:       "a fault on another method waits",
			queue:      func(s *Server) { s.FailNext(1, 503, OnRoute(http.MethodGet, "/a")) },
			method:     http.MethodPost,
			path:       "/a",
			wantStatus: 201, wantBody: "handled /a: hello",
			want:      Call{Method: http.MethodPost, Path: "/a", Route: "/a", Status: 201, Handled: 201},
			processed: true,
		},
		{
			name:       "a fault on a route with any method",
			queue:      func(s *Server) { s.FailNext(1, 504, OnRoute("", "/a")) },
			method:     http.MethodDelete,
			path:       "/a",
			wantStatus: 504, wantBody: "injected",
			want: Call{Method: http.MethodDelete, Path: "/a", Route: "/a", Status: 504, Fault: FaultFail},
		},
		{
			name:       "a fault without a route hits unknown paths",
			queue:      func(s *Server) { s.FailNext(1, 503) },
			method:     http.MethodGet,
			path:       "/nowhere",
			wantStatus: 503, wantBody: "injected",
			want: Call{Method: http.MethodGet, Path: "/nowhere", Status: 503, Fault: FaultFail},
		},
		{
			name:       "no faults for n <= 0",
			queue:      func(s *Server) { s.FailNext(0, 503); s.DropNext(-1) },
			method:     http.MethodPost,
			path:       "/a",
			wantStatus: 201, wantBody: "handled /a: hello",
			want:      Call{Method: http.MethodPost, Path: "/a", Route: "/a", Status: 201, Handled: 201},
			processed: true,
		},
		{
			name:       "ClearFaults",
			queue:      func(s *Server) { s.FailNext(3, 503); s.ClearFaults() },
			method:     http.MethodPost,
			path:       "/a",
			wantStatus: 201, wantBody: "handled /a: hello",
			want:      Call{Method: http.MethodPost, Path: "/a", Route: "/a", Status: 201, Handled: 201},
			processed: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, Config{})
			tc.queue(f.Server)
			a, err := do(context.Background(), f.Server, tc.method, tc.path, "hello")
			switch {
			case tc.wantErr && err == nil:
				t.Fatalf("got %d %q, want no answer", a.status, a.body)
			case !tc.wantErr && err != nil:
				t.Fatal(err)
			case !tc.wantErr:
				if a.status != tc.wantStatus || a.body != tc.wantBody {
					t.Errorf("answer %d %q, want %d %q", a.status, a.body, tc.wantStatus, tc.wantBody)
				}
				for k, v := range tc.wantHeader {
					if got := a.header.Get(k); got != v {
						t.Errorf("%s: %q, want %q", k, got, v)
					}
				}
			}
			got := lastCall(t, f.Server)
			if got.Time.IsZero() {
				t.Error("call logged without a time")
			}
			got.Time = time.Time{}
			if got != tc.want {
				t.Errorf("call %+v, want %+v", got, tc.want)
			}
			if p := f.processed.Load() == 1; p != tc.processed {
				t.Errorf("processed %v, want %v", p, tc.processed)
			}
		})
	}
}

// Faults queue: each call takes the oldest matching one, n times.
func TestFaultQueue(t *testing.T) {
	t.Parallel()
	f := newFake(t, Config{})
	f.FailNext(2, 502, OnRoute(http.MethodPost, "/b"))
	f.FailNext(1, 503)
	f.MalformedNext(1, OnRoute("", "/a"))
	calls := []struct {
		path string
		want int
	}{
		{"/a", 503}, // the unrouted fault is the oldest matching /a
		{"/b", 502},
		{"/a", 200}, // malformed
		{"/a", 201},
		{"/b", 502},
		{"/b", 201},
	}
	for i, c := range calls {
		if a := mustDo(t, f.Server, http.MethodPost, c.path, ""); a.status != c.want {
			t.Errorf("call %d to %s: %d, want %d", i, c.path, a.status, c.want)
		}
	}
}

func TestLatency(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		latency time.Duration
		timeout time.Duration // of the caller; 0: none
		method  string
		body    string
		want    Call
	}{
		{
			name: "waits, then processes", latency: 80 * time.Millisecond, method: http.MethodGet,
			want: Call{Method: http.MethodGet, Path: "/a", Route: "/a", Status: 201, Handled: 201},
		},
		{
			name: "a GET that gives up is not processed", latency: time.Hour, timeout: 50 * time.Millisecond,
			method: http.MethodGet,
			want:   Call{Method: http.MethodGet, Path: "/a", Route: "/a", Fault: FaultCanceled},
		},
		{
			// The body is read before the wait: only then does the server notice the caller
			// leave.
			name: "a POST with a body that gives up is not processed", latency: time.Hour,
			timeout: 50 * time.Millisecond, method: http.MethodPost, body: "form=1",
			want: Call{Method: http.MethodPost, Path: "/a", Route: "/a", Fault: FaultCanceled},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, Config{})
			f.SetLatency(tc.latency)
			ctx := context.Background()
			if tc.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.timeout)
				defer cancel()
			}
			start := time.Now()
			_, err := do(ctx, f.Server, tc.method, "/a", tc.body)
			switch {
			case tc.timeout > 0 && !errors.Is(err, context.DeadlineExceeded):
				t.Fatalf("err %v, want the deadline", err)
			case tc.timeout == 0 && err != nil:
				t.Fatal(err)
			case tc.timeout == 0 && time.Since(start) < tc.latency:
				t.Errorf("answered after %v, want at least %v", time.Since(start), tc.latency)
			}
			// A canceled call is logged when the server notices; wait for it.
			deadline := time.Now().Add(5 * time.Second)
			for len(f.CallLog()) == 0 {
				if time.Now().After(deadline) {
					t.Fatal("call never logged")
				}
				time.Sleep(2 * time.Millisecond)
			}
			got := lastCall(t, f.Server)
			got.Time = time.Time{}
			if got != tc.want {
				t.Errorf("call %+v, want %+v", got, tc.want)
			}
			if p, want := f.processed.Load(), int32(0); tc.want.Fault == FaultCanceled && p != want {
				t.Errorf("processed %d calls, want none", p)
			}
		})
	}
}

func TestSetLatencyZeroAndNegative(t *testing.T) {
	t.Parallel()
	f := newFake(t, Config{})
	f.SetLatency(time.Hour)
	f.SetLatency(-time.Second) // taken as 0
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if a, err := do(ctx, f.Server, http.MethodGet, "/a", ""); err != nil || a.status != 201 {
		t.Fatalf("got %d, %v; want 201 without waiting", a.status, err)
	}
}

// Close ends a slow call without an answer; the call is logged first.
func TestCloseDuringLatency(t *testing.T) {
	t.Parallel()
	f := newFake(t, Config{})
	f.SetLatency(time.Hour)
	errc := make(chan error, 1)
	go func() {
		_, err := do(context.Background(), f.Server, http.MethodPost, "/a", "x")
		errc <- err
	}()
	<-f.arrived // Close may come at any point from here on: the call cannot be processed
	if !f.Close() {
		t.Fatal("first Close reported the server closed already")
	}
	if f.Close() {
		t.Error("second Close reported closing the server")
	}
	if err := <-errc; err == nil {
		t.Fatal("the slow call got an answer after Close")
	}
	got := lastCall(t, f.Server)
	if got.Fault != FaultCanceled || got.Status != 0 || got.Handled != 0 {
		t.Errorf("call %+v, want canceled, unanswered, unprocessed", got)
	}
}

func (f *fake) bodiesSeen() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.bodies...)
}

func TestCallLog(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f := newFake(t, Config{Now: func() time.Time { return now }})
	if log := f.CallLog(); log != nil {
		t.Fatalf("CallLog of a new server %+v, want nil", log)
	}
	mustDo(t, f.Server, http.MethodGet, "/a?x=1&y=2", "")
	f.Advance(time.Minute)
	mustDo(t, f.Server, http.MethodPost, "/b", "")
	mustDo(t, f.Server, http.MethodGet, "/b", "")
	mustDo(t, f.Server, http.MethodGet, "/nowhere", "")

	want := []Call{
		{Time: now, Method: http.MethodGet, Path: "/a", Query: "x=1&y=2", Route: "/a", Status: 201, Handled: 201},
		{Time: now.Add(time.Minute), Method: http.MethodPost, Path: "/b", Route: "/b", Status: 201, Handled: 201},
		{Time: now.Add(time.Minute), Method: http.MethodGet, Path: "/b", Route: "/b", Status: 201, Handled: 201},
		{Time: now.Add(time.Minute), Method: http.MethodGet, Path: "/nowhere", Status: 404, Handled: 404},
	}
	log := f.CallLog()
	if len(log) != len(want) {
		t.Fatalf("log %+v, want %+v", log, want)
	}
	for i := range want {
		if !log[i].Time.Equal(want[i].Time) {
			t.Errorf("call %d at %v, want %v", i, log[i].Time, want[i].Time)
		}
		log[i].Time, want[i].Time = time.Time{}, time.Time{}
		if log[i] != want[i] {
			t.Errorf("call %d %+v, want %+v", i, log[i], want[i])
		}
	}
	// CallLog returns a copy.
	log[0].Method = "changed"
	if f.CallLog()[0].Method != http.MethodGet {
		t.Error("CallLog shares its slice")
	}

	counts := []struct {
		method, route string
		want          int
	}{
		{"", "/b", 2},
		{http.MethodGet, "/b", 1},
		{http.MethodPost, "/a", 0},
		{"", "/a", 1},
		{"", "", 1},
	}
	for _, c := range counts {
		if got := f.Calls(c.method, c.route); got != c.want {
			t.Errorf("Calls(%q, %q) = %d, want %d", c.method, c.route, got, c.want)
		}
	}
}

// The handler gets the body read before the wait, cut at MaxBody+1 bytes.
func TestBody(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		maxBody int64
		body    string
		want    string
	}{
		{"short", 0, "hello", "hello"},
		{"at the bound", 5, "hello", "hello"},
		{"over the bound", 3, "hello", "hell"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, Config{MaxBody: tc.maxBody})
			f.SetLatency(time.Millisecond)
			mustDo(t, f.Server, http.MethodPost, "/a", tc.body)
			if got := f.bodiesSeen(); len(got) != 1 || got[0] != tc.want {
				t.Errorf("handler saw %q, want %q", got, tc.want)
			}
		})
	}
}

func TestClock(t *testing.T) {
	t.Parallel()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := newFake(t, Config{Now: func() time.Time { return base }})
	f.Advance(time.Hour)
	f.Advance(-time.Minute)
	if got, want := f.Now(), base.Add(59*time.Minute); !got.Equal(want) {
		t.Errorf("Now %v, want %v", got, want)
	}
	g := newFake(t, Config{})
	if d := time.Since(g.Now()); d < 0 || d > time.Minute {
		t.Errorf("default clock off by %v", d)
	}
}

// Go's goroutines are waited for by Close; after Close, Go refuses and Sleep ends at once.
func TestGoSleepClose(t *testing.T) {
	t.Parallel()
	f := newFake(t, Config{})
	if f.Closed() {
		t.Fatal("a new server is closed")
	}
	var ended atomic.Bool
	started := make(chan struct{})
	if !f.Go(func() {
		close(started)
		if f.Sleep(time.Hour) {
			t.Error("Sleep reported the server open after Close")
		}
		if f.Context().Err() == nil {
			t.Error("Context not ended after Close")
		}
		ended.Store(true)
	}) {
		t.Fatal("Go refused on an open server")
	}
	<-started
	if !f.Sleep(time.Millisecond) {
		t.Error("Sleep on an open server reported it closed")
	}
	f.Close()
	if !ended.Load() {
		t.Error("Close returned before the goroutine ended")
	}
	if !f.Closed() {
		t.Error("Closed false after Close")
	}
	if f.Go(func() { t.Error("ran after Close") }) {
		t.Error("Go accepted after Close")
	}
	start := time.Now()
	if f.Sleep(time.Hour) || time.Since(start) > time.Second {
		t.Error("Sleep after Close did not end at once with false")
	}
	if _, err := do(context.Background(), f.Server, http.MethodGet, "/a", ""); err == nil {
		t.Error("a closed server answered")
	}
}

func TestNewWithoutHooksPanics(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Error("New without hooks did not panic")
		}
	}()
	New(Config{})
}

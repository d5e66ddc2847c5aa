package ecreditstest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"
)

func TestFailNext(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		status     int
		retryAfter string
	}{
		{"503 with Retry-After seconds", 503, "1"},
		{"429 with Retry-After date", 429, "Wed, 21 Oct 2015 07:28:00 GMT"},
		{"500 without Retry-After", 500, ""},
		{"401", 401, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newServer(t, Config{})
			tok := login(t, s)
			var opts []FaultOption
			if tc.retryAfter != "" {
				opts = append(opts, RetryAfter(tc.retryAfter))
			}
			s.FailNext(2, tc.status, opts...)
			for i := range 2 {
				a := call(t, s, http.MethodPost, RouteRequests, tok, ecsBody(docID, "1"))
				checkProblem(t, a, tc.status)
				if got := a.header.Get("Retry-After"); got != tc.retryAfter {
					t.Errorf("call %d: Retry-After %q, want %q", i, got, tc.retryAfter)
				}
				if _, ok := s.Request(docID); ok {
					t.Fatalf("call %d: a failed create was processed", i)
				}
			}
			create(t, s, tok, ecsBody(docID, "1"))
			if n := s.Calls("POST", RouteRequests); n != 3 {
				t.Errorf("Calls = %d, want 3", n)
			}
			log := s.CallLog()
			if c := log[1]; c.Fault != FaultFail || c.Status != tc.status || c.Handled != 0 {
				t.Errorf("log of a failed call: %+v", c)
			}
		})
	}
}

func TestFailNextOnRoute(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{})
	s.FailNext(1, 503, OnRoute(http.MethodGet, RouteRequestPaid))
	s.FailNext(1, 502, OnRoute("", RouteRequests))
	tok := login(t, s) // not a matching route: not failed
	if a := call(t, s, http.MethodPost, RouteRequests, tok, ecsBody(docID, "1")); a.status != 502 {
		t.Errorf("create: %d, want 502", a.status)
	}
	create(t, s, tok, ecsBody(docID, "1"))
	if a := call(t, s, http.MethodGet, "/api/v1/requests/"+docID, tok, nil); a.status != 200 {
		t.Errorf("get: %d, want 200", a.status)
	}
	if a := call(t, s, http.MethodGet, "/api/v1/requests/"+docID+"/paid", tok, nil); a.status != 503 {
		t.Errorf("paid: %d, want 503", a.status)
	}
	if a := call(t, s, http.MethodGet, "/api/v1/requests/"+docID+"/paid", tok, nil); a.status != 200 {
		t.Errorf("paid again: %d, want 200", a.status)
	}

	// Without OnRoute the authentication call is hit too; ClearFaults forgets the rest.
	s.FailNext(1, 500)
	if a := call(t, s, http.MethodPost, RouteAuthentication, "", authBody()); a.status != 500 {
		t.Errorf("authentication: %d, want 500", a.status)
	}
	if n := s.AuthCount(); n != 1 {
		t.Errorf("AuthCount %d, want 1: a failed call is not processed", n)
	}
	s.FailNext(5, 500)
	s.ClearFaults()
	if a := call(t, s, http.MethodGet, "/api/v1/requests/"+docID, tok, nil); a.status != 200 {
		t.Errorf("after ClearFaults: %d, want 200", a.status)
	}
}

func TestDropNext(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{})
	tok := login(t, s)
	s.DropNext(1)
	if _, err := tryCall(context.Background(), s.Client(), s, http.MethodPost, RouteRequests, tok, ecsBody(docID, "1")); err == nil {
		t.Fatal("a dropped call got an answer")
	}
	if _, ok := s.Request(docID); !ok {
		t.Fatal("a dropped create was not processed")
	}
	log := s.CallLog()
	if c := log[len(log)-1]; c.Fault != FaultDrop || c.Status != 0 || c.Handled != 200 {
		t.Errorf("log of the dropped call: %+v", c)
	}
	// The retry of the create finds it there already.
	checkProblem(t, call(t, s, http.MethodPost, RouteRequests, tok, ecsBody(docID, "1")), http.StatusConflict)

	// A GET on a fresh connection (no transparent resend by the transport) also fails.
	s.DropNext(1, OnRoute(http.MethodGet, RouteRequestPaid))
	fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	if _, err := tryCall(context.Background(), fresh, s, http.MethodGet, "/api/v1/requests/"+docID+"/paid", tok, nil); err == nil {
		t.Error("a dropped GET got an answer")
	}
	if a := call(t, s, http.MethodGet, "/api/v1/requests/"+docID+"/paid", tok, nil); a.status != 200 {
		t.Errorf("after the drop: %d", a.status)
	}
}

func TestMalformedNext(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{})
	s.MalformedNext(1, OnRoute(http.MethodPost, RouteAuthentication))
	a := call(t, s, http.MethodPost, RouteAuthentication, "", authBody())
	if a.status != 200 || json.Valid(a.body) {
		t.Fatalf("malformed authentication: %d %s", a.status, a.body)
	}
	if n := s.AuthCount(); n != 1 {
		t.Errorf("AuthCount %d, want 1: a malformed answer is processed", n)
	}
	tok := login(t, s)

	create(t, s, tok, ecsBody(docID, "1"))
	paths := []string{RouteRequests, "/api/v1/requests/" + docID, "/api/v1/requests/" + docID + "/payments", "/api/v1/requests/" + docID + "/paid"}
	for _, p := range paths {
		s.MalformedNext(1)
		method, body := http.MethodGet, any(nil)
		if p == RouteRequests {
			method, body = http.MethodPost, ecsBody("55555555-5555-5555-5555-555555555555", "2")
		}
		a := call(t, s, method, p, tok, body)
		if a.status != 200 || json.Valid(a.body) || len(a.body) == 0 {
			t.Errorf("%s %s: %d %q, want 200 with invalid JSON", method, p, a.status, a.body)
		}
	}
	if _, ok := s.Request("55555555-5555-5555-5555-555555555555"); !ok {
		t.Error("a create answered malformed was not processed")
	}
	log := s.CallLog()
	if c := log[len(log)-1]; c.Fault != FaultMalformed || c.Status != 200 || c.Handled != 200 {
		t.Errorf("log of a malformed call: %+v", c)
	}
}

func TestLatency(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{})
	tok := login(t, s)
	s.SetLatency(250 * time.Millisecond)

	start := time.Now()
	create(t, s, tok, ecsBody(docID, "1"))
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Errorf("a slow call took %v", d)
	}

	// A caller that gives up during the wait: no answer, nothing processed.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	const other = "66666666-6666-6666-6666-666666666666"
	_, err := tryCall(ctx, s.Client(), s, http.MethodPost, RouteRequests, tok, ecsBody(other, "1"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want DeadlineExceeded", err)
	}
	waitFor(t, "the canceled call in the log", func() bool {
		log := s.CallLog()
		return log[len(log)-1].Fault == FaultCanceled
	})
	if _, ok := s.Request(other); ok {
		t.Error("a call given up during the wait was processed")
	}

	s.SetLatency(0)
	start = time.Now()
	call(t, s, http.MethodGet, "/api/v1/requests/"+docID, tok, nil)
	if d := time.Since(start); d >= 250*time.Millisecond {
		t.Errorf("SetLatency(0) still slow: %v", d)
	}
}

func TestCloseEndsSlowCalls(t *testing.T) {
	t.Parallel()
	s := NewServer(Config{})
	s.SetLatency(time.Hour)
	errc := make(chan error, 1)
	go func() {
		_, err := tryCall(context.Background(), s.Client(), s, http.MethodPost, RouteAuthentication, "", authBody())
		errc <- err
	}()
	time.Sleep(50 * time.Millisecond) // let the call reach the wait
	done := make(chan struct{})
	go func() { s.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not end a slow call")
	}
	if err := <-errc; err == nil {
		t.Error("a call ended by Close got an answer")
	}
	if n := s.AuthCount(); n != 0 {
		t.Errorf("AuthCount %d: a call ended by Close was processed", n)
	}
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	hook := newReceiver(t, func(int) int { return 200 })
	s := newServer(t, Config{NotifyURL: hook.URL})
	tok := login(t, s)
	s.FailNext(5, 503)
	s.MalformedNext(5)
	var wg sync.WaitGroup
	ids := make([]string, 20)
	for i := range ids {
		ids[i] = guid(i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 3 {
				a, err := tryCall(context.Background(), s.Client(), s, http.MethodPost, RouteRequests, tok, ecsBody(ids[i], "1"))
				if err == nil && (a.status == 200 || a.status == 409) {
					break
				}
			}
			_, _ = s.Pay(ids[i])
			_, _ = tryCall(context.Background(), s.Client(), s, http.MethodGet, "/api/v1/requests/"+ids[i]+"/payments", tok, nil)
			_ = s.CallLog()
			_ = s.Deliveries()
		}()
	}
	wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, id := range ids {
		if r, ok := s.Request(id); !ok || !r.Paid() {
			// A create may have lost all three tries to the injected faults; then it was
			// not paid either.
			if ok {
				t.Errorf("%s stored but not paid", id)
			}
			continue
		}
		if err := s.WaitDelivered(ctx, id); err != nil {
			t.Errorf("WaitDelivered(%s): %v", id, err)
		}
	}
	if len(s.Deliveries()) == 0 {
		t.Error("no webhook was sent")
	}
}

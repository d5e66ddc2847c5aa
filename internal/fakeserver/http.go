package fakeserver

import (
	"bytes"
	"io"
	"net/http"
	"time"
)

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	route := s.cfg.Route(r.URL.Path)
	call := Call{Time: s.Now(), Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Route: route}

	// Read the body first: only then does the server watch the connection, so that the
	// request's context ends when the caller goes away during the wait below.
	body, err := io.ReadAll(io.LimitReader(r.Body, s.cfg.MaxBody+1))
	if err != nil {
		call.Fault = FaultCanceled
		s.logCall(call)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))

	if waited, closing := s.wait(r); !waited {
		call.Fault = FaultCanceled
		s.logCall(call)
		if closing {
			// End the call without an answer.
			dropConnection(w)
		}
		return
	}

	f := s.takeFault(r.Method, route)
	if f.kind == FaultFail {
		resp := s.cfg.Fail(f.status)
		if f.retryAfter != "" {
			if resp.Header == nil {
				resp.Header = make(http.Header)
			}
			resp.Header.Set("Retry-After", f.retryAfter)
		}
		call.Status, call.Fault = resp.Status, FaultFail
		s.logCall(call)
		resp.write(w)
		return
	}

	resp := s.cfg.Handle(r, route)
	call.Handled, call.Status, call.Fault = resp.Status, resp.Status, f.kind
	switch f.kind {
	case FaultDrop:
		call.Status = 0
		s.logCall(call)
		dropConnection(w)
		return
	case FaultMalformed:
		resp = s.cfg.Malformed(resp)
		call.Status = resp.Status
	}
	// Log before answering, so that a caller that got the answer finds the call logged.
	s.logCall(call)
	resp.write(w)
}

// wait waits SetLatency's latency. It reports whether it did: not when the caller went
// away first, nor when Close came first (closing).
func (s *Server) wait(r *http.Request) (waited, closing bool) {
	s.mu.Lock()
	latency := s.latency
	s.mu.Unlock()
	if latency <= 0 {
		return true, false
	}
	t := time.NewTimer(latency)
	defer t.Stop()
	select {
	case <-t.C:
		return true, false
	case <-r.Context().Done():
		return false, false
	case <-s.ctx.Done():
		return false, true
	}
}

// dropConnection closes the caller's connection without writing anything.
func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	// No hijacking (HTTP/2): the server aborts the stream without an answer.
	panic(http.ErrAbortHandler)
}

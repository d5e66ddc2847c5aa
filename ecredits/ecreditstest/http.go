package ecreditstest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"
)

const (
	contentTypeJSON    = "application/json; charset=utf-8"
	contentTypeProblem = "application/problem+json; charset=utf-8"
)

// response is an answer built by a handler before it goes on the wire, so that a fault can
// replace it after processing.
type response struct {
	status int
	header http.Header
	body   []byte
}

func jsonResponse(status int, v any) response {
	b, err := json.Marshal(v)
	if err != nil {
		// Every value the fake answers with marshals; reaching this is a bug of the fake.
		panic("ecreditstest: marshal answer: " + err.Error())
	}
	return response{status: status, header: http.Header{"Content-Type": {contentTypeJSON}}, body: b}
}

// problem is an RFC 7807 problem document as ASP.NET Core writes it.
type problem struct {
	Type    string              `json:"type"`
	Title   string              `json:"title"`
	Status  int                 `json:"status"`
	Detail  string              `json:"detail,omitempty"`
	TraceID string              `json:"traceId"`
	Errors  map[string][]string `json:"errors,omitempty"`
}

var problemTypes = map[int]string{
	400: "https://tools.ietf.org/html/rfc9110#section-15.5.1",
	401: "https://tools.ietf.org/html/rfc9110#section-15.5.2",
	403: "https://tools.ietf.org/html/rfc9110#section-15.5.4",
	404: "https://tools.ietf.org/html/rfc9110#section-15.5.5",
	405: "https://tools.ietf.org/html/rfc9110#section-15.5.6",
	409: "https://tools.ietf.org/html/rfc9110#section-15.5.10",
	429: "https://tools.ietf.org/html/rfc6585#section-4",
	500: "https://tools.ietf.org/html/rfc9110#section-15.6.1",
	502: "https://tools.ietf.org/html/rfc9110#section-15.6.3",
	503: "https://tools.ietf.org/html/rfc9110#section-15.6.4",
	504: "https://tools.ietf.org/html/rfc9110#section-15.6.5",
}

func problemResponse(status int, detail string) response {
	typ, ok := problemTypes[status]
	if !ok {
		typ = "about:blank"
	}
	title := http.StatusText(status)
	if title == "" {
		title = "Error"
	}
	r := jsonResponse(status, problem{Type: typ, Title: title, Status: status, Detail: detail, TraceID: traceID()})
	r.header.Set("Content-Type", contentTypeProblem)
	return r
}

func validationResponse(errs map[string][]string) response {
	r := jsonResponse(http.StatusBadRequest, problem{
		Type:    problemTypes[400],
		Title:   "One or more validation errors occurred.",
		Status:  http.StatusBadRequest,
		TraceID: traceID(),
		Errors:  errs,
	})
	r.header.Set("Content-Type", contentTypeProblem)
	return r
}

func unauthorizedResponse(detail, wwwAuthenticate string) response {
	r := problemResponse(http.StatusUnauthorized, detail)
	r.header.Set("WWW-Authenticate", wwwAuthenticate)
	return r
}

// route finds the route of path and the {id} in it.
func route(path string) (pattern, id string) {
	switch path {
	case RouteAuthentication:
		return RouteAuthentication, ""
	case RouteRequests:
		return RouteRequests, ""
	}
	rest, ok := strings.CutPrefix(path, RouteRequests+"/")
	if !ok || rest == "" {
		return "", ""
	}
	id, sub, hasSub := strings.Cut(rest, "/")
	if id == "" {
		return "", ""
	}
	switch {
	case !hasSub:
		return RouteRequest, id
	case sub == "payments":
		return RouteRequestPayments, id
	case sub == "paid":
		return RouteRequestPaid, id
	}
	return "", ""
}

// allowed lists the method each route serves.
var allowed = map[string]string{
	RouteAuthentication:  http.MethodPost,
	RouteRequests:        http.MethodPost,
	RouteRequest:         http.MethodGet,
	RouteRequestPayments: http.MethodGet,
	RouteRequestPaid:     http.MethodGet,
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	pattern, id := route(r.URL.Path)
	call := Call{Time: s.Now(), Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Route: pattern}

	// Read the body first: only then does the server watch the connection, so that the
	// request's context ends when the client goes away during the wait below.
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		call.Fault = FaultCanceled
		s.logCall(call)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))

	s.mu.Lock()
	latency := s.latency
	s.mu.Unlock()
	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			call.Fault = FaultCanceled
			s.logCall(call)
			return
		case <-s.ctx.Done():
			// Closing: end the call without an answer.
			t.Stop()
			call.Fault = FaultCanceled
			s.logCall(call)
			dropConnection(w)
			return
		}
	}

	f := s.takeFault(r.Method, pattern)
	if f.kind == FaultFail {
		resp := problemResponse(f.status, "Failure injected by ecreditstest.FailNext.")
		if f.retryAfter != "" {
			resp.header.Set("Retry-After", f.retryAfter)
		}
		call.Status, call.Fault = resp.status, FaultFail
		s.logCall(call)
		writeResponse(w, resp)
		return
	}

	resp := s.handle(r, pattern, id)
	call.Handled, call.Status, call.Fault = resp.status, resp.status, f.kind
	switch f.kind {
	case FaultDrop:
		call.Status = 0
		s.logCall(call)
		dropConnection(w)
		return
	case FaultMalformed:
		resp = malformed(resp)
		call.Status = resp.status
	}
	// Log before answering, so that a test that got the answer finds the call logged.
	s.logCall(call)
	writeResponse(w, resp)
}

// handle routes and processes one call.
func (s *Server) handle(r *http.Request, pattern, id string) response {
	if pattern == "" {
		return problemResponse(http.StatusNotFound, "No resource at "+r.URL.Path+".")
	}
	if m := allowed[pattern]; r.Method != m {
		resp := problemResponse(http.StatusMethodNotAllowed, r.Method+" is not allowed here.")
		resp.header.Set("Allow", m)
		return resp
	}
	if pattern == RouteAuthentication {
		return s.authenticate(r)
	}
	if resp, ok := s.checkBearer(r); !ok {
		return resp
	}
	switch pattern {
	case RouteRequests:
		return s.createRequest(r)
	case RouteRequest:
		return s.getRequest(r, id)
	case RouteRequestPayments:
		return s.getPayments(id)
	default: // RouteRequestPaid
		return s.getPaid(id)
	}
}

func (s *Server) logCall(c Call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, c)
}

func writeResponse(w http.ResponseWriter, resp response) {
	for k, v := range resp.header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.status)
	_, _ = w.Write(resp.body)
}

// malformed turns resp into a 200 whose body is the real one cut short: never valid JSON.
func malformed(resp response) response {
	body := resp.body[:len(resp.body)/2]
	if json.Valid(body) {
		body = []byte("{")
	}
	return response{status: http.StatusOK, header: http.Header{"Content-Type": {contentTypeJSON}}, body: body}
}

// dropConnection closes the client's connection without writing anything.
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

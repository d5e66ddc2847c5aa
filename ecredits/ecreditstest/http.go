package ecreditstest

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/paykit/paykit/internal/fakeserver"
)

const (
	contentTypeJSON    = "application/json; charset=utf-8"
	contentTypeProblem = "application/problem+json; charset=utf-8"
)

// response is an answer built by a handler before it goes on the wire, so that a fault can
// replace it after processing.
type response = fakeserver.Response

func jsonResponse(status int, v any) response {
	return response{Status: status, Header: http.Header{"Content-Type": {contentTypeJSON}}, Body: marshal(v)}
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
	r.Header.Set("Content-Type", contentTypeProblem)
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
	r.Header.Set("Content-Type", contentTypeProblem)
	return r
}

func unauthorizedResponse(detail, wwwAuthenticate string) response {
	r := problemResponse(http.StatusUnauthorized, detail)
	r.Header.Set("WWW-Authenticate", wwwAuthenticate)
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

// handle routes and processes one call; pattern is route's.
func (s *Server) handle(r *http.Request, pattern string) response {
	_, id := route(r.URL.Path)
	if pattern == "" {
		return problemResponse(http.StatusNotFound, "No resource at "+r.URL.Path+".")
	}
	if m := allowed[pattern]; r.Method != m {
		resp := problemResponse(http.StatusMethodNotAllowed, r.Method+" is not allowed here.")
		resp.Header.Set("Allow", m)
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

// malformed turns resp into a 200 whose body is the real one cut short: never valid JSON.
func malformed(resp response) response {
	body := resp.Body[:len(resp.Body)/2]
	if json.Valid(body) {
		body = []byte("{")
	}
	return response{Status: http.StatusOK, Header: http.Header{"Content-Type": {contentTypeJSON}}, Body: body}
}

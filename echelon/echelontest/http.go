package echelontest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/paykit/paykit/internal/fakeserver"
)

// maxBody bounds the request bodies the fake reads.
const maxBody = 1 << 20

const contentTypeJSON = "application/json"

// response is an answer built by a handler before it goes on the wire, so that a fault can
// replace it after processing.
type response = fakeserver.Response

func jsonResponse(status int, v any) response {
	return response{Status: status, Header: http.Header{"Content-Type": {contentTypeJSON}}, Body: marshal(v)}
}

// marshal writes an answer's body: the one way the fake and the body builders (PayinBody,
// …) write JSON, so that they agree byte for byte.
func marshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// Every value the fake answers with marshals; reaching this is a bug of the fake.
		panic("echelontest: marshal answer: " + err.Error())
	}
	return b
}

// apiError is the fake's error body (ASSUMPTION: the document shows none).
type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func errorResponse(status int, code, message string) response {
	return jsonResponse(status, apiError{Code: code, Message: message})
}

// route finds the route of a request path. The call log and the faults see the decoded path,
// in which an id's escaped slash is a slash: any rest after /payins/ is a payin there.
// handle routes again on the path as sent, where an id is exactly one segment.
func route(path string) string {
	switch path {
	case RouteAuthTokens, RouteAuthTokensByAction, RouteBalances, RoutePaymentOptions:
		return path
	}
	for _, r := range []struct{ prefix, route string }{{"/payins/", RoutePayin}, {"/payouts/", RoutePayout}} {
		if id, ok := strings.CutPrefix(path, r.prefix); ok && id != "" {
			return r.route
		}
	}
	return ""
}

// rawRoute finds the route of a path as sent (escaped), and the id in it: the one segment
// after /payins/ or /payouts/, unescaped. An id cannot start with '!', which marks actions:
// "/payins/%21availablePaymentOptions" is no route.
func rawRoute(raw string) (pattern, id string) {
	switch raw {
	case RouteAuthTokens, RouteAuthTokensByAction, RouteBalances, RoutePaymentOptions:
		return raw, ""
	}
	for _, r := range []struct{ prefix, route string }{{"/payins/", RoutePayin}, {"/payouts/", RoutePayout}} {
		seg, ok := strings.CutPrefix(raw, r.prefix)
		if !ok || seg == "" || strings.Contains(seg, "/") {
			continue
		}
		id, err := url.PathUnescape(seg)
		if err != nil || strings.HasPrefix(id, "!") {
			return "", ""
		}
		return r.route, id
	}
	return "", ""
}

// allowed lists the method each route serves.
var allowed = map[string]string{
	RouteAuthTokens:         http.MethodPost,
	RouteAuthTokensByAction: http.MethodPost,
	RoutePaymentOptions:     http.MethodPost,
	RoutePayin:              http.MethodPost + " " + http.MethodGet,
	RoutePayout:             http.MethodPost + " " + http.MethodGet,
	RouteBalances:           http.MethodGet,
}

// handle processes one call. The order: the rate window (a throttled call is not processed
// and does not count), the API version, the route and method, then the token and its
// operations.
func (s *Server) handle(r *http.Request, _ string) response {
	if !s.admit() {
		return errorResponse(http.StatusTooManyRequests, "TOO_MANY_REQUESTS",
			"More than "+strconv.Itoa(s.cfg.RateLimit)+" requests in "+s.cfg.RateWindow.String()+".")
	}
	if r.Header.Get("X-API-Version") != "2" {
		return errorResponse(http.StatusNotFound, "NOT_FOUND", "Unknown or missing API version (X-API-Version).")
	}
	// The path as sent: it is routed, operations are matched against it, and ids are read
	// from it.
	raw := r.URL.EscapedPath()
	pattern, id := rawRoute(raw)
	if pattern == "" {
		return errorResponse(http.StatusNotFound, "NOT_FOUND", "No resource at "+raw+".")
	}
	if m := allowed[pattern]; !strings.Contains(m, r.Method) {
		resp := errorResponse(http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", r.Method+" is not allowed here.")
		resp.Header.Set("Allow", strings.ReplaceAll(m, " ", ", "))
		return resp
	}
	switch pattern {
	case RouteAuthTokens:
		return s.issueToken(r, false)
	case RouteAuthTokensByAction:
		return s.issueToken(r, true)
	}
	tok, resp, ok := s.checkToken(r, raw)
	if !ok {
		return resp
	}
	switch {
	case pattern == RoutePaymentOptions:
		return s.paymentOptions(r)
	case pattern == RouteBalances:
		return s.getBalances(r)
	case pattern == RoutePayin && r.Method == http.MethodPost:
		return s.createPayment(r, payinKind, id, tok)
	case pattern == RoutePayin:
		return s.getPayment(payinKind, id)
	case r.Method == http.MethodPost: // RoutePayout
		return s.createPayment(r, payoutKind, id, tok)
	default:
		return s.getPayment(payoutKind, id)
	}
}

// admit counts a request in the sliding window and reports whether it may be processed:
// fewer than RateLimit requests were admitted in the RateWindow before it.
func (s *Server) admit() bool {
	if s.cfg.RateLimit < 0 {
		return true
	}
	now := s.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	cutoff := now.Add(-s.cfg.RateWindow)
	i := 0
	for i < len(s.arrivals) && !s.arrivals[i].After(cutoff) {
		i++
	}
	s.arrivals = s.arrivals[i:]
	if len(s.arrivals) >= s.cfg.RateLimit {
		return false
	}
	s.arrivals = append(s.arrivals, now)
	return true
}

// decodeObject reads a JSON object body with numbers kept as json.Number.
func decodeObject(r *http.Request) (map[string]any, response, bool) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, errorResponse(http.StatusBadRequest, "BAD_REQUEST", "The request body could not be read."), false
	}
	if len(body) > maxBody {
		return nil, errorResponse(http.StatusRequestEntityTooLarge, "PAYLOAD_TOO_LARGE", "The request body is too large."), false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var fields map[string]any
	if err := dec.Decode(&fields); err != nil || fields == nil {
		return nil, badRequest("The request body must be a JSON object."), false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, badRequest("The request body has data after the JSON object."), false
	}
	return fields, response{}, true
}

func badRequest(message string) response {
	return errorResponse(http.StatusBadRequest, "VALIDATION_ERROR", message)
}

// malformed turns resp into a 200 whose body is the real one cut short: never valid JSON.
func malformed(resp response) response {
	body := resp.Body[:len(resp.Body)/2]
	if json.Valid(body) {
		body = []byte("{")
	}
	return response{Status: http.StatusOK, Header: http.Header{"Content-Type": {contentTypeJSON}}, Body: body}
}

package ecstertest

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/paykit/paykit/internal/fakeserver"
)

const contentTypeJSON = "application/json;charset=UTF-8"

// response is an answer built by a handler before it goes on the wire, so that a fault can
// replace it after processing.
type response = fakeserver.Response

// The error codes the fake answers. Only 4424 is known from Ecster (order not in a valid
// state); the others are ASSUMPTIONS: the HTTP status times ten, plus one to tell 401 apart.
const (
	codeInvalidInput = 4000
	codeUnauthorized = 4011
	codeNoAccess     = 4030
	codeNotFound     = 4040
	codeNotAllowed   = 4050
	codeInvalidState = 4424
)

var errorTypes = map[int]string{
	400: "Input validation error",
	401: "Authentication error",
	403: "No access",
	404: "Reference not found",
	405: "Method not allowed",
	409: "Conflict",
	415: "Unsupported media type",
	422: "Unprocessable request",
	429: "Too many requests",
	500: "Could not complete operation",
	502: "Bad gateway",
	503: "Service unavailable",
	504: "Gateway timeout",
}

// ecsterError is Ecster's error object: {code (int), type, message}.
type ecsterError struct {
	Code    int    `json:"code"`
	Type    string `json:"type"`
	Message string `json:"message,omitempty"`
}

// bodyResponse answers body, which the exported builders (CartBody, OrderBody, …) made.
func bodyResponse(status int, body []byte) response {
	return response{Status: status, Header: http.Header{"Content-Type": {contentTypeJSON}}, Body: body}
}

func jsonResponse(status int, v any) response { return bodyResponse(status, mustJSON(v)) }

func errorResponse(status, code int, message string) response {
	return bodyResponse(status, ErrorBody(status, code, message))
}

func invalid(message string) response {
	return errorResponse(http.StatusBadRequest, codeInvalidInput, message)
}

func invalidState(message string) response {
	return errorResponse(http.StatusUnprocessableEntity, codeInvalidState, "Order is not in a valid state: "+message)
}

// failAnswer is FailNext's answer: Ecster's error object with the status times ten as code.
func failAnswer(status int) response {
	return errorResponse(status, status*10, "Failure injected by ecstertest.FailNext.")
}

// malformed turns resp into a 200 whose body is the real one cut short: never valid JSON.
func malformed(resp response) response {
	body := resp.Body[:len(resp.Body)/2]
	if json.Valid(body) {
		body = []byte("{")
	}
	return response{Status: http.StatusOK, Header: http.Header{"Content-Type": {contentTypeJSON}}, Body: body}
}

// route finds the route pattern of path; "" when none matches. A trailing slash is
// accepted, as Ecster's integrations send some paths with one.
func route(path string) string {
	pattern, _ := routeOf(path)
	return pattern
}

// routeOf is route, also returning the path's {key} or {orderId}.
func routeOf(path string) (pattern, id string) {
	p := strings.TrimSuffix(path, "/")
	switch p {
	case RouteCarts:
		return RouteCarts, ""
	case RouteOrders:
		return RouteOrders, ""
	case RoutePaymentMethods:
		return RoutePaymentMethods, ""
	case RouteTerms:
		return RouteTerms, ""
	}
	if key, ok := strings.CutPrefix(p, RouteCarts+"/"); ok && key != "" && !strings.Contains(key, "/") {
		return RouteCart, key
	}
	rest, ok := strings.CutPrefix(p, RouteOrders+"/")
	if !ok || rest == "" {
		return "", ""
	}
	id, sub, hasSub := strings.Cut(rest, "/")
	switch {
	case id == "":
		return "", ""
	case !hasSub:
		return RouteOrder, id
	case sub == "transactions":
		return RouteTransactions, id
	}
	return "", ""
}

// allowed lists the method each route serves.
var allowed = map[string]string{
	RouteCarts:          http.MethodPost,
	RouteCart:           http.MethodPut,
	RouteOrders:         http.MethodGet,
	RouteOrder:          http.MethodGet,
	RouteTransactions:   http.MethodPost,
	RoutePaymentMethods: http.MethodGet,
	RouteTerms:          http.MethodGet,
}

// handle routes and processes one call; pattern is route's.
func (s *Server) handle(r *http.Request, pattern string) response {
	_, id := routeOf(r.URL.Path)
	if pattern == "" {
		return errorResponse(http.StatusNotFound, codeNotFound, "No resource at "+r.URL.Path+".")
	}
	if m := allowed[pattern]; r.Method != m {
		resp := errorResponse(http.StatusMethodNotAllowed, codeNotAllowed, r.Method+" is not allowed here.")
		resp.Header.Set("Allow", m)
		return resp
	}
	if resp, ok := s.checkKeys(r); !ok {
		return resp
	}
	body, _ := io.ReadAll(r.Body)
	if r.Method == http.MethodGet {
		if len(body) > 0 {
			return invalid("A GET carries its parameters in the query string; no message body should be sent.")
		}
	} else {
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != "application/json" {
			return errorResponse(http.StatusUnsupportedMediaType, 4150, "Content-Type must be application/json.")
		}
	}
	switch pattern {
	case RouteCarts:
		return s.createCart(body)
	case RouteCart:
		return s.updateCart(id, body)
	case RouteOrders:
		return s.findOrders(r)
	case RouteOrder:
		return s.getOrder(id)
	case RouteTransactions:
		return s.transaction(id, body)
	case RoutePaymentMethods:
		return s.paymentMethods(r)
	default: // RouteTerms
		return s.terms(r)
	}
}

// checkKeys checks both authentication headers: a missing or wrong x-api-key is 401, a
// missing or wrong x-merchant-key (the API key does not serve that merchant) is 403.
func (s *Server) checkKeys(r *http.Request) (response, bool) {
	if !equal(r.Header.Get("x-api-key"), s.cfg.APIKey) {
		return errorResponse(http.StatusUnauthorized, codeUnauthorized, "Missing or invalid x-api-key."), false
	}
	if !equal(r.Header.Get("x-merchant-key"), s.cfg.MerchantKey) {
		return errorResponse(http.StatusForbidden, codeNoAccess, "The API key has no access to this merchant."), false
	}
	return response{}, true
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// decodeObject reads body as one JSON object, numbers kept exact.
func decodeObject(body []byte) (map[string]any, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil || dec.More() {
		return nil, false
	}
	return m, true
}

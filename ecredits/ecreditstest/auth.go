package ecreditstest

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const tokenIssuer = "ecreditstest"

// maxBody bounds the request bodies the fake reads.
const maxBody = 1 << 20

// timeLayout writes times as the provider does: "2022-05-09T06:57:44.4906378+00:00" (UTC).
const timeLayout = "2006-01-02T15:04:05.0000000-07:00"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

type authResponse struct {
	Token     string `json:"token"`
	ExpiresAt string `json:"expiresAt"`
}

// authenticate serves POST /api/authentication.
func (s *Server) authenticate(r *http.Request) response {
	fields, resp, ok := decodeObject(r)
	if !ok {
		return resp
	}
	errs := map[string][]string{}
	secret, _ := stringField(fields, "secret", true, errs)
	clientID, _ := stringField(fields, "clientId", true, errs)
	if _, present := errs["clientId"]; !present && !isGUID(clientID) {
		errs["clientId"] = append(errs["clientId"], "The JSON value could not be converted to System.Guid.")
	}
	if len(errs) > 0 {
		return validationResponse(errs)
	}
	secretOK := subtle.ConstantTimeCompare([]byte(secret), []byte(s.cfg.Secret)) == 1
	if !secretOK || !strings.EqualFold(clientID, s.cfg.ClientID) {
		return problemResponse(http.StatusUnauthorized, "Invalid client id or secret.")
	}

	now := s.Now()
	s.mu.Lock()
	expires := now.Add(s.tokenLifetime)
	s.mu.Unlock()
	jti := randomHex(16)
	claims := jwt.RegisteredClaims{
		Issuer:   tokenIssuer,
		Subject:  s.cfg.ClientID,
		ID:       jti,
		IssuedAt: jwt.NewNumericDate(now),
		// The exp claim has whole seconds; round up so that it never says the token ends
		// before the exact expiresAt the server enforces.
		ExpiresAt: jwt.NewNumericDate(ceilSecond(expires)),
	}
	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(s.key)
	if err != nil {
		return problemResponse(http.StatusInternalServerError, "Could not sign the token.")
	}
	s.mu.Lock()
	s.tokens[jti] = expires
	s.authCount++
	s.mu.Unlock()
	return jsonResponse(http.StatusOK, authResponse{Token: token, ExpiresAt: formatTime(expires)})
}

func ceilSecond(t time.Time) time.Time {
	c := t.Truncate(time.Second)
	if c.Before(t) {
		c = c.Add(time.Second)
	}
	return c
}

// checkBearer validates the Authorization header of an /api/v1 call.
func (s *Server) checkBearer(r *http.Request) (response, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, _ := strings.Cut(h, " ")
	tok = strings.TrimSpace(tok)
	if !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return unauthorizedResponse("A bearer token is required.", "Bearer"), false
	}
	invalid := func(desc string) (response, bool) {
		return unauthorizedResponse(desc, `Bearer error="invalid_token", error_description="`+desc+`"`), false
	}
	var claims jwt.RegisteredClaims
	if _, err := s.parser.ParseWithClaims(tok, &claims, func(*jwt.Token) (any, error) { return s.key, nil }); err != nil {
		if errors.Is(err, jwt.ErrTokenExpired) {
			return invalid("The token is expired.")
		}
		return invalid("The token is invalid.")
	}
	s.mu.Lock()
	exp, known := s.tokens[claims.ID]
	s.mu.Unlock()
	if !known {
		return invalid("The token was revoked.")
	}
	if !s.Now().Before(exp) {
		return invalid("The token is expired.")
	}
	return response{}, true
}

// decodeObject reads a JSON object body with numbers kept as json.Number.
func decodeObject(r *http.Request) (map[string]any, response, bool) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, problemResponse(http.StatusBadRequest, "The request body could not be read."), false
	}
	if len(body) > maxBody {
		return nil, problemResponse(http.StatusRequestEntityTooLarge, "The request body is too large."), false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var fields map[string]any
	if err := dec.Decode(&fields); err != nil || fields == nil {
		return nil, validationResponse(map[string][]string{"$": {"The request body must be a JSON object."}}), false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, validationResponse(map[string][]string{"$": {"The request body has data after the JSON object."}}), false
	}
	return fields, response{}, true
}

// stringField reads a string field; null counts as absent. present reports whether a string
// was there. A missing required field or a non-string adds to errs.
func stringField(fields map[string]any, name string, required bool, errs map[string][]string) (v string, present bool) {
	raw, ok := fields[name]
	if !ok || raw == nil {
		if required {
			errs[name] = append(errs[name], "The "+name+" field is required.")
		}
		return "", false
	}
	str, ok := raw.(string)
	if !ok {
		errs[name] = append(errs[name], "The JSON value could not be converted to System.String.")
		return "", false
	}
	if required && str == "" {
		errs[name] = append(errs[name], "The "+name+" field is required.")
		return "", false
	}
	return str, true
}

// boolField reads an optional boolean; null or absent is false.
func boolField(fields map[string]any, name string, errs map[string][]string) bool {
	raw, ok := fields[name]
	if !ok || raw == nil {
		return false
	}
	b, ok := raw.(bool)
	if !ok {
		errs[name] = append(errs[name], "The JSON value could not be converted to System.Boolean.")
	}
	return b
}

// isGUID reports whether s is a GUID in its dashed form (8-4-4-4-12 hex digits, any case).
func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

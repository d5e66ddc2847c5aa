package echelontest

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/paykit/paykit"
)

// The actions /auth-tokens-by-action knows: the two the document publishes.
const (
	ActionPayinCreate = "PAYIN_CREATE"
	ActionPayinInfo   = "PAYIN_INFO"
)

// IssuedToken describes a token the server issued, as Tokens lists it (never the JWT itself).
type IssuedToken struct {
	// Route is the route it was asked at: RouteAuthTokens or RouteAuthTokensByAction.
	Route string
	// Operations are what it allows: as asked at /auth-tokens, or made from the action.
	Operations []string
	Action     string // by action: the action
	PaymentID  string // by action: idPayment
	// Money, when the token was limited to an amount: creates with it must ask exactly this.
	Money     *paykit.Money
	IssuedAt  time.Time
	ExpiresAt time.Time // the exp claim, exact: the token is refused from then on
}

// issued is a token the server keeps until it is revoked.
type issued struct {
	info IssuedToken
	ops  []*regexp.Regexp
}

// claims are the token's JWT claims: those of the document's decoded example (sub, jti, iat,
// exp, operations), and money for a token limited to an amount.
type claims struct {
	jwt.RegisteredClaims
	Operations []string    `json:"operations"`
	Money      *moneyClaim `json:"money,omitempty"`
}

type moneyClaim struct {
	Amount       json.Number `json:"amount"`
	CurrencyCode string      `json:"currencyCode"`
}

// issueToken serves POST /auth-tokens (byAction false) and POST /auth-tokens-by-action.
func (s *Server) issueToken(r *http.Request, byAction bool) response {
	fields, resp, ok := decodeObject(r)
	if !ok {
		return resp
	}
	merchant, _ := fields["merchantCode"].(string)
	secret, _ := fields["secret"].(string)
	codeOK := subtle.ConstantTimeCompare([]byte(merchant), []byte(s.cfg.MerchantCode)) == 1
	secretOK := subtle.ConstantTimeCompare([]byte(secret), []byte(s.cfg.Secret)) == 1
	if !codeOK || !secretOK {
		return errorResponse(http.StatusUnauthorized, "UNAUTHORIZED", "Invalid merchantCode or secret.")
	}
	validity, ok := fields["validitySecs"].(json.Number)
	secs, err := validity.Int64()
	if !ok || err != nil || secs < 1 {
		return badRequest("validitySecs must be a whole number of seconds, at least 1.")
	}
	info := IssuedToken{Route: RouteAuthTokens}
	if byAction {
		info.Route = RouteAuthTokensByAction
		info.Action, _ = fields["action"].(string)
		info.PaymentID, _ = fields["idPayment"].(string)
		if info.PaymentID == "" {
			return badRequest("idPayment is required.")
		}
		id := regexp.QuoteMeta(url.PathEscape(info.PaymentID))
		switch info.Action {
		case ActionPayinCreate:
			info.Operations = []string{"POST " + RoutePaymentOptions, "POST /payins/" + id, "GET /payins/" + id}
		case ActionPayinInfo:
			info.Operations = []string{"GET /payins/" + id}
		default:
			return badRequest("Unknown action " + quote(info.Action) + ".")
		}
	} else {
		list, ok := fields["operations"].([]any)
		if !ok || len(list) == 0 {
			return badRequest("operations must be a non-empty list of strings.")
		}
		for _, o := range list {
			op, ok := o.(string)
			if !ok || op == "" {
				return badRequest("operations must be a non-empty list of strings.")
			}
			info.Operations = append(info.Operations, op)
		}
	}
	tok := &issued{info: info}
	for _, op := range info.Operations {
		re, err := regexp.Compile("^(?:" + op + ")$")
		if err != nil {
			return badRequest("Operation " + quote(op) + " is not a valid regular expression.")
		}
		tok.ops = append(tok.ops, re)
	}
	var mc *moneyClaim
	if raw, present := fields["money"]; present && raw != nil {
		m, msg := readMoney(raw, "money")
		if msg != "" {
			return badRequest(msg)
		}
		tok.info.Money = &m
		mc = &moneyClaim{Amount: json.Number(decimal(m)), CurrencyCode: m.Currency}
	}

	now := s.Now()
	s.mu.Lock()
	lifetime := min(time.Duration(secs)*time.Second, s.tokenLifetime)
	s.mu.Unlock()
	// The exp claim has whole seconds: the token ends at exactly the second it names.
	exp := now.Add(lifetime).Truncate(time.Second)
	if !exp.After(now) {
		exp = now.Truncate(time.Second).Add(time.Second)
	}
	tok.info.IssuedAt, tok.info.ExpiresAt = now, exp
	jti := randomHex(16)
	c := claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   s.cfg.MerchantCode,
			ID:        jti,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(exp),
		},
		Operations: info.Operations,
		Money:      mc,
	}
	signed, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(s.key)
	if err != nil {
		return errorResponse(http.StatusInternalServerError, "INTERNAL_ERROR", "Could not sign the token.")
	}
	s.mu.Lock()
	s.tokens[jti] = tok
	s.issuedLog = append(s.issuedLog, tok.info)
	s.mu.Unlock()
	return jsonResponse(http.StatusOK, map[string]string{"token": signed})
}

// checkToken validates the bearer token of an API call and that one of its operations allows
// "METHOD path" (path as sent, without the query): 401 for a missing, invalid, expired or
// revoked token, 403 for one that does not allow the call.
func (s *Server) checkToken(r *http.Request, path string) (*issued, response, bool) {
	scheme, raw, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	raw = strings.TrimSpace(raw)
	if !strings.EqualFold(scheme, "Bearer") || raw == "" {
		return nil, errorResponse(http.StatusUnauthorized, "UNAUTHORIZED", "An auth token is required."), false
	}
	var c claims
	if _, err := s.parser.ParseWithClaims(raw, &c, func(*jwt.Token) (any, error) { return s.key, nil }); err != nil {
		return nil, errorResponse(http.StatusUnauthorized, "UNAUTHORIZED", "The auth token is invalid or expired."), false
	}
	s.mu.Lock()
	tok, known := s.tokens[c.ID]
	s.mu.Unlock()
	if !known {
		return nil, errorResponse(http.StatusUnauthorized, "UNAUTHORIZED", "The auth token was revoked."), false
	}
	if !s.Now().Before(tok.info.ExpiresAt) {
		return nil, errorResponse(http.StatusUnauthorized, "UNAUTHORIZED", "The auth token is expired."), false
	}
	call := r.Method + " " + path
	for _, re := range tok.ops {
		if re.MatchString(call) {
			return tok, response{}, true
		}
	}
	return nil, errorResponse(http.StatusForbidden, "FORBIDDEN", "The auth token does not allow "+call+"."), false
}

// RevokeTokens invalidates every token issued so far: each later call with one answers 401.
func (s *Server) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.tokens)
}

// SetTokenLifetime changes the longest lifetime of tokens issued after the call: a
// validitySecs beyond it is cut to it. Zero or less restores Config.TokenLifetime.
func (s *Server) SetTokenLifetime(d time.Duration) {
	if d <= 0 {
		d = s.cfg.TokenLifetime
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokenLifetime = d
}

// Tokens lists the tokens the server issued, oldest first (revoked ones included).
func (s *Server) Tokens() []IssuedToken {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]IssuedToken, len(s.issuedLog))
	for i, t := range s.issuedLog {
		t.Operations = append([]string(nil), t.Operations...)
		if t.Money != nil {
			m := *t.Money
			t.Money = &m
		}
		out[i] = t
	}
	return out
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

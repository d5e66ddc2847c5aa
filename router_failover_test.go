package paykit

import (
	"context"
	"errors"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit/internal/ids"
)

var (
	uuidForm  = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	hex32Form = regexp.MustCompile(`^[0-9a-f]{32}$`)
)

// idStub is a route stub that, like the real providers, refuses before sending anything an
// id not in its form: eCredits wants a dashed GUID, Entrecard at most 32 [A-Za-z0-9_-].
type idStub struct {
	*routeStub
	form *regexp.Regexp
}

func newIDStub(name string, form *regexp.Regexp) *idStub {
	return &idStub{routeStub: newRouteStub(name, Capabilities{}), form: form}
}

// NewID makes an id in the stub's form, as the real providers' NewID do (paykit.IDMaker).
func (s *idStub) NewID() string {
	if s.form.MatchString(ids.UUID()) {
		return ids.UUID()
	}
	return ids.Hex32()
}

// CheckID refuses an id not in the stub's form (paykit.IDChecker).
func (s *idStub) CheckID(id string) error {
	if !s.form.MatchString(id) {
		return s.refuse("check id", id)
	}
	return nil
}

func (s *idStub) refuse(op, id string) error {
	return &Error{Provider: s.name, Op: op, Kind: ErrInvalidRequest, Message: "id " + id + " is not in this provider's form", Unprocessed: true}
}

func (s *idStub) CreatePayment(ctx context.Context, req PaymentRequest) (*Payment, error) {
	if !s.form.MatchString(req.ID) {
		s.log("refused " + req.ID)
		return nil, s.refuse("create payment", req.ID)
	}
	return s.routeStub.CreatePayment(ctx, req)
}

func (s *idStub) GetPayment(ctx context.Context, id string) (*Payment, error) {
	if !s.form.MatchString(id) {
		s.log("refused get " + id)
		return nil, s.refuse("get payment", id)
	}
	return s.routeStub.GetPayment(ctx, id)
}

// An id the first candidate cannot hold (an Entrecard-style id on a EUR payment for
// eCredits) is the merchant's mistake: it comes back, and nothing goes to the next provider.
// It used to fail over silently to EchelonPay.
func TestRouterInvalidIDComesBack(t *testing.T) {
	t.Parallel()
	ecr := newIDStub("ecredits", uuidForm)
	ech := newIDStub("echelon", regexp.MustCompile(`.`))
	r := newTestRouter(t, []Provider{ecr, ech}, []Route{{Match: Match{Currencies: []string{"EUR"}}, Providers: []string{"ecredits", "echelon"}}})
	id := strings.Repeat("ab", 16) // entrecard.NewID's form
	_, err := r.CreatePayment(context.Background(), PaymentRequest{ID: id, Amount: Money{Amount: 100, Currency: "EUR"}})
	require.ErrorIs(t, err, ErrInvalidRequest)
	var pe *Error
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "ecredits", pe.Provider)
	assert.Equal(t, id, pe.PaymentID)
	assert.Equal(t, []string{"refused " + id}, ecr.callLog(), "not even asked whether the payment exists")
	assert.Empty(t, ech.callLog(), "no failover")
	assert.Equal(t, FailoverCounts{}, r.Failovers()["ecredits"])
}

// Any request paykit refuses as invalid before sending (a missing field, a currency the
// provider does not take) comes back; the provider's own refusals (400, 401, 403) and the
// rest of the unprocessed failures still fail over.
func TestRouterLocalRefusalNeverFailsOver(t *testing.T) {
	t.Parallel()
	a, b := newRouteStub("a", Capabilities{}), newRouteStub("b", Capabilities{})
	a.createErr = []error{&Error{Provider: "a", Op: "create payment", Kind: ErrInvalidRequest, Message: "items are required", Unprocessed: true}}
	r := newTestRouter(t, []Provider{a, b}, []Route{{Providers: []string{"a", "b"}}})
	_, err := r.CreatePayment(context.Background(), PaymentRequest{ID: "p", Amount: sek(100)})
	require.ErrorIs(t, err, ErrInvalidRequest)
	assert.Contains(t, err.Error(), "items are required")
	assert.Empty(t, b.callLog())
	owner, _, _ := r.owners.Owner(context.Background(), "p")
	assert.Equal(t, "a", owner)
}

// captureHandler is a slog.Handler that keeps every record with the attributes given to
// the logger, for tests that check what was logged.
type captureHandler struct {
	mu      *sync.Mutex
	records *[]capturedRecord
	attrs   []slog.Attr
}

type capturedRecord struct {
	Level slog.Level
	Msg   string
	Attrs map[string]string
}

func newCaptureHandler() *captureHandler {
	return &captureHandler{mu: new(sync.Mutex), records: new([]capturedRecord)}
}

func (h *captureHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *captureHandler) Handle(_ context.Context, r slog.Record) error {
	rec := capturedRecord{Level: r.Level, Msg: r.Message, Attrs: map[string]string{}}
	for _, a := range h.attrs {
		rec.Attrs[a.Key] = a.Value.String()
	}
	r.Attrs(func(a slog.Attr) bool {
		rec.Attrs[a.Key] = a.Value.String()
		return true
	})
	h.mu.Lock()
	defer h.mu.Unlock()
	*h.records = append(*h.records, rec)
	return nil
}

func (h *captureHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	cp := *h
	cp.attrs = append(append([]slog.Attr(nil), h.attrs...), attrs...)
	return &cp
}

func (h *captureHandler) WithGroup(string) slog.Handler { return h }

func (h *captureHandler) all() []capturedRecord {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]capturedRecord(nil), *h.records...)
}

// where returns the records whose attribute key is value.
func (h *captureHandler) where(key, value string) []capturedRecord {
	var out []capturedRecord
	for _, r := range h.all() {
		if r.Attrs[key] == value {
			out = append(out, r)
		}
	}
	return out
}

// A failover after the provider refused the request or the credentials keeps the payment
// going but is logged at error level and counted as Refused; one after the provider could
// not take the call (429, not reached) is a warning counted as Unavailable.
func TestRouterFailoverIsLoggedAndCounted(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		err       error
		wantLevel slog.Level
		want      FailoverCounts
	}{
		{"401: wrong credentials", &Error{Provider: "a", StatusCode: 401, Kind: ErrUnauthorized, Unprocessed: true}, slog.LevelError, FailoverCounts{Refused: 1}},
		{"403", &Error{Provider: "a", StatusCode: 403, Kind: ErrUnauthorized, Unprocessed: true}, slog.LevelError, FailoverCounts{Refused: 1}},
		{"400 from the provider", &Error{Provider: "a", StatusCode: 400, Kind: ErrInvalidRequest, Unprocessed: true}, slog.LevelError, FailoverCounts{Refused: 1}},
		{"429", unprocessed429, slog.LevelWarn, FailoverCounts{Unavailable: 1}},
		{"not sent", &Error{Provider: "a", Kind: ErrUnavailable, Err: errors.New("dial refused"), Unprocessed: true}, slog.LevelWarn, FailoverCounts{Unavailable: 1}},
		{"unsupported", &Error{Provider: "a", Kind: ErrUnsupported, Unprocessed: true}, slog.LevelWarn, FailoverCounts{Unavailable: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, b := newRouteStub("a", Capabilities{}), newRouteStub("b", Capabilities{})
			a.createErr = []error{tt.err}
			logs := newCaptureHandler()
			r := newTestRouter(t, []Provider{a, b}, []Route{{Providers: []string{"a", "b"}}}, WithRouterLogger(slog.New(logs)))
			p, err := r.CreatePayment(context.Background(), PaymentRequest{ID: "p-1", Amount: sek(100)})
			require.NoError(t, err)
			assert.Equal(t, "b", p.Provider, "it still fails over")
			assert.Equal(t, map[string]FailoverCounts{"a": tt.want, "b": {}}, r.Failovers())
			recs := logs.all()
			require.Len(t, recs, 1)
			assert.Equal(t, tt.wantLevel, recs[0].Level)
			for k, v := range map[string]string{"provider": RouterName, "op": "create payment", "payment_id": "p-1", "from": "a", "to": "b"} {
				assert.Equal(t, v, recs[0].Attrs[k], k)
			}
		})
	}
}

// The Router generates an id in the form of the provider it sends the create to; a
// failover to a provider of another form gets a new id of that form (no id fits a dashed
// GUID and 32 characters at once), and never an id the provider cannot hold.
func TestRouterGeneratedIDFitsTheProviderTried(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		order      []string
		wantForm   *regexp.Regexp
		sameIDKept bool
	}{
		{"Entrecard refuses, eCredits takes a GUID", []string{"entrecard", "ecredits"}, uuidForm, false},
		{"eCredits refuses, Entrecard takes 32 hex digits", []string{"ecredits", "entrecard"}, hex32Form, false},
		{"eCredits refuses, EchelonPay takes the same GUID", []string{"ecredits", "echelon"}, uuidForm, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			forms := map[string]*regexp.Regexp{"entrecard": regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`), "ecredits": uuidForm, "echelon": regexp.MustCompile(`.`)}
			first, second := newIDStub(tt.order[0], forms[tt.order[0]]), newIDStub(tt.order[1], forms[tt.order[1]])
			first.createErr = []error{unprocessed429}
			r := newTestRouter(t, []Provider{first, second}, []Route{{Providers: tt.order}})
			ctx := context.Background()
			p, err := r.CreatePayment(ctx, PaymentRequest{Amount: Money{Amount: 100, Currency: "EUR"}})
			require.NoError(t, err)
			assert.Equal(t, tt.order[1], p.Provider)
			assert.Regexp(t, tt.wantForm, p.ID)
			firstLog := first.callLog()
			require.Len(t, firstLog, 2, "a create and the check that it made nothing")
			firstID := strings.TrimPrefix(firstLog[0], "create ")
			assert.Regexp(t, forms[tt.order[0]], firstID, "the first provider got an id of its form")
			assert.Equal(t, tt.sameIDKept, firstID == p.ID)
			assert.Equal(t, []string{"create " + p.ID}, second.callLog(), "the second provider got an id it can hold")
			owner, ok, err := r.owners.Owner(ctx, p.ID)
			require.NoError(t, err)
			require.True(t, ok)
			assert.Equal(t, tt.order[1], owner)
			got, err := r.GetPayment(ctx, p.ID)
			require.NoError(t, err)
			assert.Equal(t, tt.order[1], got.Provider)
		})
	}
}

// A merchant's id is never changed: a failover keeps it, and an id the next provider cannot
// hold is refused there, never replaced.
func TestRouterMerchantIDIsKept(t *testing.T) {
	t.Parallel()
	a := newIDStub("echelon", regexp.MustCompile(`.`))
	b := newIDStub("entrecard", regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`))
	a.createErr = []error{unprocessed429}
	r := newTestRouter(t, []Provider{a, b}, []Route{{Providers: []string{"echelon", "entrecard"}}})
	id := "order-2024-000042"
	p, err := r.CreatePayment(context.Background(), PaymentRequest{ID: id, Amount: sek(100)})
	require.NoError(t, err)
	assert.Equal(t, id, p.ID)
	assert.Equal(t, "entrecard", p.Provider)
}

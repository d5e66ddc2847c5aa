package ecstertest

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/ecster"
)

// The fake's part-payment terms (ASSUMPTION: figures of the kind Ecster's document names,
// not Ecster's own): a start fee of 395 kr and an admin fee of 29 kr a month, 12 monthly
// payments, no interest.
const (
	termsStartFee = 39500 // öre
	termsAdminFee = 2900  // öre a month
	termsPayments = 12
)

type methodJSON struct {
	Name                  string                 `json:"name"`
	Description           string                 `json:"description"`
	SubMethods            []string               `json:"subMethods"`
	IdentificationMethods []string               `json:"identificationMethods"`
	LocalizedTerms        []ecster.LocalizedTerm `json:"localizedTerms,omitempty"`
}

// queryCheck validates the query parameters the two endpoints share.
func queryCheck(r *http.Request) (amount int64, msg string) {
	q := r.URL.Query()
	if v := q.Get("locale"); v != "" {
		if _, err := ecster.ParseLocale(v); err != nil {
			return 0, "locale: " + err.Error()
		}
	}
	if v := q.Get("nationality"); v != "" && (len(v) != 2 || strings.ToUpper(v) != v) {
		return 0, "nationality must be an ISO 3166-1 alpha-2 code."
	}
	if v := q.Get("currency"); v != "" {
		if _, ok := paykit.CurrencyExponent(v); !ok {
			return 0, "currency must be an ISO 4217 code."
		}
	}
	if v := q.Get("amount"); v != "" {
		a, err := strconv.ParseInt(v, 10, 64)
		if err != nil || a < 0 {
			return 0, "amount must be a non-negative integer (minor units)."
		}
		amount = a
	}
	return amount, ""
}

// paymentMethods serves GET /v1/paymentmethods: invoice and part payment, in Swedish.
func (s *Server) paymentMethods(r *http.Request) response {
	if _, msg := queryCheck(r); msg != "" {
		return invalid(msg)
	}
	methods := []methodJSON{
		{Name: ecster.MethodInvoice, Description: "Faktura", SubMethods: []string{"INVOICE_SE_1"},
			IdentificationMethods: []string{"SE_BANKID", "SE_BANKID_MOBILE", "ZIP_CODE"}},
		{Name: ecster.MethodPartPayment, Description: "Delbetalning", SubMethods: []string{"PARTPAYMENT_SE_1"},
			IdentificationMethods: []string{"SE_BANKID", "SE_BANKID_MOBILE"}},
	}
	if m := r.URL.Query().Get("paymentMethod"); m != "" {
		var kept []methodJSON
		for _, pm := range methods {
			if strings.EqualFold(pm.Name, m) {
				kept = append(kept, pm)
			}
		}
		methods = kept
	}
	return jsonResponse(http.StatusOK, map[string]any{
		"paymentMethods": methods,
		"localizedInfo": []ecster.LocalizedTerm{
			{ID: "name", Text: "Betalsätt", Value: "Ecster"},
		},
	})
}

// terms serves GET /v1/paymentmethods/terms for PARTPAYMENT: the localized terms of 12
// monthly payments of the amount.
func (s *Server) terms(r *http.Request) response {
	amount, msg := queryCheck(r)
	if msg != "" {
		return invalid(msg)
	}
	q := r.URL.Query()
	if m := q.Get("paymentMethod"); m != "" && !ecster.IsPartPayment(m) {
		return invalid("terms are given for PARTPAYMENT.")
	}
	if amount <= 0 {
		return invalid("amount is required.")
	}
	total := amount + termsStartFee + termsAdminFee*termsPayments
	perMonth := (total + termsPayments - 1) / termsPayments
	nationality := q.Get("nationality")
	if nationality == "" {
		nationality = "SE"
	}
	return jsonResponse(http.StatusOK, map[string]any{
		"method":      ecster.MethodPartPayment,
		"submethod":   "PARTPAYMENT_SE_1",
		"nationality": nationality,
		"localizedTerms": []ecster.LocalizedTerm{
			{ID: ecster.TermName, Text: "Namn", Value: "Delbetalning 12 mån"},
			{ID: ecster.TermStartFee, Text: "Uppläggningsavgift", Value: kronor(termsStartFee), Unit: "kr"},
			{ID: ecster.TermAdminFee, Text: "Administrativ avgift", Value: kronor(termsAdminFee), Unit: "kr"},
			{ID: ecster.TermInterestRate, Text: "Ränta", Value: "0,00", Unit: "%"},
			{ID: ecster.TermPayments, Text: "Antal betalningar", Value: strconv.Itoa(termsPayments), Unit: "st"},
			{ID: ecster.TermPerMonth, Text: "Per månad", Value: kronor(perMonth), Unit: "kr"},
			{ID: ecster.TermTotalAmount, Text: "Totalt belopp", Value: kronor(total), Unit: "kr"},
		},
	})
}

// kronor formats öre as whole kronor, rounded up, as Ecster's pre-formatted values ("395").
func kronor(ore int64) string { return strconv.FormatInt((ore+99)/100, 10) }

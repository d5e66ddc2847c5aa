package paykit

//go:generate go run ./internal/cmd/gencurrency -o currency_table.go

// ownCurrencies are the units paykit adds to ISO 4217: they are no ISO codes (ECS was once
// the Ecuadorian sucre's code, withdrawn in 2000; here it is only eCredits).
var ownCurrencies = map[string]int{
	"ECS": 2, // eCredits
	"EC":  0, // Entrecard credits
}

// CurrencyExponent reports how many minor-unit digits currency has (2 for EUR, 0 for JPY,
// 3 for KWD), and whether paykit knows the currency at all.
//
// paykit knows every code of ISO 4217 list one that has minor units (the active currencies
// and funds codes; the edition and its recent changes, such as ZWG and XCG, are listed in
// internal/iso4217/list.tsv, from which the table is generated), plus ECS (eCredits, 2) and
// EC (Entrecard credits, 0). Codes are upper case. Codes whose minor unit ISO gives as N.A.
// (gold XAU and the other metals, units of account such as XDR, the testing code XTS, XXX)
// and withdrawn codes (HRK, ZWL, ANG, SLL, VEF, …) are unknown: no payment is made in them.
// A provider accepts only the currencies it supports, which are far fewer.
func CurrencyExponent(currency string) (int, bool) {
	if e, ok := isoExponents[currency]; ok {
		return e, true
	}
	e, ok := ownCurrencies[currency]
	return e, ok
}

package entrecard

// FeePermille is Entrecard's fee on API payments: 12.5 % of the total, taken from the
// seller (125 ‰).
const FeePermille = 125

// Fee returns the credits Entrecard keeps of a payment of total credits: 12.5 %, that is
// total/8, rounded up to a whole credit. The document does not say how Entrecard rounds;
// rounding the fee up means SellerProceeds never promises a credit more than can arrive.
// A total of zero or less has no fee.
//
//	Fee(100) == 13 (12.5 rounded up), Fee(80) == 10, Fee(7) == 1
func Fee(total int64) int64 {
	if total <= 0 {
		return 0
	}
	// total/8 plus one for a remainder, instead of (total+7)/8, which overflows near MaxInt64.
	fee := total / 8
	if total%8 != 0 {
		fee++
	}
	return fee
}

// SellerProceeds returns what the seller receives of a payment of total credits: total minus
// Fee(total), which is 87.5 % of total rounded down.
func SellerProceeds(total int64) int64 {
	if total <= 0 {
		return 0
	}
	return total - Fee(total)
}

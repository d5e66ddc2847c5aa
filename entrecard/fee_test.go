package entrecard_test

import (
	"math"
	"testing"

	"github.com/paykit/paykit/entrecard"
)

func TestFee(t *testing.T) {
	t.Parallel()
	tests := []struct {
		total, fee, proceeds int64
	}{
		{0, 0, 0},
		{-8, 0, 0},
		{1, 1, 0},    // 0.125 rounds up
		{2, 1, 1},    // 0.25
		{4, 1, 3},    // 0.5: up, not to even
		{7, 1, 6},    // 0.875
		{8, 1, 7},    // exact
		{9, 2, 7},    // 1.125
		{80, 10, 70}, // exact
		{100, 13, 87},
		{1000, 125, 875},
		{1001, 126, 875},
		{math.MaxInt64, math.MaxInt64/8 + 1, math.MaxInt64 - (math.MaxInt64/8 + 1)}, // no overflow
	}
	for _, tt := range tests {
		if got := entrecard.Fee(tt.total); got != tt.fee {
			t.Errorf("Fee(%d) = %d, want %d", tt.total, got, tt.fee)
		}
		if got := entrecard.SellerProceeds(tt.total); got != tt.proceeds {
			t.Errorf("SellerProceeds(%d) = %d, want %d", tt.total, got, tt.proceeds)
		}
	}
}

// The rounding rule, over a range: the fee is the smallest whole number of credits not below
// 12.5 % of the total, and fee plus proceeds is always the total.
func TestFeeRounding(t *testing.T) {
	t.Parallel()
	for total := int64(1); total <= 10000; total++ {
		fee := entrecard.Fee(total)
		// 12.5 % of total is total×125/1000 = total/8; fee is the ceiling when 8·fee >= total > 8·(fee−1).
		if 8*fee < total || 8*(fee-1) >= total {
			t.Fatalf("Fee(%d) = %d is not 12.5 %% rounded up", total, fee)
		}
		if fee+entrecard.SellerProceeds(total) != total {
			t.Fatalf("Fee + SellerProceeds != total for %d", total)
		}
		if total*entrecard.FeePermille/1000 > fee {
			t.Fatalf("Fee(%d) = %d is below FeePermille", total, fee)
		}
	}
}

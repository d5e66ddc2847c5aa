package entrecard_test

import (
	"testing"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/entrecard"
)

func TestStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s        entrecard.ResultStatus
		want     paykit.Status
		complete bool
	}{
		{entrecard.ResultComplete, paykit.StatusSucceeded, true},
		{entrecard.ResultEscrow, paykit.StatusSucceeded, true},
		{entrecard.ResultFailed, paykit.StatusFailed, false},
		{entrecard.ResultCancelled, paykit.StatusCanceled, false},
		{"canceled", paykit.StatusUnknown, false}, // the American spelling is not Entrecard's
		{"COMPLETE", paykit.StatusUnknown, false},
		{"refunded", paykit.StatusUnknown, false},
		{"", paykit.StatusUnknown, false},
	}
	for _, tt := range tests {
		if got := tt.s.PaykitStatus(); got != tt.want {
			t.Errorf("ResultStatus(%q).PaykitStatus() = %q, want %q", tt.s, got, tt.want)
		}
		if got := tt.s.IsComplete(); got != tt.complete {
			t.Errorf("ResultStatus(%q).IsComplete() = %v, want %v", tt.s, got, tt.complete)
		}
	}
}

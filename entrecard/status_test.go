package entrecard_test

import (
	"testing"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/entrecard"
)

func TestStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s        entrecard.Status
		want     paykit.Status
		complete bool
	}{
		{entrecard.StatusComplete, paykit.StatusSucceeded, true},
		{entrecard.StatusEscrow, paykit.StatusSucceeded, true},
		{entrecard.StatusFailed, paykit.StatusFailed, false},
		{entrecard.StatusCancelled, paykit.StatusCanceled, false},
		{"canceled", paykit.StatusUnknown, false}, // the American spelling is not Entrecard's
		{"COMPLETE", paykit.StatusUnknown, false},
		{"refunded", paykit.StatusUnknown, false},
		{"", paykit.StatusUnknown, false},
	}
	for _, tt := range tests {
		if got := tt.s.PaykitStatus(); got != tt.want {
			t.Errorf("Status(%q).PaykitStatus() = %q, want %q", tt.s, got, tt.want)
		}
		if got := tt.s.IsComplete(); got != tt.complete {
			t.Errorf("Status(%q).IsComplete() = %v, want %v", tt.s, got, tt.complete)
		}
	}
}

package entrecard

import "github.com/paykit/paykit"

// Status is a result's status word as Entrecard sends it. Words the document does not list
// are kept as they came.
type Status string

// The statuses of Entrecard's document.
const (
	// StatusCancelled: the buyer cancelled.
	StatusCancelled Status = "cancelled"
	// StatusFailed: the buyer had too few credits.
	StatusFailed Status = "failed"
	// StatusComplete: the credits were transferred.
	StatusComplete Status = "complete"
	// StatusEscrow: the credits went into escrow until the buyer confirms the service; the
	// document says to treat it as complete.
	StatusEscrow Status = "escrow"
)

// IsComplete reports whether s means the buyer paid: complete, or escrow.
func (s Status) IsComplete() bool { return s == StatusComplete || s == StatusEscrow }

// PaykitStatus maps s to paykit's vocabulary: complete and escrow are succeeded, failed is
// failed, cancelled is canceled, and any other word is StatusUnknown (never failed).
func (s Status) PaykitStatus() paykit.Status {
	switch s {
	case StatusComplete, StatusEscrow:
		return paykit.StatusSucceeded
	case StatusFailed:
		return paykit.StatusFailed
	case StatusCancelled:
		return paykit.StatusCanceled
	}
	return paykit.StatusUnknown
}

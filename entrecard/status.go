package entrecard

import "github.com/paykit/paykit"

// ResultStatus is a result's status word as Entrecard sends it. Words the document does not list
// are kept as they came.
type ResultStatus string

// The statuses of Entrecard's document.
const (
	// ResultCancelled: the buyer cancelled.
	ResultCancelled ResultStatus = "cancelled"
	// ResultFailed: the buyer had too few credits.
	ResultFailed ResultStatus = "failed"
	// ResultComplete: the credits were transferred.
	ResultComplete ResultStatus = "complete"
	// ResultEscrow: the credits went into escrow until the buyer confirms the service; the
	// document says to treat it as complete.
	ResultEscrow ResultStatus = "escrow"
)

// IsComplete reports whether s means the buyer paid: complete, or escrow.
func (s ResultStatus) IsComplete() bool { return s == ResultComplete || s == ResultEscrow }

// PaykitStatus maps s to paykit's vocabulary: complete and escrow are succeeded, failed is
// failed, cancelled is canceled, and any other word is StatusUnknown (never failed).
func (s ResultStatus) PaykitStatus() paykit.Status {
	switch s {
	case ResultComplete, ResultEscrow:
		return paykit.StatusSucceeded
	case ResultFailed:
		return paykit.StatusFailed
	case ResultCancelled:
		return paykit.StatusCanceled
	}
	return paykit.StatusUnknown
}

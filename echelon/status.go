package echelon

import (
	"time"

	"github.com/paykit/paykit"
)

// ProcessStatus is a payin's or payout's process.status as EchelonPay writes it. The
// document publishes only SUCCESS; the others are paykit's reading of the platform's
// lifecycle (an ASSUMPTION: the document lists none), and any other word is kept as it is and maps to
// paykit.StatusUnknown, never to a failure.
type ProcessStatus string

// The process statuses paykit knows, of payins and payouts alike. They are named after what
// they are the status of (a process), so that none reads like paykit's own Status values:
// ProcessSuccess is EchelonPay's word, paykit.StatusSucceeded what it maps to.
const (
	ProcessNew        ProcessStatus = "NEW"
	ProcessPending    ProcessStatus = "PENDING"
	ProcessProcessing ProcessStatus = "PROCESSING"
	ProcessSuccess    ProcessStatus = "SUCCESS"
	ProcessFailed     ProcessStatus = "FAILED"
	ProcessRejected   ProcessStatus = "REJECTED"
	ProcessCancelled  ProcessStatus = "CANCELLED"
	ProcessExpired    ProcessStatus = "EXPIRED"
)

// PaykitStatus maps s to paykit's vocabulary: NEW, PENDING, PROCESSING are pending; SUCCESS
// succeeded; FAILED, REJECTED failed; CANCELLED canceled; EXPIRED expired; anything else
// unknown.
func (s ProcessStatus) PaykitStatus() paykit.Status {
	switch s {
	case ProcessNew, ProcessPending, ProcessProcessing:
		return paykit.StatusPending
	case ProcessSuccess:
		return paykit.StatusSucceeded
	case ProcessFailed, ProcessRejected:
		return paykit.StatusFailed
	case ProcessCancelled:
		return paykit.StatusCanceled
	case ProcessExpired:
		return paykit.StatusExpired
	}
	return paykit.StatusUnknown
}

// timeLayouts are the forms of a time paykit reads from EchelonPay, whose document shows
// none (an ASSUMPTION): RFC 3339 with or without fraction digits, and the same without a
// zone, taken as UTC.
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05"}

// parseTime reads a time leniently: one paykit cannot read is left zero rather than failing a
// payment whose amount and status are clear.
func parseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

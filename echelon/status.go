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

// The statuses paykit knows.
const (
	StatusNew        ProcessStatus = "NEW"
	StatusPending    ProcessStatus = "PENDING"
	StatusProcessing ProcessStatus = "PROCESSING"
	StatusSuccess    ProcessStatus = "SUCCESS"
	StatusFailed     ProcessStatus = "FAILED"
	StatusRejected   ProcessStatus = "REJECTED"
	StatusCancelled  ProcessStatus = "CANCELLED"
	StatusExpired    ProcessStatus = "EXPIRED"
)

// PaykitStatus maps s to paykit's vocabulary: NEW, PENDING, PROCESSING are pending; SUCCESS
// succeeded; FAILED, REJECTED failed; CANCELLED canceled; EXPIRED expired; anything else
// unknown.
func (s ProcessStatus) PaykitStatus() paykit.Status {
	switch s {
	case StatusNew, StatusPending, StatusProcessing:
		return paykit.StatusPending
	case StatusSuccess:
		return paykit.StatusSucceeded
	case StatusFailed, StatusRejected:
		return paykit.StatusFailed
	case StatusCancelled:
		return paykit.StatusCanceled
	case StatusExpired:
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

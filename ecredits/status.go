package ecredits

import (
	"strconv"
	"time"

	"github.com/paykit/paykit"
)

// RequestStatus is a transaction request's status as the webhook numbers it.
type RequestStatus int

// The statuses of a transaction request.
const (
	RequestPending RequestStatus = 0 // not fully paid yet
	RequestSettled RequestStatus = 1 // paid
	RequestExpired RequestStatus = 2 // not paid in time; a new request is needed
)

// String returns the document's name of s, or "Unknown(n)".
func (s RequestStatus) String() string {
	switch s {
	case RequestPending:
		return "Pending"
	case RequestSettled:
		return "Settled"
	case RequestExpired:
		return "Expired"
	}
	return "Unknown(" + strconv.Itoa(int(s)) + ")"
}

// PaykitStatus maps s to paykit's vocabulary; an unknown value is StatusUnknown.
func (s RequestStatus) PaykitStatus() paykit.Status {
	switch s {
	case RequestPending:
		return paykit.StatusPending
	case RequestSettled:
		return paykit.StatusSucceeded
	case RequestExpired:
		return paykit.StatusExpired
	}
	return paykit.StatusUnknown
}

// statusOf derives a request's status as paykit decides (the document is silent): /paid true is settled
// (paid wins even after expiresAt: the money arrived); else past expiresAt is expired; else
// pending.
func statusOf(paid bool, expiresAt, now time.Time) RequestStatus {
	switch {
	case paid:
		return RequestSettled
	case !expiresAt.IsZero() && !now.Before(expiresAt):
		return RequestExpired
	}
	return RequestPending
}

// now is swappable so tests can move time.
var now = time.Now

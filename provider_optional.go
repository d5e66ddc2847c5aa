package paykit

// The optional interfaces below let a Provider say more about itself than the Provider
// interface does. The Router and NewWebhookHandler look for them with a type assertion; a
// Provider without them gets the defaults each one names. Every provider package in this
// module implements those that apply to it.

// IDMaker is implemented by a Provider whose payment ids have a form of their own
// (Entrecard: at most 32 characters; eCredits: a GUID). The Router generates the ids of
// creates without one through it. Default: a dashed lowercase UUID.
type IDMaker interface {
	// NewID returns a new payment id the provider takes.
	NewID() string
}

// IDChecker is implemented by a Provider that can tell, before sending anything, whether it
// takes a payment id. After a failover the Router gives a payment id it generated to the
// next provider only if that provider takes it, and otherwise makes a new one there.
// Default: every id that passes the shared id rule is taken.
type IDChecker interface {
	// CheckID returns an error matching ErrInvalidRequest when the provider cannot hold id.
	CheckID(id string) error
}

// NotificationMethoder is implemented by a Provider that notifies with other HTTP methods
// than POST (Entrecard appends its result to the notify URL's query and may send a GET).
// NewWebhookHandler answers any other method 405 with an Allow header. Default: POST only.
type NotificationMethoder interface {
	// NotificationMethods returns the HTTP methods the provider notifies with.
	NotificationMethods() []string
}

// Package paykit takes payments through Ecster, EchelonPay, Entrecard and eCredits behind one
// interface, Provider, while each provider's full native API stays available in its own
// package (ecster, echelon, entrecard, ecredits). Every provider package has an in-process
// fake (ecster/ecstertest, …) so that a merchant can test the whole flow without a network.
//
// # Payments
//
// A merchant creates a payment with Provider.CreatePayment and a PaymentRequest whose ID is
// the merchant's own id for the payment. That id is the one handle: it is the idempotency key
// (repeating the create with it returns the payment as it stands, never a second payment or
// a new way to pay a paid one), and GetPayment, Capture, Refund and Cancel take it. Store it
// with the order before calling: each provider package's NewID makes one, and every
// CreatePayment error carries it in Error.PaymentID, also when paykit generated it.
//
// Money is an integer amount in the minor units of its currency (99.99 EUR is
// Money{9999, "EUR"}); providers that take decimals get exact decimal strings, never float64.
// A Payment's Action says what the customer must do next: follow a redirect, scan a QR code,
// or hand a token to the provider's front-end script.
//
// # Errors
//
// Every error is an *Error; test it with errors.Is against the sentinels (ErrInvalidRequest,
// ErrUnauthorized, ErrNotFound, ErrConflict, ErrUnprocessable, ErrRateLimited,
// ErrUnavailable, ErrInvalidSignature, ErrUnsupported, ErrAmountMismatch). A request that is
// wrong is refused before anything is sent. A call ended by the caller's own context matches
// context.Canceled or context.DeadlineExceeded, never ErrUnavailable or ErrRateLimited. Error
// text never holds a secret, a token or a signature.
//
// # Retries
//
// A request is retried only when repeating it cannot charge twice: GETs, 429s, failures
// before the request was written, and creates keyed by the merchant's id (a repeat answering
// 409 is resolved by fetching what exists). Backoff is exponential with full jitter;
// Retry-After is honoured; a wait that would outlast the context's deadline is not started.
// The Options (WithRetry, WithTimeout, WithRateLimit, WithLimiter, WithLogger, …) are the
// same for every provider.
//
// # Webhooks
//
// NewWebhookHandler serves a provider's notifications: it verifies them, refuses what is
// malformed without changing anything, fetches the payment (a notification is only a
// signal: fn sees the fetched state), runs fn once per event even when copies arrive at the
// same moment, and answers so that the provider delivers again whenever fn did not succeed.
// A DedupStore shared by replicas (package redisstore) keeps that promise across processes.
package paykit

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
// paykit.Money{Amount: 9999, Currency: "EUR"}); providers that take decimals get exact
// decimal strings, never float64. paykit knows every currency of ISO 4217 list one that has
// minor units, with ISO's exponents (KWD 3, JPY 0, CLF 4: see CurrencyExponent), plus ECS
// (eCredits) and EC (Entrecard credits); each provider takes only the ones it supports.
// A Payment's Action says what the customer must do next: follow a redirect, scan a QR code,
// or hand a token to the provider's front-end script.
//
// Payment, Action, Money, Notification and PaymentRequest marshal to the JSON a merchant's own
// API would serve: snake_case names (provider_id, qr_code, created_at), Money as
// {"amount": 9999, "currency": "EUR"} in minor units, times in RFC 3339, and what is absent
// (no action, a zero time) left out.
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
//
// # Writing your own Provider
//
// A Provider written outside paykit, for a provider it has no package for or for an
// in-house payment method, works in a Router and behind NewWebhookHandler like paykit's own
// (the package's CustomProvider example is a whole one, run as a test). The exported
// plumbing that paykit's provider packages use is there for it; a merchant who only takes
// payments never needs it:
//
//   - Settings and NewSettings: the Options every provider's New takes (WithHTTPClient,
//     WithTimeout, WithRetry, WithRateLimit, WithLimiter, WithLogger, WithUserAgent), applied
//     over the defaults and checked. Take opts ...Option in your constructor, call
//     NewSettings(opts...), and send through Settings.HTTPClient, waiting on
//     Settings.Limiter (when not nil) before every request.
//   - PaymentRequest.Validate: the rules every provider shares (a positive amount in a known
//     currency, items that add up, absolute http(s) URLs); add your provider's own after it.
//   - NewCallOptions and CallOptions.Validate: the options of a Capture, Refund or Cancel
//     (IdempotencyKey). With a key, the same (payment id, operation, key) must act at most
//     once, from any process: keep the key where every replica sees it, at the provider if
//     it can hold one, and answer a repeat with the payment as it is now; the same key with
//     another amount is ErrConflict.
//   - CheckAmount: the amount of a Capture or Refund, before anything is sent: the zero
//     Money means all that remains, an amount of 0 with a currency is ErrInvalidRequest.
//   - Error, the sentinels and KindForStatus: return an *Error whose Kind is a sentinel;
//     KindForStatus maps an HTTP status to it (404 ErrNotFound, 422 ErrUnprocessable, …).
//     Set Error.PaymentID on every error about a payment, and Error.Unprocessed when the
//     provider certainly did nothing: only then may a Router fail over a create.
//   - ReadNotificationBody: ParseNotification's way to read the body, bounded by the
//     WithMaxBodyBytes limit of the NewWebhookHandler serving the request. Refuse a bad
//     signature with ErrInvalidSignature (the handler answers 401) and anything malformed
//     with ErrInvalidRequest (400), and set Notification.DedupKey only from what the
//     provider signed.
//   - WebhookSettings, NewWebhookSettings, RefusalStatus and PaymentStateKey: for a handler
//     of your own for other notifications than payments' (as echelon's payout callbacks):
//     the dedupe store, body limit and logger that WebhookOptions set, the status to answer
//     for a refused notification's error, and the key NewWebhookHandler gives the state of a
//     payment when a notification carries no signed identity.
//
// CreatePayment must be idempotent on PaymentRequest.ID (a repeat returns the payment as it
// stands, never a second one), and every method takes the merchant's id, not the
// provider's.
package paykit

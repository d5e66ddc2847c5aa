// Package ecredits is paykit's client for the eCredits Widget API: crypto payments in ECS,
// paid by scanning a QR code with the eCredits eWallet app. It follows the provider's
// document "eCredits Widget API" (https://docs.ecredits.com/developers/ecredits_widget_api)
// and paykit's design decisions where the document is silent.
//
// The native API is one method per endpoint: Authenticate, CreateRequest, GetRequest,
// Payments, Paid, plus WaitPaid (polling with backoff) and VerifyWebhook/Sign. The Client is
// also a paykit.Provider: CreatePayment returns a payment whose Action is a QR code.
//
// # Authentication
//
// Config.ClientID and Config.Secret (the API key from the Portal's Web Widget section) buy a
// JWT from POST /api/authentication. The client caches it and refreshes it before expiresAt,
// by min(60 s, a tenth of its lifetime); any number of concurrent calls share one refresh,
// and a 401 causes one refresh and one retry. No goroutine runs in the background.
//
// # Amounts
//
// Amounts are paykit.Money in minor units. A request is made in ECS or EUR; eCredits
// converts EUR to ECS. Payment.Amount is what was asked (EUR stays EUR); Request.AmountDue
// keeps the ECS figure. Decimals go on the wire as exact JSON numbers made from integers and
// are read back exactly; an answer whose amount differs from the one asked is
// paykit.ErrAmountMismatch.
//
// # Errors
//
// Every error is a *paykit.Error; test it with errors.Is against paykit's sentinels
// (ErrInvalidRequest, ErrUnauthorized, ErrNotFound, ...). eCredits' error bodies, RFC 7807
// problem documents, are read leniently into Error.Type and Error.Message, and kept raw in
// Error.Body. Invalid input (an id that breaks the id rule below, a currency other than ECS
// or EUR, a non-positive amount) is refused before anything is sent.
//
// # Retries
//
// GETs and the authentication call are retried on network failures, 429 and 5xx. Creating a
// request is keyed by its GUID, so it is retried too: when a repeat answers 409 because the
// first attempt did create it, the existing request is fetched and returned. Backoff and
// limits come from paykit.WithRetry, WithTimeout and WithRateLimit.
//
// # Webhooks
//
// The webhook URL is configured in the eCredits Portal, not per request, so
// PaymentRequest.NotifyURL is not used. eCredits signs only the request id:
// base64(HMAC-SHA256(key = WebhookSecret, message = lowercase(id))). ParseNotification
// verifies it in constant time; paykit.NewWebhookHandler then fetches the request and its
// paid flag before calling the merchant's function, because the status in the body is not
// signed. For the same reason a notification carries no DedupKey: nothing signed tells one
// event from another, or from a replay with another status or transaction hash. The handler
// keys it on the fetched state instead, so the merchant's function runs once per state
// (pending, paid, expired) however often and in whatever order webhooks arrive. A customer
// who pays the same request twice changes nothing the unified Payment shows; Payments lists
// the transaction hashes, and the second is refunded in the Portal.
//
// The signature covers the lower-cased id, so a webhook replayed with the id's letters in
// another case verifies too. It is the same payment: Notification.PaymentID and the fetched
// Payment.ID are the canonical, lower-case id, which is what the handler keys on, so such a
// replay runs nothing more.
//
// Without Config.WebhookSecret nothing can be verified, and ParseNotification refuses every
// webhook with paykit.ErrInvalidSignature (the handler answers 401) saying that the
// WebhookSecret is not configured: an empty key never verifies anything.
//
// # Ids
//
// A payment's id is a GUID the merchant chooses (NewID makes one), and it is the idempotency
// key: store it with the order before calling CreatePayment. Every CreatePayment error carries
// it in paykit.Error.PaymentID, also when paykit generated it, so that a create whose answer
// was lost can be repeated with the same id. A repeat returns the request as it stands: a paid
// one succeeded without an Action, never a new QR code.
//
// Every id passes paykit's id rule before anything is sent (not empty, not "." or "..", no
// control characters, valid UTF-8, at most 64 bytes) and then eCredits' own, a GUID; an id
// that does not is paykit.ErrInvalidRequest, and so is a signed webhook naming one (400).
// eCredits compares ids ignoring case; paykit gives them back in lower case, their canonical
// form (Payment.ID, Notification.PaymentID), so store and compare them that way (NewID's are
// lower case already). Concurrent CreatePayment calls with one id on one Client run one after
// the other; between clients and processes eCredits keeps one request per id, and a repeat is
// resolved to it.
//
// # Payments as the merchant sees them
//
// CreatePayment creates the request at eCredits within the call, so GetPayment knows the
// payment as soon as CreatePayment returned, on every client and replica: pending, with the
// QR Action, until it is paid (succeeded) or expires (expired). Payment.Reference is the
// paymentReference eCredits keeps with the request and answers on every read:
// PaymentRequest.Reference, or the payment id (lower case, as Payment.ID) when it is empty.
// CreatePayment, a repeated CreatePayment, GetPayment and the webhook handler's fetch all give
// the same value; a request made without a reference (CreateRequest with no
// PaymentReference) reads as its id.
//
// The native status, RequestStatus, is what a webhook's status number says: RequestPending (0),
// RequestSettled (1) and RequestExpired (2); PaykitStatus maps it to paykit's Status, and
// Payment.ProviderStatus holds its name ("Pending", "Settled", "Expired").
//
// Capture, Refund and Cancel return errors matching paykit.ErrUnsupported: eCredits settles at
// once and refunds are made by hand in the Portal or the app.
//
// # Testing with httpmock
//
// The client calls through the *http.Client given with paykit.WithHTTPClient, as it is, so
// httpmock.ActivateNonDefault(hc) called after New intercepts every call, and nothing goes to
// the network. Package ecreditstest builds the bodies to answer with, exactly as its fake
// eCredits answers them (a test keeps the two the same): AuthBody for POST
// /api/authentication, RequestBody for POST /api/v1/requests and GET /api/v1/requests/{id},
// PaidBody for GET /api/v1/requests/{id}/paid and PaymentsBody for GET
// /api/v1/requests/{id}/payments. CreatePayment calls the first two (a repeat of an existing
// id answers 409 and then also GETs the request and /paid); GetPayment GETs the request and
// /paid. The Example "httpmock" is such a test, whole. For flows with webhooks, time and
// faults, ecreditstest.NewServer is the fake over real HTTP.
package ecredits

// Package ecster is paykit's client for Ecster's REST API (Ecster Pay 2.0 checkout carts and
// order management): Swedish invoice and part payment, where the merchant's backend creates a
// cart, Ecster's checkout script turns it into an order, and the merchant then debits
// (captures), credits (refunds) and annuls through order transactions. It follows Ecster's
// "Shared functions" document (https://developer.ecster.se/appi/api/) and its order
// management pages, and paykit's design decisions where they are silent.
//
// # Ecster stopped taking new orders on 1 May 2023
//
// Handelsbanken, Ecster's owner, wound Ecster down: the last day to place new orders was
// 2023-05-01. For users of this package that means:
//
//   - A new integration cannot go live: no consumer can complete a checkout any more, so
//     CreatePayment and CreateCart against ProductionURL can at best make carts that never
//     become orders. Expect the live API, and SandboxURL, to be gone altogether: calls then
//     fail with paykit.ErrUnavailable.
//   - Merchants who still hold Ecster orders from before that date may manage them (GetOrder,
//     Capture, Refund, Cancel) only for as long as Ecster keeps the API running; ask Ecster
//     or Handelsbanken before relying on it.
//   - This package is tested only against its in-process fake, ecster/ecstertest, which
//     follows the documents; it was never run against the live API, and nothing here can be
//     checked against it any more.
//
// # The native API and the Provider
//
// CreateCart and UpdateCart (an update returns a new key and expires the old one),
// GetOrder and FindOrders, Debit, Credit and Annul, PaymentMethods and PartPaymentTerms (with
// their LocalizedTerms), and Ecster's data types: Amount (minor units), Percent (× 100),
// Date (YYYY-MM-DD), timestamps (FormatTimestamp, ParseTimestamp: ISO 8601 with an offset;
// "Z" is read too), NationalID (SEYYMMDD-XXXX), Locale (sv-SE) and Tag (typed name:tag or
// untyped). Each validates before anything is sent: an invalid value is
// paykit.ErrInvalidRequest and no request goes out.
//
// The Client is also a paykit.Provider. CreatePayment makes a cart (PaymentRequest.Items
// are required: Ecster needs a VAT rate per row) whose key comes back in an
// ActionClientToken for Ecster's checkout script; the payment id is the orderReference.
// GetPayment reads the newest order with that orderReference; Captured is the order's
// debitedAmount, Refunded its creditedAmount, and its status maps as
// OrderStatus.PaykitStatus says (the native statuses are named OrderReady, OrderAnnulled, …,
// so that none reads like paykit's own Status…). Capture is a DEBIT, Refund a CREDIT (split
// over several debits when one has too little left), Cancel an ANNUL of what is not debited;
// the zero Money (paykit.Money{}) captures or refunds all that remains, while an amount of 0
// with a currency (a computed rest that came to nothing) is paykit.ErrInvalidRequest before
// anything is sent. Swish orders, which Ecster charges at purchase (they arrive
// FULLY_DELIVERED), are refunded through Ecster's separate /refunds endpoint, which this
// package does not implement.
//
// Before the consumer completes the checkout there is no order, and Ecster cannot read a
// cart. A payment this Client created is then pending: GetPayment answers it as
// CreatePayment returned it, with the cart key in its Action (the latest key, when a repeated
// CreatePayment replaced the cart), so that an order page shown right after the checkout
// began works; Capture, Refund and Cancel of it are paykit.ErrUnprocessable. The Client
// remembers this for its last 10,000 carts (about 2.3 MB at most). A Client that did not
// create the payment (another replica, or this process after a restart) answers
// paykit.ErrNotFound until the order exists, and so do its operations; a webhook handler is
// not affected, since Ecster sends its first OEN when the order exists.
//
// Payment.Reference is the orderReference, the one reference Ecster keeps with an order and
// answers on every read, and it holds the payment id: every call for one payment (create,
// get, capture, refund, cancel, on any replica) gives the id. PaymentRequest.Reference is
// not sent, since Ecster has nowhere else to keep it: keep the merchant's own order number
// with the id.
//
// # Authentication
//
// Every request carries the headers x-api-key (Config.APIKey, created in Ecster Dashboard)
// and x-merchant-key (Config.MerchantKey, which selects the merchant when one API key serves
// several). There is no token and no signing. Both keys, the OEN header's value and
// NotifySecret are redacted from errors and debug logs, and Config and Client print without
// them.
//
// # Errors
//
// Every error is a *paykit.Error; test it with errors.Is against paykit's sentinels.
// Ecster's error object {code, type, message} fills Error.Code (the integer, as a decimal
// string), Error.Type and Error.Message. Code 4424 ("order is not in a valid state", e.g. a
// debit of an order that is debited already, or not yet approved) is paykit.ErrUnprocessable
// whatever the HTTP status; 401 and 403 are paykit.ErrUnauthorized, 404 ErrNotFound, 400
// ErrInvalidRequest, 429 ErrRateLimited, 5xx ErrUnavailable (DecodeError).
//
// The Provider's operations check what they can before anything is sent, and tell a wrong
// request from a wrong moment. paykit.ErrUnprocessable (nothing sent, Error.Unprocessed) is
// a valid request that the payment's state does not allow now: a Capture after a Cancel or a
// full capture (nothing remains), a second Cancel, a Refund before any capture, an amount
// larger than what remains to capture or to refund but not larger than the order's amount,
// an operation on a payment whose checkout is not completed. paykit.ErrInvalidRequest is a
// request no state of this payment could take, a bug to fix rather than a moment to wait
// for: an amount larger than the order's amount, in another currency than the order's,
// negative, or 0 with a currency; a malformed id or operation key.
//
// # Retries, operation keys, and transactions that are never sent twice blindly
//
// GETs and carts (an unpaid basket charges no one) are retried on network failures, 429 and
// 5xx, with paykit.WithRetry's backoff. Ecster has no idempotency key, so a transaction
// (DEBIT, CREDIT, ANNUL) is never repeated blindly. Each carries a transactionReference unique
// to the operation, "<payment id>-<DEBIT|CREDIT|ANNUL>-<k>":
//
//   - with paykit.IdempotencyKey(key), k is "k" and 16 hex digits of a SHA-256 over the
//     payment id, the type and the key (TransactionReference): the same key always gives the
//     same reference, in any process;
//   - without a key, k is "r" and 16 random hex digits, new for every call. Never a counter:
//     two replicas, or a client before and after a restart, never name two operations alike.
//
// A refund larger than what one debit has left is split over several debits (oldest first);
// its parts are "<id>-CREDIT-<k>.<n>.<total>" (part n of a refund of total, e.g.
// "order-1-CREDIT-k04d5edcd7e21fd53.2.500"). After a failure that may have reached Ecster (a
// timeout, a dropped connection, a 5xx, an answer that cannot be read) the client reads the
// order: a transaction with exactly the reference this call sent means it went through and
// the call succeeds; only when it is not there is it sent again, with the same reference.
// After a failure with no answer at all the read waits the retry policy's backoff first,
// because the transaction may still be on its way. When the order cannot be read, or the
// caller's context ends while the transaction is on its way, nothing is sent again: the error
// (the context's error, or paykit.ErrUnavailable) says that the outcome is unknown and names
// the reference.
//
// What a key guarantees. Before a keyed Capture, Refund or Cancel sends anything, the order is
// read: when the key's transaction is there the operation happened, and the payment comes
// back as it is now, with nothing sent, whichever Client, replica or restarted process
// repeats it and however often; no local store is needed, since the key lives on Ecster's
// order. A keyed refund whose split failed half-way is completed by a repeat: only the
// missing parts are sent. The same key with another explicit amount than its operation's
// (or, for a split, the total it was planned for) is paykit.ErrConflict with nothing sent; a
// repeat with paykit.Money{} ("all") returns the payment as it is. The key is per operation
// type: a capture and a refund with one key are two operations. So: store the key with the
// operation before the first call, and after an error whose outcome is unknown repeat with
// the same key, instead of reading the order and guessing.
//
// What a key cannot do, because Ecster holds no key of its own: two calls with one key at the
// same moment in two processes both find nothing on the order and both send (in one Client
// they run one after the other; repeat only after the first call returned). And a
// transaction held on its way (in a proxy's or Ecster's own queue) for longer than the read's
// wait lands after the read, and the one sent again lands too; a repeat made at once after a
// timeout has the same window, so after a timeout give the first call a moment (the time a
// request can still be in flight) before repeating. A duplicate that landed anyway shows as two transactions with one
// reference and is undone with a CREDIT or, before delivery, an ANNUL.
//
// Without a key every call is its own operation: two Capture calls are two captures (as with
// Stripe), even when the first returned an error that says it may have happened. After such
// an error, wait until the first can no longer be in flight, read the order (GetOrder) and
// look for the reference the error names before deciding. The Provider's creates and
// operations on one payment id are serialized within a Client: two CreatePayment calls with
// one id at the same moment make one cart.
//
// # Testing with httpmock
//
// The fake, ecster/ecstertest, runs Ecster's API in-process for tests of a whole flow. For a
// narrower unit test, mock the API with httpmock instead: give the client an *http.Client of
// the test's own with paykit.WithHTTPClient and intercept it with
// httpmock.ActivateNonDefault (before or after New: the client uses that *http.Client as
// given at every request), and answer the bodies that ecstertest builds, which are exactly
// what the fake answers:
//
//	POST /v1/carts, PUT /v1/carts/{key}     201  ecstertest.CartBody(key)
//	GET  /v1/orders?orderReference=…         200  ecstertest.OrdersBody(orders...) ([] before the checkout)
//	GET  /v1/orders/{orderId}                200  ecstertest.OrderBody(order)
//	POST /v1/orders/{orderId}/transactions   201  ecstertest.TransactionBody(status, transaction)
//	an error                                 ecstertest.ErrorBody(status, code, message)
//
// ecstertest.NewOrder makes the order the fake's Pay makes (READY, an invoice, its INITIAL
// transaction), to change as a test needs. The package's Example_httpmock is a whole test
// this way: create, read before and after the checkout, capture.
//
// # OENs
//
// Ecster posts an Order Event Notification, {orderId, orderReference, status, time, event},
// to the cart's notificationUrl (PaymentRequest.NotifyURL), again every 2 hours until it gets
// 200, 24 times. OENs are unsigned signals; mount paykit.NewWebhookHandler there, which
// fetches the payment before calling the merchant's function. ParseNotification checks:
//
//   - the custom header agreed with Ecster, when Config.NotificationHeader is set (constant
//     time; missing or wrong is paykit.ErrInvalidSignature, answered 401). Configure it:
//     without it anyone who can reach the URL can make the handler fetch an order (the
//     function runs only for a state it has not seen);
//   - with Config.NotifySecret, the paykit_id and paykit_sig that the SDK added to the
//     notificationUrl (see paykit's "Signed notify URLs"): a forged OEN is refused before
//     anything is fetched, and one without orderReference takes the signed id.
//
// An OEN without orderReference and without a signed id is resolved through GET
// /v1/orders/{orderId}; when that fails the handler answers 503 and Ecster delivers again.
// The spellings PARTIAL_DEDIT and FULL_DEDIT of Ecster's document are read as PARTIAL_DEBIT
// and FULL_DEBIT, the status ANNULED as ANNULLED. The notification's DedupKey is empty:
// nothing in an OEN is signed (the header authenticates the sender at best, and an OEN
// replayed with a made-up time would look like a new event), so the handler keys each OEN
// on the payment state it fetched: a redelivery, a replay or a forgery of an unchanged state
// runs the function once; a new state (a debit, a credit) runs it again.
//
// # Ids
//
// A payment's id is Ecster's orderReference, at most 64 characters (NewID makes one). Every
// id that goes into a URL path or query (payment ids, order ids, cart keys) is checked before
// anything is sent: not empty, not "." or ".." (a dot-segment a proxy would resolve to
// another endpoint), valid UTF-8 without control characters, at most 64 bytes; a bad one is
// paykit.ErrInvalidRequest. Store the id with the order before calling CreatePayment; every
// CreatePayment error carries it in paykit.Error.PaymentID. A repeat for an id whose order
// exists returns the order as it stands and makes no new cart.
package ecster

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
// GetPayment reads the newest order with that orderReference (paykit.ErrNotFound while the
// consumer has not completed the checkout); Captured is the order's debitedAmount, Refunded
// its creditedAmount, and its status maps as OrderStatus.PaykitStatus says. Capture is a
// DEBIT, Refund a CREDIT (split over several debits when one has too little left), Cancel an
// ANNUL of what is not debited; a zero Money captures or refunds all that remains, and an
// amount above that is refused before anything is sent. Swish orders, which Ecster charges
// at purchase (they arrive FULLY_DELIVERED), are refunded through Ecster's separate
// /refunds endpoint, which this package does not implement.
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
// # Retries, and transactions that are never sent twice blindly
//
// GETs and carts (an unpaid basket charges no one) are retried on network failures, 429 and
// 5xx, with paykit.WithRetry's backoff. Ecster has no idempotency key, so a transaction
// (DEBIT, CREDIT, ANNUL) is never repeated blindly. Each carries a transactionReference unique
// to the operation; the Provider's are TransactionReference(id, type, n), e.g.
// "order-1001-DEBIT-2", where n is one more than the highest n of that payment and type on
// the order when the operation starts (and than any n this client sent whose outcome stayed
// unknown), so two captures of the same amount are two references. After a failure that may
// have reached Ecster (a timeout, a dropped connection, a 5xx, an answer that cannot be
// read) the client reads the order: a transaction with the reference there means it went
// through and the call succeeds; only when it is not there is it sent again, with the same
// reference. After a failure with no answer at all (a timeout, a dropped connection) the
// read waits the retry policy's backoff first, because the transaction may still be on its
// way. When the order cannot be read, or the caller's context ends while the transaction is
// on its way, nothing is sent again: the error (the context's error, or
// paykit.ErrUnavailable) says that the outcome is unknown and names the reference.
//
// What remains, and cannot be closed without an idempotency key at Ecster: a transaction
// held on its way (in a proxy's or Ecster's own queue) for longer than that wait lands after
// the read, and the one sent again lands too. After an error whose outcome is unknown, do
// not capture again at once: Capture takes an amount, not an idempotency key, so a second
// call is a second capture. Wait until the first can no longer be in flight (minutes, not
// milliseconds), call GetPayment, and look for the reference the error names in the order's
// transactions (GetOrder) before deciding; a duplicate that landed anyway is undone with a
// CREDIT or, before delivery, an ANNUL. The Provider's transactions on one payment are
// serialized within a process; run them from one process at a time.
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
//     without it anyone who can reach the URL can make the handler fetch an order and, with a
//     new time, run the function again (with the true, fetched state);
//   - with Config.NotifySecret, the paykit_id and paykit_sig that the SDK added to the
//     notificationUrl (see paykit's "Signed notify URLs"): a forged OEN is refused before
//     anything is fetched, and one without orderReference takes the signed id.
//
// An OEN without orderReference and without a signed id is resolved through GET
// /v1/orders/{orderId}; when that fails the handler answers 503 and Ecster delivers again.
// The spellings PARTIAL_DEDIT and FULL_DEDIT of Ecster's document are read as PARTIAL_DEBIT
// and FULL_DEBIT, the status ANNULED as ANNULLED. The DedupKey is made of the order id, time,
// status and event (and the transaction id when an OEN carries one), so a redelivery runs
// the function once and a new event runs it again.
//
// # Ids
//
// A payment's id is Ecster's orderReference, at most 64 characters (NewID makes one). Store
// it with the order before calling CreatePayment; every CreatePayment error carries it in
// paykit.Error.PaymentID. A repeat for an id whose order exists returns the order as it
// stands and makes no new cart.
package ecster

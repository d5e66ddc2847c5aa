// Package entrecard is paykit's client for Entrecard's Payments API ("uapi", 2008): the buyer
// pays a seller in Entrecard credits (EC) by following a signed "Buy now" link, and
// Entrecard reports a signed result to the seller's notify URL and on the buyer's way back.
// It follows the provider's document, the "Payments API" page of Entrecard's wiki
// (http://entrecard.com/docs/doku.php?id=payments_api, last modified 2008-11-04), and paykit's
// design decisions where the document is silent.
//
// The native API is BuyURL (a validated, signed link), Sign, ResultQuery and VerifyResult (the
// result's signature), ReadNotification and ParseRedirect/ReadRedirect (results as they
// arrive), Fee and SellerProceeds, and a Store of orders and results. The Client is also a
// paykit.Provider: CreatePayment returns a pending payment whose Action redirects to the buy
// link, and GetPayment answers from the store.
//
// # Addresses
//
// Links point to DefaultBaseURL, http://entrecard.com/uapi/1, the documented address. It is
// plain http, the only non-https default in paykit, because that is what Entrecard
// documented; the SDK itself never calls it, only the buyer's browser does. Config.BaseURL
// changes it, e.g. to an entrecardtest server. There is no sandbox address.
//
// # Authentication
//
// Entrecard shares a Seller Secret (the Payments API key) with each seller. A link is signed
// with the lowercase hex SHA-1 of
//
//	seller=V&id=V&description=V&quantity=V&cost=V&notify=V&success=V&cancel=V
//
// followed directly by the secret, each V encoded with url.QueryEscape (a space is '+') and
// the parameters in this, the documented, order. A result is signed the same way over
//
//	seller_id=V&id=V&total=V&transaction_id=V&status=V
//
// Results are verified in constant time over the values as they came, before anything else
// is read; a result for another seller_id is refused like a bad signature. Entrecard's
// document does not spell the algorithm out; this is paykit's reading of it. An empty key
// never verifies anything: New requires Config.Secret, and a Client not made by New, which has
// none, refuses every result with paykit.ErrInvalidSignature (saying the Secret is not
// configured) and signs no link.
//
// # Errors
//
// Every error is a *paykit.Error with Provider "entrecard"; test it with errors.Is against
// paykit's sentinels. A link's fields are validated before it is built
// (paykit.ErrInvalidRequest): item id 1 to 32 of [A-Za-z0-9_-] (Entrecard's rule, stricter
// than paykit's id rule for ids in URLs, which it also passes), description 1 to 64 of
// [A-Za-z0-9_- .,], quantity at least 1, cost more than 1 credit, and absolute http(s)
// notify, success and cancel URLs, which may have their own query but no fragment and none of
// the result's parameter names. A result with a bad or missing signature is
// paykit.ErrInvalidSignature; one whose total is not quantity × cost of the order is
// paykit.ErrAmountMismatch; an unknown payment id is paykit.ErrNotFound. Capture, Refund and
// Cancel are paykit.ErrUnsupported: the Payments API has none of them. A Store that fails
// (Redis down) is paykit.ErrStoreUnavailable, which also matches paykit.ErrUnavailable, and
// says so once: "paykit: entrecard: get payment: store unavailable: result store: redis: …";
// the webhook handler then answers 503, and Entrecard delivers the result again. Error text
// never holds the secret or a signature, and this package's own checks do not repeat the
// merchant's URLs, which may carry tokens.
//
// # Retries
//
// The client makes no network calls, so it has nothing to retry; paykit's options are
// checked by New but only WithLogger has an effect. Entrecard retries instead: it sends a
// result to the notify URL again and again until it answers 200. Answer 200 only once the
// result is safely handled; paykit.NewWebhookHandler does so and acknowledges redeliveries
// without running the merchant's function again.
//
// # Webhooks
//
// Results arrive three ways: on the notify URL, and appended to the success or cancel URL
// the buyer returns to. The result is appended with '?', or '&' when the URL has a query;
// parsing also accepts a second '?', which a literal reading of the document produces. Only
// the result's parameters are read, so the merchant's own query parameters do not disturb
// the signature. ParseNotification takes a GET query or a POST form. Statuses are cancelled
// (the buyer cancelled), failed (too few credits), complete (paid) and escrow, which counts as
// complete; any other word is kept and maps to paykit.StatusUnknown. The native type is
// ResultStatus, with ResultCancelled, ResultFailed, ResultComplete and ResultEscrow;
// PaykitStatus maps it to paykit's Status.
//
// Every verified result is recorded in the Store by transaction_id: a redelivery returns the
// first result recorded, and Notification.DedupKey is made from the transaction_id. When one
// payment gets several results (failed, then complete after topping up) a complete one wins,
// else the latest. A verified result for a payment id the store does not know is accepted and
// recorded. Use paykit.NewWebhookHandler(client, fn) at the notify URL, and ReadRedirect at the
// success and cancel URLs; a cancel may come without a result when the buyer left before a
// transaction existed.
//
// # Stores
//
// Entrecard has no API to ask about a payment, so GetPayment answers from the Store. The
// default, NewMemoryStore, serves one process and is bounded in time: a payment is forgotten
// DefaultRetention (30 days; WithRetention) after the last order or new result recorded for
// it, as if the process had restarted (GetPayment answers paykit.ErrNotFound; a later result
// is accepted as one for an unknown id). It costs about 970 bytes per payment until then,
// most of it the buy link. Replicas, or a shop that must keep payments across restarts, use a
// shared Store (redisstore.NewEntrecardStore).
//
// # Payments as the merchant sees them
//
// CreatePayment records the order in the Store before it returns, so the client that created
// a payment, and every replica sharing its Store, find it at once: GetPayment answers it
// pending, with the buy link as its Action, until a result arrives. A replica with its own
// in-memory store (or a process restarted with one) does not know the order: GetPayment
// answers paykit.ErrNotFound there until a result for the payment reaches that replica, which
// is why replicas share a Store.
//
// Entrecard keeps no reference of the merchant's (a buy link carries none), so
// PaymentRequest.Reference is not used and Payment.Reference is the payment id, the same on
// every call (CreatePayment, GetPayment, a redirect, the webhook handler's fetch), whether
// the order is known or only its result.
//
// # Testing with httpmock
//
// There is nothing to mock: the client makes no HTTP call (the buyer's browser does, at
// Entrecard). A merchant's test creates the payment, builds the result Entrecard would send
// with package entrecardtest, and hands it to its own code: NewResultRequest(notifyURL,
// secret, result) is the request the fake makes to the notify URL, for
// paykit.NewWebhookHandler(client, fn).ServeHTTP or ParseNotification; ResultURL is the same
// URL, for ParseRedirect as the buyer's way back to the success or cancel URL; ResultQuery
// and SignedBuyURL sign results and links. Both are what the fake sends, byte for byte (a
// test holds them to it). The Example "testing" is such a test, whole; for flows with a
// buyer, faults and redeliveries, entrecardtest.NewServer is the fake over real HTTP.
//
// # Fees
//
// Entrecard keeps 12.5 % of the total from the seller. Fee rounds it up to a whole credit and
// SellerProceeds is the rest; the document does not say how Entrecard rounds.
package entrecard

// Package echelon is paykit's client for EchelonPay, a payin and payout platform (also
// white-labelled, e.g. as AOPay): customers pay the merchant by bank transfer to a virtual
// account, at a branch or through an operator's page (payins), and the merchant sends money to
// bank accounts (payouts). It follows the provider's document "General concepts"
// (https://developers.echelonpay.com/api/general.html), the public payin and payout pages of
// the same site, and paykit's design decisions where they are silent.
//
// The native API is one method per endpoint: NewToken (restricted tokens for browsers and
// e-mails), PaymentOptions, CreatePayin, GetPayin, CreatePayout, GetPayout, Balances, and
// PayoutWebhookHandler for payout callbacks. The Client is also a paykit.Provider:
// CreatePayment starts a payin.
//
// # Authentication
//
// Every call carries a JWT ("Authorization: Bearer …") and "X-API-Version: 2" (EchelonPay
// answers 404 without it). The client buys its own backend token with Config.MerchantCode and
// Config.Secret at POST /auth-tokens, asking for exactly the operations it calls, as the
// regular expressions EchelonPay matches against "METHOD /path":
//
//	POST /payins/!availablePaymentOptions   POST /payins/[^/]+   GET /payins/[^/]+
//	POST /payouts/[^/]+   GET /payouts/[^/]+   GET /balances
//
// It lives 600 s; the client caches it and refreshes it min(60 s, a tenth of its lifetime)
// before its exp claim; any number of concurrent calls share one fetch, and a 401 (a revoked
// or expired token) causes one refresh and one retry. No goroutine runs in the background. A
// call that no operation of its token allows is answered 403 (paykit.ErrUnauthorized) and is
// not retried.
//
// NewToken mints restricted tokens for the merchant's front-end: by action (TokenPayinCreate,
// TokenPayinInfo) for one payment id, or by operations, optionally limited to an amount. A
// token limited to one payment is safe to hand to a browser; the Secret never is.
//
// # Amounts
//
// Amounts are paykit.Money in minor units. On the wire EchelonPay takes
// {"amount": <JSON number in major units>, "currencyCode": "INR"}: the number is written
// exactly from the integer (42.05 USD is 42.05, 5000 INR is 5000, never through float64), and
// read back exactly. An answer whose amount differs from the one asked, or has non-zero
// fraction digits beyond its currency's (42.051 USD), is paykit.ErrAmountMismatch.
//
// # Errors
//
// Every error is a *paykit.Error; test it with errors.Is against paykit's sentinels: 400
// ErrInvalidRequest, 401 and 403 ErrUnauthorized, 404 ErrNotFound (also what EchelonPay
// answers without the API version), 409 ErrConflict, 422 ErrUnprocessable (a valid request
// the state does not allow now, e.g. a payout the balance does not cover), 429
// ErrRateLimited (after retries), 5xx and network failures ErrUnavailable. EchelonPay's error bodies are not documented; paykit
// reads {code, message} (and RFC 7807 problem documents) leniently into Error.Code and
// Error.Message and keeps the raw body, redacted, in Error.Body. Invalid input (no method, a
// non-positive amount, an unknown currency, an id that breaks the id rule below) is refused
// before anything is sent. Every error of CreatePayment, CreatePayin and CreatePayout carries
// the id in paykit.Error.PaymentID, also one paykit generated.
//
// # Ids
//
// The merchant's id goes into EchelonPay's paths (/payins/{id}, /payouts/{id}) and into
// restricted tokens, so every id passes paykit's id rule before anything is sent: not empty,
// not "." or ".." (dot-segments, which a normalising proxy would resolve to another
// endpoint), valid UTF-8 without control characters, at most 64 bytes; and EchelonPay's own:
// it does not start with '!', which EchelonPay's action paths use. Any other character is
// sent escaped as one path segment. A bad id is paykit.ErrInvalidRequest from CreatePayment,
// GetPayment, CreatePayin, GetPayin, CreatePayout, GetPayout and NewToken, and a callback
// naming one is too (the handlers answer 400 and fetch nothing). Concurrent creates of one
// payin (CreatePayment, CreatePayin) or one payout (CreatePayout) on one Client run one after
// the other; between clients and processes EchelonPay keeps one per id.
//
// # Retries
//
// GETs, token requests and 429s are retried (a 429 means EchelonPay did not process the
// request). Creates are keyed by the merchant's id (idPayin, idPayout), so they are retried
// too after an ambiguous failure (a timeout, a dropped connection, a 5xx): when EchelonPay
// answers the repeat with 409, because the first attempt was accepted, the existing payin or
// payout is fetched and returned — or paykit.ErrAmountMismatch when it is for another
// amount. Backoff and limits come from paykit.WithRetry and WithTimeout.
//
// # Throttling
//
// EchelonPay processes at most 10 requests in any second and answers 429 to the others. By
// default the client waits on a sliding-window limiter that lets at most 10 requests start in
// any 1.04-second window (a 40 ms margin for the network's jitter), token requests included,
// and still sustains 9.6 requests per second. A caller first gets its token (a fetch takes a
// turn of its own), then waits for its turn, then sends at once, so that callers queued behind
// a slow token fetch do not burst together when it lands. Every client of the same merchant
// (BaseURL and MerchantCode) in one process shares that limiter. paykit.WithLimiter replaces
// it, e.g. with a limiter shared by several replicas (redisstore.NewLimiter).
//
// Tests switch limiting off with paykit.WithLimiter(paykit.NoLimit): against httpmock, or
// against an echelontest fake told not to throttle (echelontest.NoRateLimit), requests then
// never wait, and the merchant's shared limiter is not even made. Never against EchelonPay
// itself, which answers 429 to the 11th request in a second.
//
// # Webhooks
//
// EchelonPay's callbacks are anemic and unsigned: a POST to the callbackUrl naming the payin
// (idPayin) or payout (idPayout) that changed, and nothing else to trust. ParseNotification
// reads the id leniently; paykit.NewWebhookHandler then fetches the payin and calls the
// merchant's function with the fetched state. A callback has no DedupKey, so the handler keys
// it on the payin's id and fetched state: a redelivery of the same state runs the function
// once, and a later change runs it again. PayoutWebhookHandler does the same for payouts, with
// the same code. With Config.NotifySecret set, the SDK signs the callback URLs it sends
// (paykit_id and paykit_sig added to the query, the merchant's own parameters kept), and a
// callback without a valid signature is refused with 401 before anything is fetched, so a
// forged flood cannot spend the merchant's 10 requests per second.
//
// # The unified interface
//
// With Config.PaymentMethod set, CreatePayment creates the payin directly: pending,
// ProviderID the idPayin, and an Action that says what the customer does next. A method paid
// on the operator's page (EchelonPay answers a redirectUrl) gives an ActionRedirect; a
// method paid by transfer (a virtual account, a payment code at a branch) gives an
// ActionBankTransfer whose Transfer holds paymentMethodResponse's account (BankName,
// BranchName, AccountNumber), reference, money (the exact amount to transfer) and expireAt.
// GetPayment answers the same Action while the payin is pending (NEW, PENDING, PROCESSING),
// and none once it is final.
//
// With PaymentMethod empty (the web-app flow) CreatePayment creates nothing: its Action is
// an ActionClientToken holding a PAYIN_CREATE token limited to the payment's id and amount,
// for EchelonPay's payment web app, which creates the payin. Until it does, GetPayment on the
// Client that created the payment answers it pending with the same Action (no ErrNotFound
// right after checkout); the Client remembers such payments in process memory, at most 4,096
// (about 4.5 MB), until EchelonPay knows the payin or the token expires (ErrNotFound after
// that, unless CreatePayment is called again). A replica, or a restarted process, that did
// not create it answers paykit.ErrNotFound until the web app creates the payin. Once the
// payin exists every Client answers it, with its own Action.
//
// In both flows a repeated CreatePayment of an existing payin returns its current state and
// never a new way to pay it. Capture, Refund and Cancel return errors matching
// paykit.ErrUnsupported; Capabilities says Webhooks and Payouts.
//
// Payment.Reference is the payment id, on every call for one payment (CreatePayment in
// both flows, GetPayment, the webhook's fetched Payment): EchelonPay keeps no merchant
// reference with a payin, so PaymentRequest.Reference is not sent and cannot come back.
// Keep the merchant's own reference with the id. (The payin's paymentMethodResponse.reference
// is the transfer reference the customer quotes: it is in Action.Transfer.Reference and
// Payin.Reference.)
//
// The native statuses (process.status) are ProcessStatus values, named after the process
// they are the status of (ProcessNew, ProcessSuccess, …) so that none reads like paykit's own
// (paykit.StatusSucceeded); ProcessStatus.PaykitStatus maps them. Payins and payouts share
// them.
//
// Every request about a payin or a payout (its create, the look-up after a 409, its GET, a
// token by action) carries the payment id, so paykit's debug line of each attempt has
// payment_id.
//
// # Testing with httpmock
//
// The client uses the *http.Client given with paykit.WithHTTPClient as it is, at every
// request, so httpmock.ActivateNonDefault(hc) works when called after New. Give the client
// paykit.WithLimiter(paykit.NoLimit) too, or mocked calls wait on the default limiter, 10 a
// second. The answers a responder sends come from echelontest's builders, which write
// exactly what the fake EchelonPay answers (the fake's tests check them against it):
//
//	hc := &http.Client{}
//	client, _ := echelon.New(cfg, paykit.WithHTTPClient(hc), paykit.WithLimiter(paykit.NoLimit))
//	httpmock.ActivateNonDefault(hc)
//	defer httpmock.DeactivateAndReset()
//	httpmock.RegisterResponder("POST", cfg.BaseURL+"/auth-tokens",
//		httpmock.NewBytesResponder(200, echelontest.TokenBody("mock-token")))
//	httpmock.RegisterResponder("GET", cfg.BaseURL+"/payins/order-1",
//		httpmock.NewBytesResponder(200, echelontest.PayinBody(echelontest.Payin{ID: "order-1", …})))
//	httpmock.RegisterResponder("GET", cfg.BaseURL+"/payins/order-2",
//		httpmock.NewBytesResponder(404, echelontest.ErrorBody("NOT_FOUND", "No payin order-2.")))
//
// TokenBody answers both token routes (the client's backend token, and the web-app token of
// CreatePayment by action); PayinBody answers POST and GET /payins/{id}, PayoutBody POST and
// GET /payouts/{id}. The package's Example_httpmock runs such a test. For flows (callbacks,
// throttling, faults, a payin the customer pays) use the fake itself, echelontest.NewServer.
//
// # Assumptions
//
// The document leaves much unsaid; paykit's research notes mark these as ASSUMPTIONs, and paykit's
// choices are: the production host (https://api.echelonpay.com); the body of POST
// /payins/{id} (made by analogy with payouts and the GET answer); GET /payouts/{id} answering
// the payin's envelope with idPayout; the answer of GET /balances ({"data": [{currencyCode,
// amount}]}), asked with a literal comma between currencies; the statuses besides SUCCESS
// (NEW, PENDING, PROCESSING pending; FAILED, REJECTED failed; CANCELLED; EXPIRED; any other
// word is kept and maps to paykit.StatusUnknown); redirectUrl for methods paid on the
// operator's page; the callback body ({"idPayin": …} or {"idPayout": …}); the time format
// (RFC 3339, read leniently); and the error body. The echelontest fake implements the same
// choices.
package echelon

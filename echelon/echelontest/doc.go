// Package echelontest is an in-process fake of the EchelonPay API: a real HTTP server on the
// loopback interface that the paykit EchelonPay client, and merchants' own tests, talk to
// exactly as they would talk to api.sandbox.echelonpay.com.
//
//	srv := echelontest.NewServer(echelontest.Config{})
//	defer srv.Close()
//	// point the client at srv.URL with echelontest.DefaultMerchantCode and DefaultSecret
//	ref, err := srv.Pay(id) // the customer pays; a callback goes to the payin's callbackUrl
//	err = srv.WaitDelivered(ctx, id)
//
// # What it serves
//
// Paths are relative to Server.URL:
//
//	POST /auth-tokens                       {merchantCode, secret, validitySecs, operations[], money?} → {"token"}
//	POST /auth-tokens-by-action             {merchantCode, secret, validitySecs, action, idPayment, money?} → {"token"}
//	POST /payins/!availablePaymentOptions   {money} → {data: [{paymentMethodCode, paymentOperators: [{code, name}]}]}
//	POST /payins/{id}                       create a payin → 200 and the payin; 409 when the id exists
//	GET  /payins/{id}                       → the payin
//	POST /payouts/{id}                      create a payout → 200 and the payout; 409 when the id exists
//	GET  /payouts/{id}                      → the payout
//	GET  /balances?currencies=INR,IDR       → {data: [{currencyCode, amount}]}
//
// Every call is checked in this order:
//
//  1. Throttling: at most Config.RateLimit (10) requests are processed in any sliding
//     Config.RateWindow (1 s), token requests and refused requests included; the next is
//     answered 429 and not processed (nor counted). NoRateLimit lifts it, for benchmarks.
//  2. "X-API-Version: 2", else 404.
//  3. The route (404) and method (405, with Allow).
//  4. Except for the token routes, "Authorization: Bearer <token>": missing, malformed,
//     expired or revoked is 401; a token none of whose operations matches "METHOD /path"
//     (the whole string, the path as sent, without the query) is 403; a token limited to an
//     amount may only create a payin or payout of exactly that amount (403).
//
// Tokens are HS256 JWTs signed with a random key made per server, with the claims sub
// (the merchant code), jti, iat, exp and operations (and money when limited): a token by
// action carries the operations the action grants, PAYIN_CREATE "POST
// /payins/!availablePaymentOptions", "POST /payins/{id}" and "GET /payins/{id}", PAYIN_INFO
// only the GET. A token lives validitySecs, cut to Config.TokenLifetime (SetTokenLifetime), and
// ends at the whole second its exp claim names. RevokeTokens invalidates every token issued.
// Tokens lists what was issued (never the JWTs).
//
// # State
//
// A payin or payout is created NEW (ProcessNew) and moves only when a control method says so:
// Process (ProcessProcessing), Pay (ProcessSuccess: the customer paid the payin, or the
// operator paid the payout out), Fail (ProcessFailed), Expire (ProcessExpired), Cancel
// (ProcessCancelled). Each move sends a callback; a payment in a final status does not move
// (ErrFinal). Pay returns the payment's reference. Payin and Payout (from Server.Payin,
// Payins, Payout, Payouts) are snapshots of what the fake holds, Status a ProcessStatus.
// A payin of a method with Redirect (EWALLET by default) answers a redirectUrl at
// operator.example; other payins answer a virtual account and a reference to quote. Payouts
// are paid from the merchant's balance (Config.Balances), amount and fee taken at creation
// (422 when the balance does not cover them) and given back when the payout fails, expires
// or is cancelled; a paid payin adds its amount less its fee. The fee is Config.FeePercent of
// the amount, rounded down to the currency's minor unit.
//
// # Callbacks
//
// A callback is a POST to exactly the callbackUrl the payment was created with, its query
// included (or to Config.NotifyURL when it had none), with the anemic body {"idPayin": id}
// or {"idPayout": id} and nothing else: unsigned, as EchelonPay sends them. It is delivered
// again, with growing intervals, until the receiver answers 200. Deliveries and WaitDelivered
// know payins and payouts by their ids, so a test should not give a payin and a payout the
// same id.
//
// Config.NotifyURL (SetNotifyURL later) and Config.NotifyClient are named as in every paykit
// fake. So are the clock and the client: Now is the server's clock, Advance moves it (tokens
// past their exp are then refused), and Client is an *http.Client that talks to the server.
//
// # Answers for httpmock
//
// A merchant's unit test that mocks EchelonPay instead of running the fake answers its
// httpmock responders with the fake's own bodies: TokenBody (the token routes), PayinBody
// and PayoutBody (a create's answer and GET /payins/{id}, /payouts/{id}) and ErrorBody (a
// 404, a 409). They write exactly what the server answers for the same payment, which the
// package's tests check byte for byte; paykit's echelon package shows a whole test
// (Example_httpmock, and "Testing with httpmock" in its doc).
//
// # Faithful to the provider's document
//
// The token routes and their bodies, tokens as JWTs with operations and exp, operations as
// regular expressions over "METHOD /path", the two actions and what they grant, X-API-Version
// (404 without it), idempotent creates keyed by the merchant's id (409 on a repeat),
// throttling at 10 requests per second with 429, anemic callbacks that carry no state, the
// literal '!' of /payins/!availablePaymentOptions (an escaped %21 is taken as a payin id,
// which cannot start with '!': 404), comma-separated multi-values with unknown ones ignored,
// and the money object {amount, currencyCode} with a decimal JSON number in major units.
//
// # Assumed (the document is silent)
//
//   - The body of POST /payins/{id} (paymentRequested.money, paymentMethod
//     {paymentMethodCode, paymentOperatorCode}, callbackUrl, returnUrl), the shape of GET
//     /payouts/{id} (the payin's envelope with paymentMethodResponse.idPayout), the answer of
//     GET /balances, and that a create answers 200 with the resource as GET shows it.
//   - The statuses besides SUCCESS (NEW, PROCESSING, FAILED, CANCELLED, EXPIRED), the
//     callback body, the error body ({"code", "message"}), times written as RFC 3339 in UTC
//     with milliseconds, and process.isTest true for everything (it is a sandbox).
//   - Amounts are written exactly without trailing fraction zeros (5000, 42.05, 0.42), and must
//     be sent as JSON numbers greater than zero with no more fraction digits than the currency
//     has; exponent notation is refused (the fake parses amounts exactly with
//     paykit.ParseMoney, never through float64).
//   - Payment methods and operators come from Config (VAPAY, OFFLINE and EWALLET for payins,
//     BANK_TRANSFER for payouts by default); a payout needs an account number.
//   - A throttled request is not counted in the window; no Retry-After is sent with the 429.
//
// # Shared with every paykit fake
//
// FailNext, DropNext, MalformedNext, SetLatency and ClearFaults make the next API calls
// misbehave; CallLog and Calls show what arrived; Deliveries, WaitDelivered and Redeliver
// follow the callbacks. They are documented on the embedded Controls and behave the same in
// every paykit fake. None of them affects the control methods or the callbacks.
//
// The provider's document is the "General concepts" page of EchelonPay's developer site
// (developers.echelonpay.com/api/general.html).
package echelontest

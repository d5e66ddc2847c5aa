// Package ecreditstest is an in-process fake of the eCredits Widget API: a real HTTP server on
// the loopback interface that the paykit eCredits client, and merchants' own tests, talk to
// exactly as they would talk to widget.api.ecredits.com.
//
// A merchant's test creates its own HTTP server first, so that the webhook URL can go into
// the fake's Config before the webhook handler exists (the package Example shows it whole):
//
//	mux := http.NewServeMux()
//	shop := httptest.NewServer(mux) // 1. the merchant's server, listening first
//	srv := ecreditstest.NewServer(ecreditstest.Config{ // 2. the fake
//		NotifyURL: shop.URL + "/webhooks/ecredits",
//	})
//	client, _ := ecredits.New(ecredits.Config{ // 3. the client
//		ClientID: ecreditstest.DefaultClientID, Secret: ecreditstest.DefaultSecret,
//		WebhookSecret: ecreditstest.DefaultWebhookSecret, BaseURL: srv.URL,
//	})
//	mux.Handle("/webhooks/ecredits", paykit.NewWebhookHandler(client, fulfil)) // 4. the handler
//
//	p, _ := client.CreatePayment(ctx, req)
//	_, err := srv.Pay(p.ID)            // the customer pays: a signed status-1 webhook goes out
//	err = srv.WaitDelivered(ctx, p.ID) // … and the handler answered it 200
//
// Every control and inspection method takes the merchant's payment id, which for eCredits
// is the transaction request id (compared ignoring case).
//
// # What it serves
//
// Paths are relative to Server.URL:
//
//	POST /api/authentication             {"secret","clientId"} → {"token","expiresAt"}
//	POST /api/v1/requests                create a transaction request → 200 and the request
//	GET  /api/v1/requests/{id}           ?generateQrCode=&qrCodeType= → the request
//	GET  /api/v1/requests/{id}/payments  → ["0x…", …] transaction hashes
//	GET  /api/v1/requests/{id}/paid      → true or false
//
// Every /api/v1 call needs "Authorization: Bearer <token>". Routing comes first: an unknown
// path is 404 and a known path with the wrong method is 405 (with an Allow header) whatever
// the token; then a missing, malformed, expired or revoked token is 401.
//
// # Faithful to the provider's document
//
// The paths, the request and response field names, the authentication exchange, expiresAt
// written as UTC with seven fraction digits and "+00:00", the EUR→ECS conversion (99.99 EUR
// asks for 9999 ECS at the default rate), qrCodeString "eCreditsPayment:<id>", href
// "https://auth.ecredits.com/payment?code=<id>", /payments as a list of hashes (more than one
// when the customer pays twice), /paid as a bare boolean, and the webhook: a POST of
// {"requestId","status","transactionHash","signature","testMode"} to the URL configured in
// the portal (Config.NotifyURL, SetNotifyURL — not per request), status 0 Pending,
// 1 Settled, 2 Expired (ecredits.RequestStatus), signature = base64(HMAC-SHA256(key =
// signing secret, message = lower-case(requestId))) as ecredits.Sign makes it (the fake
// signs on its own code, so that the SDK's tests compare two implementations), redelivered
// with growing intervals until the receiver answers 200.
//
// # Assumed (the document is silent)
//
//   - Errors are RFC 7807 problem documents as ASP.NET Core writes them
//     (application/problem+json: type, title, status, traceId, and errors {field: [messages]}
//     on 400). Field names in errors are the JSON names ("amountDue").
//   - A create answers 200 (not 201). A repeated id, compared ignoring case, answers 409 and
//     changes nothing. The response echoes the id as it was created.
//   - Request bodies must use the documented camelCase names; unknown fields are ignored.
//     amountDue must be a JSON number (a string is a 400), greater than zero, with at most two
//     fraction digits; exponent notation (1e2) is refused (the fake parses amounts exactly with
//     paykit.ParseMoney, never through float64). currencyCode and qrCodeType must be spelled
//     exactly as documented ("ECS", "EUR", "Basic", "HtmlEmbedded"). ids must be dashed GUIDs.
//   - Decimals are written as exact JSON numbers without trailing fraction zeros: 9999, 99.99,
//     10.5. ECS has two fraction digits. The rate is an integer number of ECS per EUR
//     (Config.ECSPerEUR, default 100).
//   - qrCodeBase64 is a placeholder GIF (not a real QR code) whenever generateQrCode is true;
//     qrCodeHtml is an HTML fragment when generateQrCode is true and qrCodeType is
//     HtmlEmbedded, else null. testMode is remembered and sent in webhooks but not shown in the
//     request. The request shows no status field: /paid and expiresAt tell the state. An
//     empty paymentReference is kept as none: answered as null, like a missing one.
//   - The token is an HS256 JWT (sub = client id, jti, iat, exp) signed with a random key made
//     per server. Its exp claim is rounded up to a whole second; the server expires it at the
//     exact expiresAt it answered. A token expires when the server's clock reaches expiresAt.
//   - Webhooks: only 200 counts as acknowledged (a 204 is retried). The URL is read when the
//     event happens. An expired-status webhook carries "transactionHash": null. Requests that
//     expire because time passed (Advance) send no webhook; Expire does.
//
// # Simulating the customer and the provider
//
// Pay (the customer pays) and Expire (eCredits expires the request) act on a payment id and
// send a webhook; RevokeTokens, SetTokenLifetime, Advance and SetNotifyURL change the rest
// of the state. Request, AuthCount, CallLog, Calls, Deliveries and WaitDelivered observe it;
// Redeliver replays a payment's latest webhook.
//
// # Faults, the call log and webhooks: the same in every paykit fake
//
// Server embeds the Controls shared by every paykit fake (documented on
// internal/fakeserver.Controls): FailNext, DropNext, MalformedNext, SetLatency,
// ClearFaults, CallLog, Calls, Deliveries, WaitDelivered and Redeliver, with the types Call,
// Fault, FaultOption, Delivery and Attempt and the errors ErrClosed, ErrGaveUp, ErrLost,
// ErrNoNotifyURL and ErrUnknownPayment under the same names in each fake. Faults make the
// next API calls misbehave (OnRoute picks which, RetryAfter adds the header): FailNext
// answers a problem document, MalformedNext a 200 with JSON cut short. None of them affects
// control methods or webhook deliveries. A Delivery's PaymentID is the request id and its
// Event the status's name (Settled, Expired), as ParseNotification's Event. The Server is
// safe for concurrent use.
//
// For merchants testing their own webhook handler without a server, WebhookBody and
// NewWebhookRequest build signed notifications from an ecredits.WebhookEvent. For mocks of
// the API (httpmock's responders), AuthBody, RequestBody, PaidBody and PaymentsBody return
// exactly the bodies the fake answers for the same state (a test holds them to it); package
// ecredits' section "Testing with httpmock" and its Example show them in use.
//
// The provider's document is the "eCredits Widget API" page published by eCredits
// (docs.ecredits.com); the Swagger UI of the real service is at /swagger/index.html.
package ecreditstest

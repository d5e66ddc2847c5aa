// Package ecreditstest is an in-process fake of the eCredits Widget API: a real HTTP server on
// the loopback interface that the paykit eCredits client, and merchants' own tests, talk to
// exactly as they would talk to widget.api.ecredits.com.
//
//	srv := ecreditstest.NewServer(ecreditstest.Config{WebhookURL: myHandlerURL})
//	defer srv.Close()
//	// point the client at srv.URL with ecreditstest.DefaultClientID and DefaultSecret
//	hash, err := srv.Pay(id) // the customer pays; a signed status-1 webhook goes out
//	err = srv.WaitDelivered(ctx, id)
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
// the portal (Config.WebhookURL, SetWebhookURL — not per request), status 0 Pending,
// 1 Settled, 2 Expired, signature = base64(HMAC-SHA256(key = signing secret,
// message = lower-case(requestId))), redelivered with growing intervals until the receiver
// answers 200.
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
//     request. The request shows no status field: /paid and expiresAt tell the state.
//   - The token is an HS256 JWT (sub = client id, jti, iat, exp) signed with a random key made
//     per server. Its exp claim is rounded up to a whole second; the server expires it at the
//     exact expiresAt it answered. A token expires when the server's clock reaches expiresAt.
//   - Webhooks: only 200 counts as acknowledged (a 204 is retried). The URL is read when the
//     event happens. An expired-status webhook carries "transactionHash": null. Requests that
//     expire because time passed (Advance) send no webhook; Expire does.
//
// # Simulating the customer and the provider
//
// Pay, Expire, RevokeTokens, Advance and SetWebhookURL change the state; Request, CallLog,
// Calls, AuthCount, Deliveries and WaitDelivered observe it. FailNext, DropNext,
// MalformedNext and SetLatency make the next API calls misbehave; none of them affects
// control methods or webhook deliveries. The Server is safe for concurrent use.
//
// For merchants testing their own webhook handler without a server, SignWebhook, WebhookBody
// and NewWebhookRequest build signed notifications.
//
// The provider's document is the "eCredits Widget API" page published by eCredits
// (docs.ecredits.com); the Swagger UI of the real service is at /swagger/index.html.
package ecreditstest

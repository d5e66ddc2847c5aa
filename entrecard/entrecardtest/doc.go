// Package entrecardtest is an in-process fake of Entrecard's Payments API: a real HTTP server
// on the loopback interface that serves the "Buy now" page, plays the buyer through control
// methods, moves credits, and sends signed results to the seller's notify URL until it
// answers 200. The paykit Entrecard client, and merchants' own tests, run against it over
// real HTTP. The package Example is a whole merchant test:
//
//	mux := http.NewServeMux()
//	shop := httptest.NewServer(mux) // 1. the merchant's server, listening first
//	srv := entrecardtest.NewServer(entrecardtest.Config{}) // 2. the fake
//	client, _ := entrecard.New(entrecard.Config{ // 3. the client
//		SellerID: entrecardtest.DefaultSellerID, Secret: entrecardtest.DefaultSecret, BaseURL: srv.URL,
//	})
//	mux.Handle("/notify", paykit.NewWebhookHandler(client, fulfil)) // 4. the handler
//
//	p, _ := client.CreatePayment(ctx, req) // req.NotifyURL: shop.URL + "/notify"
//	_, err := srv.Pay(p.ID)                // the buyer follows the link and pays: the result goes out
//	err = srv.WaitDelivered(ctx, p.ID)     // … and the handler answered it 200
//
// It is not tied to testing.TB, so example programs can use it too.
//
// Every control and inspection method takes the merchant's payment id, which for Entrecard
// is the item id of the buy link. Entrecard learns of a payment only when the buyer opens
// its link, and the SDK sends it nothing, so an entrecard.Client tells the fakes of its own
// process about every link it builds for them (CreatePayment, BuyURL; it costs nothing
// without a fake). Pay, Confirm, Cancel and Leave act on the link the browser opened last
// for that id; when it opened none, the buyer opening the link a client built last for it
// is implied, and the browser opens it first (a visit of /buy, which faults hit too). Open,
// which plays the browser following a link, is the one method that takes a URL: for seeing
// the page, for links signed without the SDK (SignedBuyURL), or for links built in another
// process. Redirect tells where the controls sent the browser.
//
// # What it serves
//
// Paths are relative to Server.URL, and also served under /uapi/1 like the real address:
//
//	GET  /buy?seller=…&id=…&…&signature=…  the page the buyer sees (text: seller, item, …, total)
//	POST /buy/confirm  the link's parameters and buyer=NAME as a form  → 303 to success/cancel + result
//	POST /buy/cancel   the link's parameters (buyer optional)         → 303 to cancel + cancelled result
//	POST /buy/leave    the link's parameters                          → 303 to the bare cancel URL
//
// The buyer's pages are the only HTTP Entrecard serves; the control methods Open, Pay,
// Confirm, Cancel and Leave visit them as the browser would, so faults and latency hit them.
//
// # Faithful to the provider's document
//
// Every page checks the link first: a known seller and its signature (403 otherwise), then
// every field (400): item id 1 to 32 of [A-Za-z0-9_-], description 1 to 64 of
// [A-Za-z0-9_- .,], quantity ≥ 1, cost > 1, and absolute http(s) notify, success and
// cancel URLs. Confirming with enough credits makes a "complete" transaction (or "escrow",
// see Config.Escrow and SetEscrow): the buyer pays cost × quantity, the seller receives
// 87.5 % of it (entrecard.SellerProceeds) and Entrecard keeps the 12.5 % fee (entrecard.Fee).
// Too few credits make a "failed" one and move nothing; a cancel makes a "cancelled" one.
// Each transaction has a unique integer transaction_id. Its result,
// seller_id, id, total, transaction_id, status and signature, goes to the notify URL again
// and again until it answers 200 (only 200 counts), and is appended to the success URL
// (complete, escrow) or the cancel URL (failed, cancelled) of the redirect; a buyer who
// leaves before a transaction exists is sent to the bare cancel URL and nothing is notified.
//
// # Assumed (the document is silent)
//
//   - Signatures are lowercase hex SHA-1 of "k=v&k=v…" in the documented parameter order,
//     each value url.QueryEscape'd, followed directly by the secret (paykit's reading).
//     The fake signs and checks on its own code, not package entrecard's, so the SDK's
//     tests against it compare two implementations.
//   - Results are appended with '?', or with '&' when the URL has a query already. They are
//     sent as GETs unless Config.NotifyMethod is POST (then as a form body).
//   - Redeliveries wait a fixed interval between attempts (Config.RetryMinWait; a
//     RetryMaxWait above it makes the waits grow), at most Config.MaxDeliveryAttempts of
//     them; Close stops them. A redirect is not followed.
//   - The fee is rounded up to a whole credit, as entrecard.Fee does.
//   - A confirm needs a known buyer (401 otherwise); page errors are plain text.
//
// # Observing and misbehaving: the same in every paykit fake
//
// Server embeds the Controls shared by every paykit fake (documented on
// internal/fakeserver.Controls): FailNext, DropNext, MalformedNext, SetLatency,
// ClearFaults, CallLog, Calls, Deliveries, WaitDelivered and Redeliver, with the types Call,
// Fault, FaultOption, Delivery and Attempt and the errors ErrClosed, ErrGaveUp, ErrLost,
// ErrNoNotifyURL and ErrUnknownPayment under the same names in each fake. Faults make the
// next pages misbehave (OnRoute picks which): FailNext answers an error page, MalformedNext
// a 200 page cut short with no redirect, DropNext processes the purchase and closes the
// connection, so the result goes out but the browser sees no redirect. They never touch
// result deliveries. A Delivery's PaymentID is the item id and its Event the result's
// status word; Redeliver sends a payment's latest result once more, as a replay would.
//
// Transaction (the latest of a payment), Transactions, Redirect, Balance, SellerBalance and
// Fees observe the rest. Like every paykit fake it has Now and Advance, its clock
// (Config.Now; it dates transactions and calls: Entrecard's links and results do not
// expire), and Client, an *http.Client that talks to it. Results go to the notify URL of
// the link; Entrecard has no portal-wide one, so Config has no NotifyURL, and NotifyClient
// sends them.
//
// For tests without a server (the client makes no HTTP call, so there is nothing to mock):
// SignedBuyURL and ResultQuery sign links and results; ResultURL is a notify (or success,
// cancel) URL with a signed result appended, exactly as the fake requests it, and
// NewResultRequest that request, ready for a handler's ServeHTTP. Package entrecard's
// section "Testing with httpmock" and its Example "testing" show them in use.
package entrecardtest

// Package entrecardtest is an in-process fake of Entrecard's Payments API: a real HTTP server
// on the loopback interface that serves the "Buy now" page, plays the buyer through control
// methods, moves credits, and sends signed results to the seller's notify URL until it
// answers 200. The paykit Entrecard client, and merchants' own tests, run against it over
// real HTTP.
//
//	srv := entrecardtest.NewServer(entrecardtest.Config{})
//	defer srv.Close()
//	client, _ := entrecard.New(entrecard.Config{
//		SellerID: entrecardtest.DefaultSellerID, Secret: entrecardtest.DefaultSecret, BaseURL: srv.URL,
//	})
//	p, _ := client.CreatePayment(ctx, req)                        // p.Action.URL is the buy link
//	back, _ := srv.Confirm(ctx, p.Action.URL, entrecardtest.DefaultBuyer) // where the browser goes
//	// the result reaches req.NotifyURL; srv.WaitDelivered waits for its 200
//
// It is not tied to testing.TB, so example programs can use it too.
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
// The buyer's pages are the only HTTP Entrecard serves; the control methods Open, Confirm,
// Cancel and Leave visit them as the browser would and return where it would be redirected.
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
//     each value url.QueryEscape'd, followed directly by the secret (DESIGN.md's reading).
//     The fake signs and checks on its own code, not package entrecard's, so the SDK's
//     tests against it compare two implementations.
//   - Results are appended with '?', or with '&' when the URL has a query already. They are
//     sent as GETs unless Config.NotifyMethod is POST (then as a form body).
//   - Redeliveries wait Config.RetryInterval between attempts, at most
//     Config.MaxDeliveryAttempts of them; Close stops them.
//   - The fee is rounded up to a whole credit, as entrecard.Fee does.
//   - A confirm needs a known buyer (401 otherwise); page errors are plain text.
//
// # Observing and misbehaving
//
// Transactions, Transaction, Deliveries, WaitDelivered, WaitIdle, Balance, SellerBalance,
// Fees, CallLog and Calls observe the state; Redeliver sends a result once more, as a replay
// would. FailNext, DropNext, MalformedNext and SetLatency make the next pages misbehave
// (OnRoute picks which); they never touch result deliveries. For tests without a server,
// SignedBuyURL and ResultQuery sign links and results.
package entrecardtest

// Package ecstertest is an in-process fake of Ecster's REST API: a real HTTP server on the
// loopback interface that the paykit Ecster client, and merchants' own tests, talk to as they
// would talk to secure.ecster.se/rest/public. Ecster stopped taking new orders on 1 May 2023;
// this fake is how an integration is tested now.
//
//	srv := ecstertest.NewServer(ecstertest.Config{NotificationHeader: "X-Shop-Auth", NotificationHeaderValue: "v"})
//	defer srv.Close()
//	// point the client at srv.URL with ecstertest.DefaultAPIKey and DefaultMerchantKey
//	_, err := srv.Pay(id)            // the consumer completes the checkout: an order, READY, and an OEN
//	err = srv.WaitDelivered(ctx, id) // the OEN was answered 200
//
// # What it serves
//
// Paths are relative to Server.URL (a trailing slash is accepted):
//
//	POST /v1/carts                          a cart → 201 {"checkoutCart":{"key"}}
//	PUT  /v1/carts/{key}                    the same body → 201 with a new key; the old one expires
//	GET  /v1/orders?orderReference=&merchantId=&nationalId=&paymentMethod=&status=&from=&to=
//	                                        → a JSON array of orders, oldest first
//	GET  /v1/orders/{orderId}               → the order
//	POST /v1/orders/{orderId}/transactions  DEBIT, CREDIT, ANNUL → 201 {"orderStatus","transaction"}
//	GET  /v1/paymentmethods                 ?locale=&nationality=&currency=&amount=&paymentMethod=
//	GET  /v1/paymentmethods/terms           ?locale=&nationality=&paymentMethod=&amount=&currency=
//
// Routing comes first: an unknown path is 404 and a known path with the wrong method 405.
// Then both keys are checked: a missing or wrong x-api-key is 401, a missing or wrong
// x-merchant-key 403. A GET with a body is 400 ("no message body should be sent"), a POST or
// PUT that is not application/json 415.
//
// # Faithful to the provider's documents
//
// The headers, paths and field names; amounts as integers in minor units, VAT rates as
// percent × 100; a cart must have rows, and their sum (quantity × unitAmount −
// discountAmount, computed exactly, also for a quantity such as 1.0 or 0.5) must equal
// cart.amount; a cart update answers a new key and expires the old one; the order object
// (id of 20 characters, status, created, amount, currency, debitedAmount, creditedAmount,
// orderReference, properties, consumer, transactions); the transaction rules: a DEBIT only in
// READY or PARTIALLY_DELIVERED and never more than remains (an amount equal to the rest, or
// closeDebit, makes the order FULLY_DELIVERED), a CREDIT against one DEBIT of the order up to
// what that debit has left, an ANNUL of what remains (ANNULLED when nothing was debited,
// FULLY_DELIVERED when part was), and 4424 "order is not in a valid state" otherwise; the
// error object {code, type, message}; OENs {orderId, orderReference, status, time, event}
// with the events of the document (CREATED, PARTIAL_DEBIT, FULL_DEBIT, PARTIAL_CREDIT,
// FULL_CREDIT, PARTIAL_ANNULMENT, FULL_ANNULMENT), posted to the cart's notificationUrl
// exactly as given (its query kept), with the custom header when Config sets one, and sent
// again until the receiver answers 200 (Ecster: every 2 hours, 24 times; the fake's
// interval is Config.RetryMinWait and RetryMaxWait, milliseconds by default).
//
// # Assumed (the documents are silent)
//
//   - Error codes other than 4424 are the HTTP status times ten (4000, 4040, …; 4011 for a
//     bad API key); 4424 comes with HTTP 422. FailNext answers the status times ten.
//   - The search answers full orders, transactions included; nothing is paged.
//   - Every order starts with an INITIAL transaction of its amount. Orders are invoices
//     (INVOICE_SE_1) unless the checkout ends FULLY_DELIVERED, which stands for a method
//     charged at purchase (SWISH: the whole amount is debited at once).
//   - A CREDIT transaction on the order shows the debitTransaction it credits.
//   - OENs of transactions carry transactionId (one public integration reads it); OENs of
//     status changes Ecster makes on its own carry the event STATUS_CHANGED. OEN times are
//     whole seconds in UTC, written with "Z" as in Ecster's OEN example; order times carry
//     +01:00.
//   - Tags go in a "tags" list of strings; quantities may have fractions; part-payment
//     terms are the fake's own figures (395 kr start fee, 29 kr a month, 12 payments).
//   - Carts and orders do not expire by the clock; Expire expires an order.
//
// # Simulating the consumer and Ecster
//
// The consumer: Pay (the checkout completes, READY), Decline (DENIED), Abort (ABORTED) and
// CompleteCheckout (any status Ecster may give: READY, PENDING_*, DENIED, …). Ecster:
// SetStatus (e.g. deciding a pending order), Expire, Block, ManualProcessing. Each takes the
// merchant's payment id (the orderReference) and sends an OEN. Cart, Order, Orders,
// Transactions (the record of every transaction), CallLog, Calls, Deliveries and
// WaitDelivered observe. FailNext, DropNext (the call is processed, then the connection is
// closed: a debit that went through without the client hearing of it), MalformedNext and
// SetLatency make the next API calls misbehave; they never touch control methods or OEN
// deliveries. The methods shared by every paykit fake are documented on the embedded
// fakeserver Controls (see Server). The Server is safe for concurrent use.
//
// As in every paykit fake, an OEN goes to the notificationUrl its cart named, else to
// Config.NotifyURL (SetNotifyURL changes it, e.g. once the merchant's handler exists), sent
// by Config.NotifyClient; Now is the server's clock, Advance moves it, and Client is an
// *http.Client that talks to the server.
//
// # Bodies for httpmock
//
// CartBody, OrdersBody, OrderBody, TransactionBody and ErrorBody return, byte for byte, what
// the fake answers (its own answers are built by them, and a test compares them with its
// HTTP answers), and NewOrder makes the order Pay makes: for a merchant's unit tests that mock
// Ecster's API with httpmock instead of running the fake (see the ecster package's "Testing
// with httpmock" and its Example_httpmock).
//
// For testing an OEN endpoint without a server, OEN and NewOENRequest build notifications.
package ecstertest

package echelontest

// The body builders write exactly what the fake answers, for a merchant's tests that mock
// EchelonPay with httpmock (or any RoundTripper) instead of running the fake: a responder
// answers with them, and the paykit client reads them as it reads the fake's and EchelonPay's
// answers. The package's tests check them against the fake's own answers for the same state,
// so the documented bodies cannot drift from it.

// TokenBody is the answer of POST /auth-tokens and POST /auth-tokens-by-action carrying
// token: {"token": "<token>"}. The client reads the token's expiry from its exp claim when
// token is a JWT; an opaque token (as in a mock) is taken to live as long as was asked.
func TokenBody(token string) []byte {
	return marshal(map[string]string{"token": token})
}

// PayinBody is the answer of GET /payins/{id} (and of the POST that creates it) for the payin
// p, as the fake writes it: paymentRequested.money, process {status, createdAt, processedAt,
// isTest: true}, fee, and paymentMethodResponse {idPayin, paymentMethodCode,
// paymentOperatorCode, account {bankName, branchName, accountNumber} when p has one, money,
// expireAt, reference, returnUrl, redirectUrl}. Server.Payin gives such a snapshot of a payin
// the fake holds; a test may also fill one in, e.g.
//
//	echelontest.PayinBody(echelontest.Payin{
//		ID: "order-1", Amount: paykit.Money{Amount: 500000, Currency: "INR"}, Method: echelontest.MethodVirtualAccount,
//		Status: echelontest.ProcessNew, BankName: "Echelon Test Bank", AccountNumber: "880000000001", Reference: "VA000001",
//	})
//
// A zero Fee is written as 0 in the amount's currency, zero times are left out (processedAt
// is null), and CallbackURL is not part of the answer. Amount must be in a currency paykit
// knows: PayinBody panics otherwise, as a test helper that cannot go on.
func PayinBody(p Payin) []byte {
	return marshal(payinOf(p).toJSON())
}

// PayoutBody is the answer of GET /payouts/{id} (and of the POST that creates it) for the
// payout p, as the fake writes it: the payin's envelope with paymentMethodResponse {idPayout,
// paymentMethodCode, paymentOperatorCode, account {accountName, accountNumber}, reference,
// emailAddress}. Server.Payout gives such a snapshot; a test may fill one in. The rules of
// PayinBody apply.
func PayoutBody(p Payout) []byte {
	return marshal(payoutOf(p).toJSON())
}

// ErrorBody is the fake's error answer: {"code": code, "message": message}. The fake answers
// a payin or payout that does not exist 404 with code "NOT_FOUND", a repeated create 409
// with "CONFLICT", and a refused request 400 with "VALIDATION_ERROR". The client reads code
// and message into paykit.Error.Code and Message; the status decides the error's kind.
func ErrorBody(code, message string) []byte {
	return marshal(apiError{Code: code, Message: message})
}

// payinOf is the fake's payment for a Payin snapshot (the inverse of payment.payin).
func payinOf(p Payin) *payment {
	return &payment{
		kind: payinKind, id: p.ID, amount: p.Amount, fee: p.Fee, method: p.Method, operator: p.Operator,
		account:   accountJSON{BankName: p.BankName, BranchName: p.BranchName, AccountNumber: p.AccountNumber},
		reference: p.Reference, callbackURL: p.CallbackURL, returnURL: p.ReturnURL, redirectURL: p.RedirectURL,
		status: p.Status, createdAt: p.CreatedAt, processedAt: p.ProcessedAt, expireAt: p.ExpireAt,
	}
}

// payoutOf is the fake's payment for a Payout snapshot (the inverse of payment.payout).
func payoutOf(p Payout) *payment {
	return &payment{
		kind: payoutKind, id: p.ID, amount: p.Amount, fee: p.Fee, method: p.Method, operator: p.Operator,
		account: accountJSON{AccountName: p.AccountName, AccountNumber: p.AccountNumber}, email: p.Email,
		reference: p.Reference, callbackURL: p.CallbackURL, status: p.Status,
		createdAt: p.CreatedAt, processedAt: p.ProcessedAt,
	}
}

package entrecardtest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Page is what the /buy page shows the buyer: the link's details, checked.
type Page struct {
	SellerID    string
	ItemID      string // the merchant's payment id
	Description string
	Quantity    int
	Cost        int64
	Total       int64
	NotifyURL   string
	SuccessURL  string
	CancelURL   string
}

// Open plays the buyer's browser following the buy link (Payment.Action.URL) and returns what
// the page shows. It is the one method that takes a link: Entrecard learns of a payment only
// when the buyer opens it. The other controls of a payment (Pay, Confirm, Cancel, Leave) act
// on the link opened last for its id, and open the one an entrecard.Client of this process
// built last (CreatePayment, BuyURL) when none was opened, so a test calls Open only to see
// the page, to open a link the SDK did not build (SignedBuyURL), or to choose among links. A
// link the server refuses is a *StatusError (403 for a bad signature or an unknown seller,
// 400 for a bad field); a link of another host is ErrNotThisServer.
func (s *Server) Open(ctx context.Context, buyURL string) (*Page, error) {
	u, err := s.ownLink(buyURL)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	resp, body, err := s.visit(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &StatusError{StatusCode: resp.StatusCode, Message: strings.TrimSpace(string(body))}
	}
	return parsePage(string(body))
}

// Pay plays DefaultBuyer paying for the payment with paymentID (the item id): it is Confirm
// as DefaultBuyer, bounded by the server's life rather than a context. The buyer opening the
// link comes first and is implied: the link opened last for paymentID, else the one a client
// of this process built (see Open). It returns the transaction_id. A buyer with too few
// credits makes a "failed" transaction: Pay returns its id and an error saying so.
func (s *Server) Pay(paymentID string) (string, error) {
	back, err := s.post(s.fake.Context(), paymentID, RouteConfirm, DefaultBuyer)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	t, ok := s.byTxn[transactionIDOf(back)]
	s.mu.Unlock()
	switch {
	case !ok:
		return "", fmt.Errorf("%w: payment %s has no transaction", ErrMalformed, paymentID)
	case !t.Status.IsComplete():
		return t.ID, fmt.Errorf("entrecardtest: payment %s: transaction %s ended %s", paymentID, t.ID, t.Status)
	}
	return t.ID, nil
}

// Confirm plays a buyer who signs in as buyer and confirms the purchase of the payment with
// paymentID, on the link the browser opened (see Open: a link a client of this process built
// is opened first when none was). The server checks the link again,
// moves the credits (the seller gets 87.5 %) or, when the buyer has too few, fails the
// transaction; it starts sending the result to the notify URL and redirects the browser:
// to the success URL with the signed result for a paid purchase, to the cancel URL with it
// for a failed one (Redirect tells where). An unknown buyer is a *StatusError 401.
func (s *Server) Confirm(ctx context.Context, paymentID, buyer string) error {
	_, err := s.post(ctx, paymentID, RouteConfirm, buyer)
	return err
}

// Cancel plays a buyer who signs in and then cancels: the transaction ends "cancelled", the
// result goes to the notify URL, and the browser goes to the cancel URL with the result.
// buyer may be empty (the buyer did not sign in); a name given must be a known buyer.
func (s *Server) Cancel(ctx context.Context, paymentID, buyer string) error {
	_, err := s.post(ctx, paymentID, RouteCancel, buyer)
	return err
}

// Leave plays a buyer who bails out before a transaction exists: nothing is sent to the
// notify URL and the browser goes to the bare cancel URL, with no result.
func (s *Server) Leave(ctx context.Context, paymentID string) error {
	_, err := s.post(ctx, paymentID, RouteLeave, "")
	return err
}

// Redirect returns where the buyer's browser was last sent for the payment with paymentID
// (by Confirm, Cancel, Leave or Pay), and whether it was sent anywhere. A redirect the
// browser never got (DropNext, MalformedNext) does not count.
func (s *Server) Redirect(paymentID string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.redirects[paymentID]
	return u, ok
}

// post sends the opened link of paymentID to the page rt as the browser's form, and records
// and returns the redirect. Without an opened link it opens the one a client built.
func (s *Server) post(ctx context.Context, paymentID, rt, buyer string) (string, error) {
	if s.fake.Closed() {
		return "", ErrClosed
	}
	link, err := s.openedLink(ctx, paymentID)
	if err != nil {
		return "", err
	}
	form, err := url.ParseQuery(link.RawQuery)
	if err != nil {
		return "", fmt.Errorf("entrecardtest: the link's query: %w", err)
	}
	if buyer != "" {
		form.Set("buyer", buyer)
	}
	target := *link
	target.Path = link.Path + strings.TrimPrefix(rt, RouteBuy)
	target.RawQuery = ""
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, body, err := s.visit(req)
	if err != nil {
		return "", err
	}
	switch {
	case resp.StatusCode == http.StatusSeeOther && resp.Header.Get("Location") != "":
		back := resp.Header.Get("Location")
		s.mu.Lock()
		s.redirects[paymentID] = back
		s.mu.Unlock()
		return back, nil
	case resp.StatusCode >= 400:
		return "", &StatusError{StatusCode: resp.StatusCode, Message: strings.TrimSpace(string(body))}
	}
	return "", fmt.Errorf("%w: status %d without a redirect", ErrMalformed, resp.StatusCode)
}

// openedLink returns the link the browser opened last for paymentID. When it opened none, the
// buyer opening the link a client of this process built last for it is implied: the browser
// opens it now, as Open does (a fault injected into the /buy page hits it).
func (s *Server) openedLink(ctx context.Context, paymentID string) (*url.URL, error) {
	s.mu.Lock()
	link, opened := s.opened[paymentID]
	built, isBuilt := s.built[paymentID]
	s.mu.Unlock()
	if opened {
		return link, nil
	}
	if !isBuilt {
		return nil, fmt.Errorf("%w: %s: no client of this process built a buy link for it, and the buyer opened none (Open)", ErrUnknownPayment, paymentID)
	}
	if _, err := s.Open(ctx, built); err != nil {
		return nil, err
	}
	s.mu.Lock()
	link, opened = s.opened[paymentID]
	s.mu.Unlock()
	if !opened {
		return nil, fmt.Errorf("%w: %s: the built link names another item", ErrUnknownPayment, paymentID)
	}
	return link, nil
}

// ownLink checks that buyURL is a buy link of this server.
func (s *Server) ownLink(buyURL string) (*url.URL, error) {
	u, err := url.Parse(buyURL)
	if err != nil {
		return nil, fmt.Errorf("entrecardtest: %w", err)
	}
	own, _ := url.Parse(s.URL)
	if u.Scheme != own.Scheme || u.Host != own.Host || route(u.Path) != RouteBuy {
		return nil, ErrNotThisServer
	}
	return u, nil
}

// visit sends req as the browser and reads the answer.
func (s *Server) visit(req *http.Request) (*http.Response, []byte, error) {
	if s.fake.Closed() {
		return nil, nil, ErrClosed
	}
	resp, err := s.browser.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("entrecardtest: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxForm))
	if err != nil {
		return nil, nil, fmt.Errorf("entrecardtest: reading the page: %w", err)
	}
	return resp, body, nil
}

// parsePage reads the /buy page back.
func parsePage(text string) (*Page, error) {
	lines := strings.Split(strings.TrimSpace(text), "\n")
	if len(lines) == 0 || lines[0] != "Entrecard: confirm your purchase" {
		return nil, fmt.Errorf("%w: not a purchase page", ErrMalformed)
	}
	fields := make(map[string]string)
	for _, l := range lines[1:] {
		k, v, ok := strings.Cut(l, ": ")
		if !ok {
			return nil, fmt.Errorf("%w: line %q", ErrMalformed, l)
		}
		fields[k] = v
	}
	p := &Page{
		SellerID: fields["seller"], ItemID: fields["item"], Description: fields["description"],
		NotifyURL: fields["notify"], SuccessURL: fields["success"], CancelURL: fields["cancel"],
	}
	var err1, err2, err3 error
	p.Quantity, err1 = strconv.Atoi(fields["quantity"])
	p.Cost, err2 = strconv.ParseInt(fields["cost"], 10, 64)
	p.Total, err3 = strconv.ParseInt(fields["total"], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return nil, fmt.Errorf("%w: the page's numbers", ErrMalformed)
	}
	return p, nil
}

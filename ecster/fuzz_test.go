package ecster_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/paykit/paykit"
	"github.com/paykit/paykit/ecster"
)

func FuzzParseOEN(f *testing.F) {
	for _, seed := range []string{
		`{"orderId":"zburxHFw0xQmyOmVOrcq","orderReference":"order-1","status":"READY","time":"2019-02-07T12:27:28Z","event":"CREATED"}`,
		`{"orderId":"a","status":"FULLY_DELIVERED","time":"2019-01-15T09:25:23+01:00","event":"FULL_DEDIT","transactionId":17}`,
		`{"orderId":"a","status":"ANNULED","time":"2019-01-15T09:25:23+01:00","event":"FULL_ANNULMENT","orderReference":null}`,
		`{"orderId":"","status":"READY","time":"2019-02-07T12:27:28Z","event":"CREATED"}`,
		`{"orderId":"a"}`, `[]`, `null`, ``, `{"orderId":"a"} {}`, `{"orderId":1}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		n, err := ecster.ParseOEN(body)
		if err != nil {
			if !errors.Is(err, paykit.ErrInvalidRequest) {
				t.Fatalf("error of another kind: %v", err)
			}
			return
		}
		if n.OrderID == "" || n.Status == "" || n.Event == "" || n.Time.IsZero() {
			t.Fatalf("accepted an OEN without its required fields: %+v", n)
		}
		if n.Status == "ANNULED" || n.Event == "PARTIAL_DEDIT" || n.Event == "FULL_DEDIT" {
			t.Fatalf("not normalized: %+v", n)
		}
		again, err := ecster.ParseOEN(body)
		if err != nil || again.DedupKey() != n.DedupKey() {
			t.Fatalf("not deterministic: %v", err)
		}
		// The same event written again parses to the same key.
		re, _ := json.Marshal(map[string]any{"orderId": n.OrderID, "orderReference": n.OrderReference, "status": n.Status,
			"time": n.Time.Format(time.RFC3339Nano), "event": n.Event, "transactionId": n.TransactionID})
		back, err := ecster.ParseOEN(re)
		if err != nil {
			t.Fatalf("re-encoded OEN refused: %v (%s)", err, re)
		}
		if back.DedupKey() != n.DedupKey() {
			t.Fatalf("dedupe key changed: %q → %q", n.DedupKey(), back.DedupKey())
		}
	})
}

func FuzzParseNationalID(f *testing.F) {
	for _, s := range []string{"SE530516-9756", "se530576-9756", "SE5305169756", "NO1234567890a", "SE531316-9756", "", "ÅÄ530516-975"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ecster.ParseNationalID(s)
		if err != nil {
			return
		}
		if len(id) != 13 || strings.ToUpper(string(id[:2])) != string(id[:2]) || !strings.EqualFold(string(id), s) {
			t.Fatalf("%q → %q", s, id)
		}
		again, err := ecster.ParseNationalID(strings.ToLower(s))
		if err != nil || again != id {
			t.Fatalf("not case-insensitive: %q → %q, %v", s, again, err)
		}
	})
}

func FuzzParseLocale(f *testing.F) {
	for _, s := range []string{"sv-SE", "SV-se", "en", "sv_SE", "", "ää-SE"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ecster.ParseLocale(s)
		if err != nil {
			return
		}
		if !strings.EqualFold(l.String(), s) || l.Validate() != nil {
			t.Fatalf("%q → %v", s, l)
		}
		again, err := ecster.ParseLocale(l.String())
		if err != nil || again != l {
			t.Fatalf("round trip of %q: %v %v", s, again, err)
		}
	})
}

func FuzzParseTag(f *testing.F) {
	for _, s := range []string{"TV", "product:TV", ":x", "a:b:c", " x", "x\n", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tag, err := ecster.ParseTag(s)
		if err != nil {
			return
		}
		if ecster.NewTag(tag.Name(), tag.Value()) != tag || tag.Value() == "" || tag.Typed() != (tag.Name() != "") {
			t.Fatalf("%q: name %q value %q typed %v", s, tag.Name(), tag.Value(), tag.Typed())
		}
	})
}

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2024-02-29", "2023-02-29", "0000-01-01", "9999-12-31", "2024-1-1", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ecster.ParseDate(s)
		if err != nil {
			return
		}
		if d.String() != s || d.Validate() != nil {
			t.Fatalf("%q → %v (%v)", s, d, d.Validate())
		}
	})
}

func FuzzParseTimestamp(f *testing.F) {
	for _, s := range []string{"2019-01-15T09:25:23+01:00", "2019-02-07T12:27:28Z", "2019-02-07T12:27:28.123Z", "2019-02-07T12:27:28", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ts, err := ecster.ParseTimestamp(s)
		if err != nil {
			return
		}
		out := ecster.FormatTimestamp(ts)
		if len(out) != 25 {
			t.Fatalf("%q formats as %q, not 25 characters", s, out)
		}
		back, err := ecster.ParseTimestamp(out)
		if err != nil || !back.Equal(ts.Truncate(time.Second)) {
			t.Fatalf("%q → %q → %v, %v", s, out, back, err)
		}
	})
}

func FuzzAmountAndPercent(f *testing.F) {
	for _, v := range []int64{0, 1, -1, 15675, 1 << 62, -1 << 63} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v int64) {
		if (ecster.Amount(v).Validate() == nil) != (v >= 0) {
			t.Fatalf("Amount(%d).Validate", v)
		}
		if (ecster.Percent(v).Validate() == nil) != (v >= 0) {
			t.Fatalf("Percent(%d).Validate", v)
		}
	})
}

func FuzzDecodeError(f *testing.F) {
	for _, s := range []string{`{"code":4424,"type":"Unprocessable","message":"m"}`, `{"code":"4424"}`, `{"error":"e","message":"m"}`, `{"code":4.4e3}`, `[]`, ``} {
		f.Add([]byte(s), 400)
	}
	f.Fuzz(func(t *testing.T, body []byte, status int) {
		e := &paykit.Error{StatusCode: status, Kind: paykit.KindForStatus(status)}
		ecster.DecodeError(body, e)
		if e.Code == "4424" && !errors.Is(e, paykit.ErrUnprocessable) {
			t.Fatalf("4424 is not ErrUnprocessable: %v", e)
		}
		if e.Code != "4424" && (status == 401 || status == 403) && !errors.Is(e, paykit.ErrUnauthorized) {
			t.Fatalf("%d is not ErrUnauthorized: %v", status, e)
		}
	})
}

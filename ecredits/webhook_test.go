package ecredits

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/paykit/paykit"
)

const (
	vectorSecret = "TheSigningSecretOfTheWebHook"
	vectorID     = "70df7B42-2926-4fa7-8fed-c5805f823167"
	vectorSig    = "f41RNMrifDO3/KB6dBB+MafKoSWb00ijzIOLk25KHks="
)

func TestSignVector(t *testing.T) {
	t.Parallel()
	if got := Sign(vectorSecret, vectorID); got != vectorSig {
		t.Fatalf("Sign = %s, want %s", got, vectorSig)
	}
	// The id is lowercased before signing: upper and lower case sign alike.
	if got := Sign(vectorSecret, strings.ToUpper(vectorID)); got != vectorSig {
		t.Fatalf("Sign(upper) = %s, want %s", got, vectorSig)
	}
}

func webhookBody(t testing.TB, id string, status any, sig string) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"requestId": id, "status": status, "transactionHash": "0xabc", "signature": sig, "testMode": false})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestVerifyWebhook(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		body   []byte
		kind   error
		status RequestStatus
	}{
		{"settled", webhookBody(t, vectorID, 1, vectorSig), nil, RequestSettled},
		{"pending", webhookBody(t, vectorID, 0, vectorSig), nil, RequestPending},
		{"expired", webhookBody(t, vectorID, 2, vectorSig), nil, RequestExpired},
		{"unknown status kept", webhookBody(t, vectorID, 7, vectorSig), nil, RequestStatus(7)},
		{"wrong signature", webhookBody(t, vectorID, 1, Sign("other", vectorID)), paykit.ErrInvalidSignature, 0},
		{"signature of another id", webhookBody(t, vectorID, 1, Sign(vectorSecret, "70df7b42-2926-4fa7-8fed-c5805f823168")), paykit.ErrInvalidSignature, 0},
		{"signature without lowercasing", webhookBody(t, vectorID, 1, "74IrGpVF8Dp90FRE5D94Qo5JBoFi+2OqRGwK17YcRjE="), paykit.ErrInvalidSignature, 0},
		{"missing signature", webhookBody(t, vectorID, 1, ""), paykit.ErrInvalidSignature, 0},
		{"truncated signature", webhookBody(t, vectorID, 1, vectorSig[:20]), paykit.ErrInvalidSignature, 0},
		{"unpadded signature", webhookBody(t, vectorID, 1, strings.TrimRight(vectorSig, "=")), paykit.ErrInvalidSignature, 0},
		{"missing id", webhookBody(t, "", 1, vectorSig), paykit.ErrInvalidRequest, 0},
		{"status not a number", webhookBody(t, vectorID, "Settled", vectorSig), paykit.ErrInvalidRequest, 0},
		{"not json", []byte("requestId=1"), paykit.ErrInvalidRequest, 0},
		{"empty", nil, paykit.ErrInvalidRequest, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ev, err := VerifyWebhook(vectorSecret, tt.body)
			if tt.kind != nil {
				if !errors.Is(err, tt.kind) {
					t.Fatalf("err = %v, want %v", err, tt.kind)
				}
				if err != nil && strings.Contains(err.Error(), vectorSig) {
					t.Fatalf("error text holds the signature: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ev.RequestID != vectorID || ev.Status != tt.status || ev.TransactionHash != "0xabc" {
				t.Fatalf("event = %+v", ev)
			}
		})
	}
}

func TestRequestStatusMapping(t *testing.T) {
	t.Parallel()
	for s, want := range map[RequestStatus]paykit.Status{
		RequestPending: paykit.StatusPending, RequestSettled: paykit.StatusSucceeded,
		RequestExpired: paykit.StatusExpired, RequestStatus(9): paykit.StatusUnknown, RequestStatus(-1): paykit.StatusUnknown,
	} {
		if got := s.PaykitStatus(); got != want {
			t.Errorf("%v.PaykitStatus() = %s, want %s", s, got, want)
		}
	}
	if RequestSettled.String() != "Settled" || RequestStatus(9).String() != "Unknown(9)" {
		t.Errorf("String: %s %s", RequestSettled, RequestStatus(9))
	}
}

// FuzzVerifyWebhook: the verifier never panics, never accepts a body whose signature is not
// the id's, and always accepts what Sign produced for a GUID.
func FuzzVerifyWebhook(f *testing.F) {
	f.Add(webhookBody(f, vectorID, 1, vectorSig))
	f.Add(webhookBody(f, vectorID, 2, "AAAA"))
	f.Add([]byte(`{"requestId":"x","signature":"` + vectorSig + `","status":1}`))
	f.Add([]byte(`{"requestId":null}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := VerifyWebhook(vectorSecret, body)
		if err != nil {
			var pe *paykit.Error
			if !errors.As(err, &pe) || (!errors.Is(err, paykit.ErrInvalidRequest) && !errors.Is(err, paykit.ErrInvalidSignature)) {
				t.Fatalf("error is not a paykit invalid request/signature: %v", err)
			}
			return
		}
		var w wireWebhook
		if json.Unmarshal(body, &w) != nil {
			t.Fatalf("accepted a body that does not decode: %q", body)
		}
		if w.Signature != Sign(vectorSecret, ev.RequestID) {
			t.Fatalf("accepted signature %q for id %q", w.Signature, ev.RequestID)
		}
		if !IsGUID(ev.RequestID) {
			t.Fatalf("accepted a non-GUID id %q", ev.RequestID)
		}
	})
}

func BenchmarkVerifyWebhook(b *testing.B) {
	c, err := New(Config{ClientID: "3fa85f34-5717-4562-b3fc-2c963f66afa7", Secret: "s3cret-api-key", WebhookSecret: vectorSecret})
	if err != nil {
		b.Fatal(err)
	}
	body := webhookBody(b, vectorID, 1, vectorSig)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.VerifyWebhook(body); err != nil {
			b.Fatal(err)
		}
	}
}

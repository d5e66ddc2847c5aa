package signature

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// The eCredits webhook vector from the design: base64(HMAC-SHA256(secret, lowercase(id))).
const (
	ecreditsSecret = "TheSigningSecretOfTheWebHook"
	ecreditsID     = "70df7B42-2926-4fa7-8fed-c5805f823167"
	ecreditsSig    = "f41RNMrifDO3/KB6dBB+MafKoSWb00ijzIOLk25KHks="
)

func ecreditsMessage() []byte { return []byte(strings.ToLower(ecreditsID)) }

func TestHMACSHA256Vectors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, key, message string
		wantHex, wantB64   string
	}{
		{
			name: "eCredits webhook", key: ecreditsSecret, message: strings.ToLower(ecreditsID),
			wantB64: ecreditsSig,
		},
		{
			// RFC 4231, test case 2.
			name: "RFC 4231 case 2", key: "Jefe", message: "what do ya want for nothing?",
			wantHex: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := NewHMACSHA256([]byte(tt.key))
			sum := s.Sum([]byte(tt.message))
			if tt.wantHex != "" {
				if got := hex.EncodeToString(sum); got != tt.wantHex {
					t.Errorf("Sum = %s, want %s", got, tt.wantHex)
				}
			}
			b64 := s.Base64([]byte(tt.message))
			if tt.wantB64 != "" && b64 != tt.wantB64 {
				t.Errorf("Base64 = %s, want %s", b64, tt.wantB64)
			}
			if want := base64.StdEncoding.EncodeToString(sum); b64 != want {
				t.Errorf("Base64 = %s, want the base64 of Sum, %s", b64, want)
			}
			if !s.VerifyBase64([]byte(tt.message), b64) {
				t.Errorf("VerifyBase64 refused %s", b64)
			}
			// A second use of the pooled state gives the same answer.
			if again := s.Base64([]byte(tt.message)); again != b64 {
				t.Errorf("second Base64 = %s, want %s", again, b64)
			}
		})
	}
}

func TestHMACSHA256CopiesKey(t *testing.T) {
	t.Parallel()
	key := []byte(ecreditsSecret)
	s := NewHMACSHA256(key)
	for i := range key {
		key[i] = 'x'
	}
	if got := s.Base64(ecreditsMessage()); got != ecreditsSig {
		t.Fatalf("after the caller changed its key slice: Base64 = %s, want %s", got, ecreditsSig)
	}
}

func TestVerifyBase64Rejects(t *testing.T) {
	t.Parallel()
	s := NewHMACSHA256([]byte(ecreditsSecret))
	sum := s.Sum(ecreditsMessage())
	flipped := append([]byte(nil), sum...)
	flipped[len(flipped)-1] ^= 1
	otherKey := NewHMACSHA256([]byte("another secret")).Base64(ecreditsMessage())

	tests := []struct {
		name string
		sig  string
	}{
		{"empty", ""},
		{"last bit flipped", base64.StdEncoding.EncodeToString(flipped)},
		{"first character changed", "g" + ecreditsSig[1:]},
		{"other key", otherKey},
		{"truncated", ecreditsSig[:len(ecreditsSig)-4]},
		{"padding dropped", strings.TrimRight(ecreditsSig, "=")},
		{"URL alphabet", base64.URLEncoding.EncodeToString(sum)},
		{"non-base64 characters", "f41RNMrifDO3/KB6dBB+MafKoSWb00ijzIOLk25KHk*="},
		{"hex instead of base64", hex.EncodeToString(sum)},
		{"31 bytes", base64.StdEncoding.EncodeToString(sum[:31])},
		{"33 bytes", base64.StdEncoding.EncodeToString(append(append([]byte(nil), sum...), 0))},
		{"non-zero padding bits", ecreditsSig[:42] + "t="}, // 's' = 44 and 't' = 45 differ only in bits past the data
		{"trailing newline", ecreditsSig + "\n"},
		{"embedded CRLF", ecreditsSig[:20] + "\r\n" + ecreditsSig[20:]},
		{"surrounding space", " " + ecreditsSig},
		{"lower-cased", strings.ToLower(ecreditsSig)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.sig == ecreditsSig {
				t.Fatal("test case equals the valid signature")
			}
			if s.VerifyBase64(ecreditsMessage(), tt.sig) {
				t.Errorf("VerifyBase64 accepted %q", tt.sig)
			}
		})
	}
	t.Run("other message", func(t *testing.T) {
		t.Parallel()
		if s.VerifyBase64([]byte(ecreditsID), ecreditsSig) { // not lower-cased
			t.Error("VerifyBase64 accepted the signature of another message")
		}
	})
}

func TestSHA1Hex(t *testing.T) {
	t.Parallel()
	tests := []struct{ message, want string }{
		{"", "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
		{"abc", "a9993e364706816aba3e25717850c26c9cd0d89d"},
		{"The quick brown fox jumps over the lazy dog", "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"},
	}
	for _, tt := range tests {
		t.Run(tt.message, func(t *testing.T) {
			t.Parallel()
			if got := SHA1Hex([]byte(tt.message)); got != tt.want {
				t.Errorf("SHA1Hex(%q) = %s, want %s", tt.message, got, tt.want)
			}
			if !VerifySHA1Hex([]byte(tt.message), tt.want) {
				t.Errorf("VerifySHA1Hex refused %s", tt.want)
			}
		})
	}
}

func TestVerifySHA1Hex(t *testing.T) {
	t.Parallel()
	const valid = "a9993e364706816aba3e25717850c26c9cd0d89d" // sha1("abc")
	tests := []struct {
		name    string
		message string
		sig     string
		want    bool
	}{
		{"lowercase", "abc", valid, true},
		{"uppercase", "abc", strings.ToUpper(valid), true},
		{"other message", "abd", valid, false},
		{"one digit changed", "abc", valid[:39] + "e", false},
		{"truncated", "abc", valid[:38], false},
		{"odd length", "abc", valid[:39], false},
		{"extended", "abc", valid + "00", false},
		{"empty", "abc", "", false},
		{"non-hex", "abc", "zz" + valid[2:], false},
		{"surrounding space", "abc", valid + " ", false},
		{"base64 of the digest", "abc", "qZk+NkcGgWq6PiVxeFDCbJzQ2J0=", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := VerifySHA1Hex([]byte(tt.message), tt.sig); got != tt.want {
				t.Errorf("VerifySHA1Hex(%q, %q) = %v, want %v", tt.message, tt.sig, got, tt.want)
			}
		})
	}
}

func TestEqual(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want bool
	}{
		{"", "", true},
		{"abc", "abc", true},
		{"abc", "abd", false},
		{"abc", "ab", false},
		{"ab", "abc", false},
		{"", "a", false},
	}
	for _, tt := range tests {
		if got := Equal([]byte(tt.a), []byte(tt.b)); got != tt.want {
			t.Errorf("Equal(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

// TestHMACSHA256Concurrent shares one signer among goroutines (run it with -race): every
// result must equal a signer made for that call alone.
func TestHMACSHA256Concurrent(t *testing.T) {
	t.Parallel()
	key := []byte(ecreditsSecret)
	s := NewHMACSHA256(key)
	const workers, perWorker = 8, 200
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				msg := []byte(fmt.Sprintf("message %d/%d %s", w, i, strings.Repeat("x", i)))
				m := hmac.New(sha256.New, key)
				m.Write(msg)
				want := m.Sum(nil)
				if got := s.Sum(msg); !hmac.Equal(got, want) {
					errs <- fmt.Errorf("worker %d message %d: Sum = %x, want %x", w, i, got, want)
					return
				}
				if !s.VerifyBase64(msg, base64.StdEncoding.EncodeToString(want)) {
					errs <- fmt.Errorf("worker %d message %d: VerifyBase64 refused a valid signature", w, i)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func FuzzVerifyBase64(f *testing.F) {
	s := NewHMACSHA256([]byte(ecreditsSecret))
	f.Add(ecreditsMessage(), ecreditsSig)
	f.Add([]byte(ecreditsID), ecreditsSig)
	f.Add([]byte(""), "")
	f.Add(ecreditsMessage(), ecreditsSig+"\n")
	f.Add(ecreditsMessage(), ecreditsSig[:42]+"t=")
	f.Fuzz(func(t *testing.T, message []byte, sig string) {
		want := s.Base64(message)
		if !s.VerifyBase64(message, want) {
			t.Fatalf("VerifyBase64 refused what Base64 produced: %q", want)
		}
		if got := s.VerifyBase64(message, sig); got != (sig == want) {
			t.Fatalf("VerifyBase64(%q, %q) = %v, want %v (the signature is %q)", message, sig, got, !got, want)
		}
	})
}

func FuzzVerifySHA1Hex(f *testing.F) {
	f.Add([]byte("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d")
	f.Add([]byte("abc"), "A9993E364706816ABA3E25717850C26C9CD0D89D")
	f.Add([]byte(""), "")
	f.Fuzz(func(t *testing.T, message []byte, sig string) {
		want := SHA1Hex(message)
		if !VerifySHA1Hex(message, want) || !VerifySHA1Hex(message, strings.ToUpper(want)) {
			t.Fatalf("VerifySHA1Hex refused what SHA1Hex produced: %q", want)
		}
		if got := VerifySHA1Hex(message, sig); got != strings.EqualFold(sig, want) {
			t.Fatalf("VerifySHA1Hex(%q, %q) = %v, want %v (the digest is %q)", message, sig, got, !got, want)
		}
	})
}

func BenchmarkHMACSHA256Verify(b *testing.B) {
	s := NewHMACSHA256([]byte(ecreditsSecret))
	msg := ecreditsMessage()
	b.ReportAllocs()
	for b.Loop() {
		if !s.VerifyBase64(msg, ecreditsSig) {
			b.Fatal("VerifyBase64 refused the vector")
		}
	}
}

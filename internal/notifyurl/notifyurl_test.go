package notifyurl

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// independentSig computes the signature without the package's code.
func independentSig(secret, id string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(id))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func TestSignKeepsTheMerchantsQuery(t *testing.T) {
	t.Parallel()
	s := New("notify-secret")
	out, err := s.Sign("https://shop.test/hooks/echelon?tenant=7&x=a+b", "order-42")
	require.NoError(t, err)
	u, err := url.Parse(out)
	require.NoError(t, err)
	q := u.Query()
	assert.Equal(t, "7", q.Get("tenant"))
	assert.Equal(t, "a b", q.Get("x"))
	assert.Equal(t, "order-42", q.Get(ParamID))
	assert.Equal(t, independentSig("notify-secret", "order-42"), q.Get(ParamSignature))
	assert.Equal(t, "/hooks/echelon", u.Path)

	id, err := s.Verify(u)
	require.NoError(t, err)
	assert.Equal(t, "order-42", id)
}

func TestSignWithoutSecretChangesNothing(t *testing.T) {
	t.Parallel()
	out, err := New("").Sign("https://shop.test/n?a=1", "id")
	require.NoError(t, err)
	assert.Equal(t, "https://shop.test/n?a=1", out)
	assert.False(t, New("").Enabled())
}

func TestVerifyRefuses(t *testing.T) {
	t.Parallel()
	s := New("notify-secret")
	good := independentSig("notify-secret", "order-42")
	tests := []struct {
		name, query string
		want        error
	}{
		{"nothing", "a=1", ErrMissing},
		{"no signature", "paykit_id=order-42", ErrMissing},
		{"no id", "paykit_sig=" + good, ErrMissing},
		{"another id", "paykit_id=order-43&paykit_sig=" + good, ErrInvalid},
		{"another secret", "paykit_id=order-42&paykit_sig=" + independentSig("guess", "order-42"), ErrInvalid},
		{"padded", "paykit_id=order-42&paykit_sig=" + good + "=", ErrInvalid},
		{"not base64", "paykit_id=order-42&paykit_sig=!!!", ErrInvalid},
		{"twice", "paykit_id=order-42&paykit_id=order-42&paykit_sig=" + good, ErrInvalid},
		{"empty id", "paykit_id=&paykit_sig=" + independentSig("notify-secret", ""), ErrInvalid},
	}
	for _, tt := range tests {
		_, err := s.Verify(&url.URL{RawQuery: tt.query})
		assert.ErrorIs(t, err, tt.want, tt.name)
	}
}

func FuzzVerify(f *testing.F) {
	s := New("notify-secret")
	f.Add("paykit_id=order-42&paykit_sig=" + independentSig("notify-secret", "order-42"))
	f.Add("paykit_id=x&paykit_sig=y")
	f.Add("")
	f.Fuzz(func(t *testing.T, query string) {
		id, err := s.Verify(&url.URL{RawQuery: query})
		if err != nil {
			return
		}
		// Whatever verified is signed for exactly that id.
		u := &url.URL{RawQuery: query}
		assert.Equal(t, independentSig("notify-secret", id), u.Query().Get(ParamSignature))
	})
}

package ids

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheck(t *testing.T) {
	t.Parallel()
	ok := []string{"a", "order-1001", strings.Repeat("x", MaxLen), "...", ".a", "a.", "Ördér 1", UUID(), Hex32()}
	for _, id := range ok {
		assert.NoError(t, Check(id), "%q", id)
	}
	bad := map[string]string{
		"":                              "empty",
		".":                             "dot-segment",
		"..":                            "dot-segment",
		strings.Repeat("x", MaxLen+1):   "more than 64",
		"a\x00b":                        "control character",
		"a\nb":                          "control character",
		"a\rb":                          "control character",
		"a\x7f":                         "control character",
		"a\u0085":                       "control character",
		string([]byte{0xff, 0xfe}):      "UTF-8",
		strings.Repeat("é", MaxLen/2+1): "more than 64",
	}
	for id, want := range bad {
		err := Check(id)
		require.Error(t, err, "%q", id)
		assert.Contains(t, err.Error(), want, "%q", id)
	}
}

func FuzzCheck(f *testing.F) {
	for _, s := range []string{"", ".", "..", "a\nb", "order-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if Check(id) != nil {
			return
		}
		if id == "" || id == "." || id == ".." || len(id) > MaxLen || strings.ContainsAny(id, "\x00\n\r\t") {
			t.Fatalf("Check accepted %q", id)
		}
	})
}

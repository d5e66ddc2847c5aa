package ecster

import (
	"encoding/json"
	"testing"
)

// jsonString reads exactly what encoding/json reads, faster for plain strings.
func FuzzJSONString(f *testing.F) {
	for _, s := range []string{`"READY"`, `"a\"b"`, `"\u00c5"`, `"Å"`, `""`, `"`, `x`, `"a"b"`, `null`, `1`, "\"a\tb\""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var want string
		wantErr := json.Unmarshal(b, &want)
		got, err := jsonString(b)
		if (err != nil) != (wantErr != nil) || got != want {
			t.Fatalf("%q: got %q, %v; encoding/json %q, %v", b, got, err, want, wantErr)
		}
	})
}

package ids

import (
	"regexp"
	"strings"
	"sync"
	"testing"
)

var (
	// uuidV4 is a dashed lowercase UUID with version 4 and the RFC 4122 variant (8, 9, a, b).
	uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	// hex32V4 is the same UUID without dashes.
	hex32V4 = regexp.MustCompile(`^[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}$`)
	// entrecardID is what Entrecard accepts as an item id.
	entrecardID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)
)

func TestFormats(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		gen     func() string
		pattern *regexp.Regexp
		length  int
		// versionAt and variantAt index the version and variant nibbles in the string.
		versionAt, variantAt int
	}{
		{"UUID", UUID, uuidV4, 36, 14, 19},
		{"Hex32", Hex32, hex32V4, 32, 12, 16},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// Sample enough ids that every variant nibble (8, 9, a, b) shows up and no other.
			variants := map[byte]int{}
			for range 1000 {
				id := tt.gen()
				if len(id) != tt.length {
					t.Fatalf("%s() = %q: length %d, want %d", tt.name, id, len(id), tt.length)
				}
				if !tt.pattern.MatchString(id) {
					t.Fatalf("%s() = %q does not match %s", tt.name, id, tt.pattern)
				}
				if id[tt.versionAt] != '4' {
					t.Fatalf("%s() = %q: version nibble %q, want '4'", tt.name, id, id[tt.versionAt])
				}
				variants[id[tt.variantAt]]++
			}
			for _, v := range []byte("89ab") {
				if variants[v] == 0 {
					t.Errorf("variant nibble %q never seen in 1000 ids: %v", v, variants)
				}
			}
			if len(variants) != 4 {
				t.Errorf("variant nibbles seen: %v, want only 8, 9, a, b", variants)
			}
		})
	}
}

// TestHex32FitsEntrecard checks that Hex32 fits Entrecard's item id and that both forms share
// one UUID layout.
func TestHex32FitsEntrecard(t *testing.T) {
	t.Parallel()
	for range 100 {
		id := Hex32()
		if !entrecardID.MatchString(id) {
			t.Fatalf("Hex32() = %q is not an Entrecard item id", id)
		}
		if u := strings.ReplaceAll(UUID(), "-", ""); !hex32V4.MatchString(u) {
			t.Fatalf("UUID() without dashes = %q does not match the Hex32 layout", u)
		}
	}
}

func TestUnique(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		gen  func() string
	}{
		{"UUID", UUID},
		{"Hex32", Hex32},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			const workers, perWorker = 4, 25000
			var mu sync.Mutex
			seen := make(map[string]struct{}, workers*perWorker)
			var wg sync.WaitGroup
			for range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					local := make([]string, perWorker)
					for i := range local {
						local[i] = tt.gen()
					}
					mu.Lock()
					defer mu.Unlock()
					for _, id := range local {
						seen[id] = struct{}{}
					}
				}()
			}
			wg.Wait()
			if len(seen) != workers*perWorker {
				t.Fatalf("%d distinct ids out of %d", len(seen), workers*perWorker)
			}
		})
	}
}

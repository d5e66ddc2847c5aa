package transport

import (
	"net/http"
	"testing"

	"github.com/paykit/paykit"
)

func TestCheckBaseURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url string
		ok  bool
	}{
		{"https://api.example.com", true},
		{"https://api.example.com/rest/public/", true},
		{"https://api.example.com:8443/v1", true},
		{"http://127.0.0.1", true},
		{"http://127.0.0.1:8080/api", true},
		{"http://127.1.2.3:9", true},
		{"http://localhost", true},
		{"http://LocalHost:3000", true},
		{"http://[::1]", true},
		{"http://[::1]:8080/", true},
		{"http://example.com", false},
		{"http://10.0.0.1", false},
		{"http://localhost.example.com", false},
		{"http://127.0.0.1.example.com", false},
		{"http://[::2]", false},
		{"/api/v1", false},
		{"api.example.com", false},
		{"", false},
		{"https://", false},
		{"ftp://127.0.0.1", false},
		{"ftp://example.com", false},
		{"ws://localhost", false},
		{"https://api.example.com/v1?key=x", false},
		{"https://api.example.com/v1#frag", false},
		{"https://exa mple.com", false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			t.Parallel()
			err := CheckBaseURL(tt.url)
			if (err == nil) != tt.ok {
				t.Errorf("CheckBaseURL(%q) = %v, want ok %v", tt.url, err, tt.ok)
			}
		})
	}
}

func TestNewRefusesBadBaseURL(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"http://example.com", "", "ftp://127.0.0.1"} {
		t.Run(u, func(t *testing.T) {
			t.Parallel()
			c, err := New(Config{Provider: "testprov", BaseURL: u, Settings: testSettings()})
			if c != nil {
				t.Errorf("New returned a client")
			}
			checkKind(t, err, paykit.ErrInvalidRequest)
			if pe := asError(t, err); pe.Provider != "testprov" || pe.Op == "" {
				t.Errorf("Provider, Op = %q, %q", pe.Provider, pe.Op)
			}
		})
	}
}

// TestNewKeepsCallersHTTPClient: the caller's *http.Client is used as given and never changed
// (resty would otherwise put its own transport into a client whose Transport is nil, e.g.
// http.DefaultClient).
func TestNewKeepsCallersHTTPClient(t *testing.T) {
	t.Parallel()
	hc := &http.Client{}
	if _, err := New(Config{Provider: "testprov", BaseURL: "https://api.example.com", Settings: paykit.Settings{HTTPClient: hc}}); err != nil {
		t.Fatal(err)
	}
	if hc.Transport != nil {
		t.Errorf("New set the caller's http.Client.Transport to %T", hc.Transport)
	}
}

func TestIsLoopback(t *testing.T) {
	t.Parallel()
	for host, want := range map[string]bool{
		"localhost": true, "LOCALHOST": true, "127.0.0.1": true, "127.255.0.1": true, "::1": true,
		"": false, "example.com": false, "0.0.0.0": false, "::": false, "10.1.1.1": false,
	} {
		if got := IsLoopback(host); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", host, got, want)
		}
	}
}

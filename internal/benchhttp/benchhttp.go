// Package benchhttp is the baseline of paykit's benchmarks: one API call made with bare
// net/http and encoding/json, nothing else, so that each provider's benchmark measures paykit
// beside the same requests sent the plain way against the same fake.
package benchhttp

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// Do sends method url with header and body (JSON, or none when nil) through hc, and decodes
// the 2xx JSON answer into out. Any failure ends the benchmark.
func Do(tb testing.TB, hc *http.Client, method, url string, header http.Header, body []byte, out any) {
	tb.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		tb.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode/100 != 2 {
		tb.Fatalf("%s %s: %d %v %s", method, url, resp.StatusCode, err, data)
	}
	if err := json.Unmarshal(data, out); err != nil {
		tb.Fatal(err)
	}
}

// Bearer returns the header of a call authorized with token; empty token: none.
func Bearer(token string, more ...string) http.Header {
	h := http.Header{}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(more); i += 2 {
		h.Set(more[i], more[i+1])
	}
	return h
}

package safeprint

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type store interface{ Get(string) string }

type mapStore map[string]string

func (m mapStore) Get(k string) string { return m[k] }

type sampleConfig struct {
	ID      string
	Secret  string `paykit:"secret"`
	Empty   string `paykit:"secret"`
	URL     string
	Test    bool
	Timeout time.Duration
	Store   store
	None    store
	hidden  string
}

func (c sampleConfig) String() string       { return String(c) }
func (c sampleConfig) GoString() string     { return String(c) }
func (c sampleConfig) LogValue() slog.Value { return LogValue(c) }
func (c sampleConfig) MarshalJSON() ([]byte, error) {
	return JSON(c)
}

type sampleClient struct{ cfg sampleConfig }

func (c *sampleClient) String() string       { return Client("safeprint.sampleClient", c.cfg) }
func (c *sampleClient) GoString() string     { return c.String() }
func (c *sampleClient) LogValue() slog.Value { return ClientLogValue(c.cfg) }

func sample() sampleConfig {
	return sampleConfig{
		ID: "merchant-1", Secret: "s3cr3t-<&>\"value", URL: "https://x.test", Test: true,
		Timeout: 2 * time.Second, Store: mapStore{"k": "stored-secret-result"}, hidden: "hidden-value",
	}
}

func TestString(t *testing.T) {
	t.Parallel()
	want := `safeprint.sampleConfig{ID:"merchant-1" Secret:[REDACTED] Empty:"" URL:"https://x.test" Test:true Timeout:2s Store:safeprint.mapStore None:<nil>}`
	assert.Equal(t, want, String(sample()))
	p := sample()
	assert.Equal(t, want, String(&p), "a pointer prints as its value")
	assert.Equal(t, "<nil>", String((*sampleConfig)(nil)))
}

func TestNoFormLeaks(t *testing.T) {
	t.Parallel()
	c := sample()
	values := map[string]any{"config": c, "pointer": &c, "client": &sampleClient{cfg: c}, "nested": struct{ C sampleConfig }{c}}
	for name, v := range values {
		for i, form := range Forms(v) {
			for _, secret := range []string{"s3cr3t", "stored-secret-result", "hidden-value"} {
				assert.NotContains(t, form, secret, "%s, form %d: %s", name, i, form)
			}
			assert.Contains(t, form, "merchant-1", "%s, form %d prints the config: %s", name, i, form)
		}
	}
}

func TestLogValue(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	slog.New(slog.NewTextHandler(&b, nil)).Info("x", "cfg", sample())
	out := b.String()
	assert.Contains(t, out, "cfg.Secret=[REDACTED]")
	assert.Contains(t, out, `cfg.Empty=""`)
	assert.Contains(t, out, "cfg.Test=true")
	assert.Contains(t, out, "cfg.Store=safeprint.mapStore")
}

func TestNotAStruct(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "42", String(42))
	assert.Equal(t, "42", LogValue(42).String())
	assert.Equal(t, "<nil>", LogValue((*sampleConfig)(nil)).String())
}

func TestJSON(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(struct{ C sampleConfig }{sample()})
	require.NoError(t, err)
	assert.JSONEq(t, `{"C":{"ID":"merchant-1","Secret":"[REDACTED]","Empty":"","URL":"https://x.test","Test":true,"Timeout":"2s","Store":"safeprint.mapStore","None":"<nil>"}}`, string(b))
}

type formatted struct{ secret string }

func (formatted) String() string                  { return "formatted{***}" }
func (v formatted) Format(f fmt.State, verb rune) { Format(f, verb, v.String()) }

func TestFormatEveryVerb(t *testing.T) {
	t.Parallel()
	v := formatted{secret: "s3cr3t"}
	want := map[string]string{
		"%v": "formatted{***}", "%+v": "formatted{***}", "%#v": "formatted{***}", "%s": "formatted{***}",
		"%d": "%!d(string=formatted{***})", "%q": `"formatted{***}"`, "%x": fmt.Sprintf("%x", "formatted{***}"),
		"%18s": "    formatted{***}",
	}
	for verb, w := range want {
		got := fmt.Sprintf(verb, v)
		assert.Equal(t, w, got, verb)
		assert.NotContains(t, got, "s3cr3t", verb)
	}
}

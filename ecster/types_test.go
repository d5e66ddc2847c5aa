package ecster_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit/paykit/ecster"
)

func TestParseNationalID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want ecster.NationalID
		ok   bool
	}{
		{"SE530516-9756", "SE530516-9756", true},
		{"se530516-9756", "SE530516-9756", true},
		{"Se530516-9756", "SE530516-9756", true},
		{"SE530576-9756", "SE530576-9756", true}, // coordination number: day + 60
		{"SE5305169756", "", false},              // no dash: 12 characters
		{"SE530516+9756", "", false},
		{"SE531316-9756", "", false}, // month 13
		{"SE530500-9756", "", false}, // day 0
		{"SE530532-9756", "", false}, // day 32
		{"SE53051a-9756", "", false},
		{"1E530516-9756", "", false},
		{"NO1234567890a", "NO1234567890A", true},
		{"no123456-7890", "NO123456-7890", true},
		{"NO12345 67890", "", false},
		{"", "", false},
		{"SE530516-97567", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ecster.ParseNationalID(tt.in)
			if !tt.ok {
				assert.Error(t, err)
				assert.Error(t, ecster.NationalID(tt.in).Validate())
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.True(t, got.Equal(ecster.NationalID(tt.in)), "case-insensitive")
		})
	}
}

func TestParseLocale(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]ecster.Locale{
		"sv-SE": {Language: "sv", Country: "SE"},
		"SV-se": {Language: "sv", Country: "SE"},
		"en-GB": {Language: "en", Country: "GB"},
	} {
		got, err := ecster.ParseLocale(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
		assert.NoError(t, got.Validate())
	}
	for _, in := range []string{"", "sv", "sv_SE", "swe-SE", "sv-SWE", "s1-SE", "sv-SE-x", "-SE", "sv-"} {
		_, err := ecster.ParseLocale(in)
		assert.Error(t, err, in)
	}
	assert.Error(t, ecster.Locale{Language: "s", Country: "SE"}.Validate())
}

func TestTags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in          string
		ok, typed   bool
		name, value string
	}{
		{"TV", true, false, "", "TV"},
		{"product:TV", true, true, "product", "TV"},
		{"product:Smart TV", true, true, "product", "Smart TV"},
		{"", false, false, "", ""},
		{":TV", false, false, "", ""},
		{"product:", false, false, "", ""},
		{"a:b:c", false, false, "", ""},
		{" TV", false, false, "", ""},
		{"product: TV", false, false, "", ""},
		{"T\nV", false, false, "", ""},
		{"T\x00V", false, false, "", ""},
		{"\xff", false, false, "", ""},
	}
	for _, tt := range tests {
		got, err := ecster.ParseTag(tt.in)
		if !tt.ok {
			assert.Error(t, err, "%q", tt.in)
			continue
		}
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.typed, got.Typed(), tt.in)
		assert.Equal(t, tt.name, got.Name(), tt.in)
		assert.Equal(t, tt.value, got.Value(), tt.in)
	}
	assert.Equal(t, ecster.Tag("product:TV"), ecster.NewTag("product", "TV"))
	assert.Equal(t, ecster.Tag("TV"), ecster.NewTag("", "TV"))
}

func TestDate(t *testing.T) {
	t.Parallel()
	d, err := ecster.ParseDate("2024-02-29")
	require.NoError(t, err)
	assert.Equal(t, ecster.Date{Year: 2024, Month: time.February, Day: 29}, d)
	assert.Equal(t, "2024-02-29", d.String())
	b, err := json.Marshal(d)
	require.NoError(t, err)
	assert.JSONEq(t, `"2024-02-29"`, string(b))
	var back ecster.Date
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, d, back)

	for _, in := range []string{"2023-02-29", "2024-13-01", "2024-1-01", "24-01-01", "2024-01-01T00:00:00Z", "2024/01/01", "", "2024-00-10", "+024-01-01"} {
		_, err := ecster.ParseDate(in)
		assert.Error(t, err, in)
	}
	_, err = json.Marshal(ecster.Date{Year: 2023, Month: 2, Day: 30})
	assert.Error(t, err, "an invalid date is not sent")
	assert.Equal(t, ecster.Date{Year: 2020, Month: 5, Day: 1}, ecster.DateOf(time.Date(2020, 5, 1, 23, 0, 0, 0, time.UTC)))
}

func TestTimestamp(t *testing.T) {
	t.Parallel()
	cet := time.FixedZone("", 3600)
	tests := []struct {
		in   string
		want time.Time
	}{
		{"2019-01-15T09:25:23+01:00", time.Date(2019, 1, 15, 9, 25, 23, 0, cet)},
		{"2019-02-07T12:27:28Z", time.Date(2019, 2, 7, 12, 27, 28, 0, time.UTC)},
		{"2019-02-07T12:27:28.5Z", time.Date(2019, 2, 7, 12, 27, 28, 5e8, time.UTC)},
		{"2019-02-07T12:27:28-05:30", time.Date(2019, 2, 7, 12, 27, 28, 0, time.FixedZone("", -(5*3600+1800)))},
	}
	for _, tt := range tests {
		got, err := ecster.ParseTimestamp(tt.in)
		require.NoError(t, err, tt.in)
		assert.True(t, tt.want.Equal(got), "%s: %v", tt.in, got)
	}
	for _, in := range []string{"2019-01-15T09:25:23", "2019-01-15 09:25:23+01:00", "2019-01-15t09:25:23Z", "2019-01-15T09:25:23z",
		"2019-01-15T09:25:23+0100", "2019-01-15", "", "2019-13-15T09:25:23Z"} {
		_, err := ecster.ParseTimestamp(in)
		assert.Error(t, err, in)
	}
	assert.Equal(t, "2019-01-15T09:25:23+01:00", ecster.FormatTimestamp(time.Date(2019, 1, 15, 9, 25, 23, 999, cet)), "whole seconds")
	assert.Equal(t, "2019-01-15T09:25:23+00:00", ecster.FormatTimestamp(time.Date(2019, 1, 15, 9, 25, 23, 0, time.UTC)), "+00:00, not Z")

	var ts ecster.Timestamp
	require.NoError(t, json.Unmarshal([]byte(`"2019-02-07T12:27:28Z"`), &ts))
	b, err := json.Marshal(ts)
	require.NoError(t, err)
	assert.Equal(t, `"2019-02-07T12:27:28+00:00"`, string(b))
	require.NoError(t, json.Unmarshal([]byte(`null`), &ts))
	assert.True(t, ts.IsZero())
	assert.Error(t, json.Unmarshal([]byte(`"yesterday"`), &ts))
}

func TestAmountAndPercent(t *testing.T) {
	t.Parallel()
	assert.NoError(t, ecster.Amount(0).Validate())
	assert.NoError(t, ecster.Amount(15675).Validate())
	assert.Error(t, ecster.Amount(-1).Validate())
	assert.NoError(t, ecster.Percent(670).Validate())
	assert.Error(t, ecster.Percent(-1).Validate())
	assert.Equal(t, "25.00%", ecster.Percent(2500).String())
	assert.Equal(t, "0.05%", ecster.Percent(5).String())
	assert.Equal(t, "-1.50%", ecster.Percent(-150).String())
}

func TestStatusWordsAreNormalized(t *testing.T) {
	t.Parallel()
	assert.Equal(t, ecster.OrderAnnulled, ecster.ParseOrderStatus("ANNULED"))
	assert.Equal(t, ecster.OrderStatus("STOPPED"), ecster.ParseOrderStatus("STOPPED"), "unknown words pass through")
	assert.Equal(t, ecster.EventPartialDebit, ecster.ParseOrderEvent("PARTIAL_DEDIT"))
	assert.Equal(t, ecster.EventFullDebit, ecster.ParseOrderEvent("FULL_DEDIT"))
	assert.Equal(t, ecster.OrderEvent("SOMETHING"), ecster.ParseOrderEvent("SOMETHING"))
	assert.Equal(t, ecster.TransactionAnnul, ecster.ParseTransactionType("ANNULL"))

	var o struct {
		S ecster.OrderStatus     `json:"s"`
		E ecster.OrderEvent      `json:"e"`
		T ecster.TransactionType `json:"t"`
	}
	require.NoError(t, json.Unmarshal([]byte(`{"s":"ANNULED","e":"FULL_DEDIT","t":"ANNULL"}`), &o))
	assert.Equal(t, ecster.OrderAnnulled, o.S)
	assert.Equal(t, ecster.EventFullDebit, o.E)
	assert.Equal(t, ecster.TransactionAnnul, o.T)
	assert.True(t, ecster.IsPartPayment("ACCOUNT"))
	assert.True(t, ecster.IsPartPayment("partpayment"))
	assert.False(t, ecster.IsPartPayment("INVOICE"))
}

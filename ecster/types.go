package ecster

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// This file holds Ecster's data types ("Data types" in the provider's document). Each one
// validates before anything is sent: a request holding an invalid value is refused with
// paykit.ErrInvalidRequest and never reaches Ecster.

// Amount is Ecster's amount: an integer in the smallest unit of the currency (öre for SEK):
// 156.75 SEK is 15675. It is paykit.Money's Amount, without the currency.
type Amount int64

// Validate reports an error for a negative amount.
func (a Amount) Validate() error {
	if a < 0 {
		return fmt.Errorf("amount %d is negative", int64(a))
	}
	return nil
}

// Percent is Ecster's percent: an integer, the percentage times 100, so at most two
// decimals: 6.70 % is 670, a VAT rate of 25 % is 2500.
type Percent int

// Validate reports an error for a negative percent.
func (p Percent) Validate() error {
	if p < 0 {
		return fmt.Errorf("percent %d is negative", int(p))
	}
	return nil
}

// String formats p as a decimal percentage: Percent(670) is "6.70%".
func (p Percent) String() string {
	sign := ""
	v := int64(p)
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%02d%%", sign, v/100, v%100)
}

// Date is Ecster's date, YYYY-MM-DD (extended ISO 8601, no reduced accuracy).
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate reads a date in the form YYYY-MM-DD, exactly: ten characters, a real calendar
// day.
func ParseDate(s string) (Date, error) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' || !digitsOnly(s[0:4]) || !digitsOnly(s[5:7]) || !digitsOnly(s[8:10]) {
		return Date{}, fmt.Errorf("date %q is not YYYY-MM-DD", s)
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("date %q is not a calendar day", s)
	}
	d := Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}
	if err := d.Validate(); err != nil {
		return Date{}, err
	}
	return d, nil
}

// DateOf returns the calendar day of t in t's location.
func DateOf(t time.Time) Date { return Date{Year: t.Year(), Month: t.Month(), Day: t.Day()} }

// String formats d as YYYY-MM-DD.
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day) }

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// Validate reports an error unless d is a real calendar day of the years 0001 to 9999.
func (d Date) Validate() error {
	if d.Year < 1 || d.Year > 9999 {
		return fmt.Errorf("date %s: year out of range", d)
	}
	t := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
	if t.Year() != d.Year || t.Month() != d.Month || t.Day() != d.Day {
		return fmt.Errorf("date %s is not a calendar day", d)
	}
	return nil
}

// MarshalJSON writes d as "YYYY-MM-DD"; an invalid date is an error.
func (d Date) MarshalJSON() ([]byte, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	return json.Marshal(d.String())
}

// UnmarshalJSON reads "YYYY-MM-DD".
func (d *Date) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := ParseDate(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// timestampLayout is Ecster's timestamp: YYYY-MM-DDTHH:MM:SS(+|-)HH:MM, 25 characters.
const timestampLayout = "2006-01-02T15:04:05-07:00"

// FormatTimestamp writes t as Ecster's timestamp, "2019-01-15T09:25:23+01:00": whole
// seconds (Ecster takes no fraction) and a numeric offset, "+00:00" for UTC.
func FormatTimestamp(t time.Time) string { return t.Format(timestampLayout) }

// ParseTimestamp reads Ecster's timestamp, an extended ISO 8601 date and time with an offset:
// "2019-01-15T09:25:23+01:00". It also reads "Z" for UTC, as Ecster's own OEN example
// writes it ("2019-02-07T12:27:28Z"), and a fraction of a second, which the document says
// Ecster does not send but which costs nothing to accept. A time without an offset is
// refused: it would name no instant.
func ParseTimestamp(s string) (time.Time, error) {
	// time.RFC3339 also takes a lowercase 't' or 'z' and offsets beyond ±23:59; ISO 8601
	// extended format as Ecster uses it has neither.
	if len(s) < 20 || s[10] != 'T' || strings.ContainsAny(s, "tz ") {
		return time.Time{}, fmt.Errorf("timestamp %q is not YYYY-MM-DDTHH:MM:SS±HH:MM", s)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("timestamp %q is not YYYY-MM-DDTHH:MM:SS±HH:MM", s)
	}
	return t, nil
}

// Timestamp is a time as Ecster writes it; the zero Timestamp is written as null.
type Timestamp struct{ time.Time }

// MarshalJSON writes t with FormatTimestamp.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(FormatTimestamp(t.Time))
}

// UnmarshalJSON reads t with ParseTimestamp; null and "" leave it zero.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*t = Timestamp{}
		return nil
	}
	s, err := jsonString(b)
	if err != nil {
		return err
	}
	if s == "" {
		*t = Timestamp{}
		return nil
	}
	v, err := ParseTimestamp(s)
	if err != nil {
		return err
	}
	t.Time = v
	return nil
}

// NationalID is Ecster's nationalid: an ISO 3166-1 alpha-2 country code followed by the
// country's person identifier, 13 characters; for Sweden the personnummer, SEYYMMDD-XXXX.
// It is not case sensitive; ParseNationalID writes it in capitals.
type NationalID string

// ParseNationalID reads and validates a national id, either case, and returns it in
// capitals. A Swedish id must be SEYYMMDD-XXXX with a real month and a day
// of 01-31 (or 61-91, a coordination number); other countries' identifiers are checked for
// length (13) and characters only, the document giving no format for them.
func ParseNationalID(s string) (NationalID, error) {
	if len(s) != 13 {
		return "", fmt.Errorf("national id: want 13 characters (SEYYMMDD-XXXX), got %d", len(s))
	}
	country := strings.ToUpper(s[:2])
	if !lettersOnly(country) {
		return "", errors.New("national id must start with an ISO 3166-1 alpha-2 country code")
	}
	rest := s[2:]
	if country == "SE" {
		if rest[6] != '-' || !digitsOnly(rest[0:6]) || !digitsOnly(rest[7:]) {
			return "", errors.New("a Swedish national id is SEYYMMDD-XXXX")
		}
		month, _ := strconv.Atoi(rest[2:4])
		day, _ := strconv.Atoi(rest[4:6])
		if month < 1 || month > 12 || !((day >= 1 && day <= 31) || (day >= 61 && day <= 91)) {
			return "", errors.New("a Swedish national id must hold a real month and day")
		}
		return NationalID(country + rest), nil
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '-' || c == '+') {
			return "", errors.New("a national id holds only letters, digits, '-' and '+'")
		}
	}
	return NationalID(strings.ToUpper(country + rest)), nil
}

// Validate reports whether id is a valid national id (ParseNationalID).
func (id NationalID) Validate() error {
	_, err := ParseNationalID(string(id))
	return err
}

// Equal reports whether id and other are the same national id, ignoring case.
func (id NationalID) Equal(other NationalID) bool {
	return strings.EqualFold(string(id), string(other))
}

// Locale is a language and a country, written "sv-SE" (ISO 639-1 language, ISO 3166-1
// alpha-2 region) in query parameters and as {language, country} in request bodies. It is
// not case sensitive.
type Locale struct {
	Language string `json:"language"` // "sv", lower case
	Country  string `json:"country"`  // "SE", capitals
}

// ParseLocale reads a locale such as "sv-SE", "SV-se" or "en-GB" (either case) and returns it
// normalized: language in lower case, country in capitals.
func ParseLocale(s string) (Locale, error) {
	lang, country, ok := strings.Cut(s, "-")
	if !ok || len(lang) != 2 || len(country) != 2 || !lettersOnly(lang) || !lettersOnly(country) {
		return Locale{}, fmt.Errorf("locale %q is not language-REGION, e.g. sv-SE", s)
	}
	return Locale{Language: strings.ToLower(lang), Country: strings.ToUpper(country)}, nil
}

// String writes l as "sv-SE".
func (l Locale) String() string { return l.Language + "-" + l.Country }

// Validate reports whether l is a valid locale.
func (l Locale) Validate() error {
	_, err := ParseLocale(l.String())
	return err
}

// Tag is one of Ecster's statistics tags, given with a cart or an order: typed, "name:tag"
// (e.g. "product:TV", which Ecster aggregates), or untyped, "tag" (e.g. "TV").
type Tag string

// NewTag returns the typed tag name:tag, or the untyped tag when name is empty.
func NewTag(name, tag string) Tag {
	if name == "" {
		return Tag(tag)
	}
	return Tag(name + ":" + tag)
}

// ParseTag reads and validates a tag, typed or untyped.
func ParseTag(s string) (Tag, error) {
	t := Tag(s)
	return t, t.Validate()
}

// Validate reports an error unless t is "tag" or "name:tag" with both parts non-empty,
// holding no second colon, no control character and no space at either end.
func (t Tag) Validate() error {
	s := string(t)
	if s == "" {
		return errors.New("tag is empty")
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == '\uFFFD' {
			return errors.New("tag holds a control character or invalid UTF-8")
		}
	}
	name, tag, typed := strings.Cut(s, ":")
	parts := []string{name}
	if typed {
		parts = append(parts, tag)
		if strings.Contains(tag, ":") {
			return fmt.Errorf("tag %q: a typed tag is name:tag with one colon", s)
		}
	}
	for _, p := range parts {
		if p == "" || strings.TrimSpace(p) != p {
			return fmt.Errorf("tag %q: name and tag must be non-empty, without spaces at their ends", s)
		}
	}
	return nil
}

// Typed reports whether t is a typed tag, name:tag.
func (t Tag) Typed() bool { return strings.Contains(string(t), ":") }

// Name returns the name of a typed tag ("product" of "product:TV"), "" for an untyped one.
func (t Tag) Name() string {
	name, _, typed := strings.Cut(string(t), ":")
	if !typed {
		return ""
	}
	return name
}

// Value returns the tag itself: "TV" of both "product:TV" and "TV".
func (t Tag) Value() string {
	name, tag, typed := strings.Cut(string(t), ":")
	if !typed {
		return name
	}
	return tag
}

func digitsOnly(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func lettersOnly(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

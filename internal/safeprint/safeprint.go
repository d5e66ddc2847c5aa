// Package safeprint prints the configuration structs of paykit's clients with their secrets
// redacted. A field tagged `paykit:"secret"` prints as [REDACTED] when it is set and as ""
// when it is empty (so a missing secret still shows), in every form a merchant might log:
// String (for %v and %+v), GoString (%#v), LogValue (log/slog) and MarshalJSON (a Config
// nested in a struct that a JSON log handler marshals).
//
// A provider's Config gets safe printing with four one-line methods:
//
//	func (c Config) String() string               { return safeprint.String(c) }
//	func (c Config) GoString() string             { return safeprint.String(c) }
//	func (c Config) LogValue() slog.Value         { return safeprint.LogValue(c) }
//	func (c Config) MarshalJSON() ([]byte, error) { return safeprint.JSON(c) }
//
// and its *Client with String, GoString and LogValue over Client and ClientLogValue.
package safeprint

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"strconv"
	"strings"
)

// Redacted replaces a secret's value.
const Redacted = "[REDACTED]"

// secret reports whether f holds a secret.
func secret(f reflect.StructField) bool { return f.Tag.Get("paykit") == "secret" }

// String formats v, a struct (or pointer to one), as "pkg.Type{Field:value …}" with every
// exported field, strings quoted, secret fields redacted, and nested structs that have a
// String method printed through it. Unexported fields are left out: they are the client's
// machinery, not its configuration.
func String(v any) string {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return "<nil>"
		}
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct {
		return fmt.Sprintf("%v", v)
	}
	rt := rv.Type()
	var b strings.Builder
	b.WriteString(rt.String())
	b.WriteString("{")
	first := true
	for i := 0; i < rt.NumField(); i++ {
		f := rt.Field(i)
		if !f.IsExported() {
			continue
		}
		if !first {
			b.WriteString(" ")
		}
		first = false
		b.WriteString(f.Name)
		b.WriteString(":")
		b.WriteString(field(f, rv.Field(i)))
	}
	b.WriteString("}")
	return b.String()
}

func field(f reflect.StructField, v reflect.Value) string {
	if secret(f) {
		if v.IsZero() {
			return `""`
		}
		return Redacted
	}
	if v.Kind() == reflect.String {
		return strconv.Quote(v.String())
	}
	if !v.CanInterface() {
		return "?"
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan:
		if v.IsNil() {
			return "<nil>"
		}
	}
	if s, ok := v.Interface().(fmt.Stringer); ok {
		return s.String()
	}
	switch v.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return fmt.Sprintf("%v", v.Interface())
	}
	// Anything else (a store, a client, a map) prints as its type only: its contents are
	// not configuration, and could hold what must not be printed.
	return fmt.Sprintf("%T", v.Interface())
}

// LogValue returns v as a slog group of its exported fields, secret fields redacted.
func LogValue(v any) slog.Value {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return slog.StringValue("<nil>")
		}
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct {
		return slog.StringValue(fmt.Sprintf("%v", v))
	}
	rt := rv.Type()
	attrs := make([]slog.Attr, 0, rt.NumField())
	for i := 0; i < rt.NumField(); i++ {
		f := rt.Field(i)
		if !f.IsExported() {
			continue
		}
		fv := rv.Field(i)
		switch {
		case secret(f):
			s := Redacted
			if fv.IsZero() {
				s = ""
			}
			attrs = append(attrs, slog.String(f.Name, s))
		case fv.Kind() == reflect.String:
			attrs = append(attrs, slog.String(f.Name, fv.String()))
		case fv.Kind() == reflect.Bool:
			attrs = append(attrs, slog.Bool(f.Name, fv.Bool()))
		default:
			attrs = append(attrs, slog.String(f.Name, field(f, fv)))
		}
	}
	return slog.GroupValue(attrs...)
}

// Client formats a client whose configuration is cfg as "typeName{Config:…}", cfg printed
// through its own String method (which redacts).
func Client(typeName string, cfg fmt.Stringer) string {
	return typeName + "{Config:" + cfg.String() + "}"
}

// ClientLogValue is Client for log/slog: a group holding the configuration's LogValue.
func ClientLogValue(cfg slog.LogValuer) slog.Value {
	return slog.GroupValue(slog.Any("Config", cfg.LogValue()))
}

// Forms returns v printed every way a merchant might print it: %v, %+v, %#v, %s, and
// log/slog's text and JSON handlers. Tests check that none of them holds a secret.
func Forms(v any) []string {
	var text, js strings.Builder
	slog.New(slog.NewTextHandler(&text, nil)).Info("config", "v", v)
	slog.New(slog.NewJSONHandler(&js, nil)).Info("config", "v", v)
	return []string{
		fmt.Sprintf("%v", v), fmt.Sprintf("%+v", v), fmt.Sprintf("%#v", v), fmt.Sprintf("%s", v),
		text.String(), js.String(),
	}
}

// JSON marshals v, a struct, as a JSON object of its exported fields with the secret fields
// redacted, for the JSON log handlers that marshal a Config nested in another value. It is
// meant for logs: the secrets do not survive a round trip.
func JSON(v any) ([]byte, error) {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return []byte("null"), nil
		}
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct {
		return json.Marshal(v)
	}
	rt := rv.Type()
	var b bytes.Buffer
	b.WriteByte('{')
	first := true
	for i := 0; i < rt.NumField(); i++ {
		f := rt.Field(i)
		if !f.IsExported() {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		name, _ := json.Marshal(f.Name)
		b.Write(name)
		b.WriteByte(':')
		fv := rv.Field(i)
		var val any
		switch {
		case secret(f):
			val = Redacted
			if fv.IsZero() {
				val = ""
			}
		case fv.Kind() == reflect.String || fv.Kind() == reflect.Bool:
			val = fv.Interface()
		default:
			val = field(f, fv)
		}
		enc, err := json.Marshal(val)
		if err != nil {
			return nil, err
		}
		b.Write(enc)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// Format writes s, a value's secret-free String, for any verb: %#v and every other verb (%d,
// %x, %q, ...) print s, so no verb reaches the value's fields and their secrets. A client
// type's Format method is one call to it.
func Format(f fmt.State, verb rune, s string) {
	if verb == 'v' && f.Flag('#') {
		_, _ = io.WriteString(f, s)
		return
	}
	_, _ = fmt.Fprintf(f, fmt.FormatString(f, verb), s)
}

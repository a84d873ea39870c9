package main

import (
	"encoding"
	"encoding/json"
	"reflect"
	"strings"
	"unicode"
)

// snakeJSON returns v as --json prints it: structs become objects whose keys are the fields'
// json tags, or else their names in snake_case (PackRef is pack_ref, LastSeenAt last_seen_at),
// and empty lists print as []. Maps keep their keys, and map[string]any values are passed as
// they are: they are the user's data (payloads, parameters), not attune's field names.
func snakeJSON(v any) any {
	return snakeValue(reflect.ValueOf(v))
}

var (
	jsonMarshaler = reflect.TypeFor[json.Marshaler]()
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
)

func snakeValue(v reflect.Value) any {
	if !v.IsValid() {
		return nil
	}
	if v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return nil
		}
		if v.Kind() == reflect.Interface {
			return snakeValue(v.Elem())
		}
	}
	if v.Type().Implements(jsonMarshaler) || v.Type().Implements(textMarshaler) {
		return v.Interface() // time.Time, json.RawMessage: as encoding/json writes them
	}
	switch v.Kind() {
	case reflect.Pointer:
		return snakeValue(v.Elem())
	case reflect.Struct:
		out := map[string]any{}
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" && opts == "" {
				continue
			}
			if name == "" {
				name = snakeCase(f.Name)
			}
			if strings.Contains(opts, "omitempty") && v.Field(i).IsZero() {
				continue
			}
			out[name] = snakeValue(v.Field(i))
		}
		return out
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8 {
			return v.Interface() // []byte: base64, as encoding/json writes it
		}
		out := make([]any, v.Len())
		for i := range out {
			out[i] = snakeValue(v.Index(i))
		}
		return out
	case reflect.Map:
		if v.IsNil() {
			return nil
		}
		if v.Type().Elem().Kind() == reflect.Interface {
			return v.Interface() // the user's data
		}
		out := make(map[string]any, v.Len())
		iter := v.MapRange()
		for iter.Next() {
			b, _ := json.Marshal(iter.Key().Interface()) // a string key marshals to "…"
			var key string
			if json.Unmarshal(b, &key) != nil {
				key = string(b)
			}
			out[key] = snakeValue(iter.Value())
		}
		return out
	}
	return v.Interface()
}

// snakeCase turns a Go field name into snake_case: PackRef pack_ref, PID pid, ExecutionID
// execution_id, HTTPStatus http_status.
func snakeCase(name string) string {
	r := []rune(name)
	var b strings.Builder
	for i, c := range r {
		if unicode.IsUpper(c) && i > 0 {
			prevLower := unicode.IsLower(r[i-1]) || unicode.IsDigit(r[i-1])
			nextLower := i+1 < len(r) && unicode.IsLower(r[i+1])
			if prevLower || (unicode.IsUpper(r[i-1]) && nextLower) {
				b.WriteByte('_')
			}
		}
		b.WriteRune(unicode.ToLower(c))
	}
	return b.String()
}

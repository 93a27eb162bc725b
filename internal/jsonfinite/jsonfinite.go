// Package jsonfinite encodes and decodes JSON with non-finite numbers.
//
// The results of diverged training runs hold NaN and infinite losses, which
// JSON cannot represent and encoding/json refuses. Marshal writes every
// non-finite float as null, and Unmarshal reads null into a float field as
// NaN, so that such results survive a round trip. Types whose JSON must
// survive it call these functions from their MarshalJSON and UnmarshalJSON
// methods.
package jsonfinite

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"

	"github.com/mnistfc/mnistfc/internal/finite"
)

// Marshal is json.Marshal with every non-finite float64 written as null.
// Struct fields follow encoding/json's tags (name, omitempty, "-"); embedded
// structs are flattened; values of other types that implement json.Marshaler
// encode themselves.
func Marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	if err := encodeFinite(&buf, reflect.ValueOf(v), true); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// MarshalIndent is Marshal with json.MarshalIndent's layout.
func MarshalIndent(v any, prefix, indent string) ([]byte, error) {
	b, err := Marshal(v)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b, prefix, indent); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

var marshalerType = reflect.TypeFor[json.Marshaler]()

// encodeFinite writes v; top is true for the value Marshal was given,
// whose own MarshalJSON (which calls Marshal) must not be called again.
func encodeFinite(buf *bytes.Buffer, v reflect.Value, top bool) error {
	if !v.IsValid() {
		buf.WriteString("null")
		return nil
	}
	if !top && v.Type().Implements(marshalerType) {
		if v.Kind() == reflect.Pointer && v.IsNil() {
			buf.WriteString("null")
			return nil
		}
		b, err := json.Marshal(v.Interface())
		buf.Write(b)
		return err
	}
	switch v.Kind() {
	case reflect.Float64, reflect.Float32:
		f := v.Float()
		if !finite.Is(f) {
			buf.WriteString("null")
			return nil
		}
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			buf.WriteString("null")
			return nil
		}
		return encodeFinite(buf, v.Elem(), false)
	case reflect.Slice:
		if v.IsNil() {
			buf.WriteString("null")
			return nil
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			break // []byte: base64, as encoding/json writes it.
		}
		fallthrough
	case reflect.Array:
		buf.WriteByte('[')
		for i := range v.Len() {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := encodeFinite(buf, v.Index(i), false); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
		return nil
	case reflect.Struct:
		buf.WriteByte('{')
		first := true
		if err := encodeFields(buf, v, &first); err != nil {
			return err
		}
		buf.WriteByte('}')
		return nil
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			break
		}
		if v.IsNil() {
			buf.WriteString("null")
			return nil
		}
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		buf.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				buf.WriteByte(',')
			}
			name, _ := json.Marshal(k.String())
			buf.Write(name)
			buf.WriteByte(':')
			if err := encodeFinite(buf, v.MapIndex(k), false); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
		return nil
	}
	b, err := json.Marshal(v.Interface())
	buf.Write(b)
	return err
}

// encodeFields writes the fields of struct v, those of embedded structs in place.
func encodeFields(buf *bytes.Buffer, v reflect.Value, first *bool) error {
	t := v.Type()
	for i := range t.NumField() {
		f, fv := t.Field(i), v.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" && opts == "" || !f.IsExported() && !f.Anonymous {
			continue
		}
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			if err := encodeFields(buf, fv, first); err != nil {
				return err
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if strings.Contains(","+opts+",", ",omitempty,") && isEmpty(fv) {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if !*first {
			buf.WriteByte(',')
		}
		*first = false
		key, _ := json.Marshal(name)
		buf.Write(key)
		buf.WriteByte(':')
		if err := encodeFinite(buf, fv, false); err != nil {
			return fmt.Errorf("field %s: %w", f.Name, err)
		}
	}
	return nil
}

// isEmpty is encoding/json's test for omitempty.
func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Struct:
		return false
	}
	return v.IsZero()
}

// Unmarshal is json.Unmarshal into the struct pointed to by v, with
// null read as NaN into float64 fields (and elements of float64 slices
// and maps with string keys),
// where encoding/json would leave them unchanged.
func Unmarshal(data []byte, v any) error {
	if err := json.Unmarshal(data, v); err != nil {
		return err
	}
	var tree any
	if err := json.Unmarshal(data, &tree); err != nil {
		return err
	}
	fillNaN(reflect.ValueOf(v), tree)
	return nil
}

// fillNaN sets to NaN the floats of v that are null in tree, its JSON.
func fillNaN(v reflect.Value, tree any) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			fillNaN(v.Elem(), tree)
		}
	case reflect.Float64, reflect.Float32:
		if tree == nil && v.CanSet() {
			v.SetFloat(math.NaN())
		}
	case reflect.Slice, reflect.Array:
		if a, ok := tree.([]any); ok {
			for i := range min(v.Len(), len(a)) {
				fillNaN(v.Index(i), a[i])
			}
		}
	case reflect.Map:
		m, ok := tree.(map[string]any)
		if !ok || v.IsNil() || v.Type().Key().Kind() != reflect.String {
			return
		}
		// Map elements cannot be set in place: each is copied, filled, put back.
		for _, k := range v.MapKeys() {
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(v.MapIndex(k))
			fillNaN(e, m[k.String()])
			v.SetMapIndex(k, e)
		}
	case reflect.Struct:
		m, ok := tree.(map[string]any)
		if !ok {
			return
		}
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			switch {
			case f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct:
				fillNaN(v.Field(i), tree)
			case !f.IsExported() || name == "-":
			default:
				if name == "" {
					name = f.Name
				}
				for k, sub := range m {
					if strings.EqualFold(k, name) {
						fillNaN(v.Field(i), sub)
					}
				}
			}
		}
	}
}

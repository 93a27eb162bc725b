package jsonfinite

import (
	"encoding/json"
	"math"
	"testing"
)

type inner struct {
	Loss float64 `json:"loss"`
}

type record struct {
	inner
	Name    string    `json:"name"`
	Values  []float64 `json:"values"`
	Skipped float64   `json:"-"`
	Empty   float64   `json:"empty,omitempty"`
	Nested  *inner    `json:"nested"`
}

// TestRoundTrip: non-finite numbers are written as null and read back as
// NaN, in fields, embedded structs, slices and pointers; finite values,
// tags and layout are encoding/json's.
func TestRoundTrip(t *testing.T) {
	r := record{inner: inner{math.NaN()}, Name: "a", Values: []float64{1.5, math.Inf(1)}, Skipped: 2, Nested: &inner{math.Inf(-1)}}
	b, err := Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"loss":null,"name":"a","values":[1.5,null],"nested":{"loss":null}}`; string(b) != want {
		t.Errorf("Marshal = %s, want %s", b, want)
	}
	var back record
	if err := Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(back.Loss) || back.Values[0] != 1.5 || !math.IsNaN(back.Values[1]) || !math.IsNaN(back.Nested.Loss) || back.Name != "a" {
		t.Errorf("read back %+v", back)
	}

	finite := record{inner: inner{0.25}, Name: "b", Values: []float64{1e-7, 123456789.5}, Empty: 3}
	got, err := MarshalIndent(finite, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.MarshalIndent(finite, "", "  ")
	if string(got) != string(want) {
		t.Errorf("MarshalIndent = %s, encoding/json: %s", got, want)
	}
}

func TestMaps(t *testing.T) {
	type values struct {
		V []float64 `json:"v"`
	}
	type holder struct {
		M map[string]values `json:"m"`
	}
	in := holder{M: map[string]values{"b": {V: []float64{1, math.NaN()}}, "a": {V: []float64{math.Inf(1)}}}}
	b, err := Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"m":{"a":{"v":[null]},"b":{"v":[1,null]}}}` {
		t.Errorf("Marshal = %s", b)
	}
	var out holder
	if err := Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if out.M["b"].V[0] != 1 || !math.IsNaN(out.M["b"].V[1]) || !math.IsNaN(out.M["a"].V[0]) {
		t.Errorf("Unmarshal = %v", out)
	}
}

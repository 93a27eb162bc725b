package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestShard(t *testing.T) {
	var out bytes.Buffer
	if err := run([]string{"shard", "-shard", "2/3", "-jobs", "7"}, nil, &out); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Index, Count int
		Jobs         []int
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Index != 2 || got.Count != 3 || len(got.Jobs) != 2 || got.Jobs[0] != 1 || got.Jobs[1] != 4 {
		t.Errorf("shard 2/3 of 7 = %+v, want jobs [1 4]", got)
	}
}

// TestJudge: lines that are not observations are skipped, and a program
// that reported nothing fails every check.
func TestJudge(t *testing.T) {
	var out bytes.Buffer
	in := strings.NewReader("✓ sigmoid: fine\n{\"check\": \"\"}\nnot json\n")
	if err := run([]string{"judge", "-seed", "3"}, in, &out); err != nil {
		t.Fatal(err)
	}
	var verdicts []struct {
		Check  string
		Passed bool
	}
	if err := json.Unmarshal(out.Bytes(), &verdicts); err != nil {
		t.Fatal(err)
	}
	if len(verdicts) != 7 {
		t.Fatalf("%d verdicts, want 7", len(verdicts))
	}
	for _, v := range verdicts {
		if v.Passed {
			t.Errorf("%s passes with no observation", v.Check)
		}
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"grade"}, {"shard", "-shard", "4/3", "-jobs", "2"}} {
		if err := run(args, nil, &bytes.Buffer{}); err == nil {
			t.Errorf("gradetool %v: no error", args)
		}
	}
}

package shard

import (
	"strings"
	"testing"
)

// TestParseShard: -shard i/n and -shard auto from the job runners'
// environments, and the errors, which name what is wrong.
func TestParseShard(t *testing.T) {
	tests := []struct {
		value string
		count int
		env   map[string]string
		want  string   // "i/n", or "" for an error
		says  []string // Substrings of From, or of the error.
	}{
		{"2/4", 0, nil, "2/4", []string{"-shard 2/4"}},
		{"1/1", 0, nil, "1/1", nil},
		{"2/4", 4, nil, "2/4", nil},
		{"0/4", 0, nil, "", []string{"-shard 0/4", "from 1"}},
		{"5/4", 0, nil, "", []string{"-shard 5/4", "1 to 4"}},
		{"1/0", 0, nil, "", []string{"-shard 1/0"}},
		{"two", 0, nil, "", []string{`-shard "two"`, "i/n"}},
		{"2/4", 3, nil, "", []string{"-shard-count 3"}},
		// Slurm: ids counted from SLURM_ARRAY_TASK_MIN.
		{"auto", 0, map[string]string{"SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_MAX": "3", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_STEP": "1"},
			"2/4", []string{"SLURM_ARRAY_TASK_ID=1", "SLURM_ARRAY_TASK_MIN=0", "SLURM_ARRAY_TASK_COUNT=4"}},
		{"auto", 0, map[string]string{"SLURM_ARRAY_TASK_ID": "7", "SLURM_ARRAY_TASK_MIN": "5", "SLURM_ARRAY_TASK_MAX": "8", "SLURM_ARRAY_TASK_COUNT": "4"},
			"3/4", []string{"SLURM_ARRAY_TASK_ID=7", "SLURM_ARRAY_TASK_MIN=5"}},
		{"auto", 0, map[string]string{"SLURM_ARRAY_TASK_ID": "10", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_MAX": "15", "SLURM_ARRAY_TASK_STEP": "5", "SLURM_ARRAY_TASK_COUNT": "4"},
			"3/4", []string{"SLURM_ARRAY_TASK_STEP=5"}},
		{"auto", 4, map[string]string{"SLURM_ARRAY_TASK_ID": "0"}, "1/4", []string{"SLURM_ARRAY_TASK_ID=0", "-shard-count 4"}},
		{"auto", 3, map[string]string{"SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_COUNT": "4"}, "", []string{"-shard-count 3", "SLURM_ARRAY_TASK_COUNT=4"}},
		{"auto", 0, map[string]string{"SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_MAX": "5", "SLURM_ARRAY_TASK_COUNT": "3"}, // --array=1,3,5
			"", []string{"--array=0-2", "SLURM_ARRAY_TASK_ID=5"}},
		{"auto", 0, map[string]string{"SLURM_ARRAY_TASK_ID": "2"}, "", []string{"SLURM_ARRAY_TASK_COUNT", "-shard-count"}},
		{"auto", 0, map[string]string{"SLURM_ARRAY_TASK_ID": "x1", "SLURM_ARRAY_TASK_COUNT": "4"}, "", []string{`SLURM_ARRAY_TASK_ID="x1"`}},
		// Kubernetes: JOB_COMPLETION_INDEX from 0; the count from -shard-count or MNISTFC_SHARD_COUNT.
		{"auto", 3, map[string]string{"JOB_COMPLETION_INDEX": "0"}, "1/3", []string{"JOB_COMPLETION_INDEX=0", "-shard-count 3"}},
		{"auto", 0, map[string]string{"JOB_COMPLETION_INDEX": "2", "MNISTFC_SHARD_COUNT": "3"}, "3/3", []string{"JOB_COMPLETION_INDEX=2", "MNISTFC_SHARD_COUNT=3"}},
		{"auto", 3, map[string]string{"JOB_COMPLETION_INDEX": "2", "MNISTFC_SHARD_COUNT": "3"}, "3/3", nil},
		{"auto", 4, map[string]string{"JOB_COMPLETION_INDEX": "2", "MNISTFC_SHARD_COUNT": "3"}, "", []string{"-shard-count 4", "MNISTFC_SHARD_COUNT=3"}},
		{"auto", 0, map[string]string{"JOB_COMPLETION_INDEX": "1"}, "", []string{"JOB_COMPLETION_INDEX=1", "-shard-count N", "MNISTFC_SHARD_COUNT"}},
		{"auto", 3, map[string]string{"JOB_COMPLETION_INDEX": "3"}, "", []string{"JOB_COMPLETION_INDEX=3", "0..2"}},
		{"auto", 0, nil, "", []string{"-shard auto", "SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX", "-shard i/n"}},
	}
	for _, tc := range tests {
		name := tc.value
		for k, v := range tc.env {
			name += " " + k + "=" + v
		}
		t.Run(name, func(t *testing.T) {
			s, err := Parse(tc.value, tc.count, func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok })
			text := s.From
			switch {
			case tc.want == "" && err == nil:
				t.Fatalf("shard %s from %q, want an error", s, s.From)
			case tc.want != "" && err != nil:
				t.Fatalf("error %v, want shard %s", err, tc.want)
			case err != nil:
				text = err.Error()
			case s.String() != tc.want:
				t.Errorf("shard %s, want %s", s, tc.want)
			}
			for _, w := range tc.says {
				if !strings.Contains(text, w) {
					t.Errorf("%q does not say %q", text, w)
				}
			}
		})
	}
}

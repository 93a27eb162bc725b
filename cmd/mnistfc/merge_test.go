package main

// Tests of sharded sweeps: shards run as separate processes, chosen by
// -shard i/n or by a job runner's environment, one killed and resumed,
// then merged; and what merge refuses.

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mnistfc/mnistfc/internal/shard"
	"github.com/mnistfc/mnistfc/mnistfc/sweepdir"
)

// shardCmd is the CLI with env added to the environment, less any job
// runner's variables the test itself may run under.
func shardCmd(env []string, args ...string) *exec.Cmd {
	cmd := exec.Command(binary, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SLURM_") && !strings.HasPrefix(kv, "JOB_COMPLETION_INDEX=") && !strings.HasPrefix(kv, shard.CountEnv+"=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	return cmd
}

// tableOf returns the Markdown table (and the line over it) of a sweep's or merge's stdout.
func tableOf(stdout string) string {
	var t []string
	for _, l := range strings.Split(stdout, "\n") {
		if strings.HasPrefix(l, "|") || strings.HasPrefix(l, "Mean ±") {
			t = append(t, l)
		}
	}
	return strings.Join(t, "\n")
}

// untimed returns results.json without the runs' times, which differ
// from one process to the next.
func untimed(t *testing.T, dir string) map[string]any {
	t.Helper()
	res := readJSON(t, filepath.Join(dir, "results.json"))
	for _, r := range res["runs"].([]any) {
		delete(r.(map[string]any), "seconds")
		delete(r.(map[string]any), "seconds_per_epoch")
	}
	return res
}

// untimedCSV returns results.csv less its seconds_per_epoch column.
func untimedCSV(t *testing.T, dir string) [][]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "results.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		if r[9] != "seconds_per_epoch" && i == 0 {
			t.Fatalf("results.csv column 10 is %q", r[9])
		}
		rows[i] = append(r[:9:9], r[10:]...)
	}
	return rows
}

// snapshot returns the files of a folder and their contents.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		m[e.Name()] = string(b)
	}
	return m
}

// TestShardsMergeEqualSweep: a grid run as 4 shards in 4 processes at
// once (one chosen by -shard 2/4 style flags, the others by a Slurm array's
// or a Kubernetes Indexed Job's variables), one of them killed with
// SIGKILL and resumed, merges into the table, results.json, results.csv
// and heatmap.png of the same grid run as one sweep. merge reports a
// missing shard with the command that runs it, the unfinished killed
// shard, a shard of other settings, reads a folder given twice once and
// runs in two folders once, and never writes into
// a shard.
func TestShardsMergeEqualSweep(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 6 sweeps on the full MNIST training set")
	}
	args := []string{"sweep", "-hiddens", "1,2,3", "-lrs", "0.1,0.01", "-seeds", "2", "-epochs", "1", "-backend", "go"}
	root := t.TempDir()
	dir := func(name string) string { return filepath.Join(root, name) }
	slurm2 := []string{"SLURM_ARRAY_TASK_ID=6", "SLURM_ARRAY_TASK_MIN=5", "SLURM_ARRAY_TASK_MAX=8", "SLURM_ARRAY_TASK_COUNT=4", "SLURM_ARRAY_TASK_STEP=1"}
	shards := []struct {
		env   []string
		flags []string
		from  string // What stderr says the shard came from.
	}{
		{nil, []string{"-shard", "1/4"}, "shard 1/4 (from -shard 1/4)"},
		{slurm2, []string{"-shard", "auto"}, "shard 2/4 (from SLURM_ARRAY_TASK_ID=6, SLURM_ARRAY_TASK_MIN=5, SLURM_ARRAY_TASK_COUNT=4)"},
		{[]string{"JOB_COMPLETION_INDEX=2", shard.CountEnv + "=4"}, []string{"-shard", "auto"}, "shard 3/4 (from JOB_COMPLETION_INDEX=2, MNISTFC_SHARD_COUNT=4)"},
		{[]string{"JOB_COMPLETION_INDEX=3"}, []string{"-shard", "auto", "-shard-count", "4"}, "shard 4/4 (from JOB_COMPLETION_INDEX=3, -shard-count 4)"},
	}
	type proc struct {
		cmd    *exec.Cmd
		lines  <-chan string
		stderr *lockedBuffer
	}
	var procs []proc
	for k, s := range shards {
		a := append(append(append([]string{}, args...), s.flags...), "-parallel", "1", "-out", dir(fmt.Sprintf("s%d", k+1)))
		cmd, lines, stderr := startCmd(t, shardCmd(s.env, a...))
		procs = append(procs, proc{cmd, lines, stderr})
	}
	// The same grid as one sweep, and shard 4 of it with another -seed, at the same time.
	whole, wholeLines, wholeErr := start(t, append(args, "-out", dir("whole"))...)
	other, otherLines, otherErr := start(t, append(args, "-seed", "1", "-shard", "4/4", "-parallel", "1", "-out", dir("other"))...)

	// Shard 2 is killed after its first run of three.
	waitFor(t, procs[1].lines, "[1/3]")
	procs[1].cmd.Process.Signal(syscall.SIGKILL)
	procs[1].cmd.Wait()
	for k, p := range procs {
		if k == 1 {
			continue
		}
		if code, _ := wait(t, p.cmd, p.lines, 2*time.Minute); code != 0 {
			t.Fatalf("shard %d: exit code %d:\n%s", k+1, code, p.stderr)
		}
		if !strings.Contains(p.stderr.String(), "mnistfc: "+shards[k].from) {
			t.Errorf("shard %d: stderr does not say %q:\n%s", k+1, shards[k].from, p.stderr)
		}
	}
	code, wholeOut := wait(t, whole, wholeLines, 2*time.Minute)
	if code != 0 {
		t.Fatalf("one sweep: exit code %d:\n%s", code, wholeErr)
	}
	if code, _ := wait(t, other, otherLines, 2*time.Minute); code != 0 {
		t.Fatalf("shard of other settings: exit code %d:\n%s", code, otherErr)
	}
	s1, s2, s3, s4 := dir("s1"), dir("s2"), dir("s3"), dir("s4")
	kept := countRuns(t, s2)
	if kept < 1 || kept >= 3 {
		t.Fatalf("shard 2 killed after its first run kept %d runs, want 1 or 2", kept)
	}
	t.Logf("shard 2 kept %d of its 3 runs when killed", kept)

	t.Run("missing shard", func(t *testing.T) {
		_, stderr, code := run(t, "merge", "-out", dir("m-missing"), s1, s2, s4)
		if code == 0 {
			t.Fatalf("merge without shard 3: exit code 0:\n%s", stderr)
		}
		for _, want := range []string{
			fmt.Sprintf("merge: %d of the sweep's 12 runs are missing", 6-kept),
			"run 3 (hidden 1, lr 0.01, seed 0), run 7 (hidden 2, lr 0.01, seed 0), run 11 (hidden 3, lr 0.01, seed 0) of shard 3/4, whose folder was not given",
			"mnistfc sweep -backend go -epochs 1 -hiddens 1,2,3 -lrs 0.1,0.01 -parallel 1 -seeds 2 -shard 3/4 -resume -out DIR",
			"of shard 2/4 in " + s2 + ", unfinished",
		} {
			if !strings.Contains(stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, stderr)
			}
		}
		if exists(dir("m-missing")) {
			t.Error("merge with runs missing wrote its -out")
		}
	})

	t.Run("killed shard resumes", func(t *testing.T) {
		a := append(append([]string{}, args...), "-shard", "auto", "-parallel", "1", "-resume", "-out", s2)
		stdout, stderr, code := runCmd(t, shardCmd(slurm2, a...))
		if code != 0 {
			t.Fatalf("-resume: exit code %d:\n%s", code, stderr)
		}
		if want := fmt.Sprintf("skipped %d run(s) already in it", kept); !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
		if n := countRuns(t, s2); n != 3 {
			t.Errorf("shard 2 has %d runs after -resume, want 3", n)
		}
		// Another shard's -resume in this folder is refused.
		if _, stderr, code := run(t, append(append([]string{}, args...), "-shard", "3/4", "-parallel", "1", "-resume", "-out", s2)...); code != exitUsage || !strings.Contains(stderr, "holds shard 2/4 of a sweep, and this is shard 3/4") {
			t.Errorf("-resume of shard 3 in shard 2's folder: exit code %d:\n%s", code, stderr)
		}
	})

	before := map[string]map[string]string{}
	for _, d := range []string{s1, s2, s3, s4} {
		before[d] = snapshot(t, d)
	}
	merged := dir("merged")
	stdout, stderr, code := run(t, "merge", "-out", merged, s1, s2, s3, s4)
	if code != 0 {
		t.Fatalf("merge: exit code %d:\n%s", code, stderr)
	}
	t.Run("merge equals one sweep", func(t *testing.T) {
		if got, want := tableOf(stdout), tableOf(wholeOut); got != want || !strings.Contains(got, "Mean ± standard deviation over 2 seeds") {
			t.Errorf("merged table:\n%s\none sweep's:\n%s", got, want)
		}
		if got, want := untimed(t, merged), untimed(t, dir("whole")); !reflect.DeepEqual(got, want) || len(got["runs"].([]any)) != 12 {
			g, _ := json.MarshalIndent(got, "", " ")
			w, _ := json.MarshalIndent(want, "", " ")
			t.Errorf("merged results.json:\n%s\none sweep's:\n%s", g, w)
		}
		if got, want := untimedCSV(t, merged), untimedCSV(t, dir("whole")); !reflect.DeepEqual(got, want) {
			t.Errorf("merged results.csv:\n%v\none sweep's:\n%v", got, want)
		}
		a, _ := os.ReadFile(filepath.Join(merged, "heatmap.png"))
		b, _ := os.ReadFile(filepath.Join(dir("whole"), "heatmap.png"))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("merged heatmap.png (%d bytes) differs from one sweep's (%d bytes)", len(a), len(b))
		}
		// The merged folder is a finished sweep: -resume has nothing to run.
		stdout, stderr, code := run(t, append(args, "-resume", "-out", merged)...)
		if code != 0 || !strings.Contains(stdout, "skipped 12 run(s)") || !strings.Contains(stdout, ", 0 to run") {
			t.Errorf("-resume of the merged folder: exit code %d:\n%s\n%s", code, stdout, stderr)
		}
	})

	t.Run("other settings", func(t *testing.T) {
		_, stderr, code := run(t, "merge", "-out", dir("m-other"), s1, s2, s3, dir("other"))
		if code != exitUsage {
			t.Errorf("exit code %d, want %d", code, exitUsage)
		}
		if want := fmt.Sprintf("%s: mnistfc sweep -backend go -epochs 1 -hiddens 1,2,3 -lrs 0.1,0.01 -parallel 1 -seed 1 -seeds 2", dir("other")); !strings.Contains(stderr, want) || !strings.Contains(stderr, "not shards of one sweep") {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
		if exists(dir("m-other")) {
			t.Error("merge of other settings wrote its -out")
		}
	})

	t.Run("duplicates", func(t *testing.T) {
		cp := dir("s3-copy")
		if err := os.CopyFS(cp, os.DirFS(s3)); err != nil {
			t.Fatal(err)
		}
		stdout, stderr, code := run(t, "merge", s1, s2, s3, s4, cp, s1)
		if code != 0 {
			t.Fatalf("exit code %d:\n%s", code, stderr)
		}
		for _, want := range []string{s1 + " is given twice"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, stderr)
			}
		}
		if tableOf(stdout) != tableOf(wholeOut) {
			t.Errorf("table with duplicates:\n%s", stdout)
		}
	})

	t.Run("never into a shard", func(t *testing.T) {
		if _, stderr, code := run(t, "merge", "-out", s2, s1, s2, s3, s4); code != exitUsage || !strings.Contains(stderr, "never writes into") {
			t.Errorf("-out a shard merged: exit code %d:\n%s", code, stderr)
		}
		if _, stderr, code := run(t, "merge", "-out", dir("other"), s1, s2, s3, s4); code != exitUsage || !strings.Contains(stderr, "holds shard 4/4") {
			t.Errorf("-out another shard: exit code %d:\n%s", code, stderr)
		}
		for d, files := range before {
			if got := snapshot(t, d); !reflect.DeepEqual(got, files) {
				t.Errorf("%s changed during the merges", d)
			}
		}
	})
}

// TestShardFlags: bad -shard values exit with status 2 and name the
// flag; a shard with no runs (more shards than runs) is an empty folder
// that merge takes.
func TestShardFlags(t *testing.T) {
	grid := []string{"sweep", "-hiddens", "1", "-lrs", "0.1", "-epochs", "1", "-backend", "go"}
	for _, tc := range []struct {
		env  []string
		args []string
		want []string
	}{
		{nil, []string{"-shard", "0/4"}, []string{"-shard 0/4"}},
		{nil, []string{"-shard", "x"}, []string{`-shard "x"`}},
		{nil, []string{"-shard-count", "4"}, []string{"-shard-count 4", "-shard auto"}},
		{nil, []string{"-shard", "auto"}, []string{"SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"}},
		{[]string{"JOB_COMPLETION_INDEX=1"}, []string{"-shard", "auto"}, []string{"JOB_COMPLETION_INDEX=1", "-shard-count"}},
		{nil, []string{"-shard", "1/2", "-epochs", "0"}, []string{"-epochs"}},
	} {
		_, stderr, code := runCmd(t, shardCmd(tc.env, append(append([]string{}, grid...), tc.args...)...))
		if code != exitUsage {
			t.Errorf("%v %v: exit code %d, want %d:\n%s", tc.env, tc.args, code, exitUsage, stderr)
		}
		for _, w := range tc.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%v %v: stderr lacks %q:\n%s", tc.env, tc.args, w, stderr)
			}
		}
	}
	if _, stderr, code := run(t, "merge"); code != exitUsage || !strings.Contains(stderr, "no folders") {
		t.Errorf("merge of nothing: exit code %d:\n%s", code, stderr)
	}
	if _, stderr, code := run(t, "merge", t.TempDir()); code != exitError || !strings.Contains(stderr, "sweep.json") {
		t.Errorf("merge of a folder that is no sweep's: exit code %d:\n%s", code, stderr)
	}

	empty := t.TempDir()
	stdout, stderr, code := run(t, append(grid, "-shard", "2/2", "-out", empty)...)
	if code != 0 || !strings.Contains(stderr, "shard 2/2 has no runs") || !strings.Contains(stdout, "shard 2/2, 0 of 1 runs") {
		t.Fatalf("an empty shard: exit code %d:\n%s\n%s", code, stdout, stderr)
	}
	if p, err := sweepdir.ReadManifest(empty); err != nil || p.Shard == nil || len(p.Shard.Runs) != 0 {
		t.Errorf("the empty shard's sweep.json: %+v, %v", p, err)
	}
	_, stderr, code = run(t, "merge", empty)
	if code != exitError || !strings.Contains(stderr, "run 1 (hidden 1, lr 0.1, seed 0) of shard 1/2, whose folder was not given") {
		t.Errorf("merge of the empty shard alone: exit code %d:\n%s", code, stderr)
	}
}

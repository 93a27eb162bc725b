package runstore

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mnistfc/mnistfc/mnistfc"
)

// result returns a small hand-made result: what the store keeps does not
// depend on how it was trained.
func result(hidden int, acc float64) *mnistfc.Result {
	cfg := mnistfc.DefaultConfig()
	cfg.HiddenDim = hidden
	return &mnistfc.Result{
		Config: cfg, Network: "fully-connected", Backend: "go",
		Epochs:    []mnistfc.EpochStats{{Epoch: 1, TrainLoss: 0.5, Validated: true, ValAccuracy: 0.9}},
		History:   mnistfc.History{TrainLosses: []float64{0.5}, ValAccuracies: []float64{0.9}, ValEpochs: []int{1}},
		BestEpoch: 1, BestValAccuracy: 0.9, Tested: true, TestAccuracy: acc, TestLoss: 0.3,
		TestPredictions: bytes.Repeat([]byte{7}, 100), Best: mnistfc.Weights{{Name: "w", Dims: []int{2}, Values: []float32{1, 2}}},
	}
}

func TestPutGet(t *testing.T) {
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if e, err := s.Get("nothing"); e != nil || err != nil {
		t.Fatalf("Get of a missing key = %v, %v; want nil, nil", e, err)
	}
	r := result(8, 0.91)
	if err := s.Keep("k1", "first", r); err != nil {
		t.Fatal(err)
	}
	e, err := s.Get("k1")
	if err != nil || e == nil {
		t.Fatalf("Get = %v, %v", e, err)
	}
	if e.Name != "first" || e.Key != "k1" || !reflect.DeepEqual(e.Result, r) || e.Summary != r.Summary() {
		t.Errorf("read back %+v, want the run kept", e)
	}
	// A summary only, as merge imports them.
	sum := result(5, 0.8).Summary()
	if err := s.Put("k2", Entry{Name: "imported", Summary: sum}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Result("k2")
	if err != nil || got.Summary() != sum || got.Epochs != nil {
		t.Errorf("Result of a summary-only run = %+v, %v; want the summary's numbers, no history", got, err)
	}
	list, err := s.List()
	if err != nil || len(list) != 2 || list[0].Key != "k1" || list[1].Key != "k2" || list[0].Result != nil || list[0].Summary != r.Summary() {
		t.Errorf("List = %+v, %v", list, err)
	}
	for _, bad := range []string{"", "a/b", ".lock"} {
		if err := s.Keep(bad, "x", r); err == nil {
			t.Errorf("Keep(%q) took a key that is not a file name", bad)
		}
	}
}

// A damaged file is reported with its name, skipped by List, and moved
// aside, not overwritten, when its run is kept again.
func TestDamaged(t *testing.T) {
	var log bytes.Buffer
	s, _ := Open(t.TempDir(), Options{Log: &log})
	if err := s.Keep("good", "g", result(8, 0.9)); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(s.path("good"))
	cases := map[string][]byte{"cut": b[:len(b)/2], "text": []byte("not a run\n"), "empty": nil}
	for name, content := range cases {
		if err := os.WriteFile(s.path(name), content, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := s.Get(name)
		if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), s.path(name)) {
			t.Errorf("%s: Get error %v, want ErrDamaged naming the file", name, err)
		}
	}
	list, err := s.List()
	if err != nil || len(list) != 1 || list[0].Key != "good" {
		t.Errorf("List = %v, %v; want the good run only", list, err)
	}
	if n := strings.Count(log.String(), "skipped"); n != len(cases) {
		t.Errorf("List reported %d damaged files, want %d:\n%s", n, len(cases), log.String())
	}
	if err := s.Keep("cut", "again", result(8, 0.9)); err != nil {
		t.Fatal(err)
	}
	if aside, err := os.ReadFile(s.path("cut") + ".damaged"); err != nil || !bytes.Equal(aside, cases["cut"]) {
		t.Errorf("the damaged file was not moved aside intact: %v", err)
	}
	if e, err := s.Get("cut"); err != nil || e.Name != "again" {
		t.Errorf("after Keep: %v, %v", e, err)
	}
}

// Put deletes the runs used longest ago beyond MaxBytes, never the one it
// writes; Get counts as a use.
func TestPrune(t *testing.T) {
	var log bytes.Buffer
	dir := t.TempDir()
	s, _ := Open(dir, Options{Log: &log})
	for i := range 3 {
		if err := s.Keep(fmt.Sprint("k", i), "", result(8, 0.9)); err != nil {
			t.Fatal(err)
		}
		old := time.Now().Add(time.Duration(i-10) * time.Minute)
		os.Chtimes(s.path(fmt.Sprint("k", i)), old, old)
	}
	s.Get("k0") // k0 is now the most recently used.
	st, _ := os.Stat(s.path("k0"))
	s.opts.MaxBytes = 2*st.Size() + st.Size()/2 // Room for two runs.
	if err := s.Keep("k3", "", result(8, 0.9)); err != nil {
		t.Fatal(err)
	}
	var keys []string
	list, _ := s.List()
	for _, e := range list {
		keys = append(keys, e.Key)
	}
	if want := []string{"k0", "k3"}; !reflect.DeepEqual(keys, want) {
		t.Errorf("kept %v, want %v (k1 and k2 used longest ago)", keys, want)
	}
	if !strings.Contains(log.String(), "deleted the 2 used longest ago") {
		t.Errorf("pruning not reported: %q", log.String())
	}
	// A damaged file moved aside is the first to go.
	if err := os.WriteFile(s.path("k0")+".damaged", make([]byte, 100), 0o644); err != nil {
		t.Fatal(err)
	}
	st3, _ := os.Stat(s.path("k3"))
	s.opts.MaxBytes = st.Size() + st3.Size() + 50 // Both runs, not the damaged file.
	if err := s.Keep("k3", "", result(8, 0.9)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.path("k0") + ".damaged"); err == nil {
		t.Error("the damaged file outlived the bound")
	}
	if list, _ := s.List(); len(list) != 2 {
		t.Errorf("pruning the damaged file took runs too: %v", list)
	}
	s.opts.MaxBytes = 1 // Smaller than any run: the new one still stays.
	if err := s.Keep("k4", "", result(8, 0.9)); err != nil {
		t.Fatal(err)
	}
	if list, _ := s.List(); len(list) != 1 || list[0].Key != "k4" {
		t.Errorf("with a bound below one run: %v, want k4 alone", list)
	}
}

func TestMerge(t *testing.T) {
	a, _ := Open(t.TempDir(), Options{})
	b, _ := Open(t.TempDir(), Options{})
	dst, _ := Open(t.TempDir(), Options{})
	a.Keep("x", "", result(8, 0.9))
	a.Keep("y", "", result(9, 0.8))
	slow := result(9, 0.8)
	slow.SecondsPerEpoch = 99 // Timings may differ.
	b.Keep("y", "", slow)
	b.Keep("z", "", result(10, 0.7))
	n, err := Merge(dst, a, b)
	if err != nil || n != 3 {
		t.Fatalf("Merge = %d, %v; want 3 runs", n, err)
	}
	if e, _ := dst.Get("y"); e == nil || !reflect.DeepEqual(e.Result.History, slow.History) {
		t.Errorf("merged run y = %v", e)
	}
	if n, err := Merge(dst, a, b); err != nil || n != 0 {
		t.Errorf("merging again = %d, %v; want nothing new", n, err)
	}
	c, _ := Open(t.TempDir(), Options{})
	c.Keep("z", "", result(10, 0.6))
	c.Keep("w", "", result(11, 0.6))
	_, err = Merge(dst, c)
	if err == nil || !strings.Contains(err.Error(), dst.path("z")) || !strings.Contains(err.Error(), c.path("z")) {
		t.Errorf("a conflict gave %v, want an error naming both files", err)
	}
	if e, _ := dst.Get("w"); e != nil {
		t.Error("a merge with a conflict copied runs")
	}
}

// Processes that keep runs in one store at the same time, with pruning,
// leave only whole runs within the bound.
func TestConcurrentProcesses(t *testing.T) {
	if dir := os.Getenv("RUNSTORE_TEST_WRITER"); dir != "" {
		s, _ := Open(dir, Options{MaxBytes: 20 << 10})
		for i := range 30 {
			if err := s.Keep(fmt.Sprintf("%s-%d", os.Getenv("RUNSTORE_TEST_ID"), i%12), "", result(8, 0.9)); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Get(fmt.Sprintf("0-%d", i%12)); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	dir := t.TempDir()
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for p := range 4 {
		wg.Go(func() {
			cmd := exec.Command(os.Args[0], "-test.run=^TestConcurrentProcesses$")
			cmd.Env = append(os.Environ(), "RUNSTORE_TEST_WRITER="+dir, fmt.Sprint("RUNSTORE_TEST_ID=", p))
			if out, err := cmd.CombinedOutput(); err != nil {
				errs[p] = fmt.Errorf("writer %d: %v\n%s", p, err, out)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var log bytes.Buffer
	s, _ := Open(dir, Options{Log: &log})
	list, _ := s.List()
	var total int64
	for _, e := range list {
		total += e.Size
		if got, err := s.Get(e.Key); err != nil || got.Result.TestAccuracy != 0.9 {
			t.Errorf("%s: %v, %v", e.Key, got, err)
		}
	}
	if len(list) == 0 || total > 20<<10 || log.Len() > 0 {
		t.Errorf("%d runs, %d bytes (bound 20 KiB), damaged: %q", len(list), total, log.String())
	}
	if tmp, _ := filepath.Glob(filepath.Join(dir, ".*tmp*")); len(tmp) > 0 {
		t.Errorf("temporary files left: %v", tmp)
	}
}

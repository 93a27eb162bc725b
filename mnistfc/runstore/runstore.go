// Package runstore keeps finished training runs in a folder, one file per
// run named by its key, so that the command line, the notebooks and
// library callers find a run instead of training it again.
//
// A key says what a run computes (mnistfc.RunKey: its settings, its
// network, the library's code), so two runs with one key give the same
// numbers on the same backend. Several processes may use one store at a
// time: each file is written whole and renamed into place, and a lock
// file orders replacements and pruning.
//
//	store, err := runstore.Open("runs", runstore.Options{})
//	if err != nil { ... }
//	results, err := mnistfc.Sweep(ctx, data, cfgs, mnistfc.Resume(store))
package runstore

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mnistfc/mnistfc/internal/atomicfile"
	"github.com/mnistfc/mnistfc/mnistfc"
)

// Ext is the extension of a run's file: KEY.gob.
const Ext = ".gob"

// format is the layout of a run's file: a gob header, the result when the
// header says there is one, then a trailer: trailerMagic and the file's
// length (8 bytes, little-endian), so that a file cut short is seen as
// such without decoding it all.
const format = 2

const trailerMagic = "mnistfc\x00"

// ErrDamaged is wrapped by the errors of files that do not read back as a
// run of this version: cut off, overwritten, or in another layout.
var ErrDamaged = errors.New("damaged run file")

// Options tunes a Store.
type Options struct {
	// MaxBytes bounds the size of the runs: Put deletes the runs used
	// longest ago beyond it (never the one it writes). 0: no bound.
	MaxBytes int64
	// Log receives a line for each pruning and for each damaged file met;
	// nil discards them.
	Log io.Writer
}

// Store is a folder of finished runs.
type Store struct {
	dir  string
	opts Options
}

// Entry is one kept run.
type Entry struct {
	Key     string
	Name    string    // Who made it: a notebook experiment's name, "sweep run 3"...
	When    time.Time // When it was kept.
	Size    int64     // Bytes on disk (List only).
	Summary mnistfc.RunSummary
	// Result is the whole run: history, test predictions, weights. Get
	// fills it; List does not. It is nil for a run kept as a summary only
	// (imported from a sweep folder of an earlier version).
	Result *mnistfc.Result
}

// header is the first gob value of a run's file.
type header struct {
	Format    int
	Name      string
	When      time.Time
	Summary   mnistfc.RunSummary
	HasResult bool
}

// Open opens the store in dir, creating the folder if needed.
func Open(dir string, opts Options) (*Store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("run store: %w", err)
	}
	return &Store{dir: dir, opts: opts}, nil
}

// Dir returns the store's folder.
func (s *Store) Dir() string { return s.dir }

func (s *Store) path(key string) string { return filepath.Join(s.dir, key+Ext) }

func (s *Store) logf(format string, args ...any) {
	if s.opts.Log != nil {
		fmt.Fprintf(s.opts.Log, format+"\n", args...)
	}
}

// Get returns the run kept under key, or nil and no error when there is
// none. A file that does not read back gives an error wrapping ErrDamaged
// and naming it; Put moves such a file aside before replacing it.
func (s *Store) Get(key string) (*Entry, error) {
	e, err := readFile(s.path(key), true)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	now := time.Now() // Used now: the last to go when the store is pruned.
	_ = os.Chtimes(s.path(key), now, now)
	return e, nil
}

// Put keeps e under key, replacing what was kept there. Its Summary is
// computed from its Result when it has one; a zero When is now.
func (s *Store) Put(key string, e Entry) error {
	if key == "" || strings.ContainsAny(key, `/\`) || strings.HasPrefix(key, ".") {
		return fmt.Errorf("run store %s: %q is not a key", s.dir, key)
	}
	if e.Result != nil {
		e.Summary = e.Result.Summary()
	}
	if e.When.IsZero() {
		e.When = time.Now()
	}
	var b bytes.Buffer
	enc := gob.NewEncoder(&b)
	err := enc.Encode(header{Format: format, Name: e.Name, When: e.When, Summary: e.Summary, HasResult: e.Result != nil})
	if err == nil && e.Result != nil {
		err = enc.Encode(e.Result)
	}
	if err != nil {
		return fmt.Errorf("keeping run %s: %w", key, err)
	}
	b.WriteString(trailerMagic)
	b.Write(binary.LittleEndian.AppendUint64(nil, uint64(b.Len()+8)))
	return s.locked(func() error {
		path := s.path(key)
		if _, err := readFile(path, false); errors.Is(err, ErrDamaged) {
			aside := path + ".damaged"
			if os.Rename(path, aside) == nil {
				s.logf("note: %v: moved to %s", err, aside)
			}
		}
		if err := atomicfile.WriteFile(path, b.Bytes()); err != nil {
			return err
		}
		if s.opts.MaxBytes > 0 {
			s.prune(path)
		}
		return nil
	})
}

// List returns the runs of the store, headers only (no Result), by key. A
// file that does not read back is reported on Options.Log and left out.
func (s *Store) List() ([]Entry, error) {
	files, err := filepath.Glob(filepath.Join(s.dir, "*"+Ext))
	if err != nil {
		return nil, err
	}
	var entries []Entry
	for _, f := range files {
		e, err := readFile(f, false)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) { // Pruned meanwhile.
				s.logf("note: %v: skipped", err)
			}
			continue
		}
		entries = append(entries, *e)
	}
	return entries, nil
}

// readFile reads a run's file, its result too when withResult is set.
func readFile(path string, withResult bool) (*Entry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	var trailer [len(trailerMagic) + 8]byte
	if _, err := f.ReadAt(trailer[:], st.Size()-int64(len(trailer))); err != nil ||
		string(trailer[:len(trailerMagic)]) != trailerMagic || binary.LittleEndian.Uint64(trailer[len(trailerMagic):]) != uint64(st.Size()) {
		return nil, fmt.Errorf("%w %s: cut off or overwritten (%d bytes, no trailer giving that length)", ErrDamaged, path, st.Size())
	}
	dec := gob.NewDecoder(bufio.NewReader(io.LimitReader(f, st.Size()-int64(len(trailer)))))
	var h header
	if err := dec.Decode(&h); err != nil {
		return nil, fmt.Errorf("%w %s: %v", ErrDamaged, path, err)
	}
	if h.Format != format {
		return nil, fmt.Errorf("%w %s: layout %d, not %d (written by another version of mnistfc)", ErrDamaged, path, h.Format, format)
	}
	e := &Entry{Key: strings.TrimSuffix(filepath.Base(path), Ext), Name: h.Name, When: h.When, Size: st.Size(), Summary: h.Summary}
	if withResult && h.HasResult {
		e.Result = new(mnistfc.Result)
		if err := dec.Decode(e.Result); err != nil {
			return nil, fmt.Errorf("%w %s: %v", ErrDamaged, path, err)
		}
	}
	return e, nil
}

// prune deletes the runs used longest ago until the rest take at most
// MaxBytes, never keep (the run just written), and says what it deleted.
// Damaged files moved aside count, and go first. It runs under the store's
// lock.
func (s *Store) prune(keep string) {
	files, _ := filepath.Glob(filepath.Join(s.dir, "*"+Ext))
	damaged, _ := filepath.Glob(filepath.Join(s.dir, "*"+Ext+".damaged"))
	type file struct {
		path string
		size int64
		used time.Time
	}
	var all []file
	var total int64
	for _, f := range files {
		if info, err := os.Stat(f); err == nil {
			all = append(all, file{f, info.Size(), info.ModTime()})
			total += info.Size()
		}
	}
	for _, f := range damaged {
		if info, err := os.Stat(f); err == nil {
			all = append(all, file{f, info.Size(), time.Time{}}) // Before any run.
			total += info.Size()
		}
	}
	slices.SortFunc(all, func(a, b file) int { return a.used.Compare(b.used) })
	var deleted int
	var freed int64
	for _, f := range all {
		if total <= s.opts.MaxBytes {
			break
		}
		if f.path != keep && os.Remove(f.path) == nil {
			total, freed, deleted = total-f.size, freed+f.size, deleted+1
		}
	}
	if deleted > 0 {
		s.logf("Kept runs: deleted the %d used longest ago (%.0f MiB), to stay under %d MiB.", deleted, float64(freed)/(1<<20), s.opts.MaxBytes>>20)
	}
}

// Result returns the result kept under key, or nil and no error when
// there is none; a run kept as a summary only gives a Result with the
// summary's numbers and no history (RunSummary.Result). It makes a Store
// an mnistfc.RunStore.
func (s *Store) Result(key string) (*mnistfc.Result, error) {
	e, err := s.Get(key)
	if e == nil || err != nil {
		return nil, err
	}
	if e.Result == nil {
		return e.Summary.Result(), nil
	}
	return e.Result, nil
}

// Keep keeps r under key with the given name (Put). It makes a Store an
// mnistfc.RunStore.
func (s *Store) Keep(key, name string, r *mnistfc.Result) error {
	return s.Put(key, Entry{Name: name, Result: r})
}

// Merge copies into dst the runs of srcs it does not hold, and returns how
// many it copied. A key held with different numbers (timings aside) in
// two stores is an error naming both files, and then nothing is copied.
func Merge(dst *Store, srcs ...*Store) (int, error) {
	type found struct {
		path string
		e    Entry
	}
	held := map[string]found{}
	have, err := dst.List()
	if err != nil {
		return 0, err
	}
	for _, e := range have {
		held[e.Key] = found{dst.path(e.Key), e}
	}
	var copies []found
	var conflicts []error
	for _, src := range srcs {
		entries, err := src.List()
		if err != nil {
			return 0, err
		}
		for _, e := range entries {
			f, ok := held[e.Key]
			if !ok {
				held[e.Key] = found{src.path(e.Key), e}
				copies = append(copies, held[e.Key])
				continue
			}
			if !f.e.Summary.SameOutcome(e.Summary) {
				conflicts = append(conflicts, fmt.Errorf("run %s differs between %s and %s (test accuracy %v and %v)",
					e.Key, f.path, src.path(e.Key), f.e.Summary.TestAccuracy, e.Summary.TestAccuracy))
			}
		}
	}
	if len(conflicts) > 0 {
		return 0, fmt.Errorf("merge: the same settings gave different numbers:\n%w", errors.Join(conflicts...))
	}
	for i, c := range copies {
		if err := dst.locked(func() error { return linkOrCopy(c.path, dst.path(c.e.Key)) }); err != nil {
			return i, fmt.Errorf("merge: %w", err)
		}
	}
	return len(copies), nil
}

// linkOrCopy puts the file src at dst, a hard link where it can (a run's
// file is never written in place, so the two names never see a change),
// else a copy; dst appears whole or not at all.
func linkOrCopy(src, dst string) error {
	tmp := dst + ".link-tmp"
	os.Remove(tmp)
	if os.Link(src, tmp) == nil {
		if err := os.Rename(tmp, dst); err != nil {
			os.Remove(tmp)
			return err
		}
		return nil
	}
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(dst, b)
}

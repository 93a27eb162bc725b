//go:build unix

package runstore

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// locked runs fn holding the store's lock file, an flock shared by every
// process that opens the store.
func (s *Store) locked(fn func() error) error {
	f, err := os.OpenFile(filepath.Join(s.dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return fmt.Errorf("run store %s: %w", s.dir, err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("run store %s: locking: %w", s.dir, err)
	}
	defer syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return fn()
}

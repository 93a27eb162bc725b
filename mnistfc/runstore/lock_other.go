//go:build !unix

package runstore

// locked runs fn. Without flock, writes stay atomic (a file is renamed
// into place) but two processes may prune at the same time.
func (s *Store) locked(fn func() error) error { return fn() }

// Package storetest helps tests put the store in the states a hostile
// world puts it in.
package storetest

import "os"

// ReadOnlyFile is a store.Options.OpenFile that opens the database file
// read-only, whatever bbolt asks for. The store opens, checks and reads
// as usual, and every write transaction fails with the kernel's own error
// (EBADF) through bbolt's real write path: what a full disk or a
// read-only mount does to the store (store.ErrWriteFailed), with neither
// a small filesystem nor root. The file must exist and be a store
// already; open it normally again to "free the disk".
func ReadOnlyFile(name string, _ int, perm os.FileMode) (*os.File, error) {
	return os.OpenFile(name, os.O_RDONLY, perm)
}

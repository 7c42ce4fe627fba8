package main

import (
	"io"
	"os"
	"path/filepath"
)

// writeFileAtomic writes a file beside path, syncs it and renames it to
// path only when write succeeded: a failure never leaves a file at path
// that looks whole (a backup, a chart), nor a part beside it.
func writeFileAtomic(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".partial-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	err = write(tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	return err
}

package runtimes

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/attune-run/attune"
)

// entryPoints materialises entry point contents as files under dir, one content-addressed
// directory per distinct content.
type entryPoints struct {
	dir string
}

// materialise returns the path of a file holding a's entry point content, writing it if it is
// not there yet.
func (e *entryPoints) materialise(a attune.Action) (string, error) {
	if len(a.EntryContent) == 0 {
		return "", fmt.Errorf("action %q has no entry point content (entry point %q): %w",
			a.Ref, a.EntryPoint, attune.ErrInvalid)
	}
	name := filepath.Base(a.EntryPoint)
	if a.EntryPoint == "" || name == "." || name == ".." || name == string(filepath.Separator) {
		return "", fmt.Errorf("action %q: entry point %q is not a file name: %w",
			a.Ref, a.EntryPoint, attune.ErrInvalid)
	}
	sum := contentSum(a)
	dir := filepath.Join(e.dir, hex.EncodeToString(sum[:]))
	path := filepath.Join(dir, name)

	if existing, err := os.ReadFile(path); err == nil && bytes.Equal(existing, a.EntryContent) {
		return path, nil
	}

	if err := os.MkdirAll(e.dir, 0o700); err != nil {
		return "", fmt.Errorf("create work directory %q: %w", e.dir, err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", fmt.Errorf("create entry point directory %q: %w", dir, err)
	}
	if err := writeFiles(dir, a); err != nil { // before the entry point, whose presence means done
		return "", err
	}
	if err := writeFileAtomic(path, a.EntryContent, 0o500); err != nil {
		return "", fmt.Errorf("write entry point %q of action %q: %w", path, a.Ref, err)
	}
	return path, nil
}

// writeFileAtomic writes data to a temporary file next to path and renames it into place, so
// that a concurrent reader sees either no file or the whole of it.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(perm)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
	}
	return err
}

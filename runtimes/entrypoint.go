package runtimes

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"

	"github.com/attune-run/attune"
)

// entryPoints materialises entry point contents as files under dir, one content-addressed
// directory per distinct content.
type entryPoints struct {
	dir string
	log *slog.Logger
}

// materialise returns the path of a file holding a's entry point content, writing it if it is
// not there yet. The work directory is checked (see PrepareWorkDir) and the file is checked
// just before its path is returned: a regular file, reached without symlinks, owned by attune's
// user, writable by nobody else, in a directory only that user may enter, and holding exactly
// the content. A cached copy that fails any of these was changed after attune wrote it: it is
// logged and written again, never run.
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
	if err := PrepareWorkDir(e.dir); err != nil {
		return "", err
	}
	sum := contentSum(a)
	dir := filepath.Join(e.dir, hex.EncodeToString(sum[:]))
	path := filepath.Join(dir, name)

	problem := verifyEntryPoint(dir, path, a.EntryContent)
	if problem == nil {
		return path, nil
	}
	if !isNotExist(problem) {
		e.log.Warn("cached entry point was changed after attune wrote it; writing it again",
			"action", a.Ref, "path", path, "problem", problem.Error())
	}
	if err := makePrivateDir(dir); err != nil {
		return "", fmt.Errorf("create entry point directory %q: %w", dir, err)
	}
	if !isNotExist(problem) {
		_ = os.RemoveAll(path) // a symlink or directory in its place: rename would not replace it
	}
	if err := writeFiles(dir, a); err != nil { // before the entry point, whose presence means done
		return "", err
	}
	if err := writeFileAtomic(path, a.EntryContent, 0o500); err != nil {
		return "", fmt.Errorf("write entry point %q of action %q: %w", path, a.Ref, err)
	}
	if problem := verifyEntryPoint(dir, path, a.EntryContent); problem != nil {
		return "", fmt.Errorf("entry point %q of action %q changed right after attune wrote it (%v); not running it", path, a.Ref, problem)
	}
	return path, nil
}

// errChanged says a cached entry point does not hold what attune wrote.
var errChanged = errors.New("content differs from the action's entry point")

// verifyEntryPoint returns why the file at path in dir must not be run as content; an error
// wrapping fs.ErrNotExist when it is not there yet; nil when it may be run. It runs before every
// run, so it makes its system calls itself: no *os.File, no allocation for the content.
func verifyEntryPoint(dir, path string, content []byte) error {
	var st syscall.Stat_t
	if err := syscall.Lstat(dir, &st); err != nil {
		return &fs.PathError{Op: "lstat", Path: dir, Err: err}
	}
	perm := os.FileMode(st.Mode & 0o777)
	switch {
	case st.Mode&syscall.S_IFMT != syscall.S_IFDIR:
		return fmt.Errorf("%s is not a directory", dir)
	case int(st.Uid) != os.Geteuid():
		return fmt.Errorf("%s is owned by %s", dir, userName(int(st.Uid)))
	case perm&0o077 != 0:
		return fmt.Errorf("%s has mode %04o", dir, perm)
	}
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if errors.Is(err, syscall.ELOOP) {
		return fmt.Errorf("%s is a symlink", path)
	}
	if err != nil {
		return &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer syscall.Close(fd)
	if err := syscall.Fstat(fd, &st); err != nil {
		return &fs.PathError{Op: "fstat", Path: path, Err: err}
	}
	if err := privateStat(&st); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if st.Size != int64(len(content)) {
		return errChanged
	}
	return sameContent(fd, content)
}

// sameContent reads fd to its end and returns errChanged unless it holds exactly content.
func sameContent(fd int, content []byte) error {
	var buf [4096]byte
	for off := 0; ; {
		n, err := syscall.Read(fd, buf[:])
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			return fmt.Errorf("read entry point: %w", err)
		}
		if n == 0 {
			if off != len(content) {
				return errChanged
			}
			return nil
		}
		if off+n > len(content) || !bytes.Equal(buf[:n], content[off:off+n]) {
			return errChanged
		}
		off += n
	}
}

// makePrivateDir makes dir a directory of the effective user's that only it may enter: created
// 0700 if missing, replaced if it is anything else (a symlink, someone else's, open to others).
func makePrivateDir(dir string) error {
	for range 2 {
		err := os.Mkdir(dir, 0o700)
		if err == nil || !errors.Is(err, os.ErrExist) {
			return err
		}
		fi, lerr := os.Lstat(dir)
		if lerr != nil {
			return lerr
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && fi.IsDir() && int(st.Uid) == os.Geteuid() && fi.Mode().Perm()&0o077 == 0 {
			return nil // a concurrent run made it, or it is fine and only its file was changed
		}
		if err := os.RemoveAll(dir); err != nil {
			return err
		}
	}
	return fmt.Errorf("%s keeps being replaced", dir)
}

// writeFileAtomic writes data to a new file next to path, created with O_EXCL (os.CreateTemp),
// and renames it into place, so that a concurrent reader sees either no file or the whole of it.
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

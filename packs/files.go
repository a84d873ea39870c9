package packs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
)

// The largest pack files read, in bytes. A larger file is refused, not read: the loader never
// holds more than the limit of one file in memory.
const (
	MaxYAMLFileSize   = 1 << 20  // pack.yaml, actions/*.yaml, triggers/*.yaml, rules/*.yaml
	MaxEntryPointSize = 10 << 20 // the script an action's entry_point names
)

// errIsDir is returned by readFile for a directory.
var errIsDir = errors.New("is a directory")

// refusedError is a file readFile refuses to read; its message is a sentence that starts with
// the file's name.
type refusedError struct{ msg string }

func (e *refusedError) Error() string { return e.msg }

// refused returns a refusedError.
func refused(format string, args ...any) error { return &refusedError{fmt.Sprintf(format, args...)} }

// readFile reads the pack file rel (slash-separated, relative to the pack), refusing what is not
// a regular file and what is larger than limit (what names the kind of file in the message). On
// disk, rel must also lead to a file inside the pack directory once symlinks are followed.
// Errors read as a sentence after the file name; fs.ErrNotExist and errIsDir can be tested for.
func (l *loader) readFile(rel string, limit int64, what string) ([]byte, error) {
	f, err := l.open(rel)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if err := regular(l.display(rel), info); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, refused("%s is larger than %d MiB, the limit for %s; %s", l.display(rel), limit>>20, what, sizeAdvice[what])
	}
	return data, nil
}

// sizeAdvice says what to do about a file over its limit.
var sizeAdvice = map[string]string{
	"a requirements file": "list only the pack's own dependencies",
	"an entry point":      "have the script fetch large data when it runs instead",
	"a pack YAML file":    "split it into several files",
}

// open opens rel for reading after checking that it is a regular file, so that opening never
// blocks on a named pipe or a device. On disk it follows symlinks and refuses a file outside the
// pack directory, and opens without blocking: readFile checks the opened file again.
func (l *loader) open(rel string) (fs.File, error) {
	if l.root == "" {
		info, err := fs.Stat(l.fsys, path.Join(l.dir, rel))
		if err != nil {
			return nil, err
		}
		if err := regular(l.display(rel), info); err != nil {
			return nil, err
		}
		return l.fsys.Open(path.Join(l.dir, rel))
	}
	resolved, err := filepath.EvalSymlinks(filepath.Join(l.root, filepath.FromSlash(rel)))
	if err != nil {
		return nil, err
	}
	if inside, err := filepath.Rel(l.realRoot, resolved); err != nil || inside == ".." || strings.HasPrefix(inside, ".."+string(filepath.Separator)) {
		return nil, refused("%s leads to %s, outside the pack directory; a pack reads only its own files: copy the file into the pack", l.display(rel), resolved)
	}
	info, err := os.Stat(resolved)
	if err != nil {
		return nil, err
	}
	if err := regular(l.display(rel), info); err != nil {
		return nil, err
	}
	return os.OpenFile(resolved, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}

// regular returns nil when info is a regular file's, else an error naming what it is.
func regular(name string, info fs.FileInfo) error {
	m := info.Mode()
	var kind string
	switch {
	case m.IsRegular():
		return nil
	case m.IsDir():
		return errIsDir
	case m&fs.ModeNamedPipe != 0:
		kind = "a named pipe"
	case m&fs.ModeDevice != 0:
		kind = "a device"
	case m&fs.ModeSocket != 0:
		kind = "a socket"
	default:
		kind = "a special file"
	}
	return refused("%s is %s, not a regular file; a pack holds only regular files and directories", name, kind)
}

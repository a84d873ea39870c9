package runtimes

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"strconv"
	"syscall"
)

// PrepareWorkDir makes sure dir can hold the scripts attune runs: it creates it (mode 0700, and
// its missing parents 0700) when it does not exist, and otherwise requires that it is a
// directory owned by attune's effective user that neither its group nor others may write to.
// Anyone who can write there could swap a script between its check and its run. The error says
// how to fix the directory.
func PrepareWorkDir(dir string) error {
	err := checkPrivateDir(dir) // the common case, once per run: one stat
	if !isNotExist(err) {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create work directory %s: %w", dir, err)
	}
	return checkPrivateDir(dir)
}

// checkPrivateDir requires dir (followed if it is a symlink) to be a directory owned by the
// effective user and not writable by its group or others.
func checkPrivateDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("work directory %s: %w", dir, err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !fi.IsDir() || !ok {
		return fmt.Errorf("work directory %s is not a directory; remove it or point runtimes.work_dir elsewhere", dir)
	}
	if euid := os.Geteuid(); int(st.Uid) != euid {
		me := userName(euid)
		return fmt.Errorf("work directory %s is owned by %s, not by %s, the user attune runs as, so that user could swap the scripts attune runs; fix it with: chown %s %s && chmod 0700 %s (or point runtimes.work_dir at a directory of your own)",
			dir, userName(int(st.Uid)), me, me, dir, dir)
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 {
		return fmt.Errorf("work directory %s has mode %04o: its group or other users may write to it and swap the scripts attune runs; fix it with: chmod 0700 %s",
			dir, perm, dir)
	}
	return nil
}

// userName returns the name of uid, or "uid N" when it has none.
func userName(uid int) string {
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil {
		return u.Username
	}
	return "uid " + strconv.Itoa(uid)
}

// privateStat reports why a file with status st must not be run: it is not a regular file, is
// not owned by the effective user, or its group or others may write to it. nil when it may.
func privateStat(st *syscall.Stat_t) error {
	perm := os.FileMode(st.Mode & 0o777)
	switch {
	case st.Mode&syscall.S_IFMT != syscall.S_IFREG:
		return errors.New("not a regular file")
	case int(st.Uid) != os.Geteuid():
		return fmt.Errorf("owned by %s", userName(int(st.Uid)))
	case perm&0o022 != 0:
		return fmt.Errorf("mode %04o is writable by others", perm)
	}
	return nil
}

// isNotExist reports whether err says a path does not exist.
func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }

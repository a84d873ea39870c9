package embedded

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clusterUser is the OS user that owns and runs the cluster: the current user, or the postgres
// system user when attune runs as root (initdb refuses to run as root).
type clusterUser struct {
	name     string
	uid, gid int
	groups   []int // every gid the user is in, for the traversal check
	switchTo bool  // commands run with this user's credentials and files are chowned to it
}

// lookupClusterUser returns the user the cluster runs as.
func lookupClusterUser() (clusterUser, error) {
	if os.Geteuid() != 0 {
		return clusterUser{name: "current user", uid: os.Geteuid(), gid: os.Getegid()}, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return clusterUser{}, fmt.Errorf("attune runs as root, and initdb refuses to run as root, so the embedded cluster must run as the \"postgres\" system user, which cannot be looked up (%w): create it (useradd --system postgres), run attune as a normal user, or set database.url / ATTUNE_DATABASE_URL to use an existing server", err)
	}
	cu := clusterUser{name: "postgres", switchTo: true}
	if cu.uid, err = strconv.Atoi(u.Uid); err != nil {
		return clusterUser{}, fmt.Errorf("postgres user uid %q: %w", u.Uid, err)
	}
	if cu.gid, err = strconv.Atoi(u.Gid); err != nil {
		return clusterUser{}, fmt.Errorf("postgres user gid %q: %w", u.Gid, err)
	}
	cu.groups = []int{cu.gid}
	if gids, err := u.GroupIds(); err == nil {
		for _, g := range gids {
			if n, err := strconv.Atoi(g); err == nil {
				cu.groups = append(cu.groups, n)
			}
		}
	}
	return cu, nil
}

// chown gives path to the cluster user; a no-op unless attune runs as root.
func (u clusterUser) chown(path string) error {
	if !u.switchTo {
		return nil
	}
	if err := os.Lchown(path, u.uid, u.gid); err != nil {
		return fmt.Errorf("chown %s to %s: %w", path, u.name, err)
	}
	return nil
}

// chownTree is chown -R.
func (u clusterUser) chownTree(root string) error {
	if !u.switchTo {
		return nil
	}
	return filepath.WalkDir(root, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("walk %s: %w", path, err)
		}
		return u.chown(path)
	})
}

// canSearch reports whether the cluster user may traverse a directory with info fi, following
// the owner, then group, then other permission bits like the kernel does.
func (u clusterUser) canSearch(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return true
	}
	perm := fi.Mode().Perm()
	switch {
	case int(st.Uid) == u.uid:
		return perm&0o100 != 0
	case slices.Contains(u.groups, int(st.Gid)):
		return perm&0o010 != 0
	default:
		return perm&0o001 != 0
	}
}

// ensureReachable makes sure the cluster user can traverse every directory from / down to
// dataDir. dataDir itself, when it belongs to the current (root) user, gets o+x added; a parent
// that blocks the way is reported with what to do about it.
func (u clusterUser) ensureReachable(dataDir string) error {
	if !u.switchTo {
		return nil
	}
	real, err := filepath.EvalSymlinks(dataDir)
	if err != nil {
		return fmt.Errorf("resolve data directory %s: %w", dataDir, err)
	}
	fi, err := os.Stat(real)
	if err != nil {
		return fmt.Errorf("data directory %s: %w", real, err)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && !u.canSearch(fi) && int(st.Uid) == os.Geteuid() {
		if err := os.Chmod(real, fi.Mode().Perm()|0o001); err != nil {
			return fmt.Errorf("let the postgres user into data directory %s: chmod o+x: %w", real, err)
		}
	}
	var dirs []string
	for p := real; ; p = filepath.Dir(p) {
		dirs = append(dirs, p)
		if p == filepath.Dir(p) {
			break
		}
	}
	slices.Reverse(dirs)
	for _, dir := range dirs {
		fi, err := os.Stat(dir)
		if err != nil {
			return fmt.Errorf("data directory %s: %w", dir, err)
		}
		if !u.canSearch(fi) {
			return fmt.Errorf("the embedded PostgreSQL runs as the %q user (attune runs as root), which cannot reach data directory %s because it may not enter %s (mode %s): chmod o+x %s, or use --data-dir under a reachable path, or set database.url / ATTUNE_DATABASE_URL to use an existing server",
				u.name, real, dir, fi.Mode().Perm(), dir)
		}
	}
	return nil
}

// command prepares a server binary to run as the cluster user: in its own process group (so a
// terminal Ctrl-C does not reach it), in dir, with HOME=dir and without PG* variables that could
// redirect it.
func (u clusterUser) command(ctx context.Context, bin, dir string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = []string{"HOME=" + dir}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") && !strings.HasPrefix(kv, "HOME=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if u.switchTo {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(u.uid), Gid: uint32(u.gid)}
	}
	// pg_ctl start leaves postgres running; if it ever kept our output pipe open, Wait would
	// otherwise block forever.
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// run runs cmd and returns an error carrying its combined output.
func run(cmd *exec.Cmd) error {
	out, err := cmd.CombinedOutput()
	if err != nil {
		msg := strings.TrimSpace(string(out))
		if msg == "" {
			return fmt.Errorf("%s: %w", strings.Join(cmd.Args, " "), err)
		}
		return fmt.Errorf("%s: %w: %s", strings.Join(cmd.Args, " "), err, msg)
	}
	return nil
}

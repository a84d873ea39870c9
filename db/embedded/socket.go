package embedded

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
)

// socketFileSuffix is the longest name postgres gives its socket inside the socket directory.
const socketFileSuffix = "/.s.PGSQL.65535"

// maxSocketPath is the longest unix socket path the OS accepts (sun_path minus the NUL).
func maxSocketPath() int {
	if runtime.GOOS == "linux" {
		return 107
	}
	return 103 // macOS and the BSDs
}

// socketDirFor returns the socket directory for a cluster in dataDir: dataDir/sock, or, when a
// socket in there would be too long for the OS, a short directory under os.TempDir() named after
// a hash of dataDir (so it is the same on every start).
func socketDirFor(dataDir string) string {
	dir := filepath.Join(dataDir, "sock")
	if len(dir)+len(socketFileSuffix) <= maxSocketPath() {
		return dir
	}
	sum := sha256.Sum256([]byte(dataDir))
	name := "attune-pg-" + hex.EncodeToString(sum[:6])
	if tmp := filepath.Join(os.TempDir(), name); len(tmp)+len(socketFileSuffix) <= maxSocketPath() {
		return tmp
	}
	return filepath.Join("/tmp", name)
}

// prepareSocketDir creates dir with mode 0700 for the cluster user. An existing directory is
// reused only when it is a real directory owned by us or the cluster user, since a short one
// lives in a shared temp directory.
func (c *cluster) prepareSocketDir(dir string) error {
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("create socket directory %s: %w", dir, err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("socket directory %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("socket directory %s is not a directory: remove it", dir)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() && int(st.Uid) != c.user.uid {
		return fmt.Errorf("socket directory %s belongs to uid %d, not to attune or the cluster user: remove it", dir, st.Uid)
	}
	if err := c.user.chown(dir); err != nil {
		return err
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("chmod 0700 socket directory %s: %w", dir, err)
	}
	return nil
}

// socketURL is the URL of database db over the unix socket in sockDir, as the superuser. It is
// understood by pgx and by libpq (psql).
func socketURL(sockDir string, port int, db string) string {
	return "postgresql:///" + db + "?host=" + queryEscape(sockDir) + "&port=" + strconv.Itoa(port) + "&user=" + superuser
}

// queryEscape percent-encodes s for a URL query value, leaving '/' readable. Unlike
// url.QueryEscape it never writes '+' for a space, which libpq would not decode.
func queryEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case 'a' <= ch && ch <= 'z', 'A' <= ch && ch <= 'Z', '0' <= ch && ch <= '9',
			ch == '-', ch == '.', ch == '_', ch == '~', ch == '/':
			b.WriteByte(ch)
		default:
			fmt.Fprintf(&b, "%%%02X", ch)
		}
	}
	return b.String()
}

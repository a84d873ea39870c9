package embedded

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	"github.com/jackc/pgx/v5"
)

const (
	// superuser is the role initdb creates and Handle.URL connects as.
	superuser = "attune"
	// database is the database attune uses.
	database = "attune"
)

// initialised reports whether the cluster directory holds a complete initdb run. initdb works
// in a temporary directory that is renamed into place only when it succeeded, so PG_VERSION in
// the cluster directory means a finished cluster.
func (c *cluster) initialised() (bool, error) {
	_, err := os.Stat(filepath.Join(c.pgDir, "PG_VERSION"))
	switch {
	case err == nil:
		return true, nil
	case os.IsNotExist(err):
		return false, nil
	default:
		return false, fmt.Errorf("check cluster %s: %w", c.pgDir, err)
	}
}

// initialise runs initdb into c.pgDir+".initdb" and renames the result to c.pgDir, so an
// interrupted run leaves nothing the next attempt trips over. The superuser's password goes to
// c.passwordFile. Callers hold cluster.lock.
func (c *cluster) initialise(ctx context.Context) error {
	tmp := c.pgDir + ".initdb"
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("remove unfinished cluster %s: %w", tmp, err)
	}
	if err := os.Mkdir(tmp, 0o700); err != nil {
		return fmt.Errorf("create cluster directory %s: %w", tmp, err)
	}
	if err := c.user.chown(tmp); err != nil {
		return err
	}

	password, err := randomPassword()
	if err != nil {
		return err
	}
	if err := writeSecret(c.passwordFile, password); err != nil {
		return err
	}
	// initdb reads the password as the cluster user, who may not read attune's copy.
	pwfile := c.passwordFile
	if c.user.switchTo {
		pwfile = tmp + "-pwfile"
		if err := writeSecret(pwfile, password); err != nil {
			return err
		}
		defer os.Remove(pwfile)
		if err := c.user.chown(pwfile); err != nil {
			return err
		}
	}

	cmd := c.user.command(ctx, filepath.Join(c.binDir, "initdb"), c.dataDir,
		"-D", tmp, "-U", superuser,
		"--auth-local=trust", "--auth-host=scram-sha-256", "--pwfile="+pwfile,
		"-E", "UTF8", "--locale=C")
	if err := run(cmd); err != nil {
		return fmt.Errorf("initialise embedded postgres in %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, c.pgDir); err != nil {
		return fmt.Errorf("move initialised cluster %s to %s: %w", tmp, c.pgDir, err)
	}
	c.logger.InfoContext(ctx, "embedded postgres initialised", "data_dir", c.dataDir, "bin_dir", c.binDir)
	return nil
}

// ensureDatabase creates the attune database if it is missing, over the socket of a running
// server. It runs after every start rather than once after initdb, so a cluster whose first
// start failed before the database was created still gets it.
func ensureDatabase(ctx context.Context, pf pidFile) error {
	conn, err := pgx.Connect(ctx, socketURL(pf.socketDir, pf.port, "postgres"))
	if err != nil {
		return fmt.Errorf("connect to embedded postgres at %s: %w", pf.socketDir, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", database).Scan(&exists); err != nil {
		return fmt.Errorf("look up database %q: %w", database, err)
	}
	if exists {
		return nil
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{database}.Sanitize()); err != nil {
		return fmt.Errorf("create database %q: %w", database, err)
	}
	return nil
}

// randomPassword returns 32 hex characters from crypto/rand.
func randomPassword() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate postgres password: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// writeSecret writes s to path with mode 0600, also tightening an existing file.
func writeSecret(path, s string) error {
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		return fmt.Errorf("chmod 0600 %s: %w", path, err)
	}
	return nil
}

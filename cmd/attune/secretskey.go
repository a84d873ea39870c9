package main

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/attune-run/attune/secrets"
)

// embeddedKeyFile is where the embedded default keeps its generated secrets key, in the data
// directory beside the database it protects.
const embeddedKeyFile = "secrets.key"

// embeddedSecretsKey returns the secrets key of the embedded cluster in dataDir, and its file:
// read from dataDir/secrets.key, or generated there (32 random bytes, base64, mode 0600) when
// the file does not exist yet. created says this call wrote it. Concurrent callers agree on one
// key: the file appears whole, and only once (a hard link never replaces a file).
func embeddedSecretsKey(dataDir string) (key, path string, created bool, err error) {
	path = filepath.Join(dataDir, embeddedKeyFile)
	if key, err := readKeyFile(path); !errors.Is(err, fs.ErrNotExist) {
		return key, path, false, err
	}
	raw := make([]byte, secrets.KeySize)
	if _, err := rand.Read(raw); err != nil {
		return "", path, false, fmt.Errorf("generate secrets key: %w", err)
	}
	key = base64.StdEncoding.EncodeToString(raw)
	tmp, err := os.CreateTemp(dataDir, ".secrets.key-*")
	if err != nil {
		return "", path, false, fmt.Errorf("write secrets key: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(key + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", path, false, fmt.Errorf("write secrets key %s: %w", tmp.Name(), err)
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, fs.ErrExist) {
		key, err := readKeyFile(path) // another command wrote it first
		return key, path, false, err
	} else if err != nil {
		return "", path, false, fmt.Errorf("write secrets key %s: %w", path, err)
	}
	return key, path, true, nil
}

// readKeyFile reads a secrets key file, refusing one that others may read.
func readKeyFile(path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("secrets key file %s has mode %04o, readable by others: `chmod 600 %s`", path, st.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read secrets key: %w", err)
	}
	if _, err := secrets.ParseKey(string(b)); err != nil {
		return "", fmt.Errorf("secrets key file %s: %w", path, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// Package secrets seals secret parameter values for storage: AES-256-GCM under one key from
// configuration (secrets.key), so a database dump, a backup or a DBA's query shows ciphertext
// only. It is the one crypto helper of attune; nothing else encrypts.
//
// A sealed value is
//
//	version (1 byte, 1) ‖ key id (4 bytes) ‖ nonce (12 bytes) ‖ ciphertext ‖ GCM tag (16 bytes)
//
// where the key id is the first 4 bytes of SHA-256(key). The version and key id are
// authenticated as additional data; the key id lets Open say "sealed under another key" instead
// of a bare authentication failure when replicas disagree about secrets.key.
package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the size of a key in bytes: AES-256.
const KeySize = 32

// GenerateHint tells an operator how to make a key.
const GenerateHint = "generate one with `head -c32 /dev/urandom | base64`"

// version is the format byte of sealed values.
const version = 1

// header is the size of the version and key id prefix.
const header = 1 + 4

// ErrNoKey is returned when secrets must be sealed or opened but no key is configured.
var ErrNoKey = errors.New("secrets.key is not set: secret parameters are stored encrypted and need a key; " +
	GenerateHint + " and set it as secrets.key on every replica")

// Box seals and opens values under one key. It is safe for concurrent use.
type Box struct {
	aead  cipher.AEAD
	keyID [4]byte
}

// NewBox returns a Box for a KeySize-byte key.
func NewBox(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("secrets.key must be %d bytes, got %d; %s", KeySize, len(key), GenerateHint)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secrets.key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secrets.key: %w", err)
	}
	b := &Box{aead: aead}
	sum := sha256.Sum256(key)
	copy(b.keyID[:], sum[:4])
	return b, nil
}

// ParseKey returns a Box for a key written as base64 (standard or URL alphabet, padded or not),
// as secrets.key holds it. Its errors never contain the key.
func ParseKey(s string) (*Box, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, ErrNoKey
	}
	var key []byte
	var err error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if key, err = enc.DecodeString(s); err == nil {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("secrets.key is not base64; %s", GenerateHint)
	}
	return NewBox(key)
}

// KeyID is a short, non-secret fingerprint of the key, for messages and logs.
func (b *Box) KeyID() string { return hex.EncodeToString(b.keyID[:]) }

// Seal encrypts plaintext under a fresh random nonce.
func (b *Box) Seal(plaintext []byte) []byte {
	out := make([]byte, header, header+b.aead.NonceSize()+len(plaintext)+b.aead.Overhead())
	out[0] = version
	copy(out[1:header], b.keyID[:])
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic("secrets: no randomness: " + err.Error()) // crypto/rand never fails on supported platforms
	}
	out = append(out, nonce...)
	return b.aead.Seal(out, nonce, plaintext, out[:header])
}

// Open decrypts a value made by Seal. A value sealed under another key, or altered, is an error
// saying so.
func (b *Box) Open(sealed []byte) ([]byte, error) {
	ns := b.aead.NonceSize()
	if len(sealed) < header+ns+b.aead.Overhead() || sealed[0] != version {
		return nil, errors.New("sealed secrets are malformed (unknown format or truncated)")
	}
	if [4]byte(sealed[1:header]) != b.keyID {
		return nil, fmt.Errorf("secrets were sealed under another key (key id %s; this replica's secrets.key has id %s): "+
			"every replica needs the same secrets.key", hex.EncodeToString(sealed[1:header]), b.KeyID())
	}
	nonce := sealed[header : header+ns]
	plain, err := b.aead.Open(nil, nonce, sealed[header+ns:], sealed[:header])
	if err != nil {
		return nil, errors.New("sealed secrets do not authenticate under secrets.key: the stored value was altered")
	}
	return plain, nil
}

// SealJSON seals the JSON encoding of v.
func (b *Box) SealJSON(v any) ([]byte, error) {
	plain, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode secrets: %w", err)
	}
	return b.Seal(plain), nil
}

// OpenJSON opens a value made by SealJSON into v.
func (b *Box) OpenJSON(sealed []byte, v any) error {
	plain, err := b.Open(sealed)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(plain, v); err != nil {
		return fmt.Errorf("decode secrets: %w", err)
	}
	return nil
}

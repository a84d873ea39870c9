package httpapi

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"

	"github.com/attune-run/attune"
)

// KeyPrefix starts every attune API key, so a leaked one is easy to recognise in a scan.
const KeyPrefix = "attune_"

// NewKey returns a new random API key (256 bits) and the hash to store for it.
func NewKey() (key string, hash []byte) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	key = KeyPrefix + base64.RawURLEncoding.EncodeToString(b)
	return key, HashKey(key)
}

// HashKey is the stored form of a key: its SHA-256. A key has 256 random bits, so a fast hash
// is enough; there is nothing to brute-force.
func HashKey(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:]
}

// requestKey returns the API key a request carries: Authorization: Bearer, St2-Api-Key, or
// HTTP Basic with the key as the password.
func requestKey(r *http.Request) string {
	if k := r.Header.Get("St2-Api-Key"); k != "" {
		return k
	}
	if _, pw, ok := r.BasicAuth(); ok {
		return pw
	}
	if scheme, k, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		return strings.TrimSpace(k)
	}
	return ""
}

// errNoKey and errBadKey are the two ways a request fails authentication.
var (
	errNoKey  = errors.New("this endpoint needs an API key: send Authorization: Bearer KEY (or St2-Api-Key: KEY); `attune apikey create NAME` makes one")
	errBadKey = errors.New("the API key is not valid or was revoked; `attune apikey list` shows the live keys")
)

// authenticate checks the request's key against the database (so a revocation takes effect at
// once on every replica) and records its use. It returns the key's name.
func (s *Server) authenticate(ctx context.Context, r *http.Request) (string, error) {
	key := requestKey(r)
	if key == "" {
		return "", errNoKey
	}
	k, err := s.d.DB.AutoCommit().APIKeyByHash(ctx, HashKey(key))
	if errors.Is(err, attune.ErrNotFound) {
		return "", errBadKey
	}
	if err != nil {
		return "", err
	}
	if err := s.d.DB.AutoCommit().APIKeyTouch(ctx, k.ID); err != nil {
		s.log.Warn("recording api key use failed", "key_name", k.Name, "error", err)
	}
	return k.Name, nil
}

// requireKey lets a request through only with a live API key; 401 otherwise.
func (s *Server) requireKey(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name, err := s.authenticate(r.Context(), r)
		if err != nil {
			s.unauthorized(w, r, err)
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), keyNameCtx{}, name)))
	}
}

// keyNameCtx is the context key of the name of the API key a request was authenticated with.
type keyNameCtx struct{}

// keyName is the name of the API key that authenticated r ("" when none did).
func keyName(r *http.Request) string {
	name, _ := r.Context().Value(keyNameCtx{}).(string)
	return name
}

// unauthorized answers 401 for errNoKey and errBadKey, and 500 for anything else.
func (s *Server) unauthorized(w http.ResponseWriter, r *http.Request, err error) {
	if !errors.Is(err, errNoKey) && !errors.Is(err, errBadKey) {
		s.internal(w, r, err)
		return
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="attune", Basic realm="attune"`)
	writeProblem(w, problem(http.StatusUnauthorized, "%v", err))
}

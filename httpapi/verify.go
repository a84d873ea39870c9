package httpapi

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Webhook verification modes (attune webhook set NAME --verify MODE).
const (
	VerifyAPIKey   = "apikey"      // an attune API key, as for the rest of the API (the default)
	VerifyGitHub   = "github"      // X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>
	VerifyStripe   = "stripe"      // Stripe-Signature: t=<unix>,v1=<hex HMAC(secret, "t.body")>,…
	VerifyStandard = "standard"    // Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature
	VerifyHMAC     = "hmac-sha256" // HMAC-SHA256(secret, body) in a header of your choice, hex or base64
	VerifyNone     = "none"        // anyone may post: only when set explicitly
)

// VerifyModes lists the modes.
var VerifyModes = []string{VerifyAPIKey, VerifyGitHub, VerifyStripe, VerifyStandard, VerifyHMAC, VerifyNone}

// NeedsSecret reports whether a mode verifies a signature with a shared secret.
func NeedsSecret(mode string) bool {
	return mode == VerifyGitHub || mode == VerifyStripe || mode == VerifyStandard || mode == VerifyHMAC
}

// SignatureTolerance is how far a signed timestamp (Stripe, Standard Webhooks) may be from now.
const SignatureTolerance = 300 * time.Second

// errSignature is the detail of every signature failure: what is wrong, without echoing values.
type errSignature struct{ why string }

func (e errSignature) Error() string { return e.why }

func sigErr(format string, args ...any) error { return errSignature{fmt.Sprintf(format, args...)} }

// Signer is one webhook's signature check: mode, secret and, for hmac-sha256, the header and
// its encoding.
type Signer struct {
	Mode     string
	Secret   []byte
	Header   string // hmac-sha256
	Encoding string // hmac-sha256: hex or base64
}

// Verify checks the signature of body, in constant time, against the headers the mode reads.
func (s Signer) Verify(h http.Header, body []byte, now time.Time) error {
	switch s.Mode {
	case VerifyGitHub:
		got, ok := strings.CutPrefix(h.Get("X-Hub-Signature-256"), "sha256=")
		if !ok {
			return sigErr("missing X-Hub-Signature-256: sha256=<hex>; set the webhook's secret at the sender")
		}
		return s.compareHex(got, body)
	case VerifyStripe:
		return s.verifyStripe(h.Get("Stripe-Signature"), body, now)
	case VerifyStandard:
		return s.verifyStandard(h, body, now)
	case VerifyHMAC:
		got := strings.TrimSpace(h.Get(s.Header))
		if got == "" {
			return sigErr("missing %s header with the HMAC-SHA256 of the body", s.Header)
		}
		got = strings.TrimPrefix(got, "sha256=")
		if s.Encoding == "base64" {
			return s.compareBase64(got, body)
		}
		return s.compareHex(got, body)
	}
	return fmt.Errorf("webhook verification mode %q has no signature", s.Mode)
}

func (s Signer) mac(parts ...[]byte) []byte {
	m := hmac.New(sha256.New, s.Secret)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

func (s Signer) compareHex(got string, body []byte) error {
	sig, err := hex.DecodeString(got)
	if err != nil {
		return sigErr("the signature is not hex")
	}
	if !hmac.Equal(sig, s.mac(body)) {
		return sigErr("the signature does not match the body; check the secret")
	}
	return nil
}

func (s Signer) compareBase64(got string, body []byte) error {
	sig, err := base64.StdEncoding.DecodeString(got)
	if err != nil {
		return sigErr("the signature is not base64")
	}
	if !hmac.Equal(sig, s.mac(body)) {
		return sigErr("the signature does not match the body; check the secret")
	}
	return nil
}

// verifyStripe accepts any v1 signature over "t.body", so a secret can be rotated.
func (s Signer) verifyStripe(header string, body []byte, now time.Time) error {
	if header == "" {
		return sigErr("missing Stripe-Signature")
	}
	var ts string
	var sigs [][]byte
	for _, item := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(item), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			if b, err := hex.DecodeString(v); err == nil {
				sigs = append(sigs, b)
			}
		}
	}
	if err := checkTimestamp(ts, now); err != nil {
		return err
	}
	if len(sigs) == 0 {
		return sigErr("Stripe-Signature has no v1 signature")
	}
	want := s.mac([]byte(ts), []byte("."), body)
	for _, sig := range sigs {
		if hmac.Equal(sig, want) {
			return nil
		}
	}
	return sigErr("no v1 signature of Stripe-Signature matches the body; check the secret")
}

// verifyStandard checks Standard Webhooks: HMAC-SHA256 over "id.timestamp.body" with the
// secret's bytes (whsec_<base64>), any of the space-separated v1 signatures.
func (s Signer) verifyStandard(h http.Header, body []byte, now time.Time) error {
	id, ts, header := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || ts == "" || header == "" {
		return sigErr("missing webhook-id, webhook-timestamp or webhook-signature")
	}
	if err := checkTimestamp(ts, now); err != nil {
		return err
	}
	key, err := StandardKey(s.Secret)
	if err != nil {
		return err
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + ts + "."))
	m.Write(body)
	want := m.Sum(nil)
	for _, sig := range strings.Fields(header) {
		v, b64, ok := strings.Cut(sig, ",")
		if !ok || v != "v1" {
			continue
		}
		if got, err := base64.StdEncoding.DecodeString(b64); err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return sigErr("no v1 signature of webhook-signature matches the body; check the secret")
}

// StandardKey decodes a Standard Webhooks secret, whsec_<base64>.
func StandardKey(secret []byte) ([]byte, error) {
	b64 := strings.TrimPrefix(strings.TrimSpace(string(secret)), "whsec_")
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(key) == 0 {
		return nil, errors.New("the Standard Webhooks secret must be whsec_ followed by base64")
	}
	return key, nil
}

// checkTimestamp rejects a unix timestamp further than SignatureTolerance from now (replays).
func checkTimestamp(ts string, now time.Time) error {
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return sigErr("the signature timestamp %q is not unix seconds", ts)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > SignatureTolerance || d < -SignatureTolerance {
		return sigErr("the signature timestamp is %s away from now, more than %s: a replay, or a clock off", d.Round(time.Second), SignatureTolerance)
	}
	return nil
}

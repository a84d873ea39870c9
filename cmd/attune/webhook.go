package main

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/httpapi"
	"github.com/attune-run/attune/secrets"
)

// webhookNamePattern is what a webhook's name may hold (as packs check trigger_params.url).
var webhookNamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`)

func (c *cli) webhookCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "webhook", Aliases: []string{"webhooks"}, Short: "Configure how webhooks are verified"}
	var o struct{ verify, secretFile, header, encoding string }
	set := &cobra.Command{
		Use:   "set NAME --verify MODE [--secret-file F]",
		Short: "Set how POST /api/v1/webhooks/NAME is verified",
		Long: `Set how POST /api/v1/webhooks/NAME is verified. Modes:
  apikey       an attune API key, as for the rest of the API (the default)
  github       X-Hub-Signature-256 (HMAC-SHA256 of the body), with the secret from --secret-file
  stripe       Stripe-Signature (t=…,v1=…; 300 s tolerance; any v1 matches, for rotation)
  standard     Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature; secret whsec_…)
  hmac-sha256  HMAC-SHA256 of the body in --header, --encoding hex or base64
  none         anyone may post (logged as a warning at every start)
The secret is read from a file (never argv) and stored sealed under secrets.key.`,
		Example: `  attune webhook set deploy --verify github --secret-file ./github-secret
  attune webhook set orders --verify hmac-sha256 --header X-Signature --encoding base64 --secret-file s.txt`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			w, err := c.webhookSettings(args[0], o.verify, o.secretFile, o.header, o.encoding)
			if err != nil {
				return err
			}
			return c.withApp(cmd.Context(), func(a *app) error {
				if _, err := a.db.AutoCommit().WebhookUpsert(cmd.Context(), w); err != nil {
					return err
				}
				fmt.Fprintf(c.stdout, "webhook %s: verify %s\n", w.Name, w.Verify)
				return nil
			})
		},
	}
	set.Flags().StringVar(&o.verify, "verify", "", "verification mode: "+strings.Join(httpapi.VerifyModes, ", "))
	set.Flags().StringVar(&o.secretFile, "secret-file", "", "file holding the shared secret (github, stripe, standard, hmac-sha256)")
	set.Flags().StringVar(&o.header, "header", "", "hmac-sha256: the header carrying the signature")
	set.Flags().StringVar(&o.encoding, "encoding", "hex", "hmac-sha256: hex or base64")
	_ = set.MarkFlagRequired("verify")

	var asJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List webhooks: those rules listen on and those configured, with their verification",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.withApp(cmd.Context(), func(a *app) error {
				return c.listWebhooks(cmd, a, asJSON)
			})
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.AddCommand(set, list)
	return cmd
}

// webhookSettings checks the flags of attune webhook set and reads and seals the secret.
func (c *cli) webhookSettings(name, verify, secretFile, header, encoding string) (db.Webhook, error) {
	w := db.Webhook{Name: name, Verify: verify, Header: header, Encoding: encoding}
	bad := func(format string, args ...any) (db.Webhook, error) {
		return db.Webhook{}, exitError{code: 2, msg: fmt.Sprintf(format, args...)}
	}
	switch {
	case !webhookNamePattern.MatchString(name):
		return bad("webhook name %q: letters, digits, _ . and -, at most 128", name)
	case !slices.Contains(httpapi.VerifyModes, verify):
		return bad("--verify %q: must be one of %s", verify, strings.Join(httpapi.VerifyModes, ", "))
	case encoding != "hex" && encoding != "base64":
		return bad("--encoding %q: must be hex or base64", encoding)
	case verify == httpapi.VerifyHMAC && header == "":
		return bad("--verify hmac-sha256 needs --header, the header that carries the signature (e.g. X-Signature)")
	case verify != httpapi.VerifyHMAC && header != "":
		return bad("--header is for --verify hmac-sha256 only")
	case httpapi.NeedsSecret(verify) && secretFile == "":
		return bad("--verify %s needs --secret-file, a file holding the shared secret", verify)
	case !httpapi.NeedsSecret(verify) && secretFile != "":
		return bad("--verify %s takes no secret; drop --secret-file", verify)
	}
	if !httpapi.NeedsSecret(verify) {
		return w, nil
	}
	secret, err := os.ReadFile(secretFile)
	if err != nil {
		return bad("--secret-file: %v", err)
	}
	secret = bytes.TrimRight(secret, "\r\n")
	if len(secret) == 0 {
		return bad("--secret-file %s is empty", secretFile)
	}
	if verify == httpapi.VerifyStandard {
		if _, err := httpapi.StandardKey(secret); err != nil {
			return bad("--secret-file %s: %v", secretFile, err)
		}
	}
	box, err := secrets.ParseKey(c.cfg.Secrets.Key)
	if err != nil {
		return bad("webhook secrets are stored sealed under secrets.key: %v", err)
	}
	w.Secret = box.Seal(secret)
	return w, nil
}

// listWebhooks prints every webhook a rule listens on or that has settings.
func (c *cli) listWebhooks(cmd *cobra.Command, a *app, asJSON bool) error {
	ctx := cmd.Context()
	hooks, err := a.db.AutoCommit().Webhooks(ctx)
	if err != nil {
		return err
	}
	ruleNames, err := a.db.AutoCommit().WebhookRuleNames(ctx)
	if err != nil {
		return err
	}
	names := slices.Clone(ruleNames)
	byName := map[string]db.Webhook{}
	for _, h := range hooks {
		byName[h.Name] = h
		if !slices.Contains(names, h.Name) {
			names = append(names, h.Name)
		}
	}
	slices.Sort(names)
	type row struct {
		Name     string `json:"name"`
		Verify   string `json:"verify"`
		Header   string `json:"header,omitempty"`
		HasRules bool   `json:"has_rules"`
		URL      string `json:"url"`
	}
	var out []row
	for _, n := range names {
		h, ok := byName[n]
		r := row{Name: n, Verify: httpapi.VerifyAPIKey, HasRules: slices.Contains(ruleNames, n), URL: "/api/v1/webhooks/" + n}
		if ok {
			r.Verify, r.Header = h.Verify, h.Header
		}
		out = append(out, r)
	}
	if asJSON {
		if out == nil {
			out = []row{}
		}
		return writeJSON(c.stdout, out)
	}
	rows := make([][]string, len(out))
	for i, r := range out {
		rules := "yes"
		if !r.HasRules {
			rules = "no (events are recorded; no rule fires)"
		}
		rows[i] = []string{r.Name, r.Verify, orDash(r.Header), rules, r.URL}
	}
	return table(c.stdout, []string{"NAME", "VERIFY", "HEADER", "RULES", "URL"}, rows)
}

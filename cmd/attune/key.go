package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/jobs"
)

// keyJSON is a datastore key as `attune key … --json` prints it.
type keyJSON struct {
	Scope     string     `json:"scope"`
	Name      string     `json:"name"`
	Value     *string    `json:"value"` // null for a secret key not decrypted
	Secret    bool       `json:"secret"`
	ExpiresAt *time.Time `json:"expires_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}

func toKeyJSON(k attune.Key, decrypted bool) keyJSON {
	out := keyJSON{Scope: k.Scope, Name: k.Name, Secret: k.Secret, ExpiresAt: k.ExpiresAt, UpdatedAt: k.UpdatedAt}
	if !k.Secret || decrypted {
		v := k.Value
		out.Value = &v
	}
	return out
}

// shownValue is a key's value for a table: ******** for a secret not decrypted.
func shownValue(k attune.Key, decrypted bool) string {
	if k.Secret && !decrypted {
		return "********"
	}
	return k.Value
}

func (c *cli) keyCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "key", Aliases: []string{"keys", "kv"}, Short: "Read and write the datastore (st2kv / kv in rules)"}
	cmd.AddCommand(c.keySetCmd(), c.keyGetCmd(), c.keyListCmd(), c.keyDeleteCmd())
	return cmd
}

func (c *cli) keySetCmd() *cobra.Command {
	var w jobs.KeyWrite
	var fromFile string
	cmd := &cobra.Command{
		Use:   "set NAME [VALUE]",
		Short: "Set a key; --from-file F (or - for stdin) keeps a secret out of argv",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			w.Name = args[0]
			switch {
			case fromFile != "" && len(args) == 2:
				return fmt.Errorf("give the value as an argument or with --from-file, not both")
			case fromFile != "":
				v, err := readValueFile(fromFile, cmd.InOrStdin())
				if err != nil {
					return err
				}
				w.Value = v
			case len(args) == 2:
				w.Value = args[1]
			default:
				return fmt.Errorf("key set %s: give a VALUE, or --from-file F (- reads stdin)", w.Name)
			}
			return c.withApp(cmd.Context(), func(a *app) error {
				if err := a.build(nil); err != nil {
					return err
				}
				var k attune.Key
				err := a.db.InTx(cmd.Context(), func(q *db.Queries) error {
					var err error
					k, err = a.p.SetKey(cmd.Context(), q, w)
					return err
				})
				if err != nil {
					return err
				}
				msg := fmt.Sprintf("key %s.%s set", k.Scope, k.Name)
				if k.Secret {
					msg += " (secret)"
				}
				if k.ExpiresAt != nil {
					msg += ", expires " + fmtTime(k.ExpiresAt)
				}
				_, err = fmt.Fprintln(c.stdout, msg)
				return err
			})
		},
	}
	f := cmd.Flags()
	f.BoolVar(&w.Secret, "secret", false, "store the value sealed under secrets.key")
	f.DurationVar(&w.TTL, "ttl", 0, "time to live, e.g. 1h; the key then reads as missing (default: never expires)")
	f.StringVar(&w.Scope, "scope", attune.ScopeSystem, "system or user:<name>")
	f.StringVar(&fromFile, "from-file", "", "read the value from this file (- for stdin), so it stays out of argv")
	return cmd
}

// readValueFile reads a key's value from a file, or from stdin for "-", without its final newline.
func readValueFile(name string, stdin io.Reader) (string, error) {
	var r io.Reader = stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return "", fmt.Errorf("--from-file: %w", err)
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, attune.MaxKeyValue+2))
	if err != nil {
		return "", fmt.Errorf("--from-file %s: %w", name, err)
	}
	s := string(b)
	if n := len(s); n > 0 && s[n-1] == '\n' {
		s = s[:n-1]
	}
	return s, nil
}

func (c *cli) keyGetCmd() *cobra.Command {
	var scope string
	var decrypt, asJSON bool
	cmd := &cobra.Command{
		Use: "get NAME", Short: "Show a key; a secret shows ******** unless --decrypt", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.withApp(cmd.Context(), func(a *app) error {
				if err := a.build(nil); err != nil {
					return err
				}
				k, err := a.p.GetKey(cmd.Context(), a.db.AutoCommit(), scope, args[0], decrypt)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(c.stdout, toKeyJSON(k, decrypt))
				}
				_, err = fmt.Fprintln(c.stdout, shownValue(k, decrypt))
				return err
			})
		},
	}
	cmd.Flags().StringVar(&scope, "scope", attune.ScopeSystem, "system or user:<name>")
	cmd.Flags().BoolVar(&decrypt, "decrypt", false, "show a secret key's value (needs secrets.key)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (c *cli) keyListCmd() *cobra.Command {
	var scope, prefix string
	var asJSON bool
	cmd := &cobra.Command{
		Use: "list", Short: "List the keys that have not expired", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.withApp(cmd.Context(), func(a *app) error {
				ks, err := a.db.AutoCommit().Keys(cmd.Context(), scope, prefix, time.Now())
				if err != nil {
					return err
				}
				if asJSON {
					out := make([]keyJSON, len(ks))
					for i, k := range ks {
						out[i] = toKeyJSON(k.Key, false)
					}
					return writeJSON(c.stdout, out)
				}
				rows := make([][]string, len(ks))
				for i, k := range ks {
					v := shownValue(k.Key, false)
					if len(v) > 60 {
						v = v[:57] + "..."
					}
					rows[i] = []string{k.Scope, k.Name, v, fmtTime(k.ExpiresAt), fmtTime(&k.UpdatedAt)}
				}
				return table(c.stdout, []string{"SCOPE", "NAME", "VALUE", "EXPIRES", "UPDATED"}, rows)
			})
		},
	}
	cmd.Flags().StringVar(&scope, "scope", "", "only this scope (system or user:<name>); default all")
	cmd.Flags().StringVar(&prefix, "prefix", "", "only names starting with this")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (c *cli) keyDeleteCmd() *cobra.Command {
	var scope string
	cmd := &cobra.Command{
		Use: "delete NAME", Short: "Delete a key", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.withApp(cmd.Context(), func(a *app) error {
				if err := a.db.AutoCommit().KeyDelete(cmd.Context(), scope, args[0]); err != nil {
					return err
				}
				_, err := fmt.Fprintf(c.stdout, "key %s.%s deleted\n", scope, args[0])
				return err
			})
		},
	}
	cmd.Flags().StringVar(&scope, "scope", attune.ScopeSystem, "system or user:<name>")
	return cmd
}

package main

import (
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"
)

func (c *cli) configCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use: "config", Short: "Print the effective configuration, secrets masked", Args: cobra.NoArgs,
		Long: `Print the effective configuration, secrets masked, as a config file would say it: durations
as 25s, sizes as 1MiB.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			tree, err := humanConfig(c.cfg.Masked())
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(c.stdout, tree)
			}
			enc := yaml.NewEncoder(c.stdout)
			enc.SetIndent(2)
			return enc.Encode(tree)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// byteSizeKeys are the integer config keys that count bytes: printed as 1MiB, and read from
// 1MiB as well as from 1048576 (see sizeHook).
var byteSizeKeys = map[string]bool{"runtimes.output_cap": true}

// humanConfig returns c as the generic tree its JSON describes, with every time.Duration
// written as a duration (25s, not 2.5e+10) and every byte size as a size (1MiB, not 1.048576e+06).
func humanConfig(c Config) (map[string]any, error) {
	tree, err := jsonRoundTrip(c)
	if err != nil {
		return nil, err
	}
	var walk func(v reflect.Value, m map[string]any, prefix string)
	walk = func(v reflect.Value, m map[string]any, prefix string) {
		for i := range v.NumField() {
			f := v.Type().Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || name == "-" || !f.IsExported() {
				continue
			}
			fv := v.Field(i)
			switch {
			case f.Type == reflect.TypeFor[time.Duration]():
				m[name] = time.Duration(fv.Int()).String()
			case byteSizeKeys[prefix+name] && fv.CanInt():
				m[name] = formatBytes(fv.Int())
			case f.Type.Kind() == reflect.Struct:
				if sub, ok := m[name].(map[string]any); ok {
					walk(fv, sub, prefix+name+".")
				}
			}
		}
	}
	walk(reflect.ValueOf(c), tree, "")
	return tree, nil
}

// byteUnits are the units of formatBytes and sizeHook, largest first.
var byteUnits = []struct {
	name string
	size int64
}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}}

// formatBytes writes n in the largest unit that divides it: 1MiB, 1536KiB, 1000B.
func formatBytes(n int64) string {
	for _, u := range byteUnits {
		if n != 0 && n%u.size == 0 {
			return strconv.FormatInt(n/u.size, 10) + u.name
		}
	}
	return strconv.FormatInt(n, 10) + "B"
}

var sizePattern = regexp.MustCompile(`^\s*(\d+)\s*(GiB|MiB|KiB|B)\s*$`)

// sizeHook lets an integer config value be written as a size with a unit (1MiB, 512KiB, 100B),
// as attune config prints byte sizes.
func sizeHook(from, to reflect.Type, data any) (any, error) {
	s, ok := data.(string)
	if !ok || from.Kind() != reflect.String || !isIntKind(to.Kind()) {
		return data, nil
	}
	m := sizePattern.FindStringSubmatch(s)
	if m == nil {
		return data, nil
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return nil, fmt.Errorf("size %q: %w", s, err)
	}
	for _, u := range byteUnits {
		if u.name == m[2] {
			return n * u.size, nil
		}
	}
	return data, nil
}

func isIntKind(k reflect.Kind) bool {
	return k >= reflect.Int && k <= reflect.Int64
}

// configDecodeHook is viper's default decoding (durations from "5s", lists from "a,b") plus
// sizeHook.
func configDecodeHook() mapstructure.DecodeHookFunc {
	return mapstructure.ComposeDecodeHookFunc(
		mapstructure.StringToTimeDurationHookFunc(), mapstructure.StringToSliceHookFunc(","), sizeHook)
}

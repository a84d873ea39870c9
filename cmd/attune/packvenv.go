package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/attune-run/attune"
)

// packVenv makes the virtualenv of a pack with a requirements.txt on this host, as a worker
// here does before the pack's first python-script run, and returns the requirements it lacks,
// one per line ("" when none).
func (a *app) packVenv(ctx context.Context, p *attune.Pack) (string, error) {
	if strings.TrimSpace(p.Requirements) == "" {
		return "", nil
	}
	venv, err := a.p.Runtimes.PrepareVenv(ctx, p.Ref, p.Requirements)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, r := range venv.Missing {
		fmt.Fprintf(&b, "  requirements.txt:%d: %s: %s\n", r.Line, r.Text, r.Reason)
	}
	return b.String(), nil
}

package packs

import (
	"embed"
	"time"

	"github.com/attune-run/attune"
)

// embedded holds the packs built into the binary, each in its own directory.
//
//go:embed all:core all:demo
var embedded embed.FS

// Core returns the built-in core pack: actions core.echo, core.noop and core.sleep, and the timer
// triggers core.intervaltimer, core.crontimer and core.datetimetimer. Each call returns a fresh
// copy the caller may change.
func Core() (*attune.Pack, error) {
	return Load(embedded, "core", time.Now())
}

// Demo returns the demo pack: the rule demo.echo_every_5s, which runs core.echo every five seconds.
// Each call returns a fresh copy the caller may change.
func Demo() (*attune.Pack, error) {
	return Load(embedded, "demo", time.Now())
}

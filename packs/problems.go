package packs

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/attune-run/attune"
)

// Problem is one validation error in a pack, positioned at the file, line and column it is about.
// Line and Col are 1-based; zero means unknown.
type Problem struct {
	File string
	Line int
	Col  int
	Msg  string
}

// Error formats the problem as "file:line:col: message", leaving out the column, or the line and
// column, when they are unknown.
func (p Problem) Error() string {
	switch {
	case p.Line > 0 && p.Col > 0:
		return fmt.Sprintf("%s:%d:%d: %s", p.File, p.Line, p.Col, p.Msg)
	case p.Line > 0:
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg)
	default:
		return fmt.Sprintf("%s: %s", p.File, p.Msg)
	}
}

// Errors is every problem found in one pack, sorted by file and position. It unwraps to
// [attune.ErrInvalid].
type Errors []Problem

// Error lists the problems, one per line.
func (e Errors) Error() string {
	lines := make([]string, len(e))
	for i, p := range e {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns [attune.ErrInvalid], so errors.Is(err, attune.ErrInvalid) holds for a pack that
// failed validation.
func (e Errors) Unwrap() error { return attune.ErrInvalid }

// problems collects the problems of one load.
type problems struct {
	list Errors
}

// add records one problem.
func (p *problems) add(file string, line, col int, format string, args ...any) {
	p.list = append(p.list, Problem{File: file, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)})
}

// err returns the collected problems sorted by position, or nil when there are none.
func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	sorted := slices.Clone(p.list)
	slices.SortStableFunc(sorted, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
	})
	return sorted
}

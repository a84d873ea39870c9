package workflows

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/expr-lang/expr/file"

	"github.com/attune-run/attune/internal/yamlsrc"
	"github.com/attune-run/attune/rules"
)

// Expression delimiters.
const (
	yaqlOpen, yaqlClose   = "<%", "%>"
	jinjaOpen, jinjaClose = "{{", "}}"
)

// Expr is one expression (`when`, with-items `items`, retry `when`), with or without its
// {{ }} / <% %> delimiters in the source.
type Expr struct {
	Src       string // as written
	Line, Col int    // where it starts in the file

	code string // the expr source that runs: the {{ }} text, or the <% %> text translated
	prog *rules.Program
}

// Eval evaluates the expression against env.
func (e *Expr) Eval(env *Env) (any, error) {
	return e.eval(env, rules.NewBudget())
}

// True evaluates the expression and reports its truthiness as Orquesta/YAQL does: nil, false, 0,
// "", empty list/map are false.
func (e *Expr) True(env *Env) (bool, error) {
	v, err := e.Eval(env)
	if err != nil {
		return false, err
	}
	return truthy(v), nil
}

func (e *Expr) eval(env *Env, b *rules.Budget) (any, error) {
	if env == nil {
		env = &Env{}
	}
	ctx := env.Ctx
	if ctx == nil {
		ctx = map[string]any{}
	}
	v, err := e.prog.Run(map[string]any{envKey: env, ctxRoot: ctx}, b)
	if err == nil {
		v, err = rules.JSONShape(v) // what the conductor stores: no Go-only values, no NaN
	}
	if err != nil {
		return nil, fmt.Errorf("line %d, column %d: %s: %s", e.Line, e.Col, clip(e.Src), runtimeMessage(err))
	}
	return v, nil
}

// calls reports whether the expression calls function name; false for a nil Expr.
func (e *Expr) calls(name string) bool { return e != nil && e.prog.Calls(name) }

// runtimeMessage is the first line of an evaluation error, without expr's source excerpt.
func runtimeMessage(err error) string {
	var fe *file.Error
	if errors.As(err, &fe) {
		return firstLine(fe.Message)
	}
	return firstLine(err.Error())
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// clip shortens an expression for a message.
func clip(s string) string { return yamlsrc.Clip(s, 80) }

// locator turns a byte offset in a string value into its line and column in the file.
type locator func(off int) (line, col int)

// compileExpr compiles one expression: inner is the text between the delimiters (or all of it,
// without delimiters), starting at offset start of the string; src is what the user wrote.
func compileExpr(src, inner string, yaql bool, start int, at locator) (*Expr, *Problem) {
	line, col := at(start)
	if src != inner {
		line, col = at(start - len(yaqlOpen)) // at the opening delimiter
	}
	e := &Expr{Src: src, Line: line, Col: col}
	problem := func(off int, format string, args ...any) *Problem {
		l, c := at(off)
		return &Problem{Line: l, Col: c, Msg: fmt.Sprintf(format, args...)}
	}
	lead := len(inner) - len(strings.TrimLeft(inner, " \t\n"))
	if strings.TrimSpace(inner) == "" {
		return nil, problem(start, "empty expression %s", clip(src))
	}
	e.code = inner
	if yaql {
		code, err := yaqlToExpr(inner)
		if err != nil {
			var ye *yaqlError
			if errors.As(err, &ye) {
				return nil, problem(start+ye.off, "%s: %s", clip(src), ye.msg)
			}
			return nil, problem(start+lead, "%s: %v", clip(src), err)
		}
		e.code = code
	}
	prog, err := language.Compile(e.code, !yaql)
	if err != nil {
		off := start + lead
		var fe *file.Error
		if !yaql && errors.As(err, &fe) && fe.Line > 0 {
			off = start + offsetOf(inner, fe.Line, fe.Column)
		}
		msg := runtimeMessage(err)
		if strings.HasPrefix(msg, "unknown name ") {
			msg += "; read the context with ctx().name"
		}
		return nil, problem(off, "%s: %s", clip(src), msg)
	}
	e.prog = prog
	return e, nil
}

// offsetOf is the byte offset of 1-based line and 0-based column (in runes) in s.
func offsetOf(s string, line, col int) int {
	off := 0
	for l := 1; l < line; l++ {
		i := strings.IndexByte(s[off:], '\n')
		if i < 0 {
			return off
		}
		off += i + 1
	}
	for n := 0; n < col && off < len(s); n++ {
		_, size := utf8.DecodeRuneInString(s[off:])
		off += size
	}
	return off
}

// segment is a piece of a string value: literal text, or one expression.
type segment struct {
	text string
	expr *Expr
}

// scanString splits s into text and expressions, compiling each. It returns nil segments for a
// string without expressions.
func scanString(s string, at locator) ([]segment, *Problem) {
	if !strings.Contains(s, yaqlOpen) && !strings.Contains(s, jinjaOpen) && !strings.Contains(s, "{%") {
		return nil, nil
	}
	var segs []segment
	for off := 0; off < len(s); {
		open, yaql := nextOpen(s, off)
		if i := strings.Index(s[off:], "{%"); i >= 0 && (open < 0 || off+i < open) {
			l, c := at(off + i)
			return nil, &Problem{Line: l, Col: c, Msg: "Jinja statements ({% … %}) are not supported; use one {{ }} or <% %> expression"}
		}
		if open < 0 {
			segs = append(segs, segment{text: s[off:]})
			break
		}
		if open > off {
			segs = append(segs, segment{text: s[off:open]})
		}
		closeTok := jinjaClose
		if yaql {
			closeTok = yaqlClose
		}
		end := exprEnd(s, open+2, closeTok)
		if end < 0 {
			l, c := at(open)
			return nil, &Problem{Line: l, Col: c, Msg: fmt.Sprintf("%q without a closing %q", s[open:open+2], closeTok)}
		}
		e, p := compileExpr(s[open:end+2], s[open+2:end], yaql, open+2, at)
		if p != nil {
			return nil, p
		}
		segs = append(segs, segment{expr: e})
		off = end + 2
	}
	return segs, nil
}

// nextOpen returns the offset of the next "<%" or "{{" at or after off, -1 when none, and
// whether it is "<%".
func nextOpen(s string, off int) (int, bool) {
	y := strings.Index(s[off:], yaqlOpen)
	j := strings.Index(s[off:], jinjaOpen)
	switch {
	case y < 0 && j < 0:
		return -1, false
	case j < 0 || (y >= 0 && y < j):
		return off + y, true
	}
	return off + j, false
}

// exprEnd returns the offset of closeTok ending the expression that starts at from, skipping
// quoted strings (and, for "}}", balanced braces); -1 when it is not closed.
func exprEnd(s string, from int, closeTok string) int {
	depth := 0
	for i := from; i < len(s); i++ {
		switch c := s[i]; c {
		case '\'', '"':
			j := i + 1
			for j < len(s) && s[j] != c {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(s) {
				return -1
			}
			i = j
		case '{':
			depth++
		case '}':
			if depth > 0 && closeTok == jinjaClose {
				depth--
				continue
			}
			if closeTok == jinjaClose && strings.HasPrefix(s[i:], jinjaClose) {
				return i
			}
		case '%':
			if closeTok == yaqlClose && strings.HasPrefix(s[i:], yaqlClose) {
				return i
			}
		}
	}
	return -1
}

// whole returns the one expression of segs when the rest is only whitespace.
func whole(segs []segment) *Expr {
	var found *Expr
	for _, seg := range segs {
		switch {
		case seg.expr != nil && found != nil:
			return nil
		case seg.expr != nil:
			found = seg.expr
		case strings.TrimSpace(seg.text) != "":
			return nil
		}
	}
	return found
}

// parseExpr compiles a string that must be one expression. Without delimiters it is YAQL, as
// Orquesta reads a bare `when`.
func parseExpr(s string, at locator) (*Expr, *Problem) {
	segs, p := scanString(s, at)
	if p != nil {
		return nil, p
	}
	if segs == nil {
		return compileExpr(s, s, true, 0, at)
	}
	if e := whole(segs); e != nil {
		return e, nil
	}
	l, c := at(0)
	return nil, &Problem{Line: l, Col: c, Msg: fmt.Sprintf("%s: write one expression, such as <%% succeeded() %%>, not text mixed with expressions", clip(s))}
}

package rules

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
)

// programs caches compiled expr programs by mode and source text. A *vm.Program is safe for
// concurrent runs. The cache is never pruned: its sources come from registered rules.
var programs sync.Map // programKey -> *vm.Program

// resultTypes caches the type each program yields, as type-checked before the budget patch
// (which leaves some results typed any): programKey -> reflect.Type, nil when unknown.
var resultTypes sync.Map

// programKey is a programs cache key.
type programKey struct {
	src    string
	strict bool
	lang   string // "" for the rules' own language; see Language
}

// compileEnv declares the Env roots, so a misspelt root (`evnt.payload`) fails at compile time,
// while everything below a root stays dynamic: any key compiles, and is looked up when evaluated.
var compileEnv = func() map[string]any {
	env := make(map[string]any, len(roots))
	for _, root := range roots {
		env[root] = map[string]any{}
	}
	return env
}()

// compile returns the program for src, compiling it on first use. Every criteria expression and
// template compiles here, with the same Env and expr's builtins; this is the one place to change
// how they behave. strict (templates) makes reading a missing key an error naming its path,
// except on the left of `??` and in `?.` chains; otherwise (criteria) it reads as nil. See
// accessPatcher.
func compile(src string, strict bool) (*vm.Program, error) {
	return compileIn(nil, src, strict)
}

// compileIn is compile in lang's Env and with its functions; nil is the rules' own language.
func compileIn(lang *Language, src string, strict bool) (*vm.Program, error) {
	key := programKey{src: src, strict: strict}
	env := compileEnv
	if lang != nil {
		key.lang, env = lang.name, lang.env
	}
	if p, ok := programs.Load(key); ok {
		return p.(*vm.Program), nil
	}
	if strings.TrimSpace(src) == "" {
		return nil, errors.New("empty expression")
	}
	opts := append([]expr.Option{expr.Env(env)}, accessOptions(strict)...)
	opts = append(opts, filterOptions()...)
	if lang != nil {
		opts = append(opts, lang.options()...)
	}
	// Type-check the expression as written, so errors name what the user wrote; then compile
	// the program that runs, with the builtins that allocate charged to the budget.
	checked, err := expr.Compile(pipeFilters(src), opts...)
	if err != nil {
		return nil, err
	}
	resultTypes.Store(key, checked.Node().Type())
	p, err := expr.Compile(pipeFilters(src), append(opts, budgetOptions()...)...)
	if err != nil {
		return nil, err
	}
	programs.Store(key, p)
	return p, nil
}

// resultType returns the type that src, compiled by compile, yields as written; nil when unknown.
func resultType(src string, strict bool) reflect.Type {
	t, _ := resultTypes.Load(programKey{src: src, strict: strict})
	rt, _ := t.(reflect.Type)
	return rt
}

// run evaluates p against env, charging what it allocates to b (see ExpressionBudget).
func run(p *vm.Program, env Env, b *budget) (any, error) {
	return expr.Run(p, withBudget(env, b))
}

// position is a 1-based line and column (in runes) in the text a user wrote.
type position struct {
	line, column int
}

// positionAt returns the position of byte offset off in s.
func positionAt(s string, off int) position {
	pos := position{line: 1, column: 1}
	for _, r := range s[:off] {
		if r == '\n' {
			pos.line++
			pos.column = 1
			continue
		}
		pos.column++
	}
	return pos
}

// exprError describes an expr compile or runtime error in one line, locating it in the user's
// text. start is where the expression begins in that text (it may sit inside "{{ }}").
func exprError(err error, start position) error {
	var fe *file.Error
	if !errors.As(err, &fe) || fe.Line == 0 {
		return err
	}
	pos := position{line: start.line + fe.Line - 1, column: fe.Column + 1}
	if fe.Line == 1 {
		pos.column = start.column + fe.Column
	}
	msg := firstLine(fe.Message)
	if strings.HasPrefix(msg, "unknown name ") {
		msg += "; known: " + strings.Join(roots, ", ")
	}
	return fmt.Errorf("line %d, column %d: %s", pos.line, pos.column, msg)
}

// firstLine cuts s at its first newline.
func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// quote shortens a template or expression for an error message.
func quote(s string) string {
	if len(s) > briefMax {
		cut := briefMax
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return fmt.Sprintf("%q", s)
}

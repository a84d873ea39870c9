package workflows

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The YAQL subset in <% %>. Orquesta evaluates <% %> with YAQL, a query language attune does not
// embed. Real workflows use a small part of it, which yaqlToExpr translates into the rule
// expression language (expr), so both forms share one evaluator, one set of functions and one
// budget. Anything outside the subset is an error at the offending character, found when the
// workflow is parsed: attune never guesses at what a YAQL expression means.
//
//	literals      1, 2.5, 'text', "text", true, false, null, [a, b]
//	context       ctx(), ctx(name), ctx('name'), ctx().x, $.x ($ is ctx())
//	functions     result() succeeded() failed() completed() item() item(name) task(name)
//	              json(s) zip(a, b) len(x) str(x) bool(x) st2kv('system.x') kv('system.x')
//	access        a.b, a[0], a['key']
//	operators     = != < > <= >=, and or not (on any values, by truth), + - * / mod, unary -
//	method        list.select(expression of $), $ being each element in turn

// yaqlError is an unsupported or malformed part of a YAQL expression, at byte offset off of it.
type yaqlError struct {
	off int
	msg string
}

func (e *yaqlError) Error() string { return e.msg }

// yaqlFuncs are the functions <% %> may call, with the number of arguments each takes.
var yaqlFuncs = map[string][2]int{
	"ctx": {0, 1}, "result": {0, 0}, "succeeded": {0, 0}, "failed": {0, 0}, "completed": {0, 0},
	"item": {0, 1}, "task": {1, 1}, "json": {1, 1}, "zip": {2, 2}, "len": {1, 1}, "str": {1, 1},
	"st2kv": {1, 1}, "kv": {1, 1}, "bool": {1, 1},
}

// nameArgFuncs take a name that may be written bare: ctx(x) is ctx('x').
var nameArgFuncs = map[string]bool{"ctx": true, "item": true, "task": true}

// yaqlFuncList names the functions for messages.
const yaqlFuncList = "ctx, result, succeeded, failed, completed, item, task, json, zip, len, str, bool, st2kv, kv"

// yaqlToExpr translates the YAQL expression src into expr source.
func yaqlToExpr(src string) (string, error) {
	toks, err := yaqlTokens(src)
	if err != nil {
		return "", err
	}
	p := &yaqlParser{src: src, toks: toks}
	out, err := p.or()
	if err != nil {
		return "", err
	}
	if t := p.peek(); t.kind != tkEOF {
		return "", p.errAt(t, "unexpected %s; <%% %%> holds one expression", t.describe())
	}
	return out, nil
}

type tokenKind int

const (
	tkEOF tokenKind = iota
	tkNum
	tkStr
	tkIdent
	tkDollar
	tkPunct // ( ) [ ] , . and operators
)

type yaqlToken struct {
	kind tokenKind
	text string // the source text; for a string, its decoded value
	off  int
}

func (t yaqlToken) describe() string {
	switch t.kind {
	case tkEOF:
		return "end of expression"
	case tkStr:
		return fmt.Sprintf("string %q", t.text)
	}
	return fmt.Sprintf("%q", t.text)
}

// yaqlOps are the operators and punctuation, longest first.
var yaqlOps = []string{"!=", "<=", ">=", "=", "<", ">", "+", "-", "*", "/", "(", ")", "[", "]", ",", "."}

// yaqlTokens splits src into tokens.
func yaqlTokens(src string) ([]yaqlToken, error) {
	var toks []yaqlToken
	for i := 0; i < len(src); {
		r, size := utf8.DecodeRuneInString(src[i:])
		switch {
		case unicode.IsSpace(r):
			i += size
		case r >= '0' && r <= '9':
			j := i
			for j < len(src) && (src[j] >= '0' && src[j] <= '9' || src[j] == '.' && j+1 < len(src) && src[j+1] >= '0' && src[j+1] <= '9') {
				j++
			}
			toks = append(toks, yaqlToken{kind: tkNum, text: src[i:j], off: i})
			i = j
		case r == '\'' || r == '"':
			s, n, err := yaqlString(src[i:])
			if err != nil {
				return nil, &yaqlError{off: i, msg: err.Error()}
			}
			toks = append(toks, yaqlToken{kind: tkStr, text: s, off: i})
			i += n
		case r == '_' || unicode.IsLetter(r):
			j := i
			for j < len(src) {
				r, size := utf8.DecodeRuneInString(src[j:])
				if r != '_' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
					break
				}
				j += size
			}
			toks = append(toks, yaqlToken{kind: tkIdent, text: src[i:j], off: i})
			i = j
		case r == '$':
			toks = append(toks, yaqlToken{kind: tkDollar, text: "$", off: i})
			i++
		default:
			op := ""
			for _, o := range yaqlOps {
				if strings.HasPrefix(src[i:], o) {
					op = o
					break
				}
			}
			if op == "" {
				return nil, &yaqlError{off: i, msg: fmt.Sprintf("%q is not part of the YAQL that attune supports in <%% %%>; see docs/workflows.md", string(r))}
			}
			toks = append(toks, yaqlToken{kind: tkPunct, text: op, off: i})
			i += len(op)
		}
	}
	return append(toks, yaqlToken{kind: tkEOF, off: len(src)}), nil
}

// yaqlString decodes the quoted string at the start of s, returning it and the bytes it took.
func yaqlString(s string) (string, int, error) {
	q := s[0]
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && i+1 < len(s):
			i++
			switch e := s[i]; e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			default:
				b.WriteByte(e)
			}
		case c == q:
			return b.String(), i + 1, nil
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, fmt.Errorf("unterminated %c string", q)
}

// yaqlParser parses tokens by precedence, writing expr source as it goes. Every operation is
// parenthesised, so expr's own precedence never matters.
type yaqlParser struct {
	src      string
	toks     []yaqlToken
	pos      int
	inSelect int // how many .select( … ) the parser is inside: there $ is the element
	depth    int // how deeply the expression nests so far
	vars     int // the let variables written so far (and, or)
}

// maxYAQLDepth bounds how deeply a <% %> expression may nest (parentheses, calls, not, -), so
// a hostile one cannot exhaust the parser's stack.
const maxYAQLDepth = 100

// nest enters one level of nesting at t, or fails past maxYAQLDepth; call the returned
// function to leave it.
func (p *yaqlParser) nest(t yaqlToken) (func(), error) {
	p.depth++
	if p.depth > maxYAQLDepth {
		return nil, p.errAt(t, "the expression nests more than %d levels deep", maxYAQLDepth)
	}
	return func() { p.depth-- }, nil
}

func (p *yaqlParser) peek() yaqlToken { return p.toks[p.pos] }

func (p *yaqlParser) next() yaqlToken {
	t := p.toks[p.pos]
	if t.kind != tkEOF {
		p.pos++
	}
	return t
}

// is reports whether the next token is the punctuation or keyword text.
func (p *yaqlParser) is(text string) bool {
	t := p.peek()
	return (t.kind == tkPunct || t.kind == tkIdent) && t.text == text
}

func (p *yaqlParser) expect(text string) error {
	if !p.is(text) {
		t := p.peek()
		return p.errAt(t, "expected %q, found %s", text, t.describe())
	}
	p.next()
	return nil
}

func (p *yaqlParser) errAt(t yaqlToken, format string, args ...any) error {
	return &yaqlError{off: t.off, msg: fmt.Sprintf(format, args...)}
}

// binary parses operands joined by any of ops, left to right.
func (p *yaqlParser) binary(operand func() (string, error), ops map[string]string) (string, error) {
	left, err := operand()
	if err != nil {
		return "", err
	}
	for {
		t := p.peek()
		op, ok := ops[t.text]
		if !ok || t.kind == tkStr || t.kind == tkNum {
			return left, nil
		}
		p.next()
		right, err := operand()
		if err != nil {
			return "", err
		}
		left = "(" + left + " " + op + " " + right + ")"
	}
}

func (p *yaqlParser) or() (string, error) {
	leave, err := p.nest(p.peek())
	if err != nil {
		return "", err
	}
	defer leave()
	return p.logic(p.and, "or")
}

func (p *yaqlParser) and() (string, error) {
	return p.logic(p.not, "and")
}

// logic parses operands joined by and (or or). As in YAQL (and Python), they give one of
// their operands, not a boolean: `a or 'none'` is a when a is truthy, else 'none'; `a and b` is
// a when a is falsy, else b. expr's own and/or take booleans only, so each becomes a let and a
// conditional on bool(), evaluating its left operand once.
func (p *yaqlParser) logic(operand func() (string, error), op string) (string, error) {
	left, err := operand()
	if err != nil {
		return "", err
	}
	for p.is(op) && p.peek().kind == tkIdent {
		p.next()
		right, err := operand()
		if err != nil {
			return "", err
		}
		p.vars++
		v := "yaqlv" + strconv.Itoa(p.vars)
		if op == "or" {
			left = "(let " + v + " = " + left + "; bool(" + v + ") ? " + v + " : " + right + ")"
		} else {
			left = "(let " + v + " = " + left + "; bool(" + v + ") ? " + right + " : " + v + ")"
		}
	}
	return left, nil
}

func (p *yaqlParser) not() (string, error) {
	if p.is("not") {
		leave, err := p.nest(p.next())
		if err != nil {
			return "", err
		}
		defer leave()
		x, err := p.not()
		if err != nil {
			return "", err
		}
		return "(not bool(" + x + "))", nil
	}
	return p.compare()
}

func (p *yaqlParser) compare() (string, error) {
	left, err := p.add()
	if err != nil {
		return "", err
	}
	ops := map[string]string{"=": "==", "!=": "!=", "<": "<", ">": ">", "<=": "<=", ">=": ">="}
	t := p.peek()
	if op, ok := ops[t.text]; ok && t.kind == tkPunct {
		p.next()
		right, err := p.add()
		if err != nil {
			return "", err
		}
		if t := p.peek(); t.kind == tkPunct && ops[t.text] != "" {
			return "", p.errAt(t, "comparisons do not chain; join them with and")
		}
		return "(" + left + " " + op + " " + right + ")", nil
	}
	if t.kind == tkIdent && (t.text == "in" || t.text == "is" || t.text == "where") {
		return "", p.errAt(t, "%q is not part of the YAQL that attune supports in <%% %%>; see docs/workflows.md", t.text)
	}
	return left, nil
}

func (p *yaqlParser) add() (string, error) {
	return p.binary(p.mul, map[string]string{"+": "+", "-": "-"})
}

func (p *yaqlParser) mul() (string, error) {
	return p.binary(p.unary, map[string]string{"*": "*", "/": "/", "mod": "%"})
}

func (p *yaqlParser) unary() (string, error) {
	if p.is("-") {
		leave, err := p.nest(p.next())
		if err != nil {
			return "", err
		}
		defer leave()
		x, err := p.unary()
		if err != nil {
			return "", err
		}
		return "(-" + x + ")", nil
	}
	return p.postfix()
}

// postfix parses a primary followed by .key, [index] and .select(…).
func (p *yaqlParser) postfix() (string, error) {
	x, err := p.primary()
	if err != nil {
		return "", err
	}
	for {
		switch {
		case p.is("."):
			p.next()
			name := p.next()
			if name.kind != tkIdent {
				return "", p.errAt(name, "expected a key name after \".\", found %s", name.describe())
			}
			if !p.is("(") {
				x = x + "[" + strconv.Quote(name.text) + "]"
				continue
			}
			if name.text != "select" {
				return "", p.errAt(name, "method .%s() is not part of the YAQL that attune supports in <%% %%>; only .select($.x) is", name.text)
			}
			p.next()
			if p.is(")") {
				return "", p.errAt(p.peek(), ".select() needs an expression of $, such as .select($.name)")
			}
			p.inSelect++
			body, err := p.or()
			p.inSelect--
			if err != nil {
				return "", err
			}
			if err := p.expect(")"); err != nil {
				return "", err
			}
			x = "map(" + x + ", " + body + ")"
		case p.is("["):
			p.next()
			idx, err := p.or()
			if err != nil {
				return "", err
			}
			if err := p.expect("]"); err != nil {
				return "", err
			}
			x = x + "[" + idx + "]"
		default:
			return x, nil
		}
	}
}

func (p *yaqlParser) primary() (string, error) {
	t := p.next()
	switch t.kind {
	case tkNum:
		return t.text, nil
	case tkStr:
		return strconv.Quote(t.text), nil
	case tkDollar:
		if n := p.peek(); n.kind == tkIdent && n.off == t.off+1 {
			return "", p.errAt(t, "$%s: YAQL variables are not supported in <%% %%>; write ctx(%s) or ctx().%s", n.text, n.text, n.text)
		}
		if p.inSelect > 0 {
			return "#", nil
		}
		return "ctx()", nil
	case tkIdent:
		switch t.text {
		case "true", "false":
			return t.text, nil
		case "null":
			return "nil", nil
		}
		if !p.is("(") {
			return "", p.errAt(t, "unknown name %q: write ctx().%s to read the context, or call one of %s", t.text, t.text, yaqlFuncList)
		}
		return p.call(t)
	case tkPunct:
		switch t.text {
		case "(":
			x, err := p.or()
			if err != nil {
				return "", err
			}
			if err := p.expect(")"); err != nil {
				return "", err
			}
			return "(" + x + ")", nil
		case "[":
			return p.list()
		}
	}
	return "", p.errAt(t, "unexpected %s", t.describe())
}

// list parses a list literal after its "[".
func (p *yaqlParser) list() (string, error) {
	var items []string
	for !p.is("]") {
		if len(items) > 0 {
			if err := p.expect(","); err != nil {
				return "", err
			}
		}
		x, err := p.or()
		if err != nil {
			return "", err
		}
		items = append(items, x)
	}
	p.next()
	return "[" + strings.Join(items, ", ") + "]", nil
}

// call parses the arguments of function fn, whose "(" is next.
func (p *yaqlParser) call(fn yaqlToken) (string, error) {
	arity, ok := yaqlFuncs[fn.text]
	if !ok {
		return "", p.errAt(fn, "function %s() is not part of the YAQL that attune supports in <%% %%>; the functions are %s", fn.text, yaqlFuncList)
	}
	p.next() // (
	var args []string
	for !p.is(")") {
		if len(args) > 0 {
			if err := p.expect(","); err != nil {
				return "", err
			}
		}
		t := p.peek()
		if nameArgFuncs[fn.text] && len(args) == 0 && t.kind == tkIdent && p.toks[p.pos+1].text == ")" {
			p.next()
			args = append(args, strconv.Quote(t.text)) // ctx(x) is ctx('x')
			continue
		}
		if t.kind == tkEOF {
			return "", p.errAt(t, "%s( is not closed", fn.text)
		}
		x, err := p.or()
		if err != nil {
			return "", err
		}
		args = append(args, x)
	}
	p.next()
	if len(args) < arity[0] || len(args) > arity[1] {
		return "", p.errAt(fn, "%s() takes %s, not %d", fn.text, arityText(arity), len(args))
	}
	return fn.text + "(" + strings.Join(args, ", ") + ")", nil
}

// arityText says how many arguments a function takes.
func arityText(a [2]int) string {
	switch {
	case a[0] == a[1] && a[0] == 0:
		return "no arguments"
	case a[0] == a[1] && a[0] == 1:
		return "one argument"
	case a[0] == a[1]:
		return fmt.Sprintf("%d arguments", a[0])
	}
	return fmt.Sprintf("%d to %d arguments", a[0], a[1])
}

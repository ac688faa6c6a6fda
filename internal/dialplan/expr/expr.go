package expr

import (
	"fmt"
	"math"
	"regexp"
	"strings"
)

// Func reads a dialplan function called inside an expression: NAME(args)
// where args are the evaluated arguments joined by commas. ok is false when
// no such function exists.
type Func func(name, args string) (result string, ok bool)

// SyntaxError reports an expression Asterisk's parser rejects.
type SyntaxError struct {
	Expr string
	Pos  int // byte offset of the offending token
	Msg  string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("expr: syntax error at offset %d of %q: %s", e.Pos, e.Expr, e.Msg)
}

// maxDepth bounds nesting (parentheses, unary operators) so that hostile
// input cannot exhaust the stack; bison's own stack stops at 10000.
const maxDepth = 10000

// Eval evaluates the text of a $[...] expression. f reads dialplan
// functions called by name inside the expression; it may be nil. On a
// syntax error the result is "0", as in Asterisk, and err says why.
func Eval(s string, f Func) (string, error) {
	p := &parser{src: s, toks: lex(s), fn: f}
	if p.peek().kind == tEOF {
		return "", nil // the empty expression is the empty string
	}
	v, err := p.parse(0)
	if err == nil && p.peek().kind != tEOF {
		err = p.errorf("unexpected %s", p.peek().kind)
	}
	if err != nil {
		return "0", err
	}
	return v.String(), nil
}

type parser struct {
	src   string
	toks  []token
	i     int
	fn    Func
	depth int
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) errorf(format string, args ...any) error {
	return &SyntaxError{Expr: p.src, Pos: p.peek().pos, Msg: fmt.Sprintf(format, args...)}
}

// Binding powers, mirroring the %left/%right lines of ast_expr2.y.
const (
	precCond  = 1
	precOr    = 2
	precAnd   = 3
	precCmp   = 4
	precAdd   = 5
	precMul   = 6
	precUnary = 7
	precRegex = 8
)

func binaryPrec(k tokKind) int {
	switch k {
	case tCond:
		return precCond
	case tOr:
		return precOr
	case tAnd:
		return precAnd
	case tEq, tNe, tLt, tGt, tLe, tGe:
		return precCmp
	case tPlus, tMinus:
		return precAdd
	case tMult, tDiv, tMod:
		return precMul
	case tColon, tEqTilde, tTildeTilde:
		return precRegex
	}
	return 0
}

// parse evaluates an expression whose operators bind at least as tightly
// as minPrec. Operands are evaluated eagerly, left to right, as bison's
// reductions do: there is no short-circuit.
func (p *parser) parse(minPrec int) (value, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		return value{}, p.errorf("expression nested too deeply")
	}
	left, err := p.operand()
	if err != nil {
		return value{}, err
	}
	for {
		op := p.peek().kind
		prec := binaryPrec(op)
		if prec == 0 || prec < minPrec {
			return left, nil
		}
		p.next()
		if op == tCond {
			mid, err := p.parse(precCond)
			if err != nil {
				return value{}, err
			}
			if p.peek().kind != tColonColon {
				return value{}, p.errorf("expected '::' after '?', got %s", p.peek().kind)
			}
			p.next()
			right, err := p.parse(precCond + 1)
			if err != nil {
				return value{}, err
			}
			left = opCond(left, mid, right)
			continue
		}
		right, err := p.parse(prec + 1)
		if err != nil {
			return value{}, err
		}
		left = binary(op, left, right)
	}
}

// operand parses a token, a function call, a parenthesised expression or a
// unary operator applied to what follows.
func (p *parser) operand() (value, error) {
	t := p.next()
	switch t.kind {
	case tCompl, tMinus:
		v, err := p.parse(precUnary)
		if err != nil {
			return value{}, err
		}
		if t.kind == tCompl {
			return opCompl(v), nil
		}
		return opNegate(v), nil
	case tLP:
		v, err := p.parse(0)
		if err != nil {
			return value{}, err
		}
		if p.peek().kind != tRP {
			return value{}, p.errorf("expected ')', got %s", p.peek().kind)
		}
		p.next()
		return v, nil
	case tToken:
		if p.peek().kind == tLP {
			p.next()
			args, err := p.arglist()
			if err != nil {
				return value{}, err
			}
			return p.call(t.val.s, args), nil
		}
		return t.val, nil
	}
	return value{}, &SyntaxError{Expr: p.src, Pos: t.pos, Msg: "unexpected " + t.kind.String()}
}

// arglist parses "expr (, [expr])* )": the first argument is required,
// later ones may be empty.
func (p *parser) arglist() ([]value, error) {
	first, err := p.parse(precCond)
	if err != nil {
		return nil, err
	}
	args := []value{first}
	for {
		switch p.peek().kind {
		case tRP:
			p.next()
			return args, nil
		case tComma:
			p.next()
			if k := p.peek().kind; k == tComma || k == tRP {
				args = append(args, strVal(""))
				continue
			}
			v, err := p.parse(precCond)
			if err != nil {
				return nil, err
			}
			args = append(args, v)
		default:
			return nil, p.errorf("expected ',' or ')' in function arguments, got %s", p.peek().kind)
		}
	}
}

var mathFuncs1 = map[string]func(float64) float64{
	"COS": math.Cos, "SIN": math.Sin, "TAN": math.Tan,
	"ACOS": math.Acos, "ASIN": math.Asin, "ATAN": math.Atan,
	"SQRT": math.Sqrt, "FLOOR": math.Floor, "CEIL": math.Ceil,
	"ROUND": math.Round, "RINT": math.RoundToEven, "TRUNC": math.Trunc,
	"EXP": math.Exp, "EXP2": math.Exp2, "EXP10": func(x float64) float64 { return math.Pow(10, x) },
	"LOG": math.Log, "LOG2": math.Log2, "LOG10": math.Log10, "ABS": math.Abs,
}

var mathFuncs2 = map[string]func(float64, float64) float64{
	"ATAN2": math.Atan2, "POW": math.Pow, "REMAINDER": math.Remainder,
}

// call is op_func.
func (p *parser) call(name string, args []value) value {
	if strings.Trim(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789") != "" {
		return numVal(0) // "not possibly a function name"
	}
	if f, ok := mathFuncs1[name]; ok {
		if len(args) != 1 {
			return numVal(0)
		}
		n, _ := args[0].toNumber()
		return numVal(f(n))
	}
	if f, ok := mathFuncs2[name]; ok {
		if len(args) != 2 {
			return numVal(0)
		}
		a, _ := args[0].toNumber()
		b, _ := args[1].toNumber()
		return numVal(f(a, b))
	}
	if p.fn == nil {
		return numVal(0)
	}
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = a.String()
	}
	res, ok := p.fn(name, strings.Join(parts, ","))
	if !ok {
		return numVal(0)
	}
	if strings.Trim(res, "-0123456789. \t") == "" {
		return numVal(strtod(res))
	}
	return makeStr(res)
}

func binary(op tokKind, a, b value) value {
	switch op {
	case tOr:
		if a.isZeroOrNull() {
			return b
		}
		return a
	case tAnd:
		if a.isZeroOrNull() || b.isZeroOrNull() {
			return numVal(0)
		}
		return a
	case tEq, tNe, tLt, tGt, tLe, tGe:
		return compare(op, a, b)
	case tPlus:
		x, okA := a.toNumber()
		y, okB := b.toNumber()
		switch {
		case !okA && !okB:
			return numVal(0)
		case !okA:
			return b
		case !okB:
			return a
		}
		return numVal(x + y)
	case tMinus:
		x, okA := a.toNumber()
		y, okB := b.toNumber()
		switch {
		case !okA && !okB:
			return numVal(0)
		case !okA:
			return numVal(-y)
		case !okB:
			return a
		}
		return numVal(x - y)
	case tMult:
		x, okA := a.toNumber()
		y, okB := b.toNumber()
		if !okA || !okB {
			return numVal(0)
		}
		return numVal(x * y)
	case tDiv:
		x, okA := a.toNumber()
		if !okA {
			return numVal(0)
		}
		y, okB := b.toNumber()
		if !okB || y == 0 {
			return numVal(math.MaxInt32)
		}
		return numVal(x / y)
	case tMod:
		x, okA := a.toNumber()
		y, okB := b.toNumber()
		if !okA || !okB {
			return numVal(0)
		}
		if y == 0 {
			return numVal(0)
		}
		return numVal(math.Mod(x, y))
	case tColon:
		return regexOp(a, b, true)
	case tEqTilde:
		return regexOp(a, b, false)
	case tTildeTilde:
		return makeStr(stripQuotes(a.str()) + stripQuotes(b.str()))
	}
	return numVal(0)
}

// compare is op_eq and friends: strings compare byte-wise (strcoll in the C
// locale) when either side is a non-numeric string.
func compare(op tokKind, a, b value) value {
	var c int
	if a.isString() || b.isString() {
		c = strings.Compare(a.str(), b.str())
	} else {
		x, _ := a.toNumber()
		y, _ := b.toNumber()
		switch {
		case x < y:
			c = -1
		case x > y:
			c = 1
		case x == y:
			c = 0
		default: // NaN: every comparison but != is false
			if op == tNe {
				return numVal(1)
			}
			return numVal(0)
		}
	}
	var r bool
	switch op {
	case tEq:
		r = c == 0
	case tNe:
		r = c != 0
	case tLt:
		r = c < 0
	case tGt:
		r = c > 0
	case tLe:
		r = c <= 0
	case tGe:
		r = c >= 0
	}
	if r {
		return numVal(1)
	}
	return numVal(0)
}

func opCond(a, b, c value) value {
	if a.isString() {
		if a.s != "" && a.s != `""` && a.s != "0" {
			return b
		}
		return c
	}
	if n, _ := a.toNumber(); n != 0 {
		return b
	}
	return c
}

func opNegate(a value) value {
	n, ok := a.toNumber()
	if !ok {
		return numVal(0)
	}
	return numVal(-n)
}

// opCompl is op_compl: !0, !"" and !"0" are 1; other strings go through
// atoi, so !abc is 1 and !5 is 0.
func opCompl(a value) value {
	v1 := true
	switch a.k {
	case kNumber:
		v1 = a.n != 0
	default:
		switch {
		case a.s == "", a.s == "0":
			v1 = false
		default:
			v1 = atoi(a.s) != 0
		}
	}
	if v1 {
		return numVal(0)
	}
	return numVal(1)
}

// regexOp is op_colon (anchored) and op_eqtilde: the first group's text,
// else the match length; on no match 0, or "" if the pattern has groups.
func regexOp(a, b value, anchored bool) value {
	subject := stripQuotes(a.str())
	pattern := stripQuotes(b.str())
	re, err := regexp.CompilePOSIX(pattern)
	if err != nil {
		return strVal("")
	}
	m := re.FindStringSubmatchIndex(subject)
	if m == nil || (anchored && m[0] != 0) {
		if re.NumSubexp() == 0 {
			return numVal(0)
		}
		return strVal("")
	}
	if len(m) >= 4 && m[2] >= 0 {
		return makeStr(subject[m[2]:m[3]])
	}
	return numVal(float64(m[1] - m[0]))
}

// IsTrue is Asterisk's pbx_checkcondition, how GotoIf, GosubIf and IF()
// read a condition: empty is false, a leading integer ("0", " -2", "0abc")
// is true when non-zero, any other string is true.
func IsTrue(cond string) bool {
	if cond == "" {
		return false
	}
	i := 0
	for i < len(cond) && (cond[i] == ' ' || cond[i] == '\t' || cond[i] == '\n' || cond[i] == '\r' || cond[i] == '\v' || cond[i] == '\f') {
		i++
	}
	j := i
	if j < len(cond) && (cond[j] == '+' || cond[j] == '-') {
		j++
	}
	if j >= len(cond) || !isDigit(cond[j]) {
		return true
	}
	return atoi(cond[i:]) != 0
}

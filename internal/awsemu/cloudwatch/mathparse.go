package cloudwatch

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// A metric math expression is parsed into a tree of nodes, then evaluated
// per timestamp (matheval.go). The grammar is the arithmetic subset of
// CloudWatch metric math:
//
//	expr    = term { ("+" | "-") term }
//	term    = unary { ("*" | "/") unary }
//	unary   = "-" unary | primary
//	primary = number | id | FUNC "(" expr { "," expr } ")" | "(" expr ")" | "[" expr { "," expr } "]"

// node is one parsed expression.
type node any

type (
	numNode float64
	refNode string
	negNode struct{ x node }
	binNode struct {
		op   byte
		l, r node
	}
	callNode struct {
		fn   string
		args []node
	}
	arrayNode []node
)

// functions are the metric math functions the emulator evaluates, with
// their number of arguments.
var functions = map[string]int{"SUM": 1, "AVG": 1, "MIN": 1, "MAX": 1, "ABS": 1, "FILL": 2}

// token is one lexical element: a number, an identifier or a punctuation
// character.
type token struct {
	text string
	pos  int
}

// parser is a recursive-descent parser over the tokens of one expression.
type parser struct {
	toks []token
	i    int
}

// parseExpression parses a metric math expression.
func parseExpression(s string) (node, error) {
	toks, err := tokenize(s)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	n, err := p.expr()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.text != "" {
		return nil, fmt.Errorf("unexpected %q at position %d", t.text, t.pos+1)
	}
	return n, nil
}

func tokenize(s string) ([]token, error) {
	var toks []token
	for i := 0; i < len(s); {
		c := rune(s[i])
		switch {
		case unicode.IsSpace(c):
			i++
		case strings.ContainsRune("+-*/(),[]", c):
			toks = append(toks, token{string(c), i})
			i++
		case c == '.' || unicode.IsDigit(c):
			j := scan(s, i, func(r rune) bool { return r == '.' || unicode.IsDigit(r) })
			toks = append(toks, token{s[i:j], i})
			i = j
		case c == '_' || unicode.IsLetter(c):
			j := scan(s, i, func(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) })
			toks = append(toks, token{s[i:j], i})
			i = j
		default:
			return nil, fmt.Errorf("unexpected character %q at position %d", c, i+1)
		}
	}
	return toks, nil
}

// scan returns the end of the run of bytes from i that satisfy ok.
func scan(s string, i int, ok func(rune) bool) int {
	for i < len(s) && ok(rune(s[i])) {
		i++
	}
	return i
}

func (p *parser) peek() token {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return token{}
}

func (p *parser) next() token {
	t := p.peek()
	p.i++
	return t
}

func (p *parser) expect(text string) error {
	if t := p.next(); t.text != text {
		if t.text == "" {
			return fmt.Errorf("expected %q at the end of the expression", text)
		}
		return fmt.Errorf("expected %q at position %d, found %q", text, t.pos+1, t.text)
	}
	return nil
}

func (p *parser) expr() (node, error) {
	return p.binary(p.term, "+-")
}

func (p *parser) term() (node, error) {
	return p.binary(p.unary, "*/")
}

// binary parses a left-associative chain of operands joined by ops.
func (p *parser) binary(operand func() (node, error), ops string) (node, error) {
	l, err := operand()
	if err != nil {
		return nil, err
	}
	for t := p.peek(); len(t.text) == 1 && strings.Contains(ops, t.text); t = p.peek() {
		p.next()
		r, err := operand()
		if err != nil {
			return nil, err
		}
		l = binNode{op: t.text[0], l: l, r: r}
	}
	return l, nil
}

func (p *parser) unary() (node, error) {
	if p.peek().text == "-" {
		p.next()
		x, err := p.unary()
		return negNode{x}, err
	}
	return p.primary()
}

func (p *parser) primary() (node, error) {
	t := p.next()
	switch {
	case t.text == "":
		return nil, fmt.Errorf("unexpected end of the expression")
	case t.text == "(":
		n, err := p.expr()
		if err != nil {
			return nil, err
		}
		return n, p.expect(")")
	case t.text == "[":
		list, err := p.list("]")
		return arrayNode(list), err
	case t.text[0] == '.' || unicode.IsDigit(rune(t.text[0])):
		v, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			return nil, fmt.Errorf("invalid number %q at position %d", t.text, t.pos+1)
		}
		return numNode(v), nil
	case t.text[0] == '_' || unicode.IsLetter(rune(t.text[0])):
		if p.peek().text == "(" {
			return p.call(t)
		}
		return refNode(t.text), nil
	}
	return nil, fmt.Errorf("unexpected %q at position %d", t.text, t.pos+1)
}

// list parses comma-separated expressions up to the closing token.
func (p *parser) list(closing string) ([]node, error) {
	var list []node
	for {
		n, err := p.expr()
		if err != nil {
			return nil, err
		}
		list = append(list, n)
		if p.peek().text != "," {
			return list, p.expect(closing)
		}
		p.next()
	}
}

func (p *parser) call(name token) (node, error) {
	arity, ok := functions[name.text]
	if !ok {
		return nil, fmt.Errorf("unsupported function %s at position %d", name.text, name.pos+1)
	}
	p.next() // (
	args, err := p.list(")")
	if err != nil {
		return nil, err
	}
	if len(args) != arity {
		return nil, fmt.Errorf("function %s takes %d argument(s), got %d", name.text, arity, len(args))
	}
	return callNode{fn: name.text, args: args}, nil
}

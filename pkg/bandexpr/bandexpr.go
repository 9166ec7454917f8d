// Package bandexpr compiles the band expressions of browses, such as
// NDVI's (B4-B3)/(B4+B3).
package bandexpr

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode"
)

// Expr is a band expression of a browse, such as (B4-B3)/(B4+B3): band
// references B1, B2, ... (1-based), numbers, + - * /, unary minus and
// parentheses.
type Expr struct {
	bands []int // referenced bands, ascending
	eval  func(v []float32) float64
}

// Bands returns the referenced bands, ascending: Eval's values come in
// this order.
func (e *Expr) Bands() []int { return e.bands }

// Eval computes the expression from the values of Bands().
func (e *Expr) Eval(v []float32) float64 { return e.eval(v) }

var cache sync.Map // source → *Expr

// Parse compiles a band expression.
func Parse(src string) (*Expr, error) {
	if e, ok := cache.Load(src); ok {
		return e.(*Expr), nil
	}
	p := &exprParser{src: src, refs: map[int]bool{}}
	p.next()
	node, err := p.sum()
	if err == nil && p.tok != "" {
		err = fmt.Errorf("unexpected %q", p.tok)
	}
	if err != nil {
		return nil, fmt.Errorf("expression %q: %w", src, err)
	}
	if len(p.refs) == 0 {
		return nil, fmt.Errorf("expression %q uses no band", src)
	}
	e := &Expr{}
	for b := range p.refs {
		e.bands = append(e.bands, b)
	}
	sort.Ints(e.bands)
	pos := map[int]int{}
	for i, b := range e.bands {
		pos[b] = i
	}
	e.eval = node(pos)
	cache.Store(src, e)
	return e, nil
}

// A node builds its evaluator once band positions are known.
type node func(pos map[int]int) func(v []float32) float64

type exprParser struct {
	src  string
	i    int
	tok  string
	refs map[int]bool
}

func (p *exprParser) next() {
	for p.i < len(p.src) && p.src[p.i] == ' ' {
		p.i++
	}
	if p.i >= len(p.src) {
		p.tok = ""
		return
	}
	start := p.i
	c := rune(p.src[p.i])
	switch {
	case strings.ContainsRune("+-*/()", c):
		p.i++
	case unicode.IsDigit(c) || c == '.' || c == 'B' || c == 'b':
		p.i++
		for p.i < len(p.src) && (unicode.IsDigit(rune(p.src[p.i])) || p.src[p.i] == '.') {
			p.i++
		}
	default:
		p.i++
	}
	p.tok = p.src[start:p.i]
}

func (p *exprParser) sum() (node, error) { return p.level("+-", p.product) }

func (p *exprParser) product() (node, error) { return p.level("*/", p.unary) }

// level parses operands joined, left to right, by the operators in ops.
func (p *exprParser) level(ops string, operand func() (node, error)) (node, error) {
	left, err := operand()
	for err == nil && p.tok != "" && strings.Contains(ops, p.tok) {
		op := p.tok
		p.next()
		var right node
		if right, err = operand(); err == nil {
			left = binary(op, left, right)
		}
	}
	return left, err
}

func (p *exprParser) unary() (node, error) {
	if p.tok == "-" {
		p.next()
		n, err := p.unary()
		if err != nil {
			return nil, err
		}
		return func(pos map[int]int) func([]float32) float64 {
			f := n(pos)
			return func(v []float32) float64 { return -f(v) }
		}, nil
	}
	return p.atom()
}

func (p *exprParser) atom() (node, error) {
	tok := p.tok
	switch {
	case tok == "(":
		p.next()
		n, err := p.sum()
		if err != nil {
			return nil, err
		}
		if p.tok != ")" {
			return nil, fmt.Errorf("missing )")
		}
		p.next()
		return n, nil
	case len(tok) > 1 && (tok[0] == 'B' || tok[0] == 'b'):
		b, err := strconv.Atoi(tok[1:])
		if err != nil || b < 1 {
			return nil, fmt.Errorf("%q is not a band (B1, B2, ...)", tok)
		}
		p.refs[b] = true
		p.next()
		return func(pos map[int]int) func([]float32) float64 {
			i := pos[b]
			return func(v []float32) float64 { return float64(v[i]) }
		}, nil
	case tok != "":
		f, err := strconv.ParseFloat(tok, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("unexpected %q", tok)
		}
		p.next()
		return func(map[int]int) func([]float32) float64 {
			return func([]float32) float64 { return f }
		}, nil
	}
	return nil, fmt.Errorf("the expression ends early")
}

func binary(op string, a, b node) node {
	return func(pos map[int]int) func([]float32) float64 {
		fa, fb := a(pos), b(pos)
		switch op {
		case "+":
			return func(v []float32) float64 { return fa(v) + fb(v) }
		case "-":
			return func(v []float32) float64 { return fa(v) - fb(v) }
		case "*":
			return func(v []float32) float64 { return fa(v) * fb(v) }
		default:
			return func(v []float32) float64 { return fa(v) / fb(v) }
		}
	}
}

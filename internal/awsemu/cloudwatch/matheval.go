package cloudwatch

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"time"
)

// timeSeries is a metric's values by timestamp (Unix nanoseconds).
type timeSeries map[int64]float64

// sorted returns the series' timestamps, oldest first.
func (ts timeSeries) sorted() []int64 {
	keys := make([]int64, 0, len(ts))
	for k := range ts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	return keys
}

// valueKind says what a metric math value is.
type valueKind int

const (
	scalarValue valueKind = iota
	seriesValue
	arrayValue
)

// value is the result of evaluating an expression: a number, one time
// series or an array of time series.
type value struct {
	kind valueKind
	num  float64
	ts   timeSeries
	list []timeSeries
}

func scalar(v float64) value          { return value{kind: scalarValue, num: v} }
func seriesOf(ts timeSeries) value    { return value{kind: seriesValue, ts: ts} }
func arrayOf(list []timeSeries) value { return value{kind: arrayValue, list: list} }

// mathEnv is what an expression is evaluated against: the other queries'
// series, and the timestamps of the query's periods (FILL fills them, a
// number result is drawn at each of them).
type mathEnv struct {
	ref  func(id string) (timeSeries, error)
	grid []int64
}

// eval evaluates n.
func (e *mathEnv) eval(n node) (value, error) {
	switch n := n.(type) {
	case numNode:
		return scalar(float64(n)), nil
	case refNode:
		ts, err := e.ref(string(n))
		return seriesOf(ts), err
	case negNode:
		return e.binary(binNode{op: '*', l: numNode(-1), r: n.x})
	case binNode:
		return e.binary(n)
	case arrayNode:
		return e.array(n)
	case callNode:
		return e.call(n)
	}
	return value{}, fmt.Errorf("unsupported expression node %T", n)
}

func (e *mathEnv) array(n arrayNode) (value, error) {
	var list []timeSeries
	for _, x := range n {
		v, err := e.eval(x)
		if err != nil {
			return value{}, err
		}
		switch v.kind {
		case scalarValue:
			list = append(list, e.broadcast(v.num))
		case seriesValue:
			list = append(list, v.ts)
		case arrayValue:
			list = append(list, v.list...)
		}
	}
	return arrayOf(list), nil
}

// broadcast draws a number at every period of the query.
func (e *mathEnv) broadcast(v float64) timeSeries {
	ts := timeSeries{}
	for _, t := range e.grid {
		ts[t] = v
	}
	return ts
}

func (e *mathEnv) binary(n binNode) (value, error) {
	l, err := e.eval(n.l)
	if err != nil {
		return value{}, err
	}
	r, err := e.eval(n.r)
	if err != nil {
		return value{}, err
	}
	switch {
	case l.kind == arrayValue && r.kind == arrayValue:
		return value{}, fmt.Errorf("operator %c cannot combine two arrays of time series", n.op)
	case l.kind == arrayValue:
		return mapArray(l, func(ts timeSeries) timeSeries { return pointwise(n.op, seriesOf(ts), r).ts }), nil
	case r.kind == arrayValue:
		return mapArray(r, func(ts timeSeries) timeSeries { return pointwise(n.op, l, seriesOf(ts)).ts }), nil
	}
	return pointwise(n.op, l, r), nil
}

func mapArray(a value, f func(timeSeries) timeSeries) value {
	list := make([]timeSeries, len(a.list))
	for i, ts := range a.list {
		list[i] = f(ts)
	}
	return arrayOf(list)
}

// pointwise applies op to two numbers or series. A timestamp missing from
// either series is missing from the result, and so is a division by zero.
func pointwise(op byte, l, r value) value {
	if l.kind == scalarValue && r.kind == scalarValue {
		if v, ok := arith(op, l.num, r.num); ok {
			return scalar(v)
		}
		return seriesOf(timeSeries{})
	}
	at := func(v value, t int64) (float64, bool) {
		if v.kind == scalarValue {
			return v.num, true
		}
		x, ok := v.ts[t]
		return x, ok
	}
	keys := l.ts
	if l.kind == scalarValue {
		keys = r.ts
	}
	out := timeSeries{}
	for t := range keys {
		a, okA := at(l, t)
		b, okB := at(r, t)
		if !okA || !okB {
			continue
		}
		if v, ok := arith(op, a, b); ok {
			out[t] = v
		}
	}
	return seriesOf(out)
}

// arith applies op; it returns false for a division by zero.
func arith(op byte, a, b float64) (float64, bool) {
	switch op {
	case '+':
		return a + b, true
	case '-':
		return a - b, true
	case '*':
		return a * b, true
	default:
		if b == 0 {
			return 0, false
		}
		return a / b, true
	}
}

func (e *mathEnv) call(n callNode) (value, error) {
	args := make([]value, len(n.args))
	for i, a := range n.args {
		v, err := e.eval(a)
		if err != nil {
			return value{}, err
		}
		args[i] = v
	}
	switch n.fn {
	case "ABS":
		return mapValue(args[0], math.Abs), nil
	case "FILL":
		return e.fill(args[0], args[1])
	default:
		return reduce(n.fn, args[0]), nil
	}
}

// mapValue applies f to every number of v.
func mapValue(v value, f func(float64) float64) value {
	each := func(ts timeSeries) timeSeries {
		out := make(timeSeries, len(ts))
		for t, x := range ts {
			out[t] = f(x)
		}
		return out
	}
	switch v.kind {
	case scalarValue:
		return scalar(f(v.num))
	case seriesValue:
		return seriesOf(each(v.ts))
	}
	return mapArray(v, each)
}

// fill gives every period of the query missing from x the value with.
func (e *mathEnv) fill(x, with value) (value, error) {
	if with.kind != scalarValue {
		return value{}, errors.New("the second argument of FILL must be a number")
	}
	each := func(ts timeSeries) timeSeries {
		out := e.broadcast(with.num)
		for t, v := range ts {
			out[t] = v
		}
		return out
	}
	switch x.kind {
	case scalarValue:
		return x, nil
	case seriesValue:
		return seriesOf(each(x.ts)), nil
	}
	return mapArray(x, each), nil
}

// reduce applies SUM, AVG, MIN or MAX: over all the values of a single
// series (giving a number), or across the series of an array at each
// timestamp (giving a series), as CloudWatch does.
func reduce(fn string, v value) value {
	switch v.kind {
	case scalarValue:
		return v
	case seriesValue:
		if len(v.ts) == 0 {
			return v
		}
		var all []float64
		for _, x := range v.ts {
			all = append(all, x)
		}
		return scalar(aggregateValues(fn, all))
	}
	byTime := map[int64][]float64{}
	for _, ts := range v.list {
		for t, x := range ts {
			byTime[t] = append(byTime[t], x)
		}
	}
	out := timeSeries{}
	for t, xs := range byTime {
		out[t] = aggregateValues(fn, xs)
	}
	return seriesOf(out)
}

func aggregateValues(fn string, xs []float64) float64 {
	acc := xs[0]
	sum := 0.0
	for _, x := range xs {
		sum += x
		switch fn {
		case "MIN":
			acc = math.Min(acc, x)
		case "MAX":
			acc = math.Max(acc, x)
		}
	}
	switch fn {
	case "SUM":
		return sum
	case "AVG":
		return sum / float64(len(xs))
	}
	return acc
}

// periodGrid returns the start of every period in [start, end).
func periodGrid(start, end time.Time, period time.Duration) []int64 {
	var grid []int64
	for t := start; t.Before(end); t = t.Add(period) {
		grid = append(grid, t.UnixNano())
	}
	return grid
}

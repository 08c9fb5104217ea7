package demo

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// DefaultDeadline bounds how long a step waits for what it expects.
const DefaultDeadline = 90 * time.Second

// pollInterval is how often expectations and GitHub are polled.
const pollInterval = 200 * time.Millisecond

// Step is one headline of the story: an action, then the outcomes it must
// lead to within its deadline.
type Step struct {
	// Title is the headline.
	Title string
	// Do plays the people of the story; nil when the step only waits.
	Do func(ctx context.Context) error
	// Expect are the outcomes, met in order: each is checked once the
	// ones before it are met.
	Expect []Expectation
	// Deadline bounds the wait for Expect; DefaultDeadline when zero.
	Deadline time.Duration
}

// Expectation is an outcome a step waits for.
type Expectation struct {
	// What says what is expected, as printed.
	What string
	// Check reports whether the outcome is there, and what was seen
	// instead when it is not.
	Check func(ctx context.Context) (met bool, seen string)
}

// StepError is a step whose expectations were not all met in time.
type StepError struct {
	// Step is the step's title.
	Step string
	// Deadline is how long the step waited.
	Deadline time.Duration
	// Missing are the expectations not met, and what was seen instead.
	Missing []Missing
	// Err is the failure of the step's action, if that is what failed.
	Err error
}

// Missing is an expectation that was not met.
type Missing struct {
	What, Seen string
}

func (e *StepError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("step %q failed: %v", e.Step, e.Err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "step %q: not seen within %s:", e.Step, e.Deadline)
	for _, m := range e.Missing {
		fmt.Fprintf(&b, "\n  expected: %s\n      seen: %s", m.What, m.Seen)
	}
	return b.String()
}

func (e *StepError) Unwrap() error { return e.Err }

// printer writes lines of the story from several goroutines.
type printer struct {
	mu    sync.Mutex
	w     io.Writer
	start time.Time
}

func (p *printer) printf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format+"\n", args...)
}

// runner plays steps in order, printing each headline, the outcomes as
// they are met, and the time each step took.
type runner struct {
	out  *printer
	poll time.Duration
	// sync, when set, runs before each round of checks, so that what the
	// observer prints comes before the outcomes it leads to.
	sync func()
}

// run plays steps until one fails; it returns that step's *StepError, or
// ctx's error when ctx ends first.
func (r *runner) run(ctx context.Context, steps []Step) error {
	for i, s := range steps {
		r.out.printf("\n==> %d. %s", i+1, s.Title)
		start := time.Now()
		if err := r.step(ctx, s); err != nil {
			return err
		}
		r.out.printf("    (%d. took %s; %s since the start)", i+1, since(start), since(r.out.start))
	}
	return nil
}

func (r *runner) step(ctx context.Context, s Step) error {
	if s.Do != nil {
		if err := s.Do(ctx); err != nil {
			return &StepError{Step: s.Title, Err: err}
		}
	}
	deadline := s.Deadline
	if deadline == 0 {
		deadline = DefaultDeadline
	}
	return r.wait(ctx, s, deadline)
}

// wait polls the step's expectations until all are met, printing each
// as it is, or the deadline passes.
func (r *runner) wait(ctx context.Context, s Step, deadline time.Duration) error {
	start := time.Now()
	met := make([]bool, len(s.Expect))
	timer := time.NewTimer(deadline)
	defer timer.Stop()
	tick := time.NewTicker(r.poll)
	defer tick.Stop()
	for {
		if r.check(ctx, s.Expect, met, start) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
			return &StepError{Step: s.Title, Deadline: deadline, Missing: r.missing(ctx, s.Expect, met)}
		case <-tick.C:
		}
	}
}

// check checks the expectations in order up to the first one not met,
// marks and prints those met now, and returns how many are left.
func (r *runner) check(ctx context.Context, exps []Expectation, met []bool, start time.Time) int {
	if r.sync != nil {
		r.sync()
	}
	for i, e := range exps {
		if met[i] {
			continue
		}
		if ok, _ := e.Check(ctx); !ok {
			return len(exps) - i
		}
		met[i] = true
		r.out.printf("  ✓ %s  (%s)", e.What, since(start))
	}
	return 0
}

// missing lists the expectations not met, with what was seen for the
// first of them (the others were not checked yet).
func (r *runner) missing(ctx context.Context, exps []Expectation, met []bool) []Missing {
	var out []Missing
	for i, e := range exps {
		if met[i] {
			continue
		}
		seen := "(not checked: it comes after the one above)"
		if len(out) == 0 {
			_, seen = e.Check(ctx)
		}
		out = append(out, Missing{What: e.What, Seen: seen})
	}
	return out
}

func since(t time.Time) string {
	return time.Since(t).Round(100 * time.Millisecond).String()
}

package reconcile

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"

	"github.com/jibe-dev/jibe/spec"
)

// ShortRevision is how Jibe shows a revision: a commit hash shortened to
// seven characters, anything else as it is.
func ShortRevision(rev string) string {
	if len(rev) > 7 && strings.Trim(rev, "0123456789abcdef") == "" {
		return rev[:7]
	}
	return rev
}

// Format writes the plan for people: each environment's changes with the
// fields that differ, then its steps. `jibe plan` prints it and pull-request
// previews post it.
func (p *Plan) Format(w io.Writer) {
	fmt.Fprintf(w, "Plan for %s at %s\n", p.App, ShortRevision(p.Revision))
	for i := range p.Environments {
		fmt.Fprintln(w)
		p.Environments[i].format(w)
	}
}

func (e *EnvPlan) format(w io.Writer) {
	if e.InSync() {
		fmt.Fprintf(w, "%s: in sync, nothing to do\n", e.Name)
		return
	}
	if e.FirstDeploy {
		fmt.Fprintf(w, "%s (%s; first deploy: at once, nothing runs yet to compare with):\n", e.Name, e.Strategy)
	} else {
		fmt.Fprintf(w, "%s (%s):\n", e.Name, e.Strategy)
	}
	for _, c := range e.Changes {
		c.format(w)
	}
	fmt.Fprintln(w, "  steps:")
	for i, s := range e.Steps {
		fmt.Fprintf(w, "    %d. %s\n", i+1, s.describe())
	}
}

var actionSigns = map[Action]string{ActionCreate: "+", ActionUpdate: "~", ActionReplace: "-/+", ActionDelete: "-"}

func (c *Change) format(w io.Writer) {
	fmt.Fprintf(w, "  %s %s %s (target %s)", actionSigns[c.Action], c.Action, c.Resource, c.Target)
	if c.Reason != "" {
		fmt.Fprintf(w, ": %s", c.Reason)
	}
	fmt.Fprintln(w)
	for _, f := range c.Fields {
		fmt.Fprintf(w, "      %s: %s → %s\n", oneLine(f.Path), orNone(f.Live), orNone(f.Desired))
	}
}

// orNone shows a field's value on one line: "(none)" when empty, quoted
// when it holds line breaks or other control characters, so that a value
// written in Git cannot add lines that read as more of the plan.
func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return oneLine(s)
}

// oneLine returns s, or s quoted as a Go string when it holds a control
// character.
func oneLine(s string) string {
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return strconv.Quote(s)
	}
	return s
}

// describe says what the step does in one line.
func (s *Step) describe() string {
	var b strings.Builder
	b.WriteString(s.Kind.String())
	if s.Target != "" {
		b.WriteString(" " + s.Target)
	}
	switch s.Kind {
	case StepShiftTraffic:
		fmt.Fprintf(&b, " to %s", s.Weight)
		if s.Checkpoint {
			b.WriteString(" of instances (instance refresh checkpoint)")
		}
	case StepPause:
		fmt.Fprintf(&b, " for %s", s.Duration)
	case StepVerify:
		b.WriteString(": " + s.Check.Name)
	case StepAwaitApproval:
		b.WriteString(": " + describeApproval(s))
	case StepCleanup:
		if s.Duration > 0 {
			fmt.Fprintf(&b, " after %s", s.Duration)
		}
	}
	return b.String()
}

func describeApproval(s *Step) string {
	a := s.Approval
	var who []string
	if a.From != nil {
		for _, u := range a.From.Users {
			who = append(who, "@"+u)
		}
		for _, t := range a.From.Teams {
			who = append(who, "team "+t)
		}
		if a.From.Permission != "" {
			who = append(who, string(a.From.Permission)+" permission")
		}
	}
	if len(who) == 0 {
		who = []string{string(spec.PermissionWrite) + " permission"}
	}
	reviews := "approving review"
	if a.Reviews != 1 {
		reviews += "s"
	}
	return fmt.Sprintf("%d %s from %s", a.Reviews, reviews, strings.Join(who, " or "))
}

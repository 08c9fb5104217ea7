package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/jibe-dev/jibe/agent"
	"github.com/jibe-dev/jibe/reconcile"
)

// detail draws one application: its environments, then the latest
// rollout of each that is running or did not succeed, step by step.
func (s *statusView) detail(ctx context.Context, app agent.AppView, width int) (string, error) {
	var b strings.Builder
	wants := "wants " + short(app.Revision)
	if app.PullRequest != 0 {
		wants += fmt.Sprintf(" (#%d)", app.PullRequest)
	}
	b.WriteString(s.term.join([]cell{{text: app.ID, color: ansiBold}, s.stateCell(app.State), {text: wants}, {text: "folder " + app.Folder}}, "  ", width) + "\n")
	if app.Error != "" {
		b.WriteString(s.term.join([]cell{{text: "error:", color: ansiRed}, {text: oneLine(app.Error)}}, " ", width) + "\n")
	}
	if len(app.Environments) == 0 {
		return b.String(), nil
	}
	b.WriteString("\n")
	tb := s.envTable()
	for _, e := range app.Environments {
		s.addEnv(tb, "", e)
	}
	b.WriteString(dropFirstColumn(tb).render(s.term, width))
	for _, e := range app.Environments {
		if e.Rollout == nil {
			continue
		}
		r, err := s.rollout(ctx, e)
		if err != nil {
			return "", err
		}
		if r != nil {
			b.WriteString("\n" + s.rolloutDetail(e, r, width))
		}
	}
	return b.String(), nil
}

// dropFirstColumn removes the application's column of a table of one
// application's environments.
func dropFirstColumn(tb *table) *table {
	out := &table{header: tb.header[1:], minimum: tb.minimum}
	for _, i := range tb.shrink {
		if i > 0 {
			out.shrink = append(out.shrink, i-1)
		}
	}
	for _, r := range tb.rows {
		out.rows = append(out.rows, row{cells: r.cells[1:], under: r.under})
	}
	return out
}

// rollout reads the environment's latest rollout; nil when it has none
// (it may have been pruned from the journal since the view was read).
func (s *statusView) rollout(ctx context.Context, e agent.EnvView) (*agent.RolloutView, error) {
	var r agent.RolloutView
	err := s.c.get(ctx, s.app.path()+"/environments/"+url.PathEscape(e.Name)+"/rollout", &r)
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// rolloutDetail draws a rollout: a line for one that succeeded, its
// steps and what it waits for otherwise.
func (s *statusView) rolloutDetail(e agent.EnvView, r *agent.RolloutView, width int) string {
	var b strings.Builder
	what := "rollout"
	if r.Correction {
		what = "drift correction"
	}
	what += " of " + short(r.Revision) + " (" + r.Mode
	if r.Mode != r.Strategy && r.Strategy != "" {
		what += ", strategy " + r.Strategy
	}
	ended := ""
	if r.State != reconcile.RolloutRunning.String() {
		ended = "ended " + when(r.Updated)
	}
	b.WriteString(s.term.join([]cell{{text: e.Name + ":", color: ansiBold}, {text: what + ")"}, s.stateCell(r.State),
		{text: "started " + when(r.Started)}, {text: ended}}, " ", width) + "\n")
	// indented draws a line under the rollout's.
	indented := func(cells ...cell) {
		b.WriteString("  " + s.term.join(cells, " ", width-2) + "\n")
	}
	if r.Reason != "" {
		indented(cell{text: oneLine(r.Reason)})
	}
	if r.State == reconcile.RolloutSucceeded.String() && s.output != outputWide {
		return b.String()
	}
	if r.RollingBack {
		indented(cell{text: "rolling back to " + short(e.LastGood)})
	}
	tb := &table{header: []string{"", "STEP", "KIND", "TARGET", "DETAIL", "STATE", "ERROR"}, shrink: []int{6, 4, 3}, minimum: 10}
	for _, st := range r.Steps {
		tb.add(cell{}, cell{text: fmt.Sprint(st.Index)}, cell{text: st.Kind}, cell{text: st.Target}, cell{text: stepDetail(st)},
			cell{text: st.State, color: stateColor(st.State)}, cell{text: oneLine(st.Error)})
	}
	b.WriteString(tb.render(s.term, width))
	if r.State == reconcile.RolloutRunning.String() {
		// The JSON's steps are the list: the summary's count is its length.
		sum := r.RolloutSummary
		sum.Steps = len(r.Steps)
		indented(cell{text: "progress"}, cell{text: progress(agent.EnvView{State: r.State, Rollout: &sum}), color: ansiCyan})
	}
	if w := r.Waiting; w != nil {
		indented(cell{text: "waiting:"}, cell{text: waitingLine(w)})
	}
	return b.String()
}

// stepDetail is what a step does beyond its kind: the weight it shifts
// to, how long it pauses, the check it verifies.
func stepDetail(st agent.StepView) string {
	switch {
	case st.Weight != nil:
		return percent(*st.Weight)
	case st.Duration != "":
		return st.Duration
	}
	return st.Check
}

// waitingLine says what a step waits for, who may approve and until when.
func waitingLine(w *agent.WaitView) string {
	s := oneLine(w.Message)
	if a := w.Approvers; a != nil {
		who := append(append([]string{}, a.Users...), a.Teams...)
		if a.Permission != "" {
			who = append(who, "anyone with "+a.Permission)
		}
		s += fmt.Sprintf(" (%d review(s) by %s)", a.Reviews, strings.Join(who, ", "))
	}
	if w.PullRequest != 0 {
		s += fmt.Sprintf(" on pull request #%d", w.PullRequest)
	}
	if !w.Until.IsZero() {
		s += " until " + when(w.Until)
	}
	return s
}

// oneLine joins a message's lines.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/utils/clock"

	"github.com/jibe-dev/jibe/agent"
	"github.com/jibe-dev/jibe/reconcile"
)

// The output formats of status and history (-o).
const (
	outputTable = "table"
	outputWide  = "wide"
	outputJSON  = "json"
)

// statusOptions are the flags of `jibe status`.
type statusOptions struct {
	api    apiFlags
	output string
	watch  bool
}

func newStatusCommand() *cobra.Command {
	var o statusOptions
	cmd := &cobra.Command{
		Use:   "status [APP]",
		Short: "Show what runs where: the version matrix of a running agent, or one application's rollouts",
		Long: `Show the version matrix of a running agent: per application and environment the
revision that runs, its artifacts, the state, healthy/desired instances, and for a
rollout in progress its progress (steps done of all, traffic weight) and what it
waits for. With APP (NAME, or SOURCE/NAME when two sources have one), that
application's environments in detail, with the steps of their rollouts.

--watch follows the agent's live events and redraws on each change (on a terminal
in place, otherwise one frame per change) until interrupted; it reconnects when the
agent restarts. -o json prints the agent's JSON as it serves it (one line per change
with --watch).`,
		Example: `  JIBE_SERVER=https://jibe.internal JIBE_TOKEN=... jibe status
  jibe status checkout --watch
  jibe status -o json | jq '.[].environments[].state'`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: completeApps(&o.api, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(o.output, outputTable, outputWide, outputJSON); err != nil {
				return err
			}
			return runStatus(cmd, args, &o)
		},
	}
	o.api.register(cmd)
	cmd.Flags().StringVarP(&o.output, "output", "o", outputTable, "output format: table, wide or json")
	cmd.Flags().BoolVarP(&o.watch, "watch", "w", false, "follow the agent's live events and redraw on each change")
	completeOutput(cmd, outputTable, outputWide, outputJSON)
	return cmd
}

// checkOutput refuses an -o value that is not one of formats.
func checkOutput(output string, formats ...string) error {
	for _, f := range formats {
		if output == f {
			return nil
		}
	}
	return fmt.Errorf("-o %s: give one of %s", output, strings.Join(formats, ", "))
}

// runStatus draws the status once, or follows the agent with --watch.
func runStatus(cmd *cobra.Command, args []string, o *statusOptions) error {
	ctx := cmd.Context()
	c, err := o.api.client()
	if err != nil {
		return err
	}
	s := &statusView{c: c, output: o.output, term: terminalOf(cmd.OutOrStdout())}
	events := "/api/v1/events"
	if len(args) == 1 {
		if s.app, err = c.resolveApp(ctx, args[0]); err != nil {
			return err
		}
		events += "?app=" + url.QueryEscape(s.app.String())
	}
	if !o.watch {
		frame, err := s.frame(ctx)
		if err != nil {
			return err
		}
		_, err = fmt.Fprint(cmd.OutOrStdout(), frame)
		return err
	}
	w := &watcher{c: c, events: events, draw: s.frame, out: cmd.OutOrStdout(), errOut: cmd.ErrOrStderr(),
		term: s.term, clock: clock.RealClock{}, throttle: redrawInterval, backoff: reconnectBackoff}
	// Frames of an output that is not a terminal follow one another,
	// each under a line with its time; JSON is one line each.
	w.stamped = o.output != outputJSON
	return w.run(ctx)
}

// statusView reads what `jibe status` shows from the agent and draws it.
type statusView struct {
	c      *apiClient
	app    appRef // zero for the matrix
	output string
	term   terminal
}

// frame reads the agent's state and draws it once.
func (s *statusView) frame(ctx context.Context) (string, error) {
	path := "/api/v1/applications"
	if s.app.Name != "" {
		path = s.app.path()
	}
	if s.output == outputJSON {
		var raw json.RawMessage
		if err := s.c.get(ctx, path, &raw); err != nil {
			return "", err
		}
		return strings.TrimSpace(string(raw)) + "\n", nil
	}
	width := s.term.width
	if s.output == outputWide {
		width = 0
	}
	if s.app.Name == "" {
		var apps []agent.AppView
		if err := s.c.get(ctx, path, &apps); err != nil {
			return "", err
		}
		return s.matrix(apps, width), nil
	}
	var app agent.AppView
	if err := s.c.get(ctx, path, &app); err != nil {
		return "", err
	}
	return s.detail(ctx, app, width)
}

// matrix draws every application's environments, one row each.
func (s *statusView) matrix(apps []agent.AppView, width int) string {
	if len(apps) == 0 {
		return "No applications: the agent's sources hold none yet (jibe status lists them once a source is polled).\n"
	}
	tb := s.envTable()
	names := appNames(apps)
	for _, a := range apps {
		if a.Error != "" || len(a.Environments) == 0 {
			tb.add(cell{text: names[a.ID]}, cell{}, cell{text: short(a.Revision)}, s.stateCell(a.State), cell{}, cell{})
			if s.output == outputWide {
				r := &tb.rows[len(tb.rows)-1]
				r.cells = append(r.cells, cell{}, cell{text: a.Error}, cell{})
			} else {
				tb.addUnder(cell{text: oneLine(a.Error), color: ansiRed})
			}
			continue
		}
		for i, e := range a.Environments {
			name := ""
			if i == 0 {
				name = names[a.ID]
			}
			s.addEnv(tb, name, e)
		}
	}
	return tb.render(s.term, width)
}

// envTable is the table of environments. A rollout's progress and what
// it waits for (or why it failed) go on a line under its row, or in
// columns of their own with -o wide. The artifacts are cut first to fit,
// then the names.
func (s *statusView) envTable() *table {
	header := []string{"APPLICATION", "ENVIRONMENT", "REVISION", "STATE", "INSTANCES", "ARTIFACTS"}
	if s.output == outputWide {
		return &table{header: append(header, "PROGRESS", "NOTE", "UPDATED")}
	}
	return &table{header: header, shrink: []int{5, 0}, minimum: 10}
}

// addEnv adds one environment's row under application name ("" after
// the application's first row).
func (s *statusView) addEnv(tb *table, name string, e agent.EnvView) {
	tb.add(cell{text: name}, cell{text: e.Name}, cell{text: revisions(e)}, s.stateCell(e.State),
		cell{text: instances(e.Targets)}, cell{text: artifacts(e)})
	wide := s.output == outputWide
	p, n := cell{text: progress(e), color: ansiCyan}, cell{text: note(e, wide)}
	if e.State == reconcile.RolloutFailed.String() || e.State == reconcile.RolloutRolledBack.String() {
		n.color = ansiRed
	}
	if wide {
		r := &tb.rows[len(tb.rows)-1]
		r.cells = append(r.cells, p, n, cell{text: when(e.Updated)})
		return
	}
	tb.addUnder(p, n)
}

func (s *statusView) stateCell(state string) cell { return cell{text: state, color: stateColor(state)} }

// appNames names each application by its name, or by its ID where two
// sources have one of that name.
func appNames(apps []agent.AppView) map[string]string {
	count := map[string]int{}
	for _, a := range apps {
		count[a.Name]++
	}
	names := make(map[string]string, len(apps))
	for _, a := range apps {
		names[a.ID] = a.Name
		if count[a.Name] > 1 {
			names[a.ID] = a.ID
		}
	}
	return names
}

// short is a revision's short form: a commit's first seven digits, or
// those of a folder's content hash ("sha256:...").
func short(rev string) string { return reconcile.ShortRevision(strings.TrimPrefix(rev, "sha256:")) }

// revisions is the revision that runs, and the one rolling out or wanted
// when it differs ("1a2b3c4→5d6e7f8"); "-" when nothing ran yet.
func revisions(e agent.EnvView) string {
	running := short(e.Revision)
	if running == "" {
		running = "-"
	}
	if w := wantedRevision(e); w != "" && w != e.Revision {
		return running + "→" + short(w)
	}
	return running
}

// wantedRevision is what the environment is moving to: the running
// rollout's revision, else what Git wants there.
func wantedRevision(e agent.EnvView) string {
	if e.Rollout != nil && e.State == reconcile.RolloutRunning.String() {
		return e.Rollout.Revision
	}
	if e.Wanted != nil {
		return e.Wanted.Revision
	}
	return ""
}

// artifacts lists the running version of each artifact, and the wanted
// one where it differs ("web=1.4.0→1.5.0").
func artifacts(e agent.EnvView) string {
	var running, wanted []agent.ArtifactView
	if e.Running != nil {
		running = e.Running.Artifacts
	}
	if e.Wanted != nil && e.Wanted.Revision != e.Revision {
		wanted = e.Wanted.Artifacts
	}
	var parts []string
	seen := map[string]bool{}
	for _, a := range running {
		seen[a.Name] = true
		part := a.Name + "=" + artifactVersion(a)
		if w, ok := findArtifact(wanted, a.Name); ok && artifactVersion(w) != artifactVersion(a) {
			part += "→" + artifactVersion(w)
		}
		parts = append(parts, part)
	}
	for _, w := range wanted {
		if !seen[w.Name] {
			parts = append(parts, w.Name+"=→"+artifactVersion(w))
		}
	}
	return strings.Join(parts, " ")
}

func findArtifact(list []agent.ArtifactView, name string) (agent.ArtifactView, bool) {
	for _, a := range list {
		if a.Name == name {
			return a, true
		}
	}
	return agent.ArtifactView{}, false
}

// artifactVersion is what tells an artifact's versions apart: its
// version, else its whole reference.
func artifactVersion(a agent.ArtifactView) string {
	if a.Version != "" {
		return a.Version
	}
	return a.Ref
}

// instances sums the targets' healthy and desired instances ("3/4"), "-"
// when no platform was observed yet.
func instances(targets []agent.TargetView) string {
	healthy, desired, seen := 0, 0, false
	for _, t := range targets {
		if t.Instances != nil {
			healthy += t.Instances.Healthy
			desired += t.Instances.Desired
			seen = true
		}
	}
	if !seen {
		return "-"
	}
	return fmt.Sprintf("%d/%d", healthy, desired)
}

// barWidth is the width of a progress bar's inside.
const barWidth = 10

// progress is a running rollout's progress: a bar of the steps done of
// all, and the new version's traffic weight when it shifts traffic.
func progress(e agent.EnvView) string {
	r := e.Rollout
	if r == nil || e.State != reconcile.RolloutRunning.String() || r.Steps == 0 || r.Step < 0 {
		return ""
	}
	s := bar(r.Step, r.Steps) + fmt.Sprintf(" %d/%d", r.Step, r.Steps)
	if r.Weight != nil {
		s += " " + percent(*r.Weight)
	}
	return s
}

// bar draws done of total as "[####------]".
func bar(done, total int) string {
	n := min(barWidth*done/max(total, 1), barWidth)
	return "[" + strings.Repeat("#", n) + strings.Repeat("-", barWidth-n) + "]"
}

func percent(w float64) string { return fmt.Sprintf("%g%%", w) }

// note says what a running rollout waits for, why one failed or was
// rolled back, or what a pending environment waits for.
func note(e agent.EnvView, wide bool) string {
	var s string
	switch {
	case e.State == agent.StatePending && e.PendingOn != "":
		s = "after " + e.PendingOn
	case e.State == agent.StatePending:
		s = "next"
	case e.Waiting != "":
		s = e.Step + ": " + e.Waiting
	case e.Step != "":
		s = e.Step
	case e.Reason != "":
		s = e.Reason
	}
	if len(e.Drift) > 0 {
		s = strings.TrimPrefix(s+"; drift: "+strings.Join(e.Drift, ", "), "; ")
	}
	if !wide {
		s = strings.Join(strings.Fields(s), " ")
	}
	return s
}

// when is a time in the local zone, "" when unknown.
func when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

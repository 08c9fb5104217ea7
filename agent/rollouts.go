package agent

import (
	"cmp"
	"slices"
	"time"

	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// The pages of History.
const (
	defaultHistoryPage = 20
	maxHistoryPage     = 100
)

// Rollout returns the view of app's rollout in env: the latest one when
// which is "", else the one whose ID ends in "/<env>/<which>" (a revision,
// or a correction's "<revision>#correction-<n>"). It returns an error
// wrapping reconcile.ErrNoRollout when there is none.
func (a *Agent) Rollout(app reconcile.AppID, env, which string) (*RolloutView, error) {
	var r *reconcile.Rollout
	var err error
	if which == "" {
		r, err = a.opts.Journal.Current(app, env)
	} else {
		r, err = a.opts.Journal.Get(reconcile.RolloutID(app, env, which))
	}
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	pull := a.pullOf(app, r.Revision)
	waiting := a.waiting[r.ID]
	a.mu.Unlock()
	v := &RolloutView{RolloutSummary: *summary(r), App: app.String(), Env: env, PullRequest: pull,
		FirstDeploy: r.Plan.FirstDeploy, RollingBack: r.RollingBack, Changes: r.Plan.Changes,
		Steps: stepViews(r), Traffic: traffic(r), Analyses: analyses(r)}
	if !r.State.Final() && r.Next < len(r.Plan.Steps) {
		v.Waiting = waitView(r, waiting, pull)
	}
	return v, nil
}

// pullOf returns the number of the pull request that brought app's
// revision, 0 when unknown. The caller holds a.mu.
func (a *Agent) pullOf(app reconcile.AppID, revision string) int {
	st := a.byID[app]
	if st == nil {
		return 0
	}
	rev := st.history[revision]
	if rev == nil && st.revision != nil && st.revision.Commit == revision {
		rev = st.revision
	}
	if rev == nil || rev.PullRequest == nil {
		return 0
	}
	return rev.PullRequest.Number
}

// stepViews returns r's steps with how each went: an outcome journaled
// for a step says done or failed (the last one wins); the next step is
// current while the rollout runs.
func stepViews(r *reconcile.Rollout) []StepView {
	out := make([]StepView, len(r.Plan.Steps))
	for i, s := range r.Plan.Steps {
		out[i] = StepView{Index: i, Kind: s.Kind.String(), Target: s.Target, State: StepPending}
		if s.Kind == reconcile.StepShiftTraffic {
			w := float64(s.Weight)
			out[i].Weight = &w
		}
		if s.Duration > 0 {
			out[i].Duration = s.Duration.String()
		}
		if s.Check != nil {
			out[i].Check = s.Check.Name
		}
	}
	for _, o := range r.Outcomes {
		if o.Step < 0 || o.Step >= len(out) {
			continue
		}
		v := &out[o.Step]
		v.Started, v.Finished, v.Error, v.State = o.Started, o.Finished, o.Error, StepDone
		if o.Error != "" {
			v.State = StepFailed
		}
	}
	if !r.State.Final() && r.Next < len(out) && out[r.Next].State != StepFailed {
		out[r.Next].State, out[r.Next].Started = StepCurrent, r.Current.Started
	}
	return out
}

// traffic is the new version's share of traffic over time: 0 at the
// start, each shift-traffic step's weight when it was done, 0 again when
// a rollback started.
func traffic(r *reconcile.Rollout) []WeightPoint {
	var out []WeightPoint
	for _, o := range r.Outcomes {
		if o.Error == "" && o.Kind == reconcile.StepShiftTraffic && o.Step < len(r.Plan.Steps) {
			if out == nil {
				out = []WeightPoint{{At: r.Started}}
			}
			out = append(out, WeightPoint{At: o.Finished, Weight: float64(r.Plan.Steps[o.Step].Weight)})
		}
	}
	if out != nil && r.RollingBack && !r.Rollback.Started.IsZero() {
		out = append(out, WeightPoint{At: r.Rollback.Started})
	}
	return out
}

// analyses returns r's verify steps with their readings: the journaled
// ones of steps run, the current step's so far.
func analyses(r *reconcile.Rollout) []AnalysisView {
	var out []AnalysisView
	for i, s := range r.Plan.Steps {
		if s.Kind != reconcile.StepVerify || s.Check == nil {
			continue
		}
		v := analysisView(i, s.Check)
		for _, o := range r.Outcomes {
			if o.Step == i && len(o.Measurements) > 0 {
				v.Measurements = o.Measurements
			}
		}
		if i == r.Next && !r.State.Final() && len(r.Current.Measurements) > 0 {
			v.Measurements = r.Current.Measurements
		}
		out = append(out, v)
	}
	return out
}

// analysisView describes check c of step i.
func analysisView(i int, c *spec.Check) AnalysisView {
	v := AnalysisView{Step: i, Check: c.Name, Measurements: []reconcile.Measurement{}}
	var t *spec.Threshold
	switch {
	case c.HTTP != nil:
		v.Kind = "http"
	case c.CloudWatch != nil:
		v.Kind, t = "cloudWatch", &c.CloudWatch.Threshold
	case c.Alarm != nil:
		v.Kind = "alarm"
	case c.Prometheus != nil:
		v.Kind, t = "prometheus", &c.Prometheus.Threshold
	}
	if t != nil {
		v.Min, v.Max, v.Threshold = t.Min, t.Max, t.String()
	}
	if c.Interval != nil {
		v.Interval = c.Interval.Duration.String()
	}
	if c.Duration != nil {
		v.Duration = c.Duration.Duration.String()
	}
	return v
}

// waitView says what r's current step waits for.
func waitView(r *reconcile.Rollout, message string, pull int) *WaitView {
	s := r.Plan.Steps[r.Next]
	v := &WaitView{Step: r.Next, Message: message}
	started := r.Current.Started
	switch {
	case s.Kind == reconcile.StepAwaitApproval && s.Approval != nil:
		v.Approvers, v.PullRequest = approversView(s.Approval), pull
		if s.Approval.Timeout != nil && !started.IsZero() {
			v.Until = started.Add(s.Approval.Timeout.Duration)
		}
	case (s.Kind == reconcile.StepPause || s.Kind == reconcile.StepCleanup) && !started.IsZero():
		v.Until = started.Add(s.Duration)
	}
	if v.Message == "" && v.Approvers == nil && v.Until.IsZero() {
		return nil
	}
	return v
}

func approversView(ap *spec.Approval) *ApproversView {
	v := &ApproversView{Reviews: max(ap.Reviews, 1)}
	if f := ap.From; f != nil {
		v.Users, v.Teams, v.Permission = f.Users, f.Teams, string(f.Permission)
	}
	return v
}

// History returns a page of app's rollouts in env, newest first: at
// most limit, those older than the rollout with ID before when given.
func (a *Agent) History(app reconcile.AppID, env, before string, limit int) (HistoryView, error) {
	rs, err := a.opts.Journal.History(app, env)
	if err != nil {
		return HistoryView{}, err
	}
	slices.SortFunc(rs, func(x, y *reconcile.Rollout) int {
		return cmp.Or(y.Started.Compare(x.Started), cmp.Compare(y.ID, x.ID))
	})
	if before != "" {
		for i, r := range rs {
			if r.ID == before {
				rs = rs[i+1:]
				break
			}
		}
	}
	v := HistoryView{App: app.String(), Env: env, Rollouts: []HistoryEntry{}}
	if len(rs) > limit {
		rs, v.Next = rs[:limit], rs[limit-1].ID
	}
	if before == "" {
		acts, err := a.opts.Journal.Actions(app, env)
		if err != nil {
			return HistoryView{}, err
		}
		slices.Reverse(acts)
		v.Actions = acts
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, r := range rs {
		v.Rollouts = append(v.Rollouts, a.historyEntry(app, r))
	}
	return v, nil
}

// historyEntry describes one rollout. The caller holds a.mu.
func (a *Agent) historyEntry(app reconcile.AppID, r *reconcile.Rollout) HistoryEntry {
	e := HistoryEntry{ID: r.ID, Revision: r.Revision, State: r.State.String(), Reason: r.Reason,
		Strategy: r.Plan.Strategy, Mode: r.Plan.Mode.String(), Correction: r.Correction, Started: r.Started,
		ApprovedBy: a.approvals[r.ID], PullRequest: a.pullOf(app, r.Revision), Action: r.Action}
	if bg := r.BreakGlass; bg != nil {
		e.ApprovedBy = "break-glass by " + bg.By + ": " + bg.Reason
	}
	if r.State.Final() {
		e.Finished = r.Updated
		e.Duration = r.Updated.Sub(r.Started).Round(time.Millisecond).Seconds()
	}
	return e
}

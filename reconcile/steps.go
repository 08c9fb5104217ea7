package reconcile

import (
	"context"
	"fmt"
	"time"

	"github.com/jibe-dev/jibe/spec"
)

// runStep runs step once.
func (x *Executor) runStep(ctx context.Context, r *Rollout, step *Step, deps []*Deployment) (stepResult, error) {
	if err := x.markStarted(r); err != nil {
		return stepResult{}, err
	}
	if done := skipped(r, step); done != "" {
		return stepResult{done: done}, nil
	}
	switch step.Kind {
	case StepAwaitApproval:
		return x.awaitApproval(ctx, r, step)
	case StepPause:
		return x.elapsed(r, step.Duration, "pausing"), nil
	case StepVerify:
		return x.verify(ctx, r, step, deps)
	case StepCleanup:
		if res := x.elapsed(r, step.Duration, "keeping the previous version for rollback"); res.wait > 0 {
			return res, nil
		}
	}
	d, err := deployment(deps, step.Target)
	if err != nil {
		return stepResult{}, err
	}
	p := x.platform(d)
	if p == nil {
		return stepResult{}, Stalled(fmt.Errorf("target %s: %w", d.Target.Name, errNoPlatform))
	}
	return x.platformStep(ctx, p, d, step)
}

// skipped says how an action skipped step, "" when it runs: a promotion
// skips pauses, a forced one verify steps and approval gates too, and a
// break-glass approval opens approval gates.
func skipped(r *Rollout, step *Step) string {
	p, bg := r.Promoted, r.BreakGlass
	switch {
	case step.Kind == StepPause && p != nil:
		return "pause skipped: promoted by " + p.By
	case step.Kind == StepVerify && p != nil && p.Force:
		return fmt.Sprintf("check %s skipped: promoted with force (break-glass) by %s: %s", step.Check.Name, p.By, p.Reason)
	case step.Kind == StepAwaitApproval && bg != nil:
		return fmt.Sprintf("approved by break-glass: %s: %s", bg.By, bg.Reason)
	case step.Kind == StepAwaitApproval && p != nil && p.Force:
		return fmt.Sprintf("approval skipped: promoted with force (break-glass) by %s: %s", p.By, p.Reason)
	}
	return ""
}

// markStarted journals when the current step first ran.
func (x *Executor) markStarted(r *Rollout) error {
	if !r.Current.Started.IsZero() {
		return nil
	}
	next, err := x.Journal.Progress(r.ID, StepProgress{Started: x.now()})
	if err != nil {
		return err
	}
	*r = *next
	return nil
}

// elapsed waits until d has passed since the step started.
func (x *Executor) elapsed(r *Rollout, d time.Duration, doing string) stepResult {
	left := r.Current.Started.Add(d).Sub(x.now())
	if left <= 0 {
		return stepResult{}
	}
	return stepResult{wait: left, reason: fmt.Sprintf("%s, %s left", doing, left.Round(time.Second))}
}

func (x *Executor) platformStep(ctx context.Context, p Platform, d *Deployment, step *Step) (stepResult, error) {
	switch step.Kind {
	case StepApply:
		return stepResult{}, p.Apply(ctx, d)
	case StepWaitHealthy:
		return health(ctx, p, d)
	case StepShiftTraffic:
		return stepResult{}, p.ShiftTraffic(ctx, d, step.Weight)
	case StepPromote:
		return stepResult{}, p.Promote(ctx, d)
	case StepCleanup:
		return stepResult{}, p.Cleanup(ctx, d)
	case StepRollback:
		return stepResult{}, p.Rollback(ctx, d)
	}
	return stepResult{}, Stalled(fmt.Errorf("step %s cannot run on a target", step.Kind))
}

func health(ctx context.Context, p Platform, d *Deployment) (stepResult, error) {
	h, err := p.Health(ctx, d)
	if err != nil {
		return stepResult{}, err
	}
	switch h.State {
	case HealthHealthy:
		return stepResult{}, nil
	case HealthFailed:
		return stepResult{failed: true, reason: fmt.Sprintf("%s did not become healthy: %s", d.Target.Name, h.Reason)}, nil
	}
	return stepResult{health: p, reason: fmt.Sprintf("waiting for %s to become healthy: %s", d.Target.Name, h.Reason)}, nil
}

func (x *Executor) awaitApproval(ctx context.Context, r *Rollout, step *Step) (stepResult, error) {
	if x.Gate == nil {
		return stepResult{}, Stalled(fmt.Errorf("environment %s needs approval, but the agent has no GitHub configuration to read reviews from", r.Env))
	}
	v, err := x.Gate.Approved(ctx, r.AppID(), r.Env, r.Revision, step.Approval)
	switch {
	case err != nil:
		return stepResult{}, err
	case v.Approved:
		return stepResult{done: v.Reason}, nil
	case step.Approval.Timeout != nil && x.now().Sub(r.Current.Started) >= step.Approval.Timeout.Duration:
		return stepResult{failed: true, reason: fmt.Sprintf("approval timed out after %s: %s", step.Approval.Timeout.Duration, v.Reason)}, nil
	}
	return stepResult{wait: approvalPoll, reason: v.Reason}, nil
}

// verify measures a check once per interval for its duration and fails on
// the first failed measurement. Measurements without data count as the
// check's inconclusive policy says, never as success.
func (x *Executor) verify(ctx context.Context, r *Rollout, step *Step, deps []*Deployment) (stepResult, error) {
	c := step.Check
	if x.Checks == nil {
		return stepResult{}, Stalled(fmt.Errorf("check %q cannot run: the agent has no checker", c.Name))
	}
	ms := r.Current.Measurements
	if n := len(ms); n > 0 {
		if due := ms[n-1].At.Add(c.Interval.Duration).Sub(x.now()); due > 0 {
			return stepResult{wait: due, reason: checking(c, n)}, nil
		}
	}
	in := checkInput(r, deps)
	if err := x.nameVersions(ctx, in.Vars, deps); err != nil {
		return stepResult{}, err
	}
	m, err := x.Checks.Measure(ctx, c, in)
	if err != nil {
		return stepResult{}, err
	}
	m.At = x.now()
	next, err := x.Journal.Progress(r.ID, StepProgress{Started: r.Current.Started, Measurements: append(ms, m)})
	if err != nil {
		return stepResult{}, err
	}
	*r = *next
	return judge(c, r.Current, x.now()), nil
}

// checking says how far a check has come.
func checking(c *spec.Check, n int) string {
	if n == 1 {
		return fmt.Sprintf("checking %s: 1 measurement so far", c.Name)
	}
	return fmt.Sprintf("checking %s: %d measurements so far", c.Name, n)
}

// judge decides a check from its measurements so far.
func judge(c *spec.Check, p StepProgress, now time.Time) stepResult {
	last := p.Measurements[len(p.Measurements)-1]
	over := now.Sub(p.Started) >= c.Duration.Duration
	switch {
	case last.NoData && c.Inconclusive != spec.InconclusiveRetry:
		return stepResult{failed: true, reason: fmt.Sprintf("check %s failed: no data (inconclusive: fail)", c.Name)}
	case last.NoData && over:
		return stepResult{failed: true, reason: fmt.Sprintf("check %s failed: still no data after %s", c.Name, c.Duration.Duration)}
	case !last.NoData && !last.Passed && last.Detail != "":
		return stepResult{failed: true, reason: fmt.Sprintf("check %s failed: %s", c.Name, last.Detail)}
	case !last.NoData && !last.Passed:
		return stepResult{failed: true, reason: fmt.Sprintf("check %s failed: value %g is outside its threshold%s", c.Name, last.Value, thresholdText(c))}
	case over:
		return stepResult{}
	}
	return stepResult{wait: c.Interval.Duration, reason: checking(c, len(p.Measurements))}
}

func thresholdText(c *spec.Check) string {
	switch {
	case c.CloudWatch != nil:
		return " (" + c.CloudWatch.Threshold.String() + ")"
	case c.Prometheus != nil:
		return " (" + c.Prometheus.Threshold.String() + ")"
	}
	return ""
}

// nameVersions fills ${rollout.newVersion} (and its older name
// ${rollout.version}) and ${rollout.stableVersion} from the first
// deployment whose platform names its versions (see VersionNamer).
func (x *Executor) nameVersions(ctx context.Context, vars map[string]string, deps []*Deployment) error {
	for _, d := range deps {
		vn, ok := x.platform(d).(VersionNamer)
		if !ok {
			continue
		}
		v, err := vn.Versions(ctx, d)
		if err != nil {
			return fmt.Errorf("name the versions of %s: %w", d.Target.Name, err)
		}
		if v == (RolloutVersions{}) {
			continue
		}
		vars["rollout.newVersion"], vars["rollout.version"], vars["rollout.stableVersion"] = v.New, v.New, v.Stable
		return nil
	}
	return nil
}

// checkInput is what r's checks are measured for: its ${rollout.*}
// placeholders and where its environment runs.
func checkInput(r *Rollout, deps []*Deployment) CheckInput {
	in := CheckInput{Vars: map[string]string{
		"rollout.revision":      r.Revision,
		"rollout.shortRevision": ShortRevision(r.Revision),
	}}
	if len(deps) > 0 {
		in.Account, in.Region, in.Cluster = deps[0].Account, deps[0].Region, deps[0].Cluster
		in.Hosts = deps[0].CheckHosts
	}
	return in
}

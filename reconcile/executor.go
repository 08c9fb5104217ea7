package reconcile

import (
	"context"
	"errors"
	"fmt"
	"time"

	"k8s.io/utils/clock"

	"github.com/jibe-dev/jibe/spec"
)

// Checker measures a check once. The measurement's Passed says whether the
// value was within the check's threshold; NoData that there was nothing to
// measure. An error means the measurement itself failed (e.g. a network
// error) and carries a retry policy.
type Checker interface {
	Measure(ctx context.Context, c *spec.Check, in CheckInput) (Measurement, error)
}

// CheckInput is what a check is measured for: the rollout's placeholders
// and where the environment runs, so that CloudWatch queries go to its
// account and region.
type CheckInput struct {
	// Vars fill ${rollout.*} placeholders, e.g. "rollout.revision".
	Vars map[string]string
	// Account and Region place the environment's AWS checks: the account's
	// name in the agent configuration and the region. Empty for
	// environments outside AWS.
	Account, Region string
	// Cluster is the environment's Kubernetes cluster, if any.
	Cluster string
	// Hosts is where the environment's HTTP checks may send requests;
	// nil allows every host (see Deployment.CheckHosts).
	Hosts CheckHosts
}

// Gate decides whether an approval rule is met for a revision of an
// application (its source and name: the source says where reviews are
// read).
type Gate interface {
	Approved(ctx context.Context, app AppID, env, revision string, rule *spec.Approval) (Verdict, error)
}

// Verdict is a gate's decision.
type Verdict struct {
	Approved bool
	// Reason says who approved, or who is still needed.
	Reason string
}

// approvalPoll is how often an approval is read again while it is
// missing (a review webhook re-queues it at once).
const approvalPoll = time.Minute

// Executor carries rollouts out step by step. A step that must wait (for
// health, a pause, an approval, the next measurement of a check) does not
// block: Advance journals its progress and returns a WaitingError saying
// when to come back, so that a restart, a newer revision or shutdown never
// finds a goroutine in the middle of a wait.
type Executor struct {
	// Journal records every step outcome.
	Journal *Journal
	// Platforms deploy targets, by platform.
	Platforms map[spec.Platform]Platform
	// Checks measures verify steps. Required when plans have checks.
	Checks Checker
	// Gate decides approvals. Required when plans have approvals.
	Gate Gate
	// Clock is the time source of steps, waits and timeouts. Default the
	// wall clock.
	Clock clock.PassiveClock
	// Hold, when set, says whether r must stop before its next step (a
	// pause or a freeze window of its application): a non-nil wait says
	// why and until when. A step already started runs to its end; a
	// rollback is never held.
	Hold func(r *Rollout) *WaitingError
	// Emit receives every rollout event, for reporters (statuses,
	// notifications, metrics, logs): a Stream's Emit. It must not block.
	// Optional.
	Emit func(Event)

	// pace spaces health re-checks on platforms that report no changes.
	pace pacer
}

func (x *Executor) now() time.Time {
	if x.Clock == nil {
		return time.Now()
	}
	return x.Clock.Now()
}

func (x *Executor) emit(kind EventKind, r *Rollout, s *Step, format string, args ...any) {
	if x.Emit != nil {
		x.Emit(RolloutEvent(kind, r, s, fmt.Sprintf(format, args...)))
	}
}

// stepResult is what running a step once gave.
type stepResult struct {
	// wait, when positive, means the step is not done: run it again then.
	wait   time.Duration
	reason string
	// failed means the rollout failed at this step, for reason.
	failed bool
	// done, when set, says how a finished step ended, e.g. who approved.
	done string
	// health, when set, is the platform whose health the step waits for:
	// the wait ends with a change there rather than after a time.
	health Platform
}

// Advance runs r's steps from its next one, with deps (one per target of
// the environment), until the rollout ends, a step must wait, or a step
// fails transiently. It returns nil when the rollout has ended (see its
// State), a *WaitingError when it waits, and any other error when it must
// be retried with backoff.
func (x *Executor) Advance(ctx context.Context, r *Rollout, deps []*Deployment) (*Rollout, error) {
	deps = inMode(deps, r.Plan.Mode)
	if r.RollingBack {
		return x.rollback(ctx, r, deps)
	}
	for r.Next < len(r.Plan.Steps) {
		if err := ctx.Err(); err != nil {
			return r, err
		}
		step := &r.Plan.Steps[r.Next]
		if w := x.held(r); w != nil {
			x.emit(EventWaiting, r, step, "%s", w.Reason)
			return r, w
		}
		res, err := x.runStep(ctx, r, step, deps)
		switch {
		case err != nil && PolicyOf(err) == PolicyStall:
			return x.fail(ctx, r, deps, fmt.Sprintf("%s: %v", step.describe(), err))
		case err != nil && PolicyOf(err) == PolicyRequeue:
			x.emit(EventWaiting, r, step, "%v", err)
			return r, err
		case err != nil:
			x.record(r, step, err)
			return r, err
		case res.failed:
			// The failed step is journaled with its verdict (and a check's
			// measurements) before the rollback starts.
			if r, err = x.record(r, step, errors.New(res.reason)); err != nil {
				return r, err
			}
			return x.fail(ctx, r, deps, res.reason)
		case res.health != nil:
			x.emit(EventWaiting, r, step, "%s", res.reason)
			return r, x.healthWait(res.health, r, res.reason)
		case res.wait > 0:
			x.emit(EventWaiting, r, step, "%s", res.reason)
			return r, &WaitingError{Reason: res.reason, RequeueAfter: res.wait}
		}
		if r, err = x.record(r, step, nil); err != nil {
			return x.aborted(ctx, r, deps, err)
		}
		if res.done == "" {
			res.done = step.describe()
		}
		x.emit(EventStepDone, r, step, "%s", res.done)
	}
	done, err := x.finish(r, RolloutSucceeded, "", EventSucceeded)
	if err != nil {
		return x.aborted(ctx, r, deps, err)
	}
	return done, nil
}

// held returns the wait of a rollout held before its next step, nil when
// it may go on.
func (x *Executor) held(r *Rollout) *WaitingError {
	if x.Hold == nil || !r.Current.Started.IsZero() {
		return nil
	}
	return x.Hold(r)
}

// aborted rolls r back when err says it was aborted while its step ran;
// it returns err otherwise.
func (x *Executor) aborted(ctx context.Context, r *Rollout, deps []*Deployment, err error) (*Rollout, error) {
	if !errors.Is(err, errRollingBack) {
		return r, err
	}
	fresh, gerr := x.Journal.Get(r.ID)
	if gerr != nil {
		return r, err
	}
	return x.rollback(ctx, fresh, deps)
}

// inMode returns copies of deps that run in mode, the mode of the
// rollout's plan: platforms follow it.
func inMode(deps []*Deployment, mode spec.StrategyKind) []*Deployment {
	out := make([]*Deployment, len(deps))
	for i, d := range deps {
		in := *d
		in.Mode = mode
		out[i] = &in
	}
	return out
}

// record journals an outcome of the current step.
func (x *Executor) record(r *Rollout, step *Step, stepErr error) (*Rollout, error) {
	o := StepOutcome{Step: r.Next, Kind: step.Kind, Started: r.Current.Started, Finished: x.now(),
		Measurements: r.Current.Measurements}
	if o.Started.IsZero() {
		o.Started = o.Finished
	}
	if stepErr != nil {
		o.Error = stepErr.Error()
	}
	next, err := x.Journal.Record(r.ID, o)
	if err != nil {
		return r, fmt.Errorf("journaling step %d of %s: %w", r.Next, r.ID, err)
	}
	return next, nil
}

func (x *Executor) finish(r *Rollout, state RolloutState, reason string, kind EventKind) (*Rollout, error) {
	x.pace.forget(r.ID)
	done, err := x.Journal.Finish(r.ID, state, reason)
	if err != nil {
		return r, fmt.Errorf("journaling the end of %s: %w", r.ID, err)
	}
	x.emit(kind, done, nil, "%s", reason)
	return done, nil
}

// Supersede ends a running rollout that a newer revision replaces. For
// strategies that shift traffic, every target the rollout reached that ran
// a version before it gets all traffic back first (the platform's
// Rollback), so that nothing is left half-shifted and the newer revision
// starts against the stable version, as Argo Rollouts aborts a canary for
// a newer revision. A target the rollout created (a first deploy) is left
// as it is: there is no traffic to return, and the newer revision applies
// over it; nothing that runs is deleted.
func (x *Executor) Supersede(ctx context.Context, r *Rollout, deps []*Deployment, by string) (*Rollout, error) {
	if r.State.Final() {
		return r, nil
	}
	deps = inMode(deps, r.Plan.Mode)
	for _, d := range superseding(r, deps) {
		p := x.platform(d)
		if p == nil {
			return r, Stalled(fmt.Errorf("returning traffic to the stable version of %s: %w", d.Target.Name, errNoPlatform))
		}
		if err := p.Rollback(ctx, d); err != nil {
			return r, fmt.Errorf("returning traffic to the stable version of %s before %s starts: %w", d.Target.Name, ShortRevision(by), err)
		}
	}
	return x.finish(r, RolloutSuperseded, "superseded by "+ShortRevision(by), EventSuperseded)
}

func (x *Executor) platform(d *Deployment) Platform {
	return x.Platforms[d.Target.Platform()]
}

// deployment returns the deployment of target.
func deployment(deps []*Deployment, target string) (*Deployment, error) {
	for _, d := range deps {
		if d.Target.Name == target {
			return d, nil
		}
	}
	return nil, Stalled(fmt.Errorf("the plan names target %q, which the revision does not deploy", target))
}

// errNoPlatform is returned when no platform handles a target's kind.
var errNoPlatform = errors.New("no platform is configured for this kind of target")

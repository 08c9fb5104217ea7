package asg

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"

	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// checkpointRig deploys a group of 4 instances whose rolling strategy
// stops at the weights, each followed by a pause.
func checkpointRig(t *testing.T, weights ...spec.Percent) (*rig, *reconcile.Deployment) {
	r := newRig(t)
	var steps []spec.CanaryStep
	for _, w := range weights {
		steps = append(steps, spec.CanaryStep{SetWeight: ptr(w)}, spec.CanaryStep{Pause: &spec.Pause{Duration: spec.Duration{Duration: 10 * time.Minute}}})
	}
	d1 := r.deployment("rev1", "ami-00000001", &spec.Strategy{Rolling: &spec.Rolling{Steps: steps}})
	d1.Target.AutoScalingGroup.DesiredCapacity = aws.Int32(4)
	r.rollout(d1)
	return r, d1
}

// onVersion counts the group's instances on the launch template version.
func (r *rig) onVersion(group, version string) int {
	n := 0
	for _, in := range r.live(group).Instances {
		if aws.ToString(in.LaunchTemplate.Version) == version && in.LifecycleState == astypes.LifecycleStateInService {
			n++
		}
	}
	return n
}

func (r *rig) refresh(group string) astypes.InstanceRefresh {
	r.t.Helper()
	out, err := r.as.DescribeInstanceRefreshes(r.ctx, &autoscaling.DescribeInstanceRefreshesInput{AutoScalingGroupName: aws.String(group)})
	if err != nil || len(out.InstanceRefreshes) == 0 {
		r.t.Fatalf("refreshes of %s: %v %+v", group, err, out)
	}
	return out.InstanceRefreshes[0]
}

// TestRollingStopsAtCheckpointsWhileStepsRun: an AMI bump of a rolling
// strategy with steps [setWeight 50, pause] starts the refresh with
// CheckpointPercentages [50, 100]; ShiftTraffic(50) waits until half the
// instances are replaced, the refresh then holds (10 emulated minutes of
// the pause replace nothing more) and ShiftTraffic(100) lets it replace
// the rest, with no 5xx.
func TestRollingStopsAtCheckpointsWhileStepsRun(t *testing.T) {
	r, d1 := checkpointRig(t, 50)
	d2 := r.next(d1, "rev2", "ami-00000002", spec.StrategyRolling)
	d2.Target.AutoScalingGroup.DesiredCapacity = aws.Int32(4)
	r.sending = true
	r.until("apply", func() error { return r.p.Apply(r.ctx, d2) })
	if ref := r.refresh("web"); len(ref.Preferences.CheckpointPercentages) != 2 || ref.Preferences.CheckpointPercentages[0] != 50 ||
		aws.ToInt32(ref.Preferences.CheckpointDelay) != maxCheckpointDelay {
		t.Fatalf("refresh preferences: %+v", ref.Preferences)
	}
	r.until("checkpoint 50", func() error { return r.p.ShiftTraffic(r.ctx, d2, 50) })
	if n := r.onVersion("web", "2"); n != 2 {
		t.Fatalf("at the 50%% checkpoint %d of 4 instances run version 2, want 2", n)
	}
	r.advance(10 * time.Minute)
	if n, ref := r.onVersion("web", "2"), r.refresh("web"); n != 2 || ref.Status != astypes.InstanceRefreshStatusInProgress {
		t.Fatalf("during the steps at the checkpoint: %d instances on version 2, refresh %s", n, ref.Status)
	}
	if h, err := r.p.Health(r.ctx, d2); err != nil || h.State != reconcile.HealthProgressing {
		t.Errorf("health at a checkpoint: %v %+v", err, h)
	}
	r.until("checkpoint 100", func() error { return r.p.ShiftTraffic(r.ctx, d2, 100) })
	if h, _ := r.waitHealth(d2); h.State != reconcile.HealthHealthy {
		t.Fatalf("after the last checkpoint: %s: %s", h.State, h.Reason)
	}
	if n := r.onVersion("web", "2"); n != 4 {
		t.Errorf("%d of 4 instances on version 2 after the refresh", n)
	}
	if r.errors != 0 || r.sent == 0 {
		t.Errorf("%d of %d requests failed", r.errors, r.sent)
	}
	r.env.Emu.ResetRequests()
	if err := r.p.ShiftTraffic(r.ctx, d2, 100); err != nil || len(r.writes()) != 0 {
		t.Errorf("a checkpoint step after the refresh: %v, %d writes", err, len(r.writes()))
	}
}

// TestRollingCheckpointFailedAnalysisRollsBackTheRefresh: past a second
// checkpoint (the refresh held at 25 % cancelled and started again to 50
// %), a failed analysis's Rollback rolls the refresh back
// (RollbackInstanceRefresh): every instance returns to version 1.
func TestRollingCheckpointFailedAnalysisRollsBackTheRefresh(t *testing.T) {
	r, d1 := checkpointRig(t, 25, 50)
	d2 := r.next(d1, "rev2", "ami-00000002", spec.StrategyRolling)
	d2.Target.AutoScalingGroup.DesiredCapacity = aws.Int32(4)
	r.until("apply", func() error { return r.p.Apply(r.ctx, d2) })
	r.until("checkpoint 25", func() error { return r.p.ShiftTraffic(r.ctx, d2, 25) })
	if n := r.onVersion("web", "2"); n != 1 {
		t.Fatalf("at the 25%% checkpoint %d instances on version 2, want 1", n)
	}
	r.until("checkpoint 50", func() error { return r.p.ShiftTraffic(r.ctx, d2, 50) })
	if n, cps := r.onVersion("web", "2"), r.refresh("web").Preferences.CheckpointPercentages; n != 2 || len(cps) != 2 || cps[0] != 50 {
		t.Fatalf("at the 50%% checkpoint: %d instances on version 2 (want 2), checkpoints %v", n, cps)
	}
	r.env.Emu.ResetRequests()
	r.until("rollback", func() error { return r.p.Rollback(r.ctx, d2) })
	if !r.wrote("RollbackInstanceRefresh") {
		t.Errorf("rollback did not roll the refresh back: %+v", r.writes())
	}
	if h, _ := r.waitHealth(d1); h.State != reconcile.HealthHealthy {
		t.Fatalf("after the rollback: %s: %s", h.State, h.Reason)
	}
	if n := r.onVersion("web", "1"); n != 4 || aws.ToString(r.live("web").LaunchTemplate.Version) != "1" {
		t.Errorf("after the rollback %d of 4 instances on version 1, group on %s", n, aws.ToString(r.live("web").LaunchTemplate.Version))
	}
}

// wrote reports whether a write call of the operation was made since the
// last reset.
func (r *rig) wrote(op string) bool {
	for _, w := range r.writes() {
		if w.Operation == op {
			return true
		}
	}
	return false
}

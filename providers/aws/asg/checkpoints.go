package asg

import (
	"context"
	"fmt"
	"math"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"

	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// Checkpoints of a rolling update (strategy.rolling.steps): the refresh
// Apply starts stops at the first setWeight (a CheckpointPercentages
// entry, the share of instances replaced) and holds there for
// CheckpointDelay, the longest AWS allows, while the engine runs the
// steps that follow (pauses, analysis, approvals). AWS has no call that
// continues a refresh before its delay is over, so the next setWeight step
// (ShiftTraffic) cancels the held refresh (replaced instances stay) and
// starts one to the same launch template version with the checkpoints
// left, skipping the instances already replaced; the last one (100) has
// none. A failed step rolls the active refresh back (Rollback).

// maxCheckpointDelay is the longest CheckpointDelay AWS accepts: two
// days, in seconds.
const maxCheckpointDelay = 172800

// checkpoints returns the checkpoints of d's rolling update from weight
// on (all of them for 0), ending at 100; none when d's strategy has no
// rolling steps.
func checkpoints(d *reconcile.Deployment, from spec.Percent) []int32 {
	if d.Mode != spec.StrategyRolling || d.Environment == nil || d.Environment.Strategy == nil || d.Environment.Strategy.Rolling == nil {
		return nil
	}
	var out []int32
	for _, s := range d.Environment.Strategy.Rolling.Steps {
		if s.SetWeight != nil && *s.SetWeight >= from {
			out = append(out, percent(*s.SetWeight))
		}
	}
	if len(out) == 0 && from == 0 {
		return nil
	}
	if len(out) == 0 || out[len(out)-1] < 100 {
		out = append(out, 100)
	}
	return out
}

// percent is a checkpoint weight as AWS takes it: a whole percentage.
func percent(w spec.Percent) int32 { return int32(math.Ceil(float64(w))) }

// refreshPreferences returns the preferences of a refresh of d that
// starts at the checkpoint weight from.
func refreshPreferences(d *reconcile.Deployment, from spec.Percent) *astypes.RefreshPreferences {
	ir := d.Target.AutoScalingGroup.InstanceRefresh
	prefs := &astypes.RefreshPreferences{SkipMatching: aws.Bool(true)}
	if ir != nil && ir.MinHealthyPercentage != nil {
		prefs.MinHealthyPercentage = aws.Int32(int32(*ir.MinHealthyPercentage))
	}
	if ir != nil && ir.InstanceWarmup != nil {
		prefs.InstanceWarmup = aws.Int32(int32(ir.InstanceWarmup.Seconds()))
	}
	if cps := checkpoints(d, from); len(cps) > 1 {
		prefs.CheckpointPercentages, prefs.CheckpointDelay = cps, aws.Int32(maxCheckpointDelay)
	}
	return prefs
}

// firstCheckpoint is the checkpoint a refresh stops at first: 100 when it
// has none.
func firstCheckpoint(ref *astypes.InstanceRefresh) int32 {
	if ref.Preferences == nil || len(ref.Preferences.CheckpointPercentages) == 0 {
		return 100
	}
	return ref.Preferences.CheckpointPercentages[0]
}

func activeRefresh(ref *astypes.InstanceRefresh) bool {
	return ref.Status == astypes.InstanceRefreshStatusPending || ref.Status == astypes.InstanceRefreshStatusInProgress
}

// shiftRolling brings the active group's refresh to the checkpoint w: it
// returns Waiting until PercentageComplete (replaced instances healthy
// and warm) reaches w, moves a refresh held at an earlier checkpoint on,
// and stalls on a refresh that failed. Without rolling steps, or without
// a refresh to the group's version (a first deploy, a change of settings
// only), there is nothing to do.
func (p *Platform) shiftRolling(ctx context.Context, d *reconcile.Deployment, w spec.Percent) error {
	if len(checkpoints(d, 0)) == 0 {
		return nil
	}
	gs, err := p.groups(ctx, d)
	if err != nil {
		return err
	}
	g := active(gs, "")
	if g == nil {
		return nil
	}
	ref, err := p.latestRefresh(ctx, g)
	if err != nil || ref == nil || desiredTemplate(ref) == nil {
		return err
	}
	// A cancelled refresh restored the group's previous template (AWS
	// applies a desired configuration when a refresh succeeds only).
	if ref.Status != astypes.InstanceRefreshStatusCancelled && !refreshesTo(ref, groupVersion(g)) {
		return nil
	}
	first, name := firstCheckpoint(ref), aws.ToString(g.AutoScalingGroupName)
	switch {
	case ref.Status == astypes.InstanceRefreshStatusSuccessful:
		return nil
	case activeRefresh(ref) && first >= percent(w):
		return p.reached(ref, name, w)
	case activeRefresh(ref):
		if err := p.cancelRefresh(ctx, d, g, ref); err != nil {
			return err
		}
	case ref.Status != astypes.InstanceRefreshStatusCancelled || first >= percent(w):
		return reconcile.Stalled(fmt.Errorf("instance refresh %s of %s %s (%s): the rolling update cannot reach its checkpoint at %s; roll back or push a fix",
			aws.ToString(ref.InstanceRefreshId), name, ref.Status, aws.ToString(ref.StatusReason), w))
	}
	desired := desiredTemplate(ref)
	version, err := strconv.ParseInt(aws.ToString(desired.Version), 10, 64)
	if err != nil {
		return reconcile.Stalled(fmt.Errorf("instance refresh %s of %s: launch template version %q is not a number", aws.ToString(ref.InstanceRefreshId), name, aws.ToString(desired.Version)))
	}
	if err := p.startRefresh(ctx, d, g, ltRef{id: aws.ToString(desired.LaunchTemplateId), version: version}, w); err != nil {
		return err
	}
	if percent(w) >= 100 {
		return nil
	}
	return reconcile.Waiting(p.requeue, "group %s: instance refresh replacing instances up to its checkpoint at %s", name, w)
}

// reached returns nil once ref has replaced w of the instances, Waiting
// before.
func (p *Platform) reached(ref *astypes.InstanceRefresh, name string, w spec.Percent) error {
	if percent(w) >= 100 || aws.ToInt32(ref.PercentageComplete) >= percent(w) {
		return nil
	}
	return reconcile.Waiting(p.requeue, "instance refresh %s of %s replacing instances up to its checkpoint at %s: %d%% complete",
		aws.ToString(ref.InstanceRefreshId), name, w, aws.ToInt32(ref.PercentageComplete))
}

// cancelRefresh cancels ref, held at a checkpoint, so that another can go
// on from there; instances it replaced stay.
func (p *Platform) cancelRefresh(ctx context.Context, d *reconcile.Deployment, g *astypes.AutoScalingGroup, ref *astypes.InstanceRefresh) error {
	_, err := p.c.AutoScaling.CancelInstanceRefresh(ctx, &autoscaling.CancelInstanceRefreshInput{AutoScalingGroupName: g.AutoScalingGroupName})
	if err != nil && !isCode(err, "ActiveInstanceRefreshNotFound") {
		return classify(fmt.Errorf("cancel instance refresh %s of %s at its checkpoint: %w", aws.ToString(ref.InstanceRefreshId), aws.ToString(g.AutoScalingGroupName), err))
	}
	p.logger(d, "shift").Info("instance refresh passed its checkpoint", "group", aws.ToString(g.AutoScalingGroupName), "refresh", aws.ToString(ref.InstanceRefreshId))
	return nil
}

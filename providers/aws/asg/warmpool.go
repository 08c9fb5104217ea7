package asg

import (
	"context"
	"fmt"
	"reflect"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"

	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// warmPoolData is a warm pool in the shape diffs compare, AWS's defaults
// filled in (-1: the group's maxSize).
type warmPoolData struct {
	MinSize                  int32  `json:"minSize"`
	MaxGroupPreparedCapacity int32  `json:"maxGroupPreparedCapacity"`
	PoolState                string `json:"poolState"`
	ReuseOnScaleIn           bool   `json:"reuseOnScaleIn"`
}

// desiredWarmPool returns the spec's warm pool; nil when it has none.
func desiredWarmPool(g *spec.AutoScalingGroupTarget) *warmPoolData {
	w := g.WarmPool
	if w == nil {
		return nil
	}
	out := &warmPoolData{MinSize: w.MinSize, MaxGroupPreparedCapacity: -1, PoolState: or(w.PoolState, "Stopped"), ReuseOnScaleIn: w.ReuseOnScaleIn}
	if w.MaxGroupPreparedCapacity != nil {
		out.MaxGroupPreparedCapacity = *w.MaxGroupPreparedCapacity
	}
	return out
}

// liveWarmPool returns a group's warm pool (DescribeAutoScalingGroups
// reports it); nil when it has none or it is being deleted.
func liveWarmPool(g *astypes.AutoScalingGroup) *warmPoolData {
	w := g.WarmPoolConfiguration
	if w == nil || w.Status == astypes.WarmPoolStatusPendingDelete {
		return nil
	}
	out := &warmPoolData{MinSize: aws.ToInt32(w.MinSize), MaxGroupPreparedCapacity: -1, PoolState: string(w.PoolState)}
	if w.MaxGroupPreparedCapacity != nil {
		out.MaxGroupPreparedCapacity = *w.MaxGroupPreparedCapacity
	}
	if w.InstanceReusePolicy != nil {
		out.ReuseOnScaleIn = aws.ToBool(w.InstanceReusePolicy.ReuseOnScaleIn)
	}
	return out
}

// syncWarmPool puts the spec's warm pool on the group named name when it
// differs from have, and deletes the pool the spec no longer declares.
func (p *Platform) syncWarmPool(ctx context.Context, d *reconcile.Deployment, name string, have *warmPoolData) error {
	want := desiredWarmPool(d.Target.AutoScalingGroup)
	switch {
	case reflect.DeepEqual(want, have):
		return nil
	case want == nil:
		return p.deleteWarmPool(ctx, d, name, "apply")
	}
	in := &autoscaling.PutWarmPoolInput{AutoScalingGroupName: aws.String(name), MinSize: aws.Int32(want.MinSize),
		MaxGroupPreparedCapacity: aws.Int32(want.MaxGroupPreparedCapacity), PoolState: astypes.WarmPoolState(want.PoolState),
		InstanceReusePolicy: &astypes.InstanceReusePolicy{ReuseOnScaleIn: aws.Bool(want.ReuseOnScaleIn)}}
	if _, err := p.c.AutoScaling.PutWarmPool(ctx, in); err != nil {
		return classify(fmt.Errorf("put the warm pool of Auto Scaling group %s: %w", name, err))
	}
	p.logger(d, "apply").Info("put warm pool", "group", name, "minSize", want.MinSize, "poolState", want.PoolState)
	return nil
}

// deleteWarmPool deletes the warm pool of the group named name with its
// instances, as AWS requires before the group is deleted.
func (p *Platform) deleteWarmPool(ctx context.Context, d *reconcile.Deployment, name, step string) error {
	_, err := p.c.AutoScaling.DeleteWarmPool(ctx, &autoscaling.DeleteWarmPoolInput{AutoScalingGroupName: aws.String(name), ForceDelete: aws.Bool(true)})
	if err != nil && !isGone(err) {
		return classify(fmt.Errorf("delete the warm pool of Auto Scaling group %s: %w", name, err))
	}
	p.logger(d, step).Info("deleted warm pool", "group", name)
	return nil
}

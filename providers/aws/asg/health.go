package asg

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/jibe-dev/jibe/providers/aws/albtraffic"
	"github.com/jibe-dev/jibe/providers/aws/awserr"
	"github.com/jibe-dev/jibe/reconcile"
)

// groupHealth reports whether group g runs its desired capacity on its
// launch template version, every instance InService and Healthy and
// healthy in every target group it is attached to; the reason names
// what is not. An instance the group found Unhealthy fails the group.
func (p *Platform) groupHealth(ctx context.Context, g *astypes.AutoScalingGroup) (reconcile.Health, error) {
	h, failing, err := p.groupVerdict(ctx, g)
	if err != nil {
		return reconcile.Health{}, err
	}
	h.Instances = groupInstances(g, failing)
	return h, nil
}

// groupVerdict is groupHealth's verdict, and how many in-service
// instances fail a target group's health checks.
func (p *Platform) groupVerdict(ctx context.Context, g *astypes.AutoScalingGroup) (reconcile.Health, int, error) {
	name, version := aws.ToString(g.AutoScalingGroupName), groupVersion(g)
	var ready, pending, old, waiting []string
	for _, in := range g.Instances {
		id := aws.ToString(in.InstanceId)
		switch {
		case aws.ToString(in.HealthStatus) == "Unhealthy" && (in.LaunchTemplate == nil || aws.ToString(in.LaunchTemplate.Version) == version):
			return reconcile.Health{State: reconcile.HealthFailed, Reason: fmt.Sprintf("group %s: instance %s failed its health checks%s",
				name, id, p.targetReason(ctx, g, id))}, 0, nil
		case in.LifecycleState == astypes.LifecycleStateTerminating, in.LifecycleState == astypes.LifecycleStateTerminated:
		case in.LaunchTemplate != nil && aws.ToString(in.LaunchTemplate.Version) != version:
			old = append(old, id)
		case in.LifecycleState == astypes.LifecycleStatePendingWait:
			waiting = append(waiting, id)
		case in.LifecycleState != astypes.LifecycleStateInService:
			pending = append(pending, fmt.Sprintf("%s (%s)", id, in.LifecycleState))
		default:
			ready = append(ready, id)
		}
	}
	unhealthy, err := p.unhealthyTargets(ctx, g, ready)
	if err != nil {
		return reconcile.Health{}, 0, err
	}
	want := int(aws.ToInt32(g.DesiredCapacity))
	if len(ready) >= want && len(pending)+len(old)+len(unhealthy)+len(waiting) == 0 {
		return reconcile.Health{State: reconcile.HealthHealthy, Reason: fmt.Sprintf("group %s: %d of %d instances in service and healthy", name, len(ready), want)}, 0, nil
	}
	var why []string
	why = append(why, fmt.Sprintf("group %s: %d of %d instances in service and healthy", name, len(ready)-len(unhealthy), want))
	if len(pending) > 0 {
		why = append(why, "instances pending: "+strings.Join(pending, ", "))
	}
	if len(waiting) > 0 {
		why = append(why, "instances held by a launching lifecycle hook (Pending:Wait) until CompleteLifecycleAction or its heartbeat timeout: "+strings.Join(waiting, ", "))
	}
	if len(old) > 0 {
		why = append(why, fmt.Sprintf("instances on another launch template version than %s: %s", version, strings.Join(old, ", ")))
	}
	if len(unhealthy) > 0 {
		why = append(why, "targets not healthy: "+strings.Join(unhealthy, ", "))
	}
	return reconcile.Health{State: reconcile.HealthProgressing, Reason: strings.Join(why, "; ")}, len(unhealthy), nil
}

// unhealthyTargets describes the instances of ids that are not healthy in
// one of g's target groups, with the load balancer's reason, and for
// initial ones how long the group's health checks take.
func (p *Platform) unhealthyTargets(ctx context.Context, g *astypes.AutoScalingGroup, ids []string) ([]string, error) {
	var out []string
	for _, tg := range g.TargetGroupARNs {
		th, err := p.targetHealth(ctx, tg, ids)
		if err != nil {
			return nil, err
		}
		initial := false
		for _, t := range th {
			if t.TargetHealth != nil && t.TargetHealth.State != elbtypes.TargetHealthStateEnumHealthy {
				out = append(out, describeTarget(t))
				initial = initial || t.TargetHealth.State == elbtypes.TargetHealthStateEnumInitial
			}
		}
		if initial {
			// How long the initial ones take at best, once per target group.
			pace, err := albtraffic.HealthCheckPace(ctx, p.c.ELB, tg)
			if err != nil {
				return nil, err
			}
			out[len(out)-1] += " (" + pace + ")"
		}
	}
	return slices.Compact(out), nil
}

// targetHealth describes ids in target group tg (all its targets when ids
// is empty).
func (p *Platform) targetHealth(ctx context.Context, tg string, ids []string) ([]elbtypes.TargetHealthDescription, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	in := &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(tg)}
	for _, id := range ids {
		in.Targets = append(in.Targets, elbtypes.TargetDescription{Id: aws.String(id)})
	}
	out, err := p.c.ELB.DescribeTargetHealth(ctx, in)
	if err != nil {
		return nil, classify(fmt.Errorf("describe target health of %s: %w", tg, err))
	}
	return out.TargetHealthDescriptions, nil
}

// describeTarget is "i-1 unhealthy (Target.FailedHealthChecks: ...)".
func describeTarget(t elbtypes.TargetHealthDescription) string {
	s := fmt.Sprintf("%s %s", aws.ToString(t.Target.Id), t.TargetHealth.State)
	if r := string(t.TargetHealth.Reason); r != "" {
		s += " (" + r
		if d := aws.ToString(t.TargetHealth.Description); d != "" {
			s += ": " + d
		}
		s += ")"
	}
	return s
}

// targetReason is ", <target description>" for an instance that one of
// g's target groups reports unhealthy, "" otherwise.
func (p *Platform) targetReason(ctx context.Context, g *astypes.AutoScalingGroup, id string) string {
	un, err := p.unhealthyTargets(ctx, g, []string{id})
	if err != nil || len(un) == 0 {
		return ""
	}
	return ": " + strings.Join(un, ", ")
}

// isCode reports whether err is one of the AWS error codes.
func isCode(err error, codes ...string) bool { return awserr.Is(err, codes...) }

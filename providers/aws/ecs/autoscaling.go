package ecs

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"

	"github.com/jibe-dev/jibe/providers/aws/apidiff"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// Application Auto Scaling owns desiredCount as soon as a scalable target
// is registered for the service, whether the spec declares it or someone
// registered it by hand: Jibe then never sets desiredCount on updates, and
// carries the target and its policies over to any new service it starts.

const (
	scalingNS  = aastypes.ServiceNamespaceEcs
	scalingDim = aastypes.ScalableDimensionECSServiceDesiredCount
)

// resourceID is the Application Auto Scaling id of an ECS service.
func resourceID(cluster, service string) string {
	return "service/" + clusterName(cluster) + "/" + service
}

// clusterName returns the name of a cluster given by name or ARN.
func clusterName(c string) string {
	for i := len(c) - 1; i >= 0; i-- {
		if c[i] == '/' {
			return c[i+1:]
		}
	}
	return c
}

// scaling is a service's live scalable target, policies and scheduled
// actions.
type scaling struct {
	target    aastypes.ScalableTarget
	policies  []aastypes.ScalingPolicy
	scheduled []aastypes.ScheduledAction
}

// scalableTarget returns the service's scalable target, or nil.
func (p *Platform) scalableTarget(ctx context.Context, cluster, service string) (*aastypes.ScalableTarget, error) {
	out, err := p.c.Scaling.DescribeScalableTargets(ctx, &aas.DescribeScalableTargetsInput{ServiceNamespace: scalingNS,
		ResourceIds: []string{resourceID(cluster, service)}, ScalableDimension: scalingDim})
	if err != nil {
		return nil, classify(fmt.Errorf("describe scalable target of %s: %w", service, err))
	}
	if len(out.ScalableTargets) == 0 {
		return nil, nil
	}
	return &out.ScalableTargets[0], nil
}

// readScaling returns the service's scalable target and policies, or nil.
func (p *Platform) readScaling(ctx context.Context, cluster, service string) (*scaling, error) {
	t, err := p.scalableTarget(ctx, cluster, service)
	if err != nil || t == nil {
		return nil, err
	}
	out, err := p.c.Scaling.DescribeScalingPolicies(ctx, &aas.DescribeScalingPoliciesInput{ServiceNamespace: scalingNS,
		ResourceId: t.ResourceId, ScalableDimension: scalingDim})
	if err != nil {
		return nil, classify(fmt.Errorf("describe scaling policies of %s: %w", service, err))
	}
	sched, err := p.scheduledActions(ctx, aws.ToString(t.ResourceId))
	if err != nil {
		return nil, err
	}
	return &scaling{target: *t, policies: out.ScalingPolicies, scheduled: sched}, nil
}

// scheduledActions returns the scheduled actions of resource id.
func (p *Platform) scheduledActions(ctx context.Context, id string) ([]aastypes.ScheduledAction, error) {
	out, err := p.c.Scaling.DescribeScheduledActions(ctx, &aas.DescribeScheduledActionsInput{ServiceNamespace: scalingNS,
		ResourceId: aws.String(id), ScalableDimension: scalingDim})
	if err != nil {
		return nil, classify(fmt.Errorf("describe scheduled actions of %s: %w", id, err))
	}
	return out.ScheduledActions, nil
}

// copyScaling registers from's target and policies for service, as
// Spinnaker does when a new server group replaces an old one.
func (p *Platform) copyScaling(ctx context.Context, cluster, service string, from *scaling) error {
	id := resourceID(cluster, service)
	if err := p.registerTarget(ctx, id, from.target.MinCapacity, from.target.MaxCapacity); err != nil {
		return err
	}
	for _, pol := range from.policies {
		in := &aas.PutScalingPolicyInput{PolicyName: pol.PolicyName, ServiceNamespace: scalingNS, ResourceId: aws.String(id),
			ScalableDimension: scalingDim, PolicyType: pol.PolicyType,
			TargetTrackingScalingPolicyConfiguration: pol.TargetTrackingScalingPolicyConfiguration,
			StepScalingPolicyConfiguration:           pol.StepScalingPolicyConfiguration}
		if _, err := p.c.Scaling.PutScalingPolicy(ctx, in); err != nil {
			return classify(fmt.Errorf("copy scaling policy %s to %s: %w", aws.ToString(pol.PolicyName), service, err))
		}
	}
	for _, a := range from.scheduled {
		in := &aas.PutScheduledActionInput{ScheduledActionName: a.ScheduledActionName, ServiceNamespace: scalingNS,
			ResourceId: aws.String(id), ScalableDimension: scalingDim, Schedule: a.Schedule, Timezone: a.Timezone,
			StartTime: a.StartTime, EndTime: a.EndTime, ScalableTargetAction: a.ScalableTargetAction}
		if _, err := p.c.Scaling.PutScheduledAction(ctx, in); err != nil {
			return classify(fmt.Errorf("copy scheduled action %s to %s: %w", aws.ToString(a.ScheduledActionName), service, err))
		}
	}
	return nil
}

func (p *Platform) registerTarget(ctx context.Context, id string, minCap, maxCap *int32) error {
	_, err := p.c.Scaling.RegisterScalableTarget(ctx, &aas.RegisterScalableTargetInput{ServiceNamespace: scalingNS,
		ResourceId: aws.String(id), ScalableDimension: scalingDim, MinCapacity: minCap, MaxCapacity: maxCap})
	if err != nil {
		return classify(fmt.Errorf("register scalable target %s: %w", id, err))
	}
	return nil
}

// deregisterScaling removes the service's scalable target (and with it
// its policies), so that nothing scales a service being retired.
func (p *Platform) deregisterScaling(ctx context.Context, cluster, service string) error {
	_, err := p.c.Scaling.DeregisterScalableTarget(ctx, &aas.DeregisterScalableTargetInput{ServiceNamespace: scalingNS,
		ResourceId: aws.String(resourceID(cluster, service)), ScalableDimension: scalingDim})
	if err != nil && !isCode(err, "ObjectNotFoundException") {
		return classify(fmt.Errorf("deregister scalable target of %s: %w", service, err))
	}
	return nil
}

// applyScaling makes the service's scalable target and policies those of
// the spec, deleting policies the spec no longer has.
func (p *Platform) applyScaling(ctx context.Context, cluster, service string, as *spec.ECSAutoScaling) error {
	id := resourceID(cluster, service)
	if err := p.registerTarget(ctx, id, aws.Int32(as.MinCapacity), aws.Int32(as.MaxCapacity)); err != nil {
		return err
	}
	keep := map[string]bool{}
	for _, pol := range as.Policies {
		keep[pol.Name] = true
		if _, err := p.c.Scaling.PutScalingPolicy(ctx, policyInput(id, pol)); err != nil {
			return classify(fmt.Errorf("put scaling policy %s of %s: %w", pol.Name, service, err))
		}
	}
	if err := p.prunePolicies(ctx, id, keep); err != nil {
		return err
	}
	return p.applyScheduled(ctx, id, as.ScheduledActions)
}

// applyScheduled makes the target's scheduled actions those of the spec.
func (p *Platform) applyScheduled(ctx context.Context, id string, actions []spec.ScheduledAction) error {
	keep := map[string]bool{}
	for _, a := range actions {
		keep[a.Name] = true
		if _, err := p.c.Scaling.PutScheduledAction(ctx, scheduledInput(id, a)); err != nil {
			return classify(fmt.Errorf("put scheduled action %s of %s: %w", a.Name, id, err))
		}
	}
	live, err := p.scheduledActions(ctx, id)
	if err != nil {
		return err
	}
	for _, a := range live {
		if keep[aws.ToString(a.ScheduledActionName)] {
			continue
		}
		if _, err := p.c.Scaling.DeleteScheduledAction(ctx, &aas.DeleteScheduledActionInput{ScheduledActionName: a.ScheduledActionName,
			ServiceNamespace: scalingNS, ResourceId: aws.String(id), ScalableDimension: scalingDim}); err != nil {
			return classify(fmt.Errorf("delete scheduled action %s: %w", aws.ToString(a.ScheduledActionName), err))
		}
	}
	return nil
}

// scheduledInput converts a spec scheduled action to PutScheduledAction.
func scheduledInput(id string, a spec.ScheduledAction) *aas.PutScheduledActionInput {
	return &aas.PutScheduledActionInput{ScheduledActionName: aws.String(a.Name), ServiceNamespace: scalingNS,
		ResourceId: aws.String(id), ScalableDimension: scalingDim, Schedule: aws.String(a.Schedule), Timezone: optional(a.Timezone),
		ScalableTargetAction: &aastypes.ScalableTargetAction{MinCapacity: a.MinCapacity, MaxCapacity: a.MaxCapacity}}
}

// prunePolicies deletes the target's policies not in keep.
func (p *Platform) prunePolicies(ctx context.Context, id string, keep map[string]bool) error {
	out, err := p.c.Scaling.DescribeScalingPolicies(ctx, &aas.DescribeScalingPoliciesInput{ServiceNamespace: scalingNS,
		ResourceId: aws.String(id), ScalableDimension: scalingDim})
	if err != nil {
		return classify(fmt.Errorf("describe scaling policies of %s: %w", id, err))
	}
	for _, pol := range out.ScalingPolicies {
		if keep[aws.ToString(pol.PolicyName)] {
			continue
		}
		if _, err := p.c.Scaling.DeleteScalingPolicy(ctx, &aas.DeleteScalingPolicyInput{PolicyName: pol.PolicyName,
			ServiceNamespace: scalingNS, ResourceId: aws.String(id), ScalableDimension: scalingDim}); err != nil {
			return classify(fmt.Errorf("delete scaling policy %s: %w", aws.ToString(pol.PolicyName), err))
		}
	}
	return nil
}

// policyInput converts a spec policy to PutScalingPolicy.
func policyInput(id string, pol spec.ScalingPolicy) *aas.PutScalingPolicyInput {
	in := &aas.PutScalingPolicyInput{PolicyName: aws.String(pol.Name), ServiceNamespace: scalingNS,
		ResourceId: aws.String(id), ScalableDimension: scalingDim}
	if tt := pol.TargetTracking; tt != nil {
		in.PolicyType = aastypes.PolicyTypeTargetTrackingScaling
		in.TargetTrackingScalingPolicyConfiguration = targetTracking(tt)
	}
	if ss := pol.StepScaling; ss != nil {
		in.PolicyType = aastypes.PolicyTypeStepScaling
		in.StepScalingPolicyConfiguration = stepScaling(ss)
	}
	return in
}

func targetTracking(tt *spec.TargetTracking) *aastypes.TargetTrackingScalingPolicyConfiguration {
	c := &aastypes.TargetTrackingScalingPolicyConfiguration{TargetValue: aws.Float64(tt.TargetValue),
		ScaleInCooldown: seconds(tt.ScaleInCooldown), ScaleOutCooldown: seconds(tt.ScaleOutCooldown),
		DisableScaleIn: aws.Bool(tt.DisableScaleIn)}
	if tt.PredefinedMetric != "" {
		c.PredefinedMetricSpecification = &aastypes.PredefinedMetricSpecification{
			PredefinedMetricType: aastypes.MetricType(tt.PredefinedMetric), ResourceLabel: optional(tt.ResourceLabel)}
	}
	if m := tt.CustomMetric; m != nil {
		cm := &aastypes.CustomizedMetricSpecification{MetricName: aws.String(m.Name), Namespace: aws.String(m.Namespace),
			Statistic: aastypes.MetricStatistic(m.Statistic), Unit: optional(m.Unit)}
		for k, v := range m.Dimensions {
			cm.Dimensions = append(cm.Dimensions, aastypes.MetricDimension{Name: aws.String(k), Value: aws.String(v)})
		}
		c.CustomizedMetricSpecification = cm
	}
	return c
}

func stepScaling(ss *spec.StepScaling) *aastypes.StepScalingPolicyConfiguration {
	c := &aastypes.StepScalingPolicyConfiguration{AdjustmentType: aastypes.AdjustmentType(ss.AdjustmentType),
		Cooldown: seconds(ss.Cooldown), MetricAggregationType: aastypes.MetricAggregationType(ss.MetricAggregationType)}
	for _, s := range ss.Steps {
		c.StepAdjustments = append(c.StepAdjustments, aastypes.StepAdjustment{MetricIntervalLowerBound: s.LowerBound,
			MetricIntervalUpperBound: s.UpperBound, ScalingAdjustment: aws.Int32(s.Adjustment)})
	}
	return c
}

func seconds(d *spec.Duration) *int32 {
	if d == nil {
		return nil
	}
	return aws.Int32(int32(d.Seconds()))
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

// scalingBatch is DescribeScalableTargets' limit of resource ids per call.
const scalingBatch = 50

// scalableTargets returns the registered scalable targets among ids, by
// resource id, in batches of scalingBatch.
func (p *Platform) scalableTargets(ctx context.Context, ids []string) (map[string]*aastypes.ScalableTarget, error) {
	out := map[string]*aastypes.ScalableTarget{}
	for batch := range slices.Chunk(ids, scalingBatch) {
		res, err := p.c.Scaling.DescribeScalableTargets(ctx, &aas.DescribeScalableTargetsInput{ServiceNamespace: scalingNS,
			ResourceIds: batch, ScalableDimension: scalingDim})
		if err != nil {
			return nil, classify(fmt.Errorf("describe scalable targets: %w", err))
		}
		for i := range res.ScalableTargets {
			t := &res.ScalableTargets[i]
			out[aws.ToString(t.ResourceId)] = t
		}
	}
	return out, nil
}

// scalingView is the comparable shape of a scalable target, its policies
// and scheduled actions.
type scalingView struct {
	MinCapacity      int32           `json:"minCapacity"`
	MaxCapacity      int32           `json:"maxCapacity"`
	Policies         []policyView    `json:"policies,omitempty"`
	ScheduledActions []scheduledView `json:"scheduledActions,omitempty"`
}

// scheduledView is the comparable shape of a scheduled action.
type scheduledView struct {
	Name        string `json:"name"`
	Schedule    string `json:"schedule"`
	Timezone    string `json:"timezone,omitempty"`
	MinCapacity *int32 `json:"minCapacity,omitempty"`
	MaxCapacity *int32 `json:"maxCapacity,omitempty"`
}

// policyView is the comparable shape of a scaling policy.
type policyView struct {
	Name           string                                             `json:"name"`
	Type           aastypes.PolicyType                                `json:"type"`
	TargetTracking *aastypes.TargetTrackingScalingPolicyConfiguration `json:"targetTracking,omitempty"`
	StepScaling    *aastypes.StepScalingPolicyConfiguration           `json:"stepScaling,omitempty"`
}

// desiredScaling is the view of the spec's autoscaling.
func desiredScaling(as *spec.ECSAutoScaling) scalingView {
	v := scalingView{MinCapacity: as.MinCapacity, MaxCapacity: as.MaxCapacity}
	for _, pol := range as.Policies {
		in := policyInput("", pol)
		v.Policies = append(v.Policies, policyView{Name: pol.Name, Type: in.PolicyType,
			TargetTracking: in.TargetTrackingScalingPolicyConfiguration, StepScaling: in.StepScalingPolicyConfiguration})
	}
	for _, a := range as.ScheduledActions {
		v.ScheduledActions = append(v.ScheduledActions, scheduledView{Name: a.Name, Schedule: a.Schedule, Timezone: a.Timezone,
			MinCapacity: a.MinCapacity, MaxCapacity: a.MaxCapacity})
	}
	sortScheduled(v.ScheduledActions)
	return v
}

func sortScheduled(v []scheduledView) {
	slices.SortFunc(v, func(a, b scheduledView) int { return strings.Compare(a.Name, b.Name) })
}

// liveScaling is the view of a live target and its policies.
func liveScaling(sc *scaling) scalingView {
	v := scalingView{MinCapacity: aws.ToInt32(sc.target.MinCapacity), MaxCapacity: aws.ToInt32(sc.target.MaxCapacity)}
	for _, pol := range sc.policies {
		v.Policies = append(v.Policies, policyView{Name: aws.ToString(pol.PolicyName), Type: pol.PolicyType,
			TargetTracking: pol.TargetTrackingScalingPolicyConfiguration, StepScaling: pol.StepScalingPolicyConfiguration})
	}
	for _, a := range sc.scheduled {
		sv := scheduledView{Name: aws.ToString(a.ScheduledActionName), Schedule: aws.ToString(a.Schedule), Timezone: aws.ToString(a.Timezone)}
		if ta := a.ScalableTargetAction; ta != nil {
			sv.MinCapacity, sv.MaxCapacity = ta.MinCapacity, ta.MaxCapacity
		}
		v.ScheduledActions = append(v.ScheduledActions, sv)
	}
	sortScheduled(v.ScheduledActions)
	return v
}

// scalingDiff returns the change the spec's autoscaling makes to the
// service's, or nil. Without autoScaling in the spec, the live target is
// left alone (and owns desiredCount).
func (p *Platform) scalingDiff(ctx context.Context, d *reconcile.Deployment, name string, target *aastypes.ScalableTarget) (*reconcile.Change, error) {
	as := d.Target.ECS.AutoScaling
	if as == nil {
		return nil, nil
	}
	c := &reconcile.Change{Target: d.Target.Name, Resource: "Application Auto Scaling target " + resourceID(d.Target.Service.Cluster, name)}
	if target == nil {
		c.Action = reconcile.ActionCreate
		return c, nil
	}
	sc, err := p.readScaling(ctx, d.Target.Service.Cluster, name)
	if err != nil || sc == nil {
		return nil, err
	}
	if c.Fields, err = apidiff.Fields("", liveScaling(sc), desiredScaling(as)); err != nil || len(c.Fields) == 0 {
		return nil, err
	}
	c.Action = reconcile.ActionUpdate
	return c, nil
}

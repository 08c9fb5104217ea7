package asg

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"

	"github.com/jibe-dev/jibe/providers/aws/awstag"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// Tags Jibe puts on groups besides awstag.App, awstag.Environment,
// awstag.Revision and ecs.TagSwitchedAt (the time a red/black rollout
// detached the group from its target groups).
const (
	// TagGroup names the target's group (autoScalingGroup.name) on every
	// group deployed for it, whatever the group's own name.
	TagGroup = "jibe.dev/group"
	// TagDisabledAt marks a group that red/black retired: scaled to zero
	// with its scaling processes suspended, kept for rollback.
	TagDisabledAt = "jibe.dev/disabled-at"
	// TagCapacity keeps a retired group's "min/max/desired" for rollback.
	TagCapacity = "jibe.dev/capacity"
)

// retiredProcesses are suspended on a retired group: nothing scales it,
// re-adds it to the load balancer or replaces its instances.
var retiredProcesses = []string{"AlarmNotification", "ScheduledActions", "AZRebalance", "AddToLoadBalancer", "HealthCheck", "ReplaceUnhealthy", "InstanceRefresh"}

// groups returns the groups deployed for d's target, oldest first.
func (p *Platform) groups(ctx context.Context, d *reconcile.Deployment) ([]astypes.AutoScalingGroup, error) {
	return p.tagged(ctx, d, false)
}

// tagged returns the groups tagged for d's target, application and
// environment, oldest first; those being deleted too when deleting is set.
func (p *Platform) tagged(ctx context.Context, d *reconcile.Deployment, deleting bool) ([]astypes.AutoScalingGroup, error) {
	in := &autoscaling.DescribeAutoScalingGroupsInput{Filters: []astypes.Filter{
		{Name: aws.String("tag:" + TagGroup), Values: []string{d.Target.AutoScalingGroup.Name}},
		{Name: aws.String("tag:" + awstag.App), Values: []string{d.App}},
		{Name: aws.String("tag:" + awstag.Environment), Values: []string{d.Env}}}}
	var out []astypes.AutoScalingGroup
	pages := autoscaling.NewDescribeAutoScalingGroupsPaginator(p.c.AutoScaling, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, classify(fmt.Errorf("describe the Auto Scaling groups of %s: %w", d.Target.AutoScalingGroup.Name, err))
		}
		for _, g := range page.AutoScalingGroups {
			if deleting || aws.ToString(g.Status) == "" { // "Delete in progress" groups are gone for Jibe
				out = append(out, g)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b astypes.AutoScalingGroup) int {
		return aws.ToTime(a.CreatedTime).Compare(aws.ToTime(b.CreatedTime))
	})
	return out, nil
}

// tagOf returns the value of a group's tag.
func tagOf(g *astypes.AutoScalingGroup, key string) string {
	for _, t := range g.Tags {
		if aws.ToString(t.Key) == key {
			return aws.ToString(t.Value)
		}
	}
	return ""
}

// active returns the newest group that is not retired, nil when none is
// (the group a rolling deployment updates and a red/black one replaces),
// skipping the group named skip.
func active(gs []astypes.AutoScalingGroup, skip string) *astypes.AutoScalingGroup {
	for i := len(gs) - 1; i >= 0; i-- {
		if tagOf(&gs[i], TagDisabledAt) == "" && aws.ToString(gs[i].AutoScalingGroupName) != skip {
			return &gs[i]
		}
	}
	return nil
}

// named returns the group of that name, nil when none is.
func named(gs []astypes.AutoScalingGroup, name string) *astypes.AutoScalingGroup {
	for i := range gs {
		if aws.ToString(gs[i].AutoScalingGroupName) == name {
			return &gs[i]
		}
	}
	return nil
}

// groupData is a group's settings in the shape diffs compare.
type groupData struct {
	MinSize                int32                 `json:"minSize"`
	MaxSize                int32                 `json:"maxSize"`
	DesiredCapacity        *int32                `json:"desiredCapacity,omitempty"`
	Subnets                []string              `json:"subnets"`
	TargetGroupArns        []string              `json:"targetGroupArns"`
	HealthCheckType        string                `json:"healthCheckType"`
	HealthCheckGracePeriod int32                 `json:"healthCheckGracePeriod"`
	Tags                   map[string]string     `json:"tags"`
	ScalingPolicies        map[string]policyData `json:"scalingPolicies,omitempty"`
	TerminationPolicies    []string              `json:"terminationPolicies,omitempty"`
	ScheduledActions       map[string]actionData `json:"scheduledActions,omitempty"`
	LifecycleHooks         map[string]hookData   `json:"lifecycleHooks,omitempty"`
	MixedInstancesPolicy   *mixedData            `json:"mixedInstancesPolicy,omitempty"`
	WarmPool               *warmPoolData         `json:"warmPool,omitempty"`
}

// desiredGroup returns the settings the target declares. Desired capacity
// is only compared when the spec sets it and no scaling policy owns it.
func desiredGroup(g *spec.AutoScalingGroupTarget) groupData {
	out := groupData{MinSize: g.MinSize, MaxSize: g.MaxSize, Subnets: sorted(g.Subnets), TargetGroupArns: sorted(g.TargetGroupArns),
		HealthCheckType: g.HealthCheckType, HealthCheckGracePeriod: graceSeconds(g), Tags: g.Tags, ScalingPolicies: desiredPolicies(g.ScalingPolicies),
		TerminationPolicies: g.TerminationPolicies, ScheduledActions: comparableActions(desiredActions(g.ScheduledActions)), LifecycleHooks: desiredHooks(g.LifecycleHooks),
		MixedInstancesPolicy: desiredMixed(g.MixedInstancesPolicy), WarmPool: desiredWarmPool(g)}
	if len(g.ScalingPolicies) == 0 {
		out.DesiredCapacity = g.DesiredCapacity
	}
	return out
}

func graceSeconds(g *spec.AutoScalingGroupTarget) int32 {
	if g.HealthCheckGracePeriod == nil {
		return 0
	}
	return int32(g.HealthCheckGracePeriod.Seconds())
}

// liveGroup returns a live group's settings in the shape of desiredGroup,
// with want deciding which optional parts are compared.
func liveGroup(g *astypes.AutoScalingGroup, policies []astypes.ScalingPolicy, want groupData) groupData {
	out := groupData{MinSize: aws.ToInt32(g.MinSize), MaxSize: aws.ToInt32(g.MaxSize), TargetGroupArns: sorted(g.TargetGroupARNs),
		HealthCheckType: aws.ToString(g.HealthCheckType), HealthCheckGracePeriod: aws.ToInt32(g.HealthCheckGracePeriod), Tags: userTags(g),
		MixedInstancesPolicy: liveMixed(g.MixedInstancesPolicy), WarmPool: liveWarmPool(g)}
	if z := aws.ToString(g.VPCZoneIdentifier); z != "" {
		out.Subnets = sorted(strings.Split(z, ","))
	}
	if want.DesiredCapacity != nil && len(policies) == 0 {
		out.DesiredCapacity = g.DesiredCapacity
	}
	if want.ScalingPolicies != nil {
		out.ScalingPolicies = livePolicies(policies)
	}
	if want.TerminationPolicies != nil {
		out.TerminationPolicies = g.TerminationPolicies
	}
	return out
}

// comparableActions is actions without what AWS fills in.
func comparableActions(as map[string]actionData) map[string]actionData {
	if as == nil {
		return nil
	}
	out := map[string]actionData{}
	for name, a := range as {
		out[name] = a.comparable()
	}
	return out
}

// userTags returns a group's tags other than Jibe's.
func userTags(g *astypes.AutoScalingGroup) map[string]string {
	out := map[string]string{}
	for _, t := range g.Tags {
		if k := aws.ToString(t.Key); !strings.HasPrefix(k, "jibe.dev/") {
			out[k] = aws.ToString(t.Value)
		}
	}
	return out
}

// groupTags returns the tags of a group of d at revision: the spec's and
// Jibe's, all propagated to instances.
func groupTags(d *reconcile.Deployment, name string) []astypes.Tag {
	all := map[string]string{TagGroup: d.Target.AutoScalingGroup.Name, awstag.App: d.App, awstag.Environment: d.Env, awstag.Revision: d.Revision}
	maps.Copy(all, d.Target.AutoScalingGroup.Tags)
	return tagList(name, all)
}

func tagList(group string, tags map[string]string) []astypes.Tag {
	var out []astypes.Tag
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		out = append(out, astypes.Tag{ResourceId: aws.String(group), ResourceType: aws.String("auto-scaling-group"), Key: aws.String(k),
			Value: aws.String(tags[k]), PropagateAtLaunch: aws.Bool(true)})
	}
	return out
}

// createGroup creates a group of d named name from the template version,
// with desired instances and the lifecycle hooks, which its first
// instances wait on.
func (p *Platform) createGroup(ctx context.Context, d *reconcile.Deployment, name string, lt ltRef, desired int32, hooks map[string]hookData) error {
	g := d.Target.AutoScalingGroup
	in := &autoscaling.CreateAutoScalingGroupInput{AutoScalingGroupName: aws.String(name), MinSize: aws.Int32(g.MinSize), MaxSize: aws.Int32(g.MaxSize),
		TerminationPolicies: g.TerminationPolicies, LifecycleHookSpecificationList: hookSpecs(hooks),
		DesiredCapacity: aws.Int32(desired), VPCZoneIdentifier: aws.String(strings.Join(g.Subnets, ",")), TargetGroupARNs: g.TargetGroupArns,
		HealthCheckType: aws.String(g.HealthCheckType), HealthCheckGracePeriod: aws.Int32(graceSeconds(g)), Tags: groupTags(d, name)}
	in.LaunchTemplate, in.MixedInstancesPolicy = launchWith(g, lt.spec())
	if _, err := p.c.AutoScaling.CreateAutoScalingGroup(ctx, in); err != nil {
		return classify(fmt.Errorf("create Auto Scaling group %s: %w", name, err))
	}
	p.logger(d, "apply").Info("created Auto Scaling group", "group", name, "desired", desired, "launchTemplateVersion", lt.version)
	return p.syncWarmPool(ctx, d, name, nil)
}

// initialCapacity is the desired capacity of a new group: the spec's, or
// minSize when the spec leaves it to scaling.
func initialCapacity(g *spec.AutoScalingGroupTarget) int32 {
	if g.DesiredCapacity != nil {
		return *g.DesiredCapacity
	}
	return g.MinSize
}

// updateGroup writes the settings of live that differ from d's (the
// launch template only when lt is not zero); it writes nothing that
// matches.
func (p *Platform) updateGroup(ctx context.Context, d *reconcile.Deployment, live *astypes.AutoScalingGroup, lt ltRef) error {
	want := desiredGroup(d.Target.AutoScalingGroup)
	have := liveGroup(live, nil, want)
	name := aws.ToString(live.AutoScalingGroupName)
	in := &autoscaling.UpdateAutoScalingGroupInput{AutoScalingGroupName: live.AutoScalingGroupName}
	changed := false
	set := func(differs bool, apply func()) {
		if differs {
			apply()
			changed = true
		}
	}
	set(have.MinSize != want.MinSize, func() { in.MinSize = aws.Int32(want.MinSize) })
	set(have.MaxSize != want.MaxSize, func() { in.MaxSize = aws.Int32(want.MaxSize) })
	set(want.DesiredCapacity != nil && aws.ToInt32(have.DesiredCapacity) != *want.DesiredCapacity, func() { in.DesiredCapacity = want.DesiredCapacity })
	set(!slices.Equal(have.Subnets, want.Subnets), func() { in.VPCZoneIdentifier = aws.String(strings.Join(want.Subnets, ",")) })
	set(have.HealthCheckType != want.HealthCheckType, func() { in.HealthCheckType = aws.String(want.HealthCheckType) })
	set(have.HealthCheckGracePeriod != want.HealthCheckGracePeriod, func() { in.HealthCheckGracePeriod = aws.Int32(want.HealthCheckGracePeriod) })
	set(!slices.Equal(have.TerminationPolicies, want.TerminationPolicies), func() { in.TerminationPolicies = want.TerminationPolicies })
	launches := groupTemplate(live)
	if lt.id != "" {
		launches = lt.spec()
	}
	set(lt.id != "" && groupVersion(live) != lt.versionString() || !reflect.DeepEqual(have.MixedInstancesPolicy, want.MixedInstancesPolicy), func() {
		in.LaunchTemplate, in.MixedInstancesPolicy = launchWith(d.Target.AutoScalingGroup, launches)
	})
	if changed {
		if _, err := p.c.AutoScaling.UpdateAutoScalingGroup(ctx, in); err != nil {
			return classify(fmt.Errorf("update Auto Scaling group %s: %w", name, err))
		}
	}
	if err := p.syncTargetGroups(ctx, live, want.TargetGroupArns); err != nil {
		return err
	}
	if err := p.syncWarmPool(ctx, d, name, have.WarmPool); err != nil {
		return err
	}
	return p.syncTags(ctx, d, live)
}

// groupVersion is the launch template version a group launches.
func groupVersion(g *astypes.AutoScalingGroup) string {
	lt := groupTemplate(g)
	if lt == nil {
		return ""
	}
	return aws.ToString(lt.Version)
}

// syncTargetGroups attaches the target groups live lacks and detaches the
// ones the spec no longer has.
func (p *Platform) syncTargetGroups(ctx context.Context, live *astypes.AutoScalingGroup, want []string) error {
	var attach, detach []string
	for _, tg := range want {
		if !slices.Contains(live.TargetGroupARNs, tg) {
			attach = append(attach, tg)
		}
	}
	for _, tg := range live.TargetGroupARNs {
		if !slices.Contains(want, tg) {
			detach = append(detach, tg)
		}
	}
	if err := p.attach(ctx, live, attach); err != nil {
		return err
	}
	return p.detach(ctx, live, detach)
}

// attach attaches target groups to a group, when there are any.
func (p *Platform) attach(ctx context.Context, g *astypes.AutoScalingGroup, tgs []string) error {
	if len(tgs) == 0 {
		return nil
	}
	_, err := p.c.AutoScaling.AttachLoadBalancerTargetGroups(ctx, &autoscaling.AttachLoadBalancerTargetGroupsInput{AutoScalingGroupName: g.AutoScalingGroupName, TargetGroupARNs: tgs})
	if err != nil {
		return classify(fmt.Errorf("attach target groups %v to %s: %w", tgs, aws.ToString(g.AutoScalingGroupName), err))
	}
	return nil
}

// detach detaches target groups from a group, when there are any.
func (p *Platform) detach(ctx context.Context, g *astypes.AutoScalingGroup, tgs []string) error {
	if len(tgs) == 0 {
		return nil
	}
	_, err := p.c.AutoScaling.DetachLoadBalancerTargetGroups(ctx, &autoscaling.DetachLoadBalancerTargetGroupsInput{AutoScalingGroupName: g.AutoScalingGroupName, TargetGroupARNs: tgs})
	if err != nil {
		return classify(fmt.Errorf("detach target groups %v from %s: %w", tgs, aws.ToString(g.AutoScalingGroupName), err))
	}
	return nil
}

// syncTags sets the tags of live that differ from d's (revision
// included).
func (p *Platform) syncTags(ctx context.Context, d *reconcile.Deployment, live *astypes.AutoScalingGroup) error {
	var put []astypes.Tag
	for _, t := range groupTags(d, aws.ToString(live.AutoScalingGroupName)) {
		if tagOf(live, aws.ToString(t.Key)) != aws.ToString(t.Value) {
			put = append(put, t)
		}
	}
	return p.putTags(ctx, live, put)
}

// putTags writes tags on a group, when there are any.
func (p *Platform) putTags(ctx context.Context, g *astypes.AutoScalingGroup, tags []astypes.Tag) error {
	if len(tags) == 0 {
		return nil
	}
	if _, err := p.c.AutoScaling.CreateOrUpdateTags(ctx, &autoscaling.CreateOrUpdateTagsInput{Tags: tags}); err != nil {
		return classify(fmt.Errorf("tag Auto Scaling group %s: %w", aws.ToString(g.AutoScalingGroupName), err))
	}
	return nil
}

// setTag sets one tag of a group (not propagated).
func (p *Platform) setTag(ctx context.Context, g *astypes.AutoScalingGroup, key, value string) error {
	return p.putTags(ctx, g, []astypes.Tag{{ResourceId: g.AutoScalingGroupName, ResourceType: aws.String("auto-scaling-group"),
		Key: aws.String(key), Value: aws.String(value), PropagateAtLaunch: aws.Bool(false)}})
}

// deleteTags removes tags of a group that it has.
func (p *Platform) deleteTags(ctx context.Context, g *astypes.AutoScalingGroup, keys ...string) error {
	var del []astypes.Tag
	for _, k := range keys {
		if tagOf(g, k) != "" {
			del = append(del, astypes.Tag{ResourceId: g.AutoScalingGroupName, ResourceType: aws.String("auto-scaling-group"), Key: aws.String(k)})
		}
	}
	if len(del) == 0 {
		return nil
	}
	if _, err := p.c.AutoScaling.DeleteTags(ctx, &autoscaling.DeleteTagsInput{Tags: del}); err != nil {
		return classify(fmt.Errorf("untag Auto Scaling group %s: %w", aws.ToString(g.AutoScalingGroupName), err))
	}
	return nil
}

// deleteGroup deletes a group with its instances, its warm pool first
// (AWS refuses to delete a group with one, unless forced).
func (p *Platform) deleteGroup(ctx context.Context, d *reconcile.Deployment, g *astypes.AutoScalingGroup, step string) error {
	if liveWarmPool(g) != nil {
		if err := p.deleteWarmPool(ctx, d, aws.ToString(g.AutoScalingGroupName), step); err != nil {
			return err
		}
	}
	_, err := p.c.AutoScaling.DeleteAutoScalingGroup(ctx, &autoscaling.DeleteAutoScalingGroupInput{AutoScalingGroupName: g.AutoScalingGroupName, ForceDelete: aws.Bool(true)})
	if err != nil && !isGone(err) {
		return classify(fmt.Errorf("delete Auto Scaling group %s: %w", aws.ToString(g.AutoScalingGroupName), err))
	}
	p.logger(d, step).Info("deleted Auto Scaling group", "group", aws.ToString(g.AutoScalingGroupName))
	return nil
}

// isGone reports whether err says the group does not exist (any more):
// Auto Scaling answers a ValidationError "AutoScalingGroup name not found".
func isGone(err error) bool {
	return isCode(err, "ValidationError") && strings.Contains(err.Error(), "not found")
}

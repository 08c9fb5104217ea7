package asg

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"

	"github.com/jibe-dev/jibe/spec"
)

// Scheduled actions and lifecycle hooks are owned like scaling policies:
// compared and pruned only when the spec declares some, carried over from
// the old group by red/black when it declares none.

// actionData is a scheduled action in the shape diffs compare.
type actionData struct {
	Recurrence      string `json:"recurrence,omitempty"`
	StartTime       string `json:"startTime,omitempty"`
	EndTime         string `json:"endTime,omitempty"`
	TimeZone        string `json:"timeZone,omitempty"`
	MinSize         *int32 `json:"minSize,omitempty"`
	MaxSize         *int32 `json:"maxSize,omitempty"`
	DesiredCapacity *int32 `json:"desiredCapacity,omitempty"`
}

// hookData is a lifecycle hook in the shape diffs compare.
type hookData struct {
	Transition       string `json:"transition"`
	HeartbeatTimeout int32  `json:"heartbeatTimeout"`
	DefaultResult    string `json:"defaultResult"`
	NotificationARN  string `json:"notificationTargetArn,omitempty"`
	RoleARN          string `json:"roleArn,omitempty"`
	Metadata         string `json:"notificationMetadata,omitempty"`
}

// Lifecycle transitions as Auto Scaling names them.
var transitions = map[string]string{"launching": "autoscaling:EC2_INSTANCE_LAUNCHING", "terminating": "autoscaling:EC2_INSTANCE_TERMINATING"}

// desiredActions returns the spec's scheduled actions by name; nil when
// it declares none. A recurring action keeps AWS's start time, so only a
// one-off action's start time is compared.
func desiredActions(as []spec.GroupScheduledAction) map[string]actionData {
	if len(as) == 0 {
		return nil
	}
	out := map[string]actionData{}
	for _, a := range as {
		out[a.Name] = actionData{Recurrence: a.Recurrence, StartTime: normalTime(a.StartTime), EndTime: normalTime(a.EndTime), TimeZone: a.TimeZone,
			MinSize: a.MinSize, MaxSize: a.MaxSize, DesiredCapacity: a.DesiredCapacity}
	}
	return out
}

// normalTime writes an RFC 3339 time in UTC as Auto Scaling returns it.
func normalTime(s string) string {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return s
	}
	return t.UTC().Format(time.RFC3339)
}

// liveActions returns live scheduled actions by name.
func liveActions(as []astypes.ScheduledUpdateGroupAction) map[string]actionData {
	out := map[string]actionData{}
	for _, a := range as {
		ad := actionData{Recurrence: aws.ToString(a.Recurrence), TimeZone: aws.ToString(a.TimeZone), MinSize: a.MinSize, MaxSize: a.MaxSize, DesiredCapacity: a.DesiredCapacity}
		if a.EndTime != nil {
			ad.EndTime = a.EndTime.UTC().Format(time.RFC3339)
		}
		if a.StartTime != nil && ad.Recurrence == "" {
			ad.StartTime = a.StartTime.UTC().Format(time.RFC3339)
		}
		out[aws.ToString(a.ScheduledActionName)] = ad
	}
	return out
}

// comparable drops a recurring action's start time, which AWS fills in.
func (a actionData) comparable() actionData {
	if a.Recurrence != "" {
		a.StartTime = ""
	}
	return a
}

// desiredHooks returns the spec's lifecycle hooks by name; nil when it
// declares none.
func desiredHooks(hs []spec.LifecycleHook) map[string]hookData {
	if len(hs) == 0 {
		return nil
	}
	out := map[string]hookData{}
	for _, h := range hs {
		hd := hookData{Transition: transitions[h.Transition], DefaultResult: h.DefaultResult, NotificationARN: h.NotificationTargetARN,
			RoleARN: h.RoleARN, Metadata: h.NotificationMetadata}
		if h.HeartbeatTimeout != nil {
			hd.HeartbeatTimeout = int32(h.HeartbeatTimeout.Seconds())
		}
		out[h.Name] = hd
	}
	return out
}

// liveHooks returns live lifecycle hooks by name.
func liveHooks(hs []astypes.LifecycleHook) map[string]hookData {
	out := map[string]hookData{}
	for _, h := range hs {
		out[aws.ToString(h.LifecycleHookName)] = hookData{Transition: aws.ToString(h.LifecycleTransition), HeartbeatTimeout: aws.ToInt32(h.HeartbeatTimeout),
			DefaultResult: aws.ToString(h.DefaultResult), NotificationARN: aws.ToString(h.NotificationTargetARN), RoleARN: aws.ToString(h.RoleARN),
			Metadata: aws.ToString(h.NotificationMetadata)}
	}
	return out
}

// hookSpecs are hooks as CreateAutoScalingGroup takes them, so that a new
// group's first instances wait on them too.
func hookSpecs(hs map[string]hookData) []astypes.LifecycleHookSpecification {
	var out []astypes.LifecycleHookSpecification
	for _, name := range slices.Sorted(maps.Keys(hs)) {
		h := hs[name]
		out = append(out, astypes.LifecycleHookSpecification{LifecycleHookName: aws.String(name), LifecycleTransition: aws.String(h.Transition),
			HeartbeatTimeout: aws.Int32(h.HeartbeatTimeout), DefaultResult: aws.String(h.DefaultResult), NotificationTargetARN: optString(h.NotificationARN),
			RoleARN: optString(h.RoleARN), NotificationMetadata: optString(h.Metadata)})
	}
	return out
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

// actions returns the live scheduled actions of a group.
func (p *Platform) actions(ctx context.Context, group string) ([]astypes.ScheduledUpdateGroupAction, error) {
	var out []astypes.ScheduledUpdateGroupAction
	pages := autoscaling.NewDescribeScheduledActionsPaginator(p.c.AutoScaling, &autoscaling.DescribeScheduledActionsInput{AutoScalingGroupName: aws.String(group)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, classify(fmt.Errorf("describe scheduled actions of %s: %w", group, err))
		}
		out = append(out, page.ScheduledUpdateGroupActions...)
	}
	return out, nil
}

// hooks returns the live lifecycle hooks of a group.
func (p *Platform) hooks(ctx context.Context, group string) ([]astypes.LifecycleHook, error) {
	out, err := p.c.AutoScaling.DescribeLifecycleHooks(ctx, &autoscaling.DescribeLifecycleHooksInput{AutoScalingGroupName: aws.String(group)})
	if err != nil {
		return nil, classify(fmt.Errorf("describe lifecycle hooks of %s: %w", group, err))
	}
	return out.LifecycleHooks, nil
}

// syncActions puts want's actions on group where they differ from the
// live ones and, when prune, deletes live actions want does not name.
func (p *Platform) syncActions(ctx context.Context, group string, want map[string]actionData, prune bool) error {
	if want == nil && !prune {
		return nil
	}
	live, err := p.actions(ctx, group)
	if err != nil {
		return err
	}
	have := liveActions(live)
	for _, name := range slices.Sorted(maps.Keys(want)) {
		if h, ok := have[name]; ok && reflect.DeepEqual(h.comparable(), want[name].comparable()) {
			continue
		}
		if err := p.putAction(ctx, group, name, want[name]); err != nil {
			return err
		}
	}
	for _, name := range slices.Sorted(maps.Keys(have)) {
		if _, ok := want[name]; prune && !ok {
			if _, err := p.c.AutoScaling.DeleteScheduledAction(ctx, &autoscaling.DeleteScheduledActionInput{AutoScalingGroupName: aws.String(group), ScheduledActionName: aws.String(name)}); err != nil {
				return classify(fmt.Errorf("delete scheduled action %s of %s: %w", name, group, err))
			}
		}
	}
	return nil
}

// putAction creates or replaces one scheduled action.
func (p *Platform) putAction(ctx context.Context, group, name string, a actionData) error {
	in := &autoscaling.PutScheduledUpdateGroupActionInput{AutoScalingGroupName: aws.String(group), ScheduledActionName: aws.String(name),
		Recurrence: optString(a.Recurrence), TimeZone: optString(a.TimeZone), MinSize: a.MinSize, MaxSize: a.MaxSize, DesiredCapacity: a.DesiredCapacity}
	for src, dst := range map[string]**time.Time{a.StartTime: &in.StartTime, a.EndTime: &in.EndTime} {
		if t, err := time.Parse(time.RFC3339, src); err == nil {
			*dst = aws.Time(t)
		}
	}
	if _, err := p.c.AutoScaling.PutScheduledUpdateGroupAction(ctx, in); err != nil {
		return classify(fmt.Errorf("put scheduled action %s on %s: %w", name, group, err))
	}
	return nil
}

// syncHooks puts want's hooks on group where they differ from the live
// ones and, when prune, deletes live hooks want does not name.
func (p *Platform) syncHooks(ctx context.Context, group string, want map[string]hookData, prune bool) error {
	if want == nil && !prune {
		return nil
	}
	live, err := p.hooks(ctx, group)
	if err != nil {
		return err
	}
	have := liveHooks(live)
	for _, s := range hookSpecs(want) {
		name := aws.ToString(s.LifecycleHookName)
		if h, ok := have[name]; ok && h == want[name] {
			continue
		}
		_, err := p.c.AutoScaling.PutLifecycleHook(ctx, &autoscaling.PutLifecycleHookInput{AutoScalingGroupName: aws.String(group), LifecycleHookName: s.LifecycleHookName,
			LifecycleTransition: s.LifecycleTransition, HeartbeatTimeout: s.HeartbeatTimeout, DefaultResult: s.DefaultResult,
			NotificationTargetARN: s.NotificationTargetARN, RoleARN: s.RoleARN, NotificationMetadata: s.NotificationMetadata})
		if err != nil {
			return classify(fmt.Errorf("put lifecycle hook %s on %s: %w", name, group, err))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(have)) {
		if _, ok := want[name]; prune && !ok {
			if _, err := p.c.AutoScaling.DeleteLifecycleHook(ctx, &autoscaling.DeleteLifecycleHookInput{AutoScalingGroupName: aws.String(group), LifecycleHookName: aws.String(name)}); err != nil {
				return classify(fmt.Errorf("delete lifecycle hook %s of %s: %w", name, group, err))
			}
		}
	}
	return nil
}

// syncOwned syncs the policies, scheduled actions and hooks the spec
// declares on group, pruning the undeclared kinds it owns.
func (p *Platform) syncOwned(ctx context.Context, group string, g *spec.AutoScalingGroupTarget) error {
	if err := p.syncPolicies(ctx, group, desiredPolicies(g.ScalingPolicies), g.ScalingPolicies != nil); err != nil {
		return err
	}
	if err := p.syncActions(ctx, group, desiredActions(g.ScheduledActions), g.ScheduledActions != nil); err != nil {
		return err
	}
	return p.syncHooks(ctx, group, desiredHooks(g.LifecycleHooks), g.LifecycleHooks != nil)
}

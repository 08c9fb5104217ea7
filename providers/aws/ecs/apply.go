package ecs

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/jibe-dev/jibe/providers/aws/apidiff"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// ensureTaskDef returns the ARN of a task definition revision equal to the
// rendered one: one of candidates (the revisions the services run) or the
// family's latest active revision when one is equal after normalisation,
// else a newly registered revision. A reconcile that changes nothing
// therefore registers nothing.
func (p *Platform) ensureTaskDef(ctx context.Context, d *reconcile.Deployment, candidates ...string) (string, error) {
	want := d.Target.TaskDefinition
	if arn, err := p.firstEqual(ctx, want, candidates); arn != "" || err != nil {
		return arn, err
	}
	recent, err := p.recentRevisions(ctx, want.Family)
	if err != nil {
		return "", err
	}
	if arn, err := p.firstEqual(ctx, want, recent); arn != "" || err != nil {
		return arn, err
	}
	in, err := registerInput(d, want)
	if err != nil {
		return "", err
	}
	out, err := p.c.ECS.RegisterTaskDefinition(ctx, in)
	if err != nil {
		return "", classify(fmt.Errorf("register task definition %s: %w", want.Family, err))
	}
	arn := aws.ToString(out.TaskDefinition.TaskDefinitionArn)
	p.logger(d, "apply").Info("registered task definition", "arn", arn)
	return arn, nil
}

// firstEqual returns the first of arns whose revision equals want after
// normalisation, or "".
func (p *Platform) firstEqual(ctx context.Context, want *spec.ECSTaskDefinition, arns []string) (string, error) {
	for _, arn := range arns {
		if arn == "" {
			continue
		}
		changes, err := p.taskDefChanges(ctx, arn, want)
		if err != nil {
			return "", err
		}
		if len(changes) == 0 {
			return arn, nil
		}
	}
	return "", nil
}

// recentRevisionCount is how many of a family's latest revisions are
// compared before registering a new one, so that a rollback reuses the
// revision it returns to.
const recentRevisionCount = 5

// recentRevisions returns the ARNs of the family's latest ACTIVE
// revisions, newest first.
func (p *Platform) recentRevisions(ctx context.Context, family string) ([]string, error) {
	out, err := p.c.ECS.ListTaskDefinitions(ctx, &awsecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String(family),
		Sort: ecstypes.SortOrderDesc, Status: ecstypes.TaskDefinitionStatusActive, MaxResults: aws.Int32(recentRevisionCount)})
	if err != nil {
		return nil, classify(fmt.Errorf("list task definitions of %s: %w", family, err))
	}
	var arns []string
	for _, arn := range out.TaskDefinitionArns {
		if familyOf(arn) == family {
			arns = append(arns, arn)
		}
	}
	return arns, nil
}

// familyOf returns the family of a task definition ARN.
func familyOf(arn string) string {
	name := arn[strings.LastIndex(arn, "/")+1:]
	if i := strings.LastIndex(name, ":"); i >= 0 {
		return name[:i]
	}
	return name
}

// taskDefChanges returns how the rendered task definition differs from
// the revision arn.
func (p *Platform) taskDefChanges(ctx context.Context, arn string, want *spec.ECSTaskDefinition) ([]reconcile.FieldChange, error) {
	live, err := p.taskDef(ctx, arn)
	if err != nil {
		return nil, err
	}
	return apidiff.Fields("", normalTaskDef(live), normalTaskDef(want))
}

// slotSpec returns the service file as deployed in a slot: named name, its
// load balancer entries on the traffic pair pointed at tg.
func slotSpec(d *reconcile.Deployment, name, tg string) *spec.ECSService {
	s := *d.Target.Service
	s.ServiceName = name
	tr := d.Target.ECS.Traffic
	if tg == "" || tr == nil {
		return &s
	}
	s.LoadBalancers = append([]spec.ServiceLoadBalancer(nil), s.LoadBalancers...)
	for i, lb := range s.LoadBalancers {
		if lb.TargetGroupArn == tr.StableTargetGroupArn || lb.TargetGroupArn == tr.CanaryTargetGroupArn {
			s.LoadBalancers[i].TargetGroupArn = tg
		}
	}
	return &s
}

// serviceChanges returns how want differs from the live service.
func serviceChanges(live *ecstypes.Service, want *spec.ECSService, scaled bool) ([]reconcile.FieldChange, error) {
	ls, err := serviceSpec(live)
	if err != nil {
		return nil, err
	}
	o := serviceOptions{name: aws.ToString(live.ServiceName), scaled: scaled || want.DesiredCount == nil}
	return apidiff.Fields("", normalService(ls, o), normalService(want, o))
}

// upsert is one service write: the service's desired configuration in a
// slot, and what runs there now.
type upsert struct {
	want    *spec.ECSService
	taskDef string
	live    *ecstypes.Service
	// scaled is set when autoscaling owns desiredCount.
	scaled bool
	// desired is the count of a new service.
	desired int32
}

// upsertService creates the service, updates it in place, or, when a
// field ECS cannot update changed, deletes it so that the next call
// creates it again (returning Waiting meanwhile). It writes nothing when
// the service already matches.
func (p *Platform) upsertService(ctx context.Context, d *reconcile.Deployment, u upsert) error {
	if u.live == nil {
		return p.createService(ctx, d, u)
	}
	changes, err := serviceChanges(u.live, u.want, u.scaled)
	if err != nil {
		return err
	}
	if why := replacement(changes); why != "" {
		return p.replaceService(ctx, d, u.live, why)
	}
	if len(changes) > 0 || aws.ToString(u.live.TaskDefinition) != u.taskDef {
		if err := p.updateService(ctx, u); err != nil {
			return err
		}
	}
	return p.tagRevision(ctx, d, u.live)
}

func (p *Platform) createService(ctx context.Context, d *reconcile.Deployment, u upsert) error {
	in, err := createInput(d, u.want, u.want.ServiceName, u.taskDef, u.desired)
	if err != nil {
		return err
	}
	_, err = p.c.ECS.CreateService(ctx, in)
	if err != nil && strings.Contains(err.Error(), "not idempotent") {
		return reconcile.Waiting(p.requeue, "service %s is still draining from its replacement", u.want.ServiceName)
	}
	if err != nil {
		return classify(fmt.Errorf("create service %s: %w", u.want.ServiceName, err))
	}
	p.logger(d, "apply").Info("created service", "service", u.want.ServiceName, "taskDefinition", u.taskDef)
	return nil
}

func (p *Platform) updateService(ctx context.Context, u upsert) error {
	var desired *int32
	if !u.scaled {
		desired = u.want.DesiredCount
	}
	in, err := updateInput(u.want, u.want.ServiceName, u.taskDef, desired)
	if err != nil {
		return err
	}
	in.Cluster = aws.String(u.want.Cluster)
	in.EnableExecuteCommand = aws.Bool(u.want.EnableExecuteCommand)
	in.EnableECSManagedTags = aws.Bool(u.want.EnableECSManagedTags)
	if in.PlacementConstraints == nil {
		in.PlacementConstraints = []ecstypes.PlacementConstraint{}
	}
	if in.PlacementStrategy == nil {
		in.PlacementStrategy = []ecstypes.PlacementStrategy{}
	}
	if _, err := p.c.ECS.UpdateService(ctx, in); err != nil {
		return classify(fmt.Errorf("update service %s: %w", u.want.ServiceName, err))
	}
	return nil
}

// replaceService deletes a service whose changes ECS cannot apply in
// place. Its scalable target stays registered under the same resource id,
// so the new service inherits its autoscaling.
func (p *Platform) replaceService(ctx context.Context, d *reconcile.Deployment, live *ecstypes.Service, why string) error {
	name := aws.ToString(live.ServiceName)
	p.logger(d, "apply").Info("replacing service", "service", name, "reason", why)
	if err := p.deleteService(ctx, live); err != nil {
		return err
	}
	return reconcile.Waiting(p.requeue, "replacing service %s: %s", name, why)
}

// deleteService deletes a service, stopping its tasks.
func (p *Platform) deleteService(ctx context.Context, s *ecstypes.Service) error {
	_, err := p.c.ECS.DeleteService(ctx, &awsecs.DeleteServiceInput{Cluster: s.ClusterArn, Service: s.ServiceName, Force: aws.Bool(true)})
	if err != nil && !isCode(err, "ServiceNotFoundException") && !isCode(err, "ServiceNotActiveException") {
		return classify(fmt.Errorf("delete service %s: %w", aws.ToString(s.ServiceName), err))
	}
	return nil
}

// tagRevision tags a live service with the deployment's revision.
func (p *Platform) tagRevision(ctx context.Context, d *reconcile.Deployment, s *ecstypes.Service) error {
	if tagValue(s, TagRevision) == d.Revision {
		return nil
	}
	return p.tagService(ctx, s, jibeTags(d)...)
}

func (p *Platform) tagService(ctx context.Context, s *ecstypes.Service, tags ...ecstypes.Tag) error {
	_, err := p.c.ECS.TagResource(ctx, &awsecs.TagResourceInput{ResourceArn: s.ServiceArn, Tags: tags})
	return classify(wrapIf(err, "tag service %s", aws.ToString(s.ServiceName)))
}

// scaleService sets a service's desired count.
func (p *Platform) scaleService(ctx context.Context, s *ecstypes.Service, n int32) error {
	if s.DesiredCount == n {
		return nil
	}
	_, err := p.c.ECS.UpdateService(ctx, &awsecs.UpdateServiceInput{Cluster: s.ClusterArn, Service: s.ServiceName, DesiredCount: aws.Int32(n)})
	return classify(wrapIf(err, "scale service %s to %d", aws.ToString(s.ServiceName), n))
}

// newCount is the desired count of a service created for the deployment:
// the count of the service it takes over from (the autoscaler's choice),
// else the file's, else the autoscaling minimum, else one.
func newCount(d *reconcile.Deployment, from *ecstypes.Service) int32 {
	switch {
	case from != nil && from.DesiredCount > 0:
		return from.DesiredCount
	case d.Target.Service.DesiredCount != nil:
		return *d.Target.Service.DesiredCount
	case d.Target.ECS.AutoScaling != nil:
		return max(d.Target.ECS.AutoScaling.MinCapacity, 1)
	}
	return 1
}

// scaled reports whether autoscaling owns the service's desired count:
// the spec declares it or a scalable target is registered.
func (p *Platform) scaled(ctx context.Context, d *reconcile.Deployment, name string) (bool, error) {
	if d.Target.ECS.AutoScaling != nil {
		return true, nil
	}
	t, err := p.scalableTarget(ctx, d.Target.Service.Cluster, name)
	return t != nil, err
}

// applyRolling updates the service in place (ECS rolling update).
func (p *Platform) applyRolling(ctx context.Context, d *reconcile.Deployment) error {
	name := d.Target.Service.ServiceName
	live, err := p.describeService(ctx, d.Target.Service.Cluster, name)
	if err != nil {
		return err
	}
	var current string
	if live != nil {
		current = aws.ToString(live.TaskDefinition)
	}
	td, err := p.ensureTaskDef(ctx, d, current)
	if err != nil {
		return err
	}
	scaled, err := p.scaled(ctx, d, name)
	if err != nil {
		return err
	}
	u := upsert{want: slotSpec(d, name, ""), taskDef: td, live: live, scaled: scaled, desired: newCount(d, nil)}
	if err := p.upsertService(ctx, d, u); err != nil {
		return err
	}
	return p.ensureScaling(ctx, d, name, nil)
}

// ensureScaling applies the spec's autoscaling to the service, or, when
// the spec has none, carries over from's (a service being replaced).
func (p *Platform) ensureScaling(ctx context.Context, d *reconcile.Deployment, name string, from *scaling) error {
	if as := d.Target.ECS.AutoScaling; as != nil {
		return p.applyScaling(ctx, d.Target.Service.Cluster, name, as)
	}
	if from != nil {
		return p.copyScaling(ctx, d.Target.Service.Cluster, name, from)
	}
	return nil
}

package ecs

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// Diff compares the deployment with what runs and returns the task
// definition, service and autoscaling changes, normalised (see
// normalize.go). It makes no write call.
func (p *Platform) Diff(ctx context.Context, d *reconcile.Deployment) ([]reconcile.Change, error) {
	all, err := p.DiffAll(ctx, []*reconcile.Deployment{d})
	if err != nil {
		return nil, err
	}
	return all[0], nil
}

// DiffAll diffs many deployments at once, describing their services with
// one DescribeServices call per cluster and ten services. It returns the
// changes of each deployment, in order, and makes no write call.
func (p *Platform) DiffAll(ctx context.Context, ds []*reconcile.Deployment) ([][]reconcile.Change, error) {
	live, err := p.describeAll(ctx, ds)
	if err != nil {
		return nil, err
	}
	if live.targets, err = p.scalableTargets(ctx, live.ids); err != nil {
		return nil, err
	}
	out := make([][]reconcile.Change, len(ds))
	for i, d := range ds {
		if out[i], err = p.diffOne(ctx, d, live); err != nil {
			return nil, fmt.Errorf("diff %s: %w", d.Target.Name, err)
		}
	}
	return out, nil
}

// liveSet is the live state of many deployments.
type liveSet struct {
	// services are by cluster name, then service name.
	services map[string]map[string]*ecstypes.Service
	// ids are the autoscaling resource ids of the live services.
	ids []string
	// targets are the registered scalable targets by resource id.
	targets map[string]*aastypes.ScalableTarget
}

// describeAll describes the services of every deployment, by cluster.
func (p *Platform) describeAll(ctx context.Context, ds []*reconcile.Deployment) (*liveSet, error) {
	names := map[string][]string{}
	var order []string
	for _, d := range ds {
		if err := check(d); err != nil {
			return nil, err
		}
		c := d.Target.Service.Cluster
		if _, ok := names[c]; !ok {
			order = append(order, c)
		}
		names[c] = append(names[c], slotsOf(d).names()...)
	}
	out := &liveSet{services: map[string]map[string]*ecstypes.Service{}}
	for _, c := range order {
		svcs, err := p.describeServices(ctx, c, names[c])
		if err != nil {
			return nil, err
		}
		out.services[clusterName(c)] = svcs
		for name := range svcs {
			out.ids = append(out.ids, resourceID(c, name))
		}
	}
	return out, nil
}

// diffOne diffs one deployment against its live services.
func (p *Platform) diffOne(ctx context.Context, d *reconcile.Deployment, ls *liveSet) ([]reconcile.Change, error) {
	name, live, err := p.liveService(ctx, d, ls.services[clusterName(d.Target.Service.Cluster)])
	if err != nil {
		return nil, err
	}
	if live == nil {
		return createChanges(d, name), nil
	}
	target := ls.targets[resourceID(d.Target.Service.Cluster, name)]
	var out []reconcile.Change
	for _, diff := range []func() (*reconcile.Change, error){
		func() (*reconcile.Change, error) { return p.taskDefDiff(ctx, d, live) },
		func() (*reconcile.Change, error) { return serviceDiff(d, name, live, target != nil) },
		func() (*reconcile.Change, error) { return p.scalingDiff(ctx, d, name, target) },
	} {
		c, err := diff()
		if err != nil {
			return nil, err
		}
		if c != nil {
			out = append(out, *c)
		}
	}
	return out, nil
}

// createChanges are the changes of a deployment whose service does not
// exist yet.
func createChanges(d *reconcile.Deployment, name string) []reconcile.Change {
	return []reconcile.Change{
		{Target: d.Target.Name, Resource: "ECS task definition " + d.Target.TaskDefinition.Family, Action: reconcile.ActionCreate, Reason: "registers a revision"},
		{Target: d.Target.Name, Resource: "ECS service " + name, Action: reconcile.ActionCreate},
	}
}

// taskDefDiff returns the task definition's change against the revision
// the live service runs, or nil.
func (p *Platform) taskDefDiff(ctx context.Context, d *reconcile.Deployment, live *ecstypes.Service) (*reconcile.Change, error) {
	td := d.Target.TaskDefinition
	fields, err := p.taskDefChanges(ctx, aws.ToString(live.TaskDefinition), td)
	if err != nil || len(fields) == 0 {
		return nil, err
	}
	return &reconcile.Change{Target: d.Target.Name, Resource: "ECS task definition " + td.Family,
		Action: reconcile.ActionUpdate, Fields: fields, Reason: "registers a new revision"}, nil
}

// serviceDiff returns the service's change, or nil. desiredCount is left
// out when a scalable target is registered (registered) or declared.
func serviceDiff(d *reconcile.Deployment, name string, live *ecstypes.Service, registered bool) (*reconcile.Change, error) {
	scaled := registered || d.Target.ECS.AutoScaling != nil
	want := slotSpec(d, name, liveTG(d, live))
	fields, err := serviceChanges(live, want, scaled)
	if err != nil || len(fields) == 0 {
		return nil, err
	}
	c := &reconcile.Change{Target: d.Target.Name, Resource: "ECS service " + name, Action: reconcile.ActionUpdate, Fields: fields}
	if why := replacement(fields); why != "" {
		c.Action, c.Reason = reconcile.ActionReplace, why
	}
	return c, nil
}

// liveTG returns the target group of the traffic pair the live service is
// registered in, "" for rolling deployments.
func liveTG(d *reconcile.Deployment, live *ecstypes.Service) string {
	tr := d.Target.ECS.Traffic
	if d.Mode == spec.StrategyRolling || tr == nil {
		return ""
	}
	for _, lb := range live.LoadBalancers {
		if arn := aws.ToString(lb.TargetGroupArn); arn == tr.StableTargetGroupArn || arn == tr.CanaryTargetGroupArn {
			return arn
		}
	}
	return ""
}

// liveService returns the service that serves the deployment's traffic:
// the file's service, or for blue/green whichever slot is live.
func (p *Platform) liveService(ctx context.Context, d *reconcile.Deployment, svcs map[string]*ecstypes.Service) (string, *ecstypes.Service, error) {
	sl := slotsOf(d)
	if d.Mode != spec.StrategyBlueGreen {
		return sl.stable, svcs[sl.stable], nil
	}
	blue, green := svcs[sl.stable], svcs[sl.next]
	switch {
	case green == nil || green.DesiredCount == 0:
		return sl.stable, blue, nil
	case blue == nil || blue.DesiredCount == 0:
		return sl.next, green, nil
	}
	a, err := p.readPair(ctx, d)
	if err != nil {
		return "", nil, err
	}
	return a.liveName, a.live, nil
}

// replaceFields are the service fields UpdateService cannot change: a
// change to one of them needs a new service. A switch between a launch
// type and a capacity provider strategy shows as a launchType change.
var replaceFields = []string{"launchType", "schedulingStrategy"}

// replacement returns why the changes need a new service, or "".
func replacement(changes []reconcile.FieldChange) string {
	var why []string
	for _, c := range changes {
		for _, f := range replaceFields {
			if strings.TrimPrefix(c.Path, "service.") == f {
				why = append(why, fmt.Sprintf("%s cannot be updated (%q → %q)", f, c.Live, c.Desired))
			}
		}
	}
	if len(why) == 0 {
		return ""
	}
	return strings.Join(why, "; ") + ": ECS needs a new service"
}

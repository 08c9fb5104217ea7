package ecs

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/jibe-dev/jibe/reconcile"
)

var _ reconcile.Deleter = (*Platform)(nil)

// Delete deletes what the target runs because its application left Git:
// each service of the target's slots (the service, its blue/green and
// canary slots) that Jibe tagged for the application and environment,
// its Application Auto Scaling target deregistered first (which removes
// its policies), scaled to zero and deleted. It returns Waiting until
// the deleted services have drained (their tasks stopped). Task
// definitions stay registered: they cost nothing, and a revision of the
// family may be shared or wanted for audit; deregister them by hand if
// need be. Target groups and listeners the spec refers to are not Jibe's
// and stay. A service of the same name that Jibe did not create for this
// environment is left alone. Deleting what is gone is nil.
//
// A listener (or rule) a rolling deploy of the service took over (see
// takeOver) is first handed back to what it forwarded to before, but
// only while it still forwards to nothing but the service's target
// groups and what it forwarded to still exists and is healthy (a Lambda
// function's target group: the function registered); otherwise it stays
// as it is, and a warning names what it forwarded to (see handBack).
func (p *Platform) Delete(ctx context.Context, d *reconcile.Deployment) error {
	if d.Target == nil || d.Target.Service == nil {
		return reconcile.Stalled(errNotECS)
	}
	if err := p.handBack(ctx, d, "delete"); err != nil {
		return err
	}
	cluster := d.Target.Service.Cluster
	name := d.Target.Service.ServiceName
	names := []string{name, name + "-green", name + "-canary"}
	svcs, err := p.describeAnyStatus(ctx, cluster, names)
	if err != nil {
		return err
	}
	var draining []string
	for _, n := range names {
		s := svcs[n]
		switch {
		case s == nil || aws.ToString(s.Status) == "INACTIVE":
		case tagValue(s, TagApp) != d.App || tagValue(s, TagEnvironment) != d.Env:
			p.logger(d, "delete").Warn("not deleting a service that Jibe did not create for this environment", "service", n)
		case aws.ToString(s.Status) == "DRAINING":
			draining = append(draining, n)
		default:
			if err := p.deleteForGood(ctx, d, s); err != nil {
				return err
			}
			draining = append(draining, n)
		}
	}
	if len(draining) > 0 {
		return reconcile.Waiting(p.requeue, "waiting for service(s) %s to drain", strings.Join(draining, ", "))
	}
	return nil
}

// deleteForGood deregisters a service's autoscaling, scales it to zero
// and deletes it.
func (p *Platform) deleteForGood(ctx context.Context, d *reconcile.Deployment, s *ecstypes.Service) error {
	name := aws.ToString(s.ServiceName)
	if err := p.deregisterScaling(ctx, d.Target.Service.Cluster, name); err != nil {
		return err
	}
	if err := p.scaleService(ctx, s, 0); err != nil {
		return err
	}
	p.logger(d, "delete").Info("deleting the service of an application removed from Git", "service", name)
	return p.deleteService(ctx, s)
}

// describeAnyStatus returns the services among names of the cluster, whatever
// their status, by name, with tags.
func (p *Platform) describeAnyStatus(ctx context.Context, cluster string, names []string) (map[string]*ecstypes.Service, error) {
	res, err := p.c.ECS.DescribeServices(ctx, &awsecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: names,
		Include: []ecstypes.ServiceField{ecstypes.ServiceFieldTags}})
	if err != nil {
		if isCode(err, "ClusterNotFoundException") {
			return nil, nil
		}
		return nil, classify(fmt.Errorf("describe services of cluster %s: %w", cluster, err))
	}
	out := map[string]*ecstypes.Service{}
	for i := range res.Services {
		out[aws.ToString(res.Services[i].ServiceName)] = &res.Services[i]
	}
	return out, nil
}

package ecs

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// Remove deletes what a failed first deploy created, as there is no
// earlier version to return to: each of the target's services that Jibe
// tagged for the application and environment (its autoscaling
// deregistered, its tasks stopped, the service deleted), then the task
// definition revisions registered for the revision. A service of the same
// name that Jibe did not create for this environment is left alone. A
// listener (or rule) the deploy took over is first handed back to what it
// forwarded to before, once that is healthy (see handBack).
func (p *Platform) Remove(ctx context.Context, d *reconcile.Deployment) error {
	if err := check(d); err != nil {
		return err
	}
	if err := p.handBack(ctx, d, "rollback"); err != nil {
		return err
	}
	cluster := d.Target.Service.Cluster
	svcs, err := p.describeServices(ctx, cluster, slotsOf(d).names())
	if err != nil {
		return err
	}
	for _, name := range slotsOf(d).names() {
		if s := svcs[name]; s != nil {
			if err := p.removeService(ctx, d, s); err != nil {
				return err
			}
		}
	}
	return p.deregisterTaskDefs(ctx, d)
}

// removeService deregisters a service's autoscaling and deletes it, if
// Jibe created it for d's application and environment.
func (p *Platform) removeService(ctx context.Context, d *reconcile.Deployment, s *ecstypes.Service) error {
	name := aws.ToString(s.ServiceName)
	log := p.logger(d, "rollback")
	if tagValue(s, TagApp) != d.App || tagValue(s, TagEnvironment) != d.Env {
		log.Warn("not removing a service that Jibe did not create for this environment", "service", name)
		return nil
	}
	if err := p.deregisterScaling(ctx, d.Target.Service.Cluster, name); err != nil {
		return err
	}
	log.Info("removing the new version", "service", name)
	return p.deleteService(ctx, s)
}

// deregisterTaskDefs deregisters the family's active revisions that were
// registered for d's application, environment and revision.
func (p *Platform) deregisterTaskDefs(ctx context.Context, d *reconcile.Deployment) error {
	arns, err := p.recentRevisions(ctx, d.Target.TaskDefinition.Family)
	if err != nil {
		return err
	}
	for _, arn := range arns {
		td, err := p.taskDef(ctx, arn)
		if err != nil {
			return err
		}
		if specTag(td.Tags, TagApp) != d.App || specTag(td.Tags, TagEnvironment) != d.Env || specTag(td.Tags, TagRevision) != d.Revision {
			continue
		}
		if _, err := p.c.ECS.DeregisterTaskDefinition(ctx, &awsecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String(arn)}); err != nil {
			return classify(fmt.Errorf("deregister task definition %s: %w", arn, err))
		}
		p.logger(d, "rollback").Info("deregistered task definition", "arn", arn)
	}
	return nil
}

// specTag returns the value of the tag key, or "".
func specTag(tags []spec.Tag, key string) string {
	for _, t := range tags {
		if t.Key == key {
			return t.Value
		}
	}
	return ""
}

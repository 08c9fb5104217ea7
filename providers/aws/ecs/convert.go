package ecs

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/jibe-dev/jibe/providers/aws/apidiff"
	"github.com/jibe-dev/jibe/providers/aws/awstag"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// The tags Jibe puts on what it applies.
const (
	TagApp         = awstag.App
	TagEnvironment = awstag.Environment
	TagRevision    = awstag.Revision
	TagSwitchedAt  = awstag.SwitchedAt
)

// ownTags are the tags Jibe manages, left out of diffs.
var ownTags = map[string]bool{TagApp: true, TagEnvironment: true, TagRevision: true, TagSwitchedAt: true}

// jibeTags returns the tags Jibe adds to the deployment's resources.
func jibeTags(d *reconcile.Deployment) []ecstypes.Tag {
	return []ecstypes.Tag{
		{Key: aws.String(TagApp), Value: aws.String(d.App)},
		{Key: aws.String(TagEnvironment), Value: aws.String(d.Env)},
		{Key: aws.String(TagRevision), Value: aws.String(d.Revision)},
	}
}

// withJibeTags returns the file's tags followed by Jibe's.
func withJibeTags(d *reconcile.Deployment, own []spec.Tag) []ecstypes.Tag {
	var out []ecstypes.Tag
	for _, t := range own {
		if !ownTags[t.Key] {
			out = append(out, ecstypes.Tag{Key: aws.String(t.Key), Value: aws.String(t.Value)})
		}
	}
	return append(out, jibeTags(d)...)
}

// registerInput converts a rendered task definition to the
// RegisterTaskDefinition call that registers it, tagged by Jibe.
func registerInput(d *reconcile.Deployment, td *spec.ECSTaskDefinition) (*awsecs.RegisterTaskDefinitionInput, error) {
	in := &awsecs.RegisterTaskDefinitionInput{}
	if err := apidiff.Recode(td, in); err != nil {
		return nil, reconcile.Stalled(fmt.Errorf("task definition %s: %w", td.Family, err))
	}
	in.Tags = withJibeTags(d, td.Tags)
	return in, nil
}

// createInput converts a rendered service to the CreateService call that
// creates it as name running taskDef with desired tasks.
func createInput(d *reconcile.Deployment, svc *spec.ECSService, name, taskDef string, desired int32) (*awsecs.CreateServiceInput, error) {
	in := &awsecs.CreateServiceInput{}
	if err := apidiff.Recode(svc, in); err != nil {
		return nil, reconcile.Stalled(fmt.Errorf("service %s: %w", svc.ServiceName, err))
	}
	in.ServiceName, in.TaskDefinition, in.DesiredCount = aws.String(name), aws.String(taskDef), aws.Int32(desired)
	in.Tags = withJibeTags(d, svc.Tags)
	in.DeploymentConfiguration = deploymentConfig(in.DeploymentConfiguration)
	if in.PropagateTags == "" {
		in.PropagateTags = ecstypes.PropagateTagsService
	}
	return in, nil
}

// updateInput converts a rendered service to the UpdateService call that
// brings service name to it. desired is nil when autoscaling owns the
// count, so that the update never fights the autoscaler.
func updateInput(svc *spec.ECSService, name, taskDef string, desired *int32) (*awsecs.UpdateServiceInput, error) {
	in := &awsecs.UpdateServiceInput{}
	if err := apidiff.Recode(svc, in); err != nil {
		return nil, reconcile.Stalled(fmt.Errorf("service %s: %w", svc.ServiceName, err))
	}
	in.Service, in.TaskDefinition, in.DesiredCount = aws.String(name), aws.String(taskDef), desired
	in.DeploymentConfiguration = deploymentConfig(in.DeploymentConfiguration)
	if in.PropagateTags == "" {
		in.PropagateTags = ecstypes.PropagateTagsService
	}
	if len(svc.CapacityProviderStrategy) > 0 {
		// A capacity provider strategy only takes effect with a new
		// deployment.
		in.ForceNewDeployment = true
	}
	if in.LoadBalancers == nil {
		in.LoadBalancers = []ecstypes.LoadBalancer{}
	}
	if in.ServiceRegistries == nil {
		in.ServiceRegistries = []ecstypes.ServiceRegistry{}
	}
	return in, nil
}

// deploymentConfig fills ECS's rolling-update bounds, so that an update
// never leaves them to whatever the service had (or to zero).
func deploymentConfig(dc *ecstypes.DeploymentConfiguration) *ecstypes.DeploymentConfiguration {
	if dc == nil {
		dc = &ecstypes.DeploymentConfiguration{}
	}
	if dc.MinimumHealthyPercent == nil {
		dc.MinimumHealthyPercent = aws.Int32(defaultMinHealthy)
	}
	if dc.MaximumPercent == nil {
		dc.MaximumPercent = aws.Int32(defaultMaxPercent)
	}
	return dc
}

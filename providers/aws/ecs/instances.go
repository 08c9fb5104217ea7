package ecs

import (
	"path"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/jibe-dev/jibe/reconcile"
)

// serviceInstances counts a described service's tasks (no further call):
// desired and running from the service; running tasks count as healthy
// (ECS replaces those that fail their health checks) and each
// deployment's failed tasks as unhealthy. While several deployments run
// (a rolling update), each is a version, the PRIMARY one new.
func serviceInstances(s *ecstypes.Service) *reconcile.Instances {
	if s == nil {
		return nil
	}
	in := &reconcile.Instances{Desired: int(s.DesiredCount), Running: int(s.RunningCount), Healthy: int(s.RunningCount)}
	for _, dep := range s.Deployments {
		in.Unhealthy += int(dep.FailedTasks)
	}
	if len(s.Deployments) > 1 {
		for _, dep := range s.Deployments {
			in.Versions = append(in.Versions, deploymentInstances(dep, aws.ToString(dep.Status) == "PRIMARY"))
		}
		sortNewFirst(in.Versions)
	}
	return in
}

// deploymentInstances counts one deployment of a service's tasks.
func deploymentInstances(dep ecstypes.Deployment, isNew bool) reconcile.VersionInstances {
	return reconcile.VersionInstances{Version: taskDefName(aws.ToString(dep.TaskDefinition)), New: isNew,
		Desired: int(dep.DesiredCount), Running: int(dep.RunningCount), Healthy: int(dep.RunningCount),
		Unhealthy: int(dep.FailedTasks)}
}

// slotsInstances counts two services running side by side (blue/green
// slots, a canary and its stable service): the new one's tasks and the
// old one's, each a version.
func slotsInstances(next, old *ecstypes.Service) *reconcile.Instances {
	in := serviceInstances(next)
	if in == nil || old == nil {
		return in
	}
	o := serviceInstances(old)
	in.Versions = []reconcile.VersionInstances{slotVersion(next, in, true), slotVersion(old, o, false)}
	in.Desired, in.Running = in.Desired+o.Desired, in.Running+o.Running
	in.Healthy, in.Unhealthy = in.Healthy+o.Healthy, in.Unhealthy+o.Unhealthy
	return in
}

// slotVersion is a service's counts as one version.
func slotVersion(s *ecstypes.Service, in *reconcile.Instances, isNew bool) reconcile.VersionInstances {
	return reconcile.VersionInstances{Version: aws.ToString(s.ServiceName) + " " + taskDefName(aws.ToString(s.TaskDefinition)),
		New: isNew, Desired: in.Desired, Running: in.Running, Healthy: in.Healthy, Unhealthy: in.Unhealthy}
}

// taskDefName is family:revision of a task definition ARN.
func taskDefName(arn string) string { return path.Base(arn) }

func sortNewFirst(vs []reconcile.VersionInstances) {
	for i := range vs {
		if vs[i].New && i > 0 {
			vs[0], vs[i] = vs[i], vs[0]
			return
		}
	}
}

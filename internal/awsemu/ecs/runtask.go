package ecs

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

// standaloneRunTime is how long a RunTask task runs before its essential
// container exits (0, or 1 for a broken image).
const standaloneRunTime = 30 * time.Second

// maxRunTaskCount is RunTask's count limit.
const maxRunTaskCount = 10

func (s *Service) runTask(c *protocol.Call) (any, error) {
	var in ecs.RunTaskInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	r := s.region(c.Scope())
	cl, err := r.findCluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	td, ok := r.findTaskDef(aws.ToString(in.TaskDefinition))
	if !ok || td.Status != types.TaskDefinitionStatusActive {
		return nil, invalidParameter("TaskDefinition not found.")
	}
	count := int(aws.ToInt32(in.Count))
	if count == 0 {
		count = 1
	}
	if count > maxRunTaskCount {
		return nil, invalidParameter("count must be between 1 and %d.", maxRunTaskCount)
	}
	params := &types.Service{LaunchType: in.LaunchType, CapacityProviderStrategy: in.CapacityProviderStrategy,
		NetworkConfiguration: in.NetworkConfiguration, PlacementStrategy: in.PlacementStrategy, PlacementConstraints: in.PlacementConstraints}
	if err := checkServiceParams(params, td); err != nil {
		return nil, err
	}
	if !cl.placeable(in.LaunchType, in.CapacityProviderStrategy) {
		return nil, invalidParameter(noInstances)
	}
	d := &deployment{d: types.Deployment{TaskDefinition: td.TaskDefinitionArn, LaunchType: in.LaunchType, NetworkConfiguration: in.NetworkConfiguration, PlatformVersion: in.PlatformVersion}}
	out := &ecs.RunTaskOutput{}
	for i := 0; i < count; i++ {
		ci, miss := cl.place(td, in.LaunchType, in.CapacityProviderStrategy)
		if miss != nil {
			out.Failures = append(out.Failures, types.Failure{Arn: miss.instance.ContainerInstanceArn, Reason: aws.String(miss.reason)})
			continue
		}
		t := s.launchTask(r, &service{cluster: cl}, d, ci, c.Now)
		t.svc, t.dep = nil, nil
		t.t.StartedBy, t.t.Overrides, t.t.Tags = in.StartedBy, in.Overrides, in.Tags
		t.t.Group = aws.String("family:" + aws.ToString(td.Family))
		if in.Group != nil {
			t.t.Group = in.Group
		}
		out.Tasks = append(out.Tasks, t.t)
	}
	return out, nil
}

// stepStandalone ends a RunTask task after its run time: its essential
// container exits 0, or 1 when the image is broken.
func (s *Service) stepStandalone(t *task, now time.Time) {
	if now.Sub(aws.ToTime(t.t.StartedAt)) < standaloneRunTime {
		return
	}
	code := int32(0)
	if t.behavior.Broken {
		code = 1
	}
	for i := range t.t.Containers {
		t.t.Containers[i].ExitCode = aws.Int32(code)
	}
	t.t.StopCode = types.TaskStopCodeEssentialContainerExited
	t.t.StoppedReason = aws.String("Essential container in task exited")
	t.t.DesiredStatus = aws.String("STOPPED")
	s.beginStop(t, now)
}

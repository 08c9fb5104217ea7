package ecs

import (
	"fmt"
	"math"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

// Task set statuses.
const (
	taskSetPrimary  = "PRIMARY"
	taskSetActive   = "ACTIVE"
	taskSetDraining = "DRAINING"
)

// externalService resolves a service with the EXTERNAL controller.
func (s *Service) externalService(r *region, cluster *string, ref string) (*service, error) {
	svc, err := s.findService(r, cluster, ref)
	if err != nil {
		return nil, err
	}
	if !svc.external() {
		return nil, invalidParameter("The service must use the EXTERNAL deployment controller to use task sets.")
	}
	if aws.ToString(svc.s.Status) != "ACTIVE" {
		return nil, protocol.Errorf("ServiceNotActiveException", "Service was not ACTIVE.")
	}
	return svc, nil
}

func (s *Service) createTaskSet(c *protocol.Call) (any, error) {
	var in ecs.CreateTaskSetInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	r := s.region(c.Scope())
	svc, err := s.externalService(r, in.Cluster, aws.ToString(in.Service))
	if err != nil {
		return nil, err
	}
	td, ok := r.findTaskDef(aws.ToString(in.TaskDefinition))
	if !ok || td.Status != types.TaskDefinitionStatusActive {
		return nil, invalidParameter("TaskDefinition not found.")
	}
	cfg := types.Service{LoadBalancers: in.LoadBalancers, TaskDefinition: td.TaskDefinitionArn, LaunchType: in.LaunchType,
		CapacityProviderStrategy: in.CapacityProviderStrategy, NetworkConfiguration: in.NetworkConfiguration}
	if err := s.checkServiceRefs(r, c, &cfg); err != nil {
		return nil, err
	}
	ts := &types.TaskSet{}
	if err := protocol.Copy(&in, ts, "Tags"); err != nil {
		return nil, err
	}
	s.ids++
	id := fmt.Sprintf("ecs-svc/%019d", s.ids)
	ts.Id, ts.TaskDefinition, ts.StartedBy = aws.String(id), td.TaskDefinitionArn, aws.String("jibe")
	ts.TaskSetArn = aws.String(r.arn(fmt.Sprintf("task-set/%s/%s/%s", aws.ToString(svc.cluster.c.ClusterName), aws.ToString(svc.s.ServiceName), id[len("ecs-svc/"):])))
	ts.ServiceArn, ts.ClusterArn = svc.s.ServiceArn, svc.cluster.c.ClusterArn
	ts.CreatedAt, ts.UpdatedAt, ts.Status = ptrTime(c.Now), ptrTime(c.Now), aws.String(taskSetActive)
	if ts.Scale == nil {
		ts.Scale = &types.Scale{Value: 100, Unit: types.ScaleUnitPercent}
	}
	if len(svc.taskSets) == 0 {
		ts.Status = aws.String(taskSetPrimary)
	}
	d := &deployment{taskSet: ts, lbs: in.LoadBalancers, registries: in.ServiceRegistries,
		d: types.Deployment{Id: ts.Id, TaskDefinition: ts.TaskDefinition, LaunchType: in.LaunchType, NetworkConfiguration: in.NetworkConfiguration, PlatformVersion: in.PlatformVersion}}
	svc.taskSets = append(svc.taskSets, d)
	r.tags[*ts.TaskSetArn] = in.Tags
	s.scaleTaskSets(svc, c.Now)
	v := s.taskSetView(svc, d)
	return &ecs.CreateTaskSetOutput{TaskSet: &v}, nil
}

// scaleTaskSets recomputes every task set's desired count from the
// service's desired count and the set's scale.
func (s *Service) scaleTaskSets(svc *service, now time.Time) {
	for _, d := range svc.taskSets {
		if aws.ToString(d.taskSet.Status) == taskSetDraining {
			d.taskSet.ComputedDesiredCount = 0
			continue
		}
		d.taskSet.ComputedDesiredCount = int32(math.Ceil(float64(svc.s.DesiredCount) * d.taskSet.Scale.Value / 100))
		d.taskSet.UpdatedAt = ptrTime(now)
	}
}

// findTaskSet resolves a task set id or ARN.
func (svc *service) findTaskSet(ref string) (*deployment, error) {
	for _, d := range svc.taskSets {
		if aws.ToString(d.taskSet.TaskSetArn) == ref || nameFromArn(aws.ToString(d.taskSet.TaskSetArn)) == nameFromArn(ref) || aws.ToString(d.taskSet.Id) == ref {
			return d, nil
		}
	}
	return nil, protocol.Errorf("TaskSetNotFoundException", "The specified task set does not exist.")
}

func (s *Service) updateTaskSet(c *protocol.Call) (any, error) {
	var in ecs.UpdateTaskSetInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	svc, err := s.externalService(s.region(c.Scope()), in.Cluster, aws.ToString(in.Service))
	if err != nil {
		return nil, err
	}
	d, err := svc.findTaskSet(aws.ToString(in.TaskSet))
	if err != nil {
		return nil, err
	}
	if in.Scale == nil || in.Scale.Value < 0 || in.Scale.Value > 100 {
		return nil, invalidParameter("Scale value must be between 0 and 100.")
	}
	d.taskSet.Scale = in.Scale
	s.scaleTaskSets(svc, c.Now)
	v := s.taskSetView(svc, d)
	return &ecs.UpdateTaskSetOutput{TaskSet: &v}, nil
}

func (s *Service) updateServicePrimaryTaskSet(c *protocol.Call) (any, error) {
	var in ecs.UpdateServicePrimaryTaskSetInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	svc, err := s.externalService(s.region(c.Scope()), in.Cluster, aws.ToString(in.Service))
	if err != nil {
		return nil, err
	}
	d, err := svc.findTaskSet(aws.ToString(in.PrimaryTaskSet))
	if err != nil {
		return nil, err
	}
	for _, other := range svc.taskSets {
		if aws.ToString(other.taskSet.Status) == taskSetPrimary {
			other.taskSet.Status = aws.String(taskSetActive)
		}
	}
	d.taskSet.Status = aws.String(taskSetPrimary)
	svc.s.TaskDefinition = d.taskSet.TaskDefinition
	v := s.taskSetView(svc, d)
	return &ecs.UpdateServicePrimaryTaskSetOutput{TaskSet: &v}, nil
}

func (s *Service) deleteTaskSet(c *protocol.Call) (any, error) {
	var in ecs.DeleteTaskSetInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	svc, err := s.externalService(s.region(c.Scope()), in.Cluster, aws.ToString(in.Service))
	if err != nil {
		return nil, err
	}
	d, err := svc.findTaskSet(aws.ToString(in.TaskSet))
	if err != nil {
		return nil, err
	}
	if aws.ToString(d.taskSet.Status) == taskSetPrimary && !aws.ToBool(in.Force) {
		return nil, invalidParameter("Cannot delete the PRIMARY task set without force.")
	}
	d.taskSet.Status = aws.String(taskSetDraining)
	s.scaleTaskSets(svc, c.Now)
	v := s.taskSetView(svc, d)
	return &ecs.DeleteTaskSetOutput{TaskSet: &v}, nil
}

func (s *Service) describeTaskSets(c *protocol.Call) (any, error) {
	var in ecs.DescribeTaskSetsInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	r := s.region(c.Scope())
	svc, err := s.externalService(r, in.Cluster, aws.ToString(in.Service))
	if err != nil {
		return nil, err
	}
	out := &ecs.DescribeTaskSetsOutput{}
	for _, d := range svc.taskSets {
		if len(in.TaskSets) > 0 && !hasInclude(in.TaskSets, aws.ToString(d.taskSet.TaskSetArn)) && !hasInclude(in.TaskSets, aws.ToString(d.taskSet.Id)) {
			continue
		}
		v := s.taskSetView(svc, d)
		if hasInclude(in.Include, string(types.TaskSetFieldTags)) {
			v.Tags = r.tags[*d.taskSet.TaskSetArn]
		}
		out.TaskSets = append(out.TaskSets, v)
	}
	return out, nil
}

// taskSetView returns the task set with live counts and stability.
func (s *Service) taskSetView(svc *service, d *deployment) types.TaskSet {
	v := *d.taskSet
	dv := s.deploymentView(svc, d)
	v.RunningCount, v.PendingCount = dv.RunningCount, dv.PendingCount
	return v
}

// stepTaskSets converges every task set on its computed desired count,
// drops drained task sets and tracks stability.
func (s *Service) stepTaskSets(r *region, svc *service, now time.Time) {
	kept := svc.taskSets[:0]
	for _, d := range svc.taskSets {
		s.convergeTaskSet(r, svc, d, now)
		if aws.ToString(d.taskSet.Status) == taskSetDraining && s.taskSetEmpty(svc, d) {
			continue
		}
		kept = append(kept, d)
	}
	svc.taskSets = kept
}

func (s *Service) convergeTaskSet(r *region, svc *service, d *deployment, now time.Time) {
	var mine []*task
	healthy := 0
	for _, t := range svc.liveTasks() {
		if t.dep == d {
			mine = append(mine, t)
			if t.healthy(s, now) {
				healthy++
			}
		}
	}
	want := int(d.taskSet.ComputedDesiredCount)
	launch := want
	if len(mine) < want && !svc.cluster.placeable(d.d.LaunchType, d.d.CapacityProviderStrategy) {
		svc.unplaced(now, "Reason: "+noInstances)
		launch = len(mine)
	}
	td, _ := r.findTaskDef(aws.ToString(d.d.TaskDefinition))
	for i := len(mine); i < launch; i++ {
		ci, miss := svc.cluster.place(td, d.d.LaunchType, d.d.CapacityProviderStrategy)
		if miss != nil {
			svc.unplaced(now, miss.event())
			break
		}
		s.launchTask(r, svc, d, ci, now)
	}
	for i := len(mine) - 1; i >= want; i-- {
		s.stopTaskAt(mine[i], "Scaling activity initiated by task set "+aws.ToString(d.taskSet.Id), now)
	}
	stable := types.StabilityStatusStabilizing
	if len(mine) == want && healthy == want {
		stable = types.StabilityStatusSteadyState
	}
	if d.taskSet.StabilityStatus != stable {
		d.taskSet.StabilityStatus, d.taskSet.StabilityStatusAt = stable, ptrTime(now)
	}
}

func (s *Service) taskSetEmpty(svc *service, d *deployment) bool {
	for _, t := range svc.cluster.tasks {
		if t.dep == d && t.status() != "STOPPED" {
			return false
		}
	}
	return true
}

package ecs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

// maxDescribeServices is DescribeServices' batch limit.
const maxDescribeServices = 10

// service is one ECS service: its configuration (as the SDK shape) and its
// deployments, PRIMARY first.
type service struct {
	s           types.Service
	cluster     *cluster
	deployments []*deployment
	lastGood    string // task definition of the last COMPLETED deployment
	events      []types.ServiceEvent
	taskSets    []*deployment // EXTERNAL controller only
}

// external reports whether the service's deployments are task sets
// managed by an external controller.
func (svc *service) external() bool {
	dc := svc.s.DeploymentController
	return dc != nil && dc.Type == types.DeploymentControllerTypeExternal
}

func (s *Service) createService(c *protocol.Call) (any, error) {
	var in ecs.CreateServiceInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	r := s.region(c.Scope())
	cl, err := r.findCluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	name := aws.ToString(in.ServiceName)
	if old, ok := cl.services[name]; ok && aws.ToString(old.s.Status) != "INACTIVE" {
		return nil, invalidParameter("Creation of service was not idempotent.")
	}
	svc := &service{cluster: cl}
	if err := protocol.Copy(&in, &svc.s); err != nil {
		return nil, err
	}
	if err := s.checkServiceRefs(r, c, &svc.s); err != nil {
		return nil, err
	}
	s.initService(r, c, svc, name)
	if _, existed := cl.services[name]; !existed {
		cl.svcOrder = append(cl.svcOrder, name)
	}
	cl.services[name] = svc
	r.tags[*svc.s.ServiceArn] = in.Tags
	if !svc.external() {
		s.newDeployment(svc, c.Now, "")
	}
	return &ecs.CreateServiceOutput{Service: s.serviceView(r, svc, false)}, nil
}

// initService fills the fields ECS computes for a new service.
func (s *Service) initService(r *region, c *protocol.Call, svc *service, name string) {
	svc.s.ServiceName = aws.String(name)
	svc.s.ServiceArn = aws.String(r.arn("service/" + aws.ToString(svc.cluster.c.ClusterName) + "/" + name))
	svc.s.ClusterArn = svc.cluster.c.ClusterArn
	svc.s.Status = aws.String("ACTIVE")
	svc.s.CreatedAt = ptrTime(c.Now)
	svc.s.CreatedBy = aws.String("arn:aws:iam::" + c.Account + ":root")
	if svc.s.SchedulingStrategy == "" {
		svc.s.SchedulingStrategy = types.SchedulingStrategyReplica
	}
	if svc.s.DeploymentController == nil {
		svc.s.DeploymentController = &types.DeploymentController{Type: types.DeploymentControllerTypeEcs}
	}
	if svc.s.DeploymentConfiguration == nil {
		svc.s.DeploymentConfiguration = &types.DeploymentConfiguration{}
	}
	dc := svc.s.DeploymentConfiguration
	if dc.MaximumPercent == nil {
		dc.MaximumPercent = aws.Int32(200)
	}
	if dc.MinimumHealthyPercent == nil {
		dc.MinimumHealthyPercent = aws.Int32(100)
	}
	if svc.s.LaunchType == "" && len(svc.s.CapacityProviderStrategy) == 0 {
		svc.s.CapacityProviderStrategy = svc.cluster.c.DefaultCapacityProviderStrategy
	}
	if svc.s.LaunchType == "" && len(svc.s.CapacityProviderStrategy) == 0 {
		svc.s.LaunchType = types.LaunchTypeEc2
	}
	if svc.s.PropagateTags == "" {
		svc.s.PropagateTags = types.PropagateTagsNone
	}
}

// checkServiceRefs resolves the task definition to its ARN and checks
// that the referenced target groups exist.
func (s *Service) checkServiceRefs(r *region, c *protocol.Call, svc *types.Service) error {
	if svc.TaskDefinition == nil && svc.DeploymentController != nil && svc.DeploymentController.Type == types.DeploymentControllerTypeExternal {
		return nil // task sets carry the task definitions
	}
	td, ok := r.findTaskDef(aws.ToString(svc.TaskDefinition))
	if !ok || td.Status != types.TaskDefinitionStatusActive {
		return invalidParameter("TaskDefinition not found.")
	}
	svc.TaskDefinition = td.TaskDefinitionArn
	if err := checkServiceParams(svc, td); err != nil {
		return err
	}
	for _, lb := range svc.LoadBalancers {
		if lb.TargetGroupArn == nil {
			continue
		}
		if _, ok := s.cfg.Targets.TargetGroupType(c.Scope(), *lb.TargetGroupArn); !ok {
			return invalidParameter("The target group %s does not exist.", *lb.TargetGroupArn)
		}
		if !s.cfg.Targets.TargetGroupAttached(c.Scope(), *lb.TargetGroupArn) {
			return invalidParameter("The target group with targetGroupArn %s does not have an associated load balancer.", *lb.TargetGroupArn)
		}
		if lb.ContainerName == nil || lb.ContainerPort == nil {
			return invalidParameter("containerName and containerPort must be specified for a target group.")
		}
		if err := s.checkTarget(c.Scope(), td, lb); err != nil {
			return err
		}
	}
	return nil
}

// checkTarget checks that a load balancer's container and port are in the
// task definition, and that its target group's target type suits the
// task's network mode (ip for awsvpc, instance for bridge and host).
func (s *Service) checkTarget(scope protocol.Scope, td *types.TaskDefinition, lb types.LoadBalancer) error {
	name, port := *lb.ContainerName, *lb.ContainerPort
	i := slices.IndexFunc(td.ContainerDefinitions, func(cd types.ContainerDefinition) bool { return aws.ToString(cd.Name) == name })
	if i < 0 {
		return invalidParameter("The container %s does not exist in the task definition.", name)
	}
	if !slices.ContainsFunc(td.ContainerDefinitions[i].PortMappings, func(pm types.PortMapping) bool { return aws.ToInt32(pm.ContainerPort) == port }) {
		return invalidParameter("The container %s did not have a container port %d defined.", name, port)
	}
	mode := td.NetworkMode
	if mode == "" {
		mode = types.NetworkModeBridge
	}
	typ, _ := s.cfg.Targets.TargetGroupType(scope, *lb.TargetGroupArn)
	if (mode == types.NetworkModeAwsvpc && typ != "ip") || ((mode == types.NetworkModeBridge || mode == types.NetworkModeHost) && typ == "ip") {
		return invalidParameter("The provided target group %s has target type %s, which is incompatible with the %s network mode specified in the task definition.", *lb.TargetGroupArn, typ, mode)
	}
	return nil
}

func (s *Service) findService(r *region, clusterRef *string, ref string) (*service, error) {
	cl, err := r.findCluster(clusterRef)
	if err != nil {
		return nil, err
	}
	svc, ok := cl.services[nameFromArn(ref)]
	if !ok {
		return nil, protocol.Errorf("ServiceNotFoundException", "Service not found.")
	}
	return svc, nil
}

func (s *Service) updateService(c *protocol.Call) (any, error) {
	var in ecs.UpdateServiceInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	r := s.region(c.Scope())
	svc, err := s.findService(r, in.Cluster, aws.ToString(in.Service))
	if err != nil {
		return nil, err
	}
	if aws.ToString(svc.s.Status) != "ACTIVE" {
		return nil, protocol.Errorf("ServiceNotActiveException", "Service was not ACTIVE.")
	}
	var next types.Service
	if err := protocol.Overlay(&svc.s, &in, &next); err != nil {
		return nil, err
	}
	if len(in.CapacityProviderStrategy) > 0 {
		next.LaunchType = "" // a strategy replaces the launch type
	}
	if err := s.checkServiceRefs(r, c, &next); err != nil {
		return nil, err
	}
	redeploy := in.ForceNewDeployment || deploymentChanged(&svc.s, &next)
	if svc.external() && redeploy {
		return nil, invalidParameter("Unable to update task definition on services with a EXTERNAL deployment controller. Use task sets.")
	}
	svc.s = next
	if svc.external() {
		s.scaleTaskSets(svc, c.Now)
		return &ecs.UpdateServiceOutput{Service: s.serviceView(r, svc, false)}, nil
	}
	if redeploy {
		s.newDeployment(svc, c.Now, "")
	} else {
		svc.deployments[0].d.DesiredCount = svc.s.DesiredCount
		svc.deployments[0].d.UpdatedAt = ptrTime(c.Now)
	}
	return &ecs.UpdateServiceOutput{Service: s.serviceView(r, svc, false)}, nil
}

// deploymentChanged reports whether an update changes what tasks run, so
// that ECS must start a new deployment.
func deploymentChanged(old, next *types.Service) bool {
	return aws.ToString(old.TaskDefinition) != aws.ToString(next.TaskDefinition) ||
		!jsonEqual(old.NetworkConfiguration, next.NetworkConfiguration) ||
		!jsonEqual(old.LoadBalancers, next.LoadBalancers) ||
		!jsonEqual(old.ServiceRegistries, next.ServiceRegistries) ||
		!jsonEqual(old.CapacityProviderStrategy, next.CapacityProviderStrategy) ||
		aws.ToString(old.PlatformVersion) != aws.ToString(next.PlatformVersion)
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

func (s *Service) deleteService(c *protocol.Call) (any, error) {
	var in ecs.DeleteServiceInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	r := s.region(c.Scope())
	svc, err := s.findService(r, in.Cluster, aws.ToString(in.Service))
	if err != nil {
		return nil, err
	}
	if aws.ToString(svc.s.Status) != "ACTIVE" {
		return nil, protocol.Errorf("ServiceNotActiveException", "Service was not ACTIVE.")
	}
	if svc.s.DesiredCount > 0 && !aws.ToBool(in.Force) {
		return nil, invalidParameter("The service cannot be stopped while it is scaled above 0.")
	}
	svc.s.Status = aws.String("DRAINING")
	svc.s.DesiredCount = 0
	return &ecs.DeleteServiceOutput{Service: s.serviceView(r, svc, false)}, nil
}

func (s *Service) describeServices(c *protocol.Call) (any, error) {
	var in ecs.DescribeServicesInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	if len(in.Services) == 0 || len(in.Services) > maxDescribeServices {
		return nil, invalidParameter("services must contain between 1 and %d items.", maxDescribeServices)
	}
	r := s.region(c.Scope())
	cl, err := r.findCluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	tags := hasInclude(in.Include, string(types.ServiceFieldTags))
	out := &ecs.DescribeServicesOutput{}
	for _, ref := range in.Services {
		svc, ok := cl.services[nameFromArn(ref)]
		if !ok {
			arn := r.arn("service/" + aws.ToString(cl.c.ClusterName) + "/" + nameFromArn(ref))
			out.Failures = append(out.Failures, types.Failure{Arn: aws.String(arn), Reason: aws.String("MISSING")})
			continue
		}
		out.Services = append(out.Services, *s.serviceView(r, svc, tags))
	}
	return out, nil
}

func (s *Service) listServices(c *protocol.Call) (any, error) {
	var in ecs.ListServicesInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	cl, err := s.region(c.Scope()).findCluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	var arns []string
	for _, name := range cl.svcOrder {
		svc := cl.services[name]
		if aws.ToString(svc.s.Status) == "INACTIVE" {
			continue
		}
		if in.LaunchType != "" && svc.s.LaunchType != in.LaunchType {
			continue
		}
		arns = append(arns, *svc.s.ServiceArn)
	}
	start, end, next, err := protocol.Page(len(arns), aws.ToString(in.NextToken), int(aws.ToInt32(in.MaxResults)), 10)
	if err != nil {
		return nil, err
	}
	return &ecs.ListServicesOutput{ServiceArns: arns[start:end], NextToken: optString(next)}, nil
}

// serviceView returns the service with its live deployments and counts.
func (s *Service) serviceView(r *region, svc *service, withTags bool) *types.Service {
	v := svc.s
	v.Deployments = nil
	v.RunningCount, v.PendingCount = 0, 0
	for _, d := range svc.deployments {
		dv := s.deploymentView(svc, d)
		v.Deployments = append(v.Deployments, dv)
		v.RunningCount += dv.RunningCount
		v.PendingCount += dv.PendingCount
	}
	v.TaskSets = nil
	for _, ts := range svc.taskSets {
		tv := s.taskSetView(svc, ts)
		v.TaskSets = append(v.TaskSets, tv)
		v.RunningCount += tv.RunningCount
		v.PendingCount += tv.PendingCount
	}
	v.Events = append([]types.ServiceEvent(nil), svc.events...)
	if withTags {
		v.Tags = r.tags[*svc.s.ServiceArn]
	} else {
		v.Tags = nil
	}
	return &v
}

// Capacity returns an ECS service's desired count; resourceID is
// "service/<cluster>/<service>".
func (s *Service) Capacity(scope protocol.Scope, resourceID string) (int32, error) {
	svc, err := s.scalableService(scope, resourceID)
	if err != nil {
		return 0, err
	}
	return svc.s.DesiredCount, nil
}

// SetCapacity changes an ECS service's desired count, as a scaling
// activity does (no new deployment).
func (s *Service) SetCapacity(scope protocol.Scope, resourceID string, n int32, now time.Time) error {
	svc, err := s.scalableService(scope, resourceID)
	if err != nil {
		return err
	}
	s.setDesired(svc, n, now)
	return nil
}

func (s *Service) scalableService(scope protocol.Scope, resourceID string) (*service, error) {
	parts := strings.Split(resourceID, "/")
	if len(parts) != 3 || parts[0] != "service" {
		return nil, fmt.Errorf("unsupported resource id %s", resourceID)
	}
	svc, err := s.findService(s.region(scope), aws.String(parts[1]), parts[2])
	if err != nil || aws.ToString(svc.s.Status) != "ACTIVE" {
		return nil, fmt.Errorf("ECS service doesn't exist: %s", resourceID)
	}
	return svc, nil
}

// setDesired changes the desired count of the service and its current
// deployment or task sets.
func (s *Service) setDesired(svc *service, n int32, now time.Time) {
	svc.s.DesiredCount = n
	if svc.external() {
		s.scaleTaskSets(svc, now)
		return
	}
	svc.deployments[0].d.DesiredCount = n
	svc.deployments[0].d.UpdatedAt = ptrTime(now)
}

// ClampCapacity keeps an ECS service's desired count within [min, max], as
// registering an Application Auto Scaling target does. resourceID is
// "service/<cluster>/<service>".
func (s *Service) ClampCapacity(scope protocol.Scope, resourceID string, minCount, maxCount int32, now time.Time) error {
	svc, err := s.scalableService(scope, resourceID)
	if err != nil {
		return err
	}
	s.setDesired(svc, min(max(svc.s.DesiredCount, minCount), maxCount), now)
	return nil
}

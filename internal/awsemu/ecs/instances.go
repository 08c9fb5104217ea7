package ecs

import (
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

// noInstances is the reason ECS gives when a task needs a container
// instance and the cluster has none.
const noInstances = "No Container Instances were found in your cluster."

// registerContainerInstance registers a container instance in a cluster,
// as the ECS agent on an EC2 instance does, with the resources it reports
// (see placement.go: tasks are placed by CPU, memory and host ports).
func (s *Service) registerContainerInstance(c *protocol.Call) (any, error) {
	var in ecs.RegisterContainerInstanceInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	r := s.region(c.Scope())
	cl, err := r.findCluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	id := s.newID()
	ci := &types.ContainerInstance{
		ContainerInstanceArn: aws.String(r.arn("container-instance/" + aws.ToString(cl.c.ClusterName) + "/" + id)),
		Ec2InstanceId:        aws.String("i-" + id[len(id)-17:]),
		Status:               aws.String("ACTIVE"),
		AgentConnected:       true,
		RegisteredAt:         ptrTime(c.Now),
		RegisteredResources:  in.TotalResources,
		RemainingResources:   in.TotalResources,
		Attributes:           in.Attributes,
		Tags:                 in.Tags,
		VersionInfo:          in.VersionInfo,
		Version:              1,
	}
	cl.instances = append(cl.instances, ci)
	return &ecs.RegisterContainerInstanceOutput{ContainerInstance: ci}, nil
}

func (s *Service) deregisterContainerInstance(c *protocol.Call) (any, error) {
	var in ecs.DeregisterContainerInstanceInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	cl, err := s.region(c.Scope()).findCluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	i := cl.findInstance(aws.ToString(in.ContainerInstance))
	if i < 0 {
		return nil, invalidParameter("The referenced container instance %s was not found.", aws.ToString(in.ContainerInstance))
	}
	ci := cl.instances[i]
	ci.Status = aws.String("INACTIVE")
	cl.instances = slices.Delete(cl.instances, i, i+1)
	return &ecs.DeregisterContainerInstanceOutput{ContainerInstance: ci}, nil
}

func (s *Service) listContainerInstances(c *protocol.Call) (any, error) {
	var in ecs.ListContainerInstancesInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	cl, err := s.region(c.Scope()).findCluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	var arns []string
	for _, ci := range cl.instances {
		if in.Status == "" || string(in.Status) == aws.ToString(ci.Status) {
			arns = append(arns, aws.ToString(ci.ContainerInstanceArn))
		}
	}
	start, end, next, err := protocol.Page(len(arns), aws.ToString(in.NextToken), int(aws.ToInt32(in.MaxResults)), 100)
	if err != nil {
		return nil, err
	}
	return &ecs.ListContainerInstancesOutput{ContainerInstanceArns: arns[start:end], NextToken: optString(next)}, nil
}

func (s *Service) describeContainerInstances(c *protocol.Call) (any, error) {
	var in ecs.DescribeContainerInstancesInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	if len(in.ContainerInstances) == 0 || len(in.ContainerInstances) > maxDescribeTasks {
		return nil, invalidParameter("containerInstances must contain between 1 and %d items.", maxDescribeTasks)
	}
	cl, err := s.region(c.Scope()).findCluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	out := &ecs.DescribeContainerInstancesOutput{}
	for _, ref := range in.ContainerInstances {
		i := cl.findInstance(ref)
		if i < 0 {
			out.Failures = append(out.Failures, types.Failure{Arn: aws.String(ref), Reason: aws.String("MISSING")})
			continue
		}
		out.ContainerInstances = append(out.ContainerInstances, cl.described(cl.instances[i]))
	}
	return out, nil
}

// findInstance returns the index of a container instance by ARN or id,
// or -1.
func (cl *cluster) findInstance(ref string) int {
	for i, ci := range cl.instances {
		if arn := aws.ToString(ci.ContainerInstanceArn); arn == ref || nameFromArn(arn) == ref {
			return i
		}
	}
	return -1
}

// onFargate reports whether tasks of the launch type or capacity provider
// strategy run on Fargate, where no container instance is needed.
func onFargate(lt types.LaunchType, cps []types.CapacityProviderStrategyItem) bool {
	if lt != "" {
		return lt == types.LaunchTypeFargate
	}
	if len(cps) == 0 {
		return false
	}
	for _, it := range cps {
		if p := aws.ToString(it.CapacityProvider); p != "FARGATE" && p != "FARGATE_SPOT" {
			return false
		}
	}
	return true
}

// placeable reports whether the cluster can place tasks of the launch
// type or capacity provider strategy: Fargate always, EC2 and EXTERNAL
// only on a registered container instance.
func (cl *cluster) placeable(lt types.LaunchType, cps []types.CapacityProviderStrategyItem) bool {
	return onFargate(lt, cps) || len(cl.instances) > 0
}

// unplaced records the service event ECS writes when it cannot place the
// deployment's tasks, saying why (detail), once until something else
// happens to the service.
func (svc *service) unplaced(now time.Time, detail string) {
	msg := fmt.Sprintf("(service %s) was unable to place a task because no container instance met all of its requirements. %s For more information, see the Troubleshooting section.",
		aws.ToString(svc.s.ServiceName), detail)
	if len(svc.events) > 0 && aws.ToString(svc.events[0].Message) == msg {
		return
	}
	svc.addEvent(now, msg)
}

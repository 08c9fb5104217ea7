package ecs

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

func (s *Service) createCluster(c *protocol.Call) (any, error) {
	var in ecs.CreateClusterInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	r := s.region(c.Scope())
	name := aws.ToString(in.ClusterName)
	if name == "" {
		name = "default"
	}
	if err := checkClusterName(name); err != nil {
		return nil, err
	}
	if cl, ok := r.clusters[name]; ok && *cl.c.Status == "ACTIVE" {
		return &ecs.CreateClusterOutput{Cluster: s.clusterView(cl)}, nil
	}
	cl := &cluster{scope: r.scope, services: map[string]*service{}, tasks: map[string]*task{}}
	if err := protocol.Copy(&in, &cl.c); err != nil {
		return nil, err
	}
	cl.c.ClusterName = aws.String(name)
	cl.c.ClusterArn = aws.String(r.arn("cluster/" + name))
	cl.c.Status = aws.String("ACTIVE")
	if _, existed := r.clusters[name]; !existed {
		r.order = append(r.order, name)
	}
	r.clusters[name] = cl
	r.tags[*cl.c.ClusterArn] = in.Tags
	return &ecs.CreateClusterOutput{Cluster: s.clusterView(cl)}, nil
}

// clusterView returns the cluster with its live counters.
func (s *Service) clusterView(cl *cluster) *types.Cluster {
	v := cl.c
	v.ActiveServicesCount = 0
	v.RunningTasksCount, v.PendingTasksCount = 0, 0
	for _, svc := range cl.services {
		if aws.ToString(svc.s.Status) == "ACTIVE" {
			v.ActiveServicesCount++
		}
	}
	for _, t := range cl.tasks {
		switch aws.ToString(t.t.LastStatus) {
		case "RUNNING":
			v.RunningTasksCount++
		case "PROVISIONING", "PENDING":
			v.PendingTasksCount++
		}
	}
	return &v
}

func (s *Service) describeClusters(c *protocol.Call) (any, error) {
	var in ecs.DescribeClustersInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	r := s.region(c.Scope())
	if len(in.Clusters) == 0 {
		in.Clusters = []string{"default"}
	}
	out := &ecs.DescribeClustersOutput{}
	for _, ref := range in.Clusters {
		cl, ok := r.clusters[nameFromArn(ref)]
		if !ok {
			out.Failures = append(out.Failures, types.Failure{Arn: aws.String(r.arn("cluster/" + nameFromArn(ref))), Reason: aws.String("MISSING")})
			continue
		}
		v := s.clusterView(cl)
		if hasInclude(in.Include, string(types.ClusterFieldTags)) {
			v.Tags = r.tags[*v.ClusterArn]
		}
		out.Clusters = append(out.Clusters, *v)
	}
	return out, nil
}

func hasInclude[T ~string](include []T, field string) bool {
	for _, f := range include {
		if string(f) == field {
			return true
		}
	}
	return false
}

func (s *Service) listClusters(c *protocol.Call) (any, error) {
	var in ecs.ListClustersInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	r := s.region(c.Scope())
	var arns []string
	for _, name := range r.order {
		if cl := r.clusters[name]; *cl.c.Status == "ACTIVE" {
			arns = append(arns, *cl.c.ClusterArn)
		}
	}
	start, end, next, err := protocol.Page(len(arns), aws.ToString(in.NextToken), int(aws.ToInt32(in.MaxResults)), 100)
	if err != nil {
		return nil, err
	}
	return &ecs.ListClustersOutput{ClusterArns: arns[start:end], NextToken: optString(next)}, nil
}

func (s *Service) deleteCluster(c *protocol.Call) (any, error) {
	var in ecs.DeleteClusterInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	cl, err := s.region(c.Scope()).findCluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	for _, svc := range cl.services {
		if aws.ToString(svc.s.Status) != "INACTIVE" {
			return nil, protocol.Errorf("ClusterContainsServicesException", "The Cluster cannot be deleted while Services are active.")
		}
	}
	for _, t := range cl.tasks {
		if aws.ToString(t.t.LastStatus) != "STOPPED" {
			return nil, protocol.Errorf("ClusterContainsTasksException", "The Cluster cannot be deleted while Tasks are active.")
		}
	}
	cl.c.Status = aws.String("INACTIVE")
	return &ecs.DeleteClusterOutput{Cluster: s.clusterView(cl)}, nil
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

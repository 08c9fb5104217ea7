package eks

import (
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

func (s *Service) createNodegroup(r *region, c *protocol.Call) (any, error) {
	var in eks.CreateNodegroupInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	cl, err := r.find(c.Params["name"])
	if err != nil {
		return nil, err
	}
	if cl.c.Status != types.ClusterStatusActive {
		return nil, inUse("Cluster %s is not ACTIVE", aws.ToString(cl.c.Name))
	}
	name := aws.ToString(in.NodegroupName)
	if name == "" || aws.ToString(in.NodeRole) == "" || len(in.Subnets) == 0 {
		return nil, invalid("nodegroupName, nodeRole and subnets are required")
	}
	if _, ok := cl.nodegroups[name]; ok {
		return nil, inUse("NodeGroup already exists with name %s and cluster name %s", name, aws.ToString(cl.c.Name))
	}
	ng := &nodegroup{until: c.Now.Add(nodegroupCreateTime)}
	if err := protocol.Copy(&in, &ng.ng, "ClientRequestToken"); err != nil {
		return nil, err
	}
	ng.ng.ClusterName, ng.ng.Status = cl.c.Name, types.NodegroupStatusCreating
	ng.ng.NodegroupArn = aws.String(fmt.Sprintf("arn:aws:eks:%s:%s:nodegroup/%s/%s/%s", c.Region, c.Account, aws.ToString(cl.c.Name), name, s.newID()))
	ng.ng.CreatedAt, ng.ng.ModifiedAt = aws.Time(c.Now), aws.Time(c.Now)
	if ng.ng.Version == nil {
		ng.ng.Version = cl.c.Version
	}
	if ng.ng.Tags == nil {
		ng.ng.Tags = map[string]string{}
	}
	if ng.ng.ScalingConfig == nil {
		ng.ng.ScalingConfig = &types.NodegroupScalingConfig{MinSize: aws.Int32(1), MaxSize: aws.Int32(2), DesiredSize: aws.Int32(2)}
	}
	cl.nodegroups[name] = ng
	v := ng.ng
	return &eks.CreateNodegroupOutput{Nodegroup: &v}, nil
}

// step finishes a node group's transition; it reports true when a deleted
// node group is gone.
func (ng *nodegroup) step(now time.Time) bool {
	if now.Before(ng.until) {
		return false
	}
	switch ng.ng.Status {
	case types.NodegroupStatusCreating:
		ng.ng.Status, ng.ng.ModifiedAt = types.NodegroupStatusActive, aws.Time(now)
	case types.NodegroupStatusDeleting:
		return true
	}
	return false
}

func (cl *cluster) nodegroup(name string) (*nodegroup, error) {
	ng, ok := cl.nodegroups[name]
	if !ok {
		return nil, notFound("No node group found for name: %s.", name)
	}
	return ng, nil
}

func (s *Service) describeNodegroup(r *region, c *protocol.Call) (any, error) {
	cl, err := r.find(c.Params["name"])
	if err != nil {
		return nil, err
	}
	ng, err := cl.nodegroup(c.Params["nodegroupName"])
	if err != nil {
		return nil, err
	}
	v := ng.ng
	return &eks.DescribeNodegroupOutput{Nodegroup: &v}, nil
}

func (s *Service) listNodegroups(r *region, c *protocol.Call) (any, error) {
	cl, err := r.find(c.Params["name"])
	if err != nil {
		return nil, err
	}
	return &eks.ListNodegroupsOutput{Nodegroups: sortedKeys(cl.nodegroups)}, nil
}

func (s *Service) deleteNodegroup(r *region, c *protocol.Call) (any, error) {
	cl, err := r.find(c.Params["name"])
	if err != nil {
		return nil, err
	}
	ng, err := cl.nodegroup(c.Params["nodegroupName"])
	if err != nil {
		return nil, err
	}
	ng.ng.Status, ng.until = types.NodegroupStatusDeleting, c.Now.Add(nodegroupDeleteTime)
	v := ng.ng
	return &eks.DeleteNodegroupOutput{Nodegroup: &v}, nil
}

func (s *Service) updateNodegroupVersion(r *region, c *protocol.Call) (any, error) {
	var in eks.UpdateNodegroupVersionInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	cl, err := r.find(c.Params["name"])
	if err != nil {
		return nil, err
	}
	ng, err := cl.nodegroup(c.Params["nodegroupName"])
	if err != nil {
		return nil, err
	}
	if ng.ng.Status != types.NodegroupStatusActive {
		return nil, inUse("Nodegroup %s is currently %s", aws.ToString(ng.ng.NodegroupName), ng.ng.Status)
	}
	version := aws.ToString(in.Version)
	if version == "" {
		version = aws.ToString(cl.c.Version)
	}
	ng.ng.Status = types.NodegroupStatusUpdating
	u := s.newUpdate(cl, c.Now, types.UpdateTypeVersionUpdate, version, aws.ToString(ng.ng.NodegroupName), nodegroupUpdateTime)
	return &eks.UpdateNodegroupVersionOutput{Update: &u.u}, nil
}

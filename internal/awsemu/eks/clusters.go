package eks

import (
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

// cluster is one EKS cluster with its node groups and updates.
type cluster struct {
	c          types.Cluster
	until      time.Time // end of the current transition
	nodegroups map[string]*nodegroup
	updates    map[string]*update
}

type nodegroup struct {
	ng    types.Nodegroup
	until time.Time
}

type update struct {
	u       types.Update
	until   time.Time
	version string
	group   string // node group name; "" for the cluster
}

// skipped are request members whose shapes differ from the response.
var skipped = []string{"AccessConfig", "ComputeConfig", "StorageConfig", "RemoteNetworkConfig", "UpgradePolicy",
	"ZonalShiftConfig", "OutpostConfig", "KubernetesNetworkConfig", "ClientRequestToken", "BootstrapSelfManagedAddons"}

func (s *Service) createCluster(r *region, c *protocol.Call) (any, error) {
	var in eks.CreateClusterInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	name := aws.ToString(in.Name)
	if name == "" || aws.ToString(in.RoleArn) == "" || in.ResourcesVpcConfig == nil {
		return nil, invalid("name, roleArn and resourcesVpcConfig are required")
	}
	if _, ok := r.clusters[name]; ok {
		return nil, inUse("Cluster already exists with name: %s", name)
	}
	cl := &cluster{until: c.Now.Add(clusterCreateTime), nodegroups: map[string]*nodegroup{}, updates: map[string]*update{}}
	if err := protocol.Copy(&in, &cl.c, skipped...); err != nil {
		return nil, err
	}
	cl.c.Arn = aws.String(fmt.Sprintf("arn:aws:eks:%s:%s:cluster/%s", c.Region, c.Account, name))
	cl.c.CreatedAt, cl.c.Status, cl.c.PlatformVersion = aws.Time(c.Now), types.ClusterStatusCreating, aws.String("eks.1")
	if cl.c.Version == nil {
		cl.c.Version = aws.String(DefaultVersion)
	}
	cl.c.ResourcesVpcConfig.VpcId = aws.String("vpc-emulated")
	if cl.c.Tags == nil {
		cl.c.Tags = map[string]string{}
	}
	r.clusters[name] = cl
	return &eks.CreateClusterOutput{Cluster: cl.view()}, nil
}

func (cl *cluster) view() *types.Cluster {
	v := cl.c
	return &v
}

// step finishes the cluster's and its node groups' transitions; it
// reports true when a deleted cluster is gone.
func (cl *cluster) step(now time.Time) bool {
	for _, u := range cl.updates {
		u.step(cl, now)
	}
	for name, ng := range cl.nodegroups {
		if ng.step(now) {
			delete(cl.nodegroups, name)
		}
	}
	if now.Before(cl.until) {
		return false
	}
	switch cl.c.Status {
	case types.ClusterStatusCreating:
		cl.c.Status = types.ClusterStatusActive
		cl.c.Endpoint = aws.String(fmt.Sprintf("https://%s.gr7.%s.eks.amazonaws.com", aws.ToString(cl.c.Name), "emulated"))
		cl.c.CertificateAuthority = &types.Certificate{Data: aws.String("LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==")}
	case types.ClusterStatusDeleting:
		return true
	}
	return false
}

func (r *region) find(name string) (*cluster, error) {
	cl, ok := r.clusters[name]
	if !ok {
		return nil, notFound("No cluster found for name: %s.", name)
	}
	return cl, nil
}

func (s *Service) describeCluster(r *region, c *protocol.Call) (any, error) {
	cl, err := r.find(c.Params["name"])
	if err != nil {
		return nil, err
	}
	return &eks.DescribeClusterOutput{Cluster: cl.view()}, nil
}

func (s *Service) listClusters(r *region, c *protocol.Call) (any, error) {
	q := c.HTTP.URL.Query()
	names := sortedKeys(r.clusters)
	max, _ := strconv.Atoi(q.Get("maxResults"))
	start, end, next, err := protocol.Page(len(names), q.Get("nextToken"), max, 100)
	if err != nil {
		return nil, invalid("invalid nextToken")
	}
	out := &eks.ListClustersOutput{Clusters: names[start:end]}
	if next != "" {
		out.NextToken = aws.String(next)
	}
	return out, nil
}

func (s *Service) deleteCluster(r *region, c *protocol.Call) (any, error) {
	cl, err := r.find(c.Params["name"])
	if err != nil {
		return nil, err
	}
	if len(cl.nodegroups) > 0 {
		return nil, inUse("Cluster has nodegroups attached")
	}
	cl.c.Status, cl.until = types.ClusterStatusDeleting, c.Now.Add(clusterDeleteTime)
	return &eks.DeleteClusterOutput{Cluster: cl.view()}, nil
}

func (s *Service) updateClusterVersion(r *region, c *protocol.Call) (any, error) {
	var in eks.UpdateClusterVersionInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	cl, err := r.find(c.Params["name"])
	if err != nil {
		return nil, err
	}
	if cl.c.Status != types.ClusterStatusActive {
		return nil, inUse("Cluster %s is currently %s", aws.ToString(cl.c.Name), cl.c.Status)
	}
	if aws.ToString(in.Version) == aws.ToString(cl.c.Version) {
		return nil, invalid("Unsupported Kubernetes minor version update from %s to %s", aws.ToString(cl.c.Version), aws.ToString(in.Version))
	}
	cl.c.Status = types.ClusterStatusUpdating
	u := s.newUpdate(cl, c.Now, types.UpdateTypeVersionUpdate, aws.ToString(in.Version), "", clusterUpdateTime)
	return &eks.UpdateClusterVersionOutput{Update: &u.u}, nil
}

func (s *Service) newUpdate(cl *cluster, now time.Time, typ types.UpdateType, version, group string, d time.Duration) *update {
	u := &update{until: now.Add(d), version: version, group: group, u: types.Update{Id: aws.String(s.newID()), Status: types.UpdateStatusInProgress,
		Type: typ, CreatedAt: aws.Time(now), Params: []types.UpdateParam{{Type: types.UpdateParamTypeVersion, Value: aws.String(version)}}}}
	cl.updates[*u.u.Id] = u
	return u
}

// step applies a finished update.
func (u *update) step(cl *cluster, now time.Time) {
	if u.u.Status != types.UpdateStatusInProgress || now.Before(u.until) {
		return
	}
	u.u.Status = types.UpdateStatusSuccessful
	if u.group == "" {
		cl.c.Version, cl.c.Status = aws.String(u.version), types.ClusterStatusActive
		return
	}
	if ng, ok := cl.nodegroups[u.group]; ok {
		ng.ng.Version, ng.ng.Status, ng.ng.ModifiedAt = aws.String(u.version), types.NodegroupStatusActive, aws.Time(now)
	}
}

func (s *Service) describeUpdate(r *region, c *protocol.Call) (any, error) {
	cl, err := r.find(c.Params["name"])
	if err != nil {
		return nil, err
	}
	u, ok := cl.updates[c.Params["updateId"]]
	if !ok {
		return nil, notFound("No update found for ID: %s", c.Params["updateId"])
	}
	v := u.u
	return &eks.DescribeUpdateOutput{Update: &v}, nil
}

func (s *Service) resource(r *region, arn string) (map[string]string, error) {
	for _, cl := range r.clusters {
		if aws.ToString(cl.c.Arn) == arn {
			return cl.c.Tags, nil
		}
		for _, ng := range cl.nodegroups {
			if aws.ToString(ng.ng.NodegroupArn) == arn {
				return ng.ng.Tags, nil
			}
		}
	}
	return nil, notFound("Resource %s not found", arn)
}

func (s *Service) listTags(r *region, c *protocol.Call) (any, error) {
	tags, err := s.resource(r, c.Params["resourceArn"])
	if err != nil {
		return nil, err
	}
	return &eks.ListTagsForResourceOutput{Tags: tags}, nil
}

func (s *Service) tagResource(r *region, c *protocol.Call) (any, error) {
	var in eks.TagResourceInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	tags, err := s.resource(r, c.Params["resourceArn"])
	if err != nil {
		return nil, err
	}
	for k, v := range in.Tags {
		tags[k] = v
	}
	return &eks.TagResourceOutput{}, nil
}

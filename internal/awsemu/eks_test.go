package awsemu_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
)

func TestEKSClusterAndNodegroupLifecycle(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c := env.EKS()
	cl := need(c.CreateCluster(ctx, &eks.CreateClusterInput{Name: aws.String("prod"), RoleArn: aws.String("arn:aws:iam::111111111111:role/eks"), Version: aws.String("1.32"),
		ResourcesVpcConfig: &ekstypes.VpcConfigRequest{SubnetIds: []string{"subnet-a", "subnet-b"}, EndpointPrivateAccess: aws.Bool(true)},
		Tags:               map[string]string{"team": "core"}})).on(t).Cluster
	if cl.Status != ekstypes.ClusterStatusCreating || len(cl.ResourcesVpcConfig.SubnetIds) != 2 || !cl.ResourcesVpcConfig.EndpointPrivateAccess {
		t.Fatalf("new cluster %s", jsonOf(t, cl))
	}
	active := eks.NewClusterActiveWaiter(c, func(o *eks.ClusterActiveWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Millisecond, time.Millisecond
		o.APIOptions = append(o.APIOptions, env.AdvanceEachAttempt(30*time.Second))
	})
	if err := active.Wait(ctx, &eks.DescribeClusterInput{Name: aws.String("prod")}, time.Minute); err != nil {
		t.Fatalf("ClusterActive: %v", err)
	}
	ng := need(c.CreateNodegroup(ctx, &eks.CreateNodegroupInput{ClusterName: aws.String("prod"), NodegroupName: aws.String("workers"),
		NodeRole: aws.String("arn:aws:iam::111111111111:role/node"), Subnets: []string{"subnet-a"}, InstanceTypes: []string{"m7g.large"},
		ScalingConfig: &ekstypes.NodegroupScalingConfig{MinSize: aws.Int32(2), MaxSize: aws.Int32(4), DesiredSize: aws.Int32(3)},
		Labels:        map[string]string{"role": "web"}})).on(t).Nodegroup
	if aws.ToString(ng.Version) != "1.32" || ng.Labels["role"] != "web" || aws.ToInt32(ng.ScalingConfig.DesiredSize) != 3 {
		t.Errorf("nodegroup %s", jsonOf(t, ng))
	}
	ngActive := eks.NewNodegroupActiveWaiter(c, func(o *eks.NodegroupActiveWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Millisecond, time.Millisecond
		o.APIOptions = append(o.APIOptions, env.AdvanceEachAttempt(30*time.Second))
	})
	if err := ngActive.Wait(ctx, &eks.DescribeNodegroupInput{ClusterName: aws.String("prod"), NodegroupName: aws.String("workers")}, time.Minute); err != nil {
		t.Fatalf("NodegroupActive: %v", err)
	}
	up := need(c.UpdateClusterVersion(ctx, &eks.UpdateClusterVersionInput{Name: aws.String("prod"), Version: aws.String("1.33")})).on(t).Update
	_, err := c.UpdateClusterVersion(ctx, &eks.UpdateClusterVersionInput{Name: aws.String("prod"), Version: aws.String("1.34")})
	var riu *ekstypes.ResourceInUseException
	if !errors.As(err, &riu) {
		t.Errorf("update during update: got %v, want ResourceInUseException", err)
	}
	env.Emu.Advance(21 * time.Minute)
	u := need(c.DescribeUpdate(ctx, &eks.DescribeUpdateInput{Name: aws.String("prod"), UpdateId: up.Id})).on(t).Update
	got := need(c.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String("prod")})).on(t).Cluster
	if u.Status != ekstypes.UpdateStatusSuccessful || aws.ToString(got.Version) != "1.33" || got.Status != ekstypes.ClusterStatusActive {
		t.Errorf("after version update: update %s, cluster %s %s", u.Status, aws.ToString(got.Version), got.Status)
	}
	tags := need(c.ListTagsForResource(ctx, &eks.ListTagsForResourceInput{ResourceArn: got.Arn})).on(t)
	if tags.Tags["team"] != "core" {
		t.Errorf("tags %v", tags.Tags)
	}
	_, err = c.DeleteCluster(ctx, &eks.DeleteClusterInput{Name: aws.String("prod")})
	if !errors.As(err, &riu) {
		t.Errorf("deleting a cluster with node groups: got %v", err)
	}
	need(c.DeleteNodegroup(ctx, &eks.DeleteNodegroupInput{ClusterName: aws.String("prod"), NodegroupName: aws.String("workers")})).on(t)
	env.Emu.Advance(4 * time.Minute)
	need(c.DeleteCluster(ctx, &eks.DeleteClusterInput{Name: aws.String("prod")})).on(t)
	deleted := eks.NewClusterDeletedWaiter(c, func(o *eks.ClusterDeletedWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Millisecond, time.Millisecond
		o.APIOptions = append(o.APIOptions, env.AdvanceEachAttempt(30*time.Second))
	})
	if err := deleted.Wait(ctx, &eks.DescribeClusterInput{Name: aws.String("prod")}, time.Minute); err != nil {
		t.Fatalf("ClusterDeleted: %v", err)
	}
}

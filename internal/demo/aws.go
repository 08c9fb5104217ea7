package demo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/jibe-dev/jibe/internal/awsemu/awsemutest"
)

// The emulated AWS accounts of the demo. Each access key acts in its own
// account, so staging and production keep separate state.
const (
	region            = "eu-west-1"
	stagingAccount    = "111111111111"
	productionAccount = "222222222222"
)

// account is one emulated AWS account: how to reach it, and what the demo
// created in it.
type account struct {
	// Name is the account's name in the agent configuration, which is
	// also the environment deployed to it.
	Name, ID, AccessKey, SecretKey string
	// Listener, Blue and Green are the ARNs of the load balancer listener
	// and its target groups.
	Listener, Blue, Green string
	// Vars are the variables of jibe.yaml pointing at these resources.
	Vars map[string]string
}

// accounts returns the demo's two accounts, not yet set up.
func accounts() []*account {
	return []*account{
		{Name: "staging", ID: stagingAccount, AccessKey: "AKIADEMOSTAGING", SecretKey: "demo-staging-secret"},
		{Name: "production", ID: productionAccount, AccessKey: "AKIADEMOPRODUCTION", SecretKey: "demo-production-secret"},
	}
}

// clients returns SDK clients of the emulator at url acting as a.
func (a *account) clients(url string) *awsemutest.Env {
	return &awsemutest.Env{URL: url, Region: region, AccessKey: a.AccessKey, SecretKey: a.SecretKey}
}

// setup creates what checkout needs in the account, through the real SDK
// clients: a cluster, the execution role, network, and a load balancer
// whose listener forwards 100/0 to blue and green target groups that turn
// healthy in 10 seconds and drain in 1.
func (a *account) setup(ctx context.Context, url string) error {
	c := a.clients(url)
	if _, err := c.ECS().CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(a.Name)}); err != nil {
		return fmt.Errorf("%s: creating the ECS cluster: %w", a.Name, err)
	}
	if _, err := c.IAM().CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("checkout-execution"),
		AssumeRolePolicyDocument: aws.String(ecsTasksTrust)}); err != nil {
		return fmt.Errorf("%s: creating the execution role: %w", a.Name, err)
	}
	subnet, group := a.network(ctx, c.EC2())
	lbArn, err := a.loadBalancer(ctx, c.ELBv2(), subnet)
	if err != nil {
		return err
	}
	a.Vars = map[string]string{
		"accountId": a.ID, "cluster": a.Name, "subnets": subnet, "securityGroup": group,
		"listenerArn": a.Listener, "blueTargetGroupArn": a.Blue, "greenTargetGroupArn": a.Green,
		"loadBalancer": dimension(lbArn, ":loadbalancer/"), "canaryTargetGroup": dimension(a.Green, ":"),
	}
	return nil
}

const ecsTasksTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",` +
	`"Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

// network creates a subnet and a security group, falling back to
// made-up identifiers where the emulator has no EC2 networking.
func (a *account) network(ctx context.Context, c *ec2.Client) (subnet, group string) {
	subnet, group = "subnet-"+a.Name, "sg-"+a.Name
	if out, err := c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: aws.String("vpc-demo"), CidrBlock: aws.String("10.0.1.0/24")}); err == nil {
		subnet = aws.ToString(out.Subnet.SubnetId)
	}
	if out, err := c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("checkout"),
		Description: aws.String("checkout tasks"), VpcId: aws.String("vpc-demo")}); err == nil {
		group = aws.ToString(out.GroupId)
	}
	return subnet, group
}

// loadBalancer creates the ALB, its target groups and its listener, and
// returns the load balancer's ARN.
func (a *account) loadBalancer(ctx context.Context, c *elbv2.Client, subnet string) (string, error) {
	lb, err := c.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String(a.Name), Subnets: []string{subnet}})
	if err != nil {
		return "", fmt.Errorf("%s: creating the load balancer: %w", a.Name, err)
	}
	if a.Blue, err = targetGroup(ctx, c, "checkout-blue"); err == nil {
		a.Green, err = targetGroup(ctx, c, "checkout-green")
	}
	if err != nil {
		return "", fmt.Errorf("%s: %w", a.Name, err)
	}
	ls, err := c.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: lb.LoadBalancers[0].LoadBalancerArn,
		Port: aws.Int32(80), Protocol: elbtypes.ProtocolEnumHttp, DefaultActions: []elbtypes.Action{{
			Type: elbtypes.ActionTypeEnumForward, ForwardConfig: &elbtypes.ForwardActionConfig{TargetGroups: []elbtypes.TargetGroupTuple{
				{TargetGroupArn: aws.String(a.Blue), Weight: aws.Int32(100)}, {TargetGroupArn: aws.String(a.Green), Weight: aws.Int32(0)}}}}}})
	if err != nil {
		return "", fmt.Errorf("%s: creating the listener: %w", a.Name, err)
	}
	a.Listener = aws.ToString(ls.Listeners[0].ListenerArn)
	return aws.ToString(lb.LoadBalancers[0].LoadBalancerArn), nil
}

// targetGroup creates an IP target group with the shortest health checks
// ALB allows and a 1-second deregistration delay.
func targetGroup(ctx context.Context, c *elbv2.Client, name string) (string, error) {
	tg, err := c.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String(name), Protocol: elbtypes.ProtocolEnumHttp,
		Port: aws.Int32(8080), VpcId: aws.String("vpc-demo"), TargetType: elbtypes.TargetTypeEnumIp,
		HealthCheckIntervalSeconds: aws.Int32(5), HealthCheckTimeoutSeconds: aws.Int32(2), HealthyThresholdCount: aws.Int32(2), UnhealthyThresholdCount: aws.Int32(2)})
	if err != nil {
		return "", fmt.Errorf("creating target group %s: %w", name, err)
	}
	arn := aws.ToString(tg.TargetGroups[0].TargetGroupArn)
	_, err = c.ModifyTargetGroupAttributes(ctx, &elbv2.ModifyTargetGroupAttributesInput{TargetGroupArn: aws.String(arn),
		Attributes: []elbtypes.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String("1")}}})
	if err != nil {
		return "", fmt.Errorf("setting the deregistration delay of %s: %w", name, err)
	}
	return arn, nil
}

// dimension returns the CloudWatch dimension value of a load balancer or
// target group ARN: what follows sep ("app/name/id", "targetgroup/name/id").
func dimension(arn, sep string) string {
	i := strings.LastIndex(arn, sep)
	if sep == ":" {
		return arn[i+1:]
	}
	return arn[i+len(sep):]
}

// pushImages creates the ECR repository repo and tags each release in
// it, where the emulator keeps ECR: ECS tasks of an image missing from it
// fail with CannotPullContainerError.
func pushImages(ctx context.Context, c *ecr.Client, repo string, versions ...string) error {
	if _, err := c.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(repo)}); err != nil {
		return fmt.Errorf("creating the ECR repository %s: %w", repo, err)
	}
	for _, v := range versions {
		manifest := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","annotations":{"version":%q}}`, v)
		sum := sha256.Sum256([]byte(manifest))
		_, err := c.PutImage(ctx, &ecr.PutImageInput{RepositoryName: aws.String(repo), ImageTag: aws.String(v),
			ImageManifest: aws.String(manifest), ImageDigest: aws.String("sha256:" + hex.EncodeToString(sum[:]))})
		if err != nil {
			return fmt.Errorf("tagging %s:%s: %w", repo, v, err)
		}
	}
	return nil
}

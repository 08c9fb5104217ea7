package awsemu_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/jibe-dev/jibe/internal/awsemu"
	"github.com/jibe-dev/jibe/internal/awsemu/awsemutest"
)

func start(t *testing.T) *awsemutest.Env {
	t.Helper()
	return awsemutest.Start(t, awsemu.Options{})
}

// checked is a call result awaiting an error check.
type checked[T any] struct {
	v   T
	err error
}

// need captures a call's result: need(c.Op(ctx, in)).on(t).
func need[T any](v T, err error) checked[T] { return checked[T]{v, err} }

// on fails the test if the call failed and returns its value.
func (c checked[T]) on(t *testing.T) T {
	t.Helper()
	if c.err != nil {
		t.Fatalf("unexpected error: %v", c.err)
	}
	return c.v
}

// web is an ALB with one HTTP listener forwarding to a blue target group
// (and an idle green one), with fast health checks and a 30s
// deregistration delay.
type web struct {
	lb, listener, blue, green string
}

func newWeb(t *testing.T, ctx context.Context, c *elbv2.Client) web {
	t.Helper()
	lb := need(c.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("web"), Subnets: []string{"subnet-a", "subnet-b"}})).on(t)
	w := web{lb: *lb.LoadBalancers[0].LoadBalancerArn}
	for _, name := range []string{"blue", "green"} {
		tg := need(c.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{
			Name: aws.String(name), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(8080), VpcId: aws.String("vpc-1"),
			TargetType: elbtypes.TargetTypeEnumIp, HealthCheckIntervalSeconds: aws.Int32(5), HealthCheckTimeoutSeconds: aws.Int32(2), HealthyThresholdCount: aws.Int32(2),
			UnhealthyThresholdCount: aws.Int32(2),
		})).on(t)
		arn := *tg.TargetGroups[0].TargetGroupArn
		need(c.ModifyTargetGroupAttributes(ctx, &elbv2.ModifyTargetGroupAttributesInput{TargetGroupArn: aws.String(arn),
			Attributes: []elbtypes.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String("30")}}})).on(t)
		if name == "blue" {
			w.blue = arn
		} else {
			w.green = arn
		}
	}
	ls := need(c.CreateListener(ctx, &elbv2.CreateListenerInput{
		LoadBalancerArn: aws.String(w.lb), Port: aws.Int32(80), Protocol: elbtypes.ProtocolEnumHttp,
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, ForwardConfig: &elbtypes.ForwardActionConfig{
			TargetGroups: []elbtypes.TargetGroupTuple{{TargetGroupArn: aws.String(w.blue), Weight: aws.Int32(100)}, {TargetGroupArn: aws.String(w.green), Weight: aws.Int32(0)}},
		}}},
	})).on(t)
	w.listener = *ls.Listeners[0].ListenerArn
	return w
}

// registerApp registers task definition family "app" with the image.
func registerApp(t *testing.T, ctx context.Context, c *ecs.Client, image string) string {
	t.Helper()
	out := need(c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("app"), NetworkMode: ecstypes.NetworkModeAwsvpc, Cpu: aws.String("256"), Memory: aws.String("512"),
		RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.CompatibilityFargate},
		ContainerDefinitions: []ecstypes.ContainerDefinition{{
			Name: aws.String("web"), Image: aws.String(image), Essential: aws.Bool(true),
			PortMappings: []ecstypes.PortMapping{{ContainerPort: aws.Int32(8080), Protocol: ecstypes.TransportProtocolTcp}},
		}},
	})).on(t)
	return *out.TaskDefinition.TaskDefinitionArn
}

// waitStable runs the SDK's ServicesStable waiter against emulated time,
// advancing 15s (the waiter's real default delay) per poll.
func waitStable(t *testing.T, ctx context.Context, env *awsemutest.Env, c *ecs.Client, cluster string, services ...string) {
	t.Helper()
	w := ecs.NewServicesStableWaiter(c, func(o *ecs.ServicesStableWaiterOptions) {
		o.MinDelay, o.MaxDelay = awsemutest.WaiterDelay, awsemutest.WaiterDelay
		o.APIOptions = append(o.APIOptions, env.AdvanceEachAttempt(15*time.Second))
	})
	if err := w.Wait(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: services}, time.Minute); err != nil {
		t.Fatalf("services %v did not become stable: %v", services, err)
	}
}

func describeService(t *testing.T, ctx context.Context, c *ecs.Client, cluster, name string) ecstypes.Service {
	t.Helper()
	out := need(c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{name}})).on(t)
	if len(out.Services) != 1 {
		t.Fatalf("service %s: got %d services, failures %v", name, len(out.Services), out.Failures)
	}
	return out.Services[0]
}

func awsemuFault(service, op string) awsemu.Fault {
	return awsemu.Fault{Service: service, Operation: op, Kind: awsemu.Throttle, Count: 1}
}

// awsvpc is the network configuration a service or task of an awsvpc
// task definition needs.
func awsvpc() *ecstypes.NetworkConfiguration {
	return &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{Subnets: []string{"subnet-a"}}}
}

// webGroup starts an emulator holding ami-00000001 and an Auto Scaling
// group "web" of minSize..maxSize instances launched from the launch
// template "web" (version 1, that AMI), and returns it with its Auto
// Scaling client.
func webGroup(t *testing.T, ctx context.Context, minSize, maxSize int32) (*awsemutest.Env, *autoscaling.Client) {
	t.Helper()
	env := start(t)
	env.AddImages(t, "ami-00000001")
	ec, as := env.EC2(), env.AutoScaling()
	lt := need(ec.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("web"),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String("ami-00000001")}})).on(t).LaunchTemplate
	need(as.CreateAutoScalingGroup(ctx, &autoscaling.CreateAutoScalingGroupInput{AutoScalingGroupName: aws.String("web"), MinSize: aws.Int32(minSize), MaxSize: aws.Int32(maxSize),
		LaunchTemplate: &astypes.LaunchTemplateSpecification{LaunchTemplateId: lt.LaunchTemplateId, Version: aws.String("1")}})).on(t)
	return env, as
}

package awsemu_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/jibe-dev/jibe/internal/awsemu/awsemutest"
)

func TestAppAutoScalingTargetsAndPolicies(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c := env.AppAutoScaling()
	_, err := c.RegisterScalableTarget(ctx, &aas.RegisterScalableTargetInput{ServiceNamespace: aastypes.ServiceNamespaceEcs,
		ResourceId: aws.String("service/prod/app"), ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount, MinCapacity: aws.Int32(1), MaxCapacity: aws.Int32(2)})
	var missing *aastypes.ValidationException
	if !errors.As(err, &missing) {
		t.Errorf("scalable target for a missing ECS service: got %v, want ValidationException", err)
	}
	ecsService(t, ctx, env, "prod", "app", 1)
	reg := func(min, max int32) (*aas.RegisterScalableTargetOutput, error) {
		return c.RegisterScalableTarget(ctx, &aas.RegisterScalableTargetInput{ServiceNamespace: aastypes.ServiceNamespaceEcs,
			ResourceId: aws.String("service/prod/app"), ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount,
			MinCapacity: aws.Int32(min), MaxCapacity: aws.Int32(max), Tags: map[string]string{"team": "core"}})
	}
	out := need(reg(2, 10)).on(t)
	need(reg(3, 10)).on(t) // re-registering updates in place
	if d := describeService(t, ctx, env.ECS(), "prod", "app").DesiredCount; d != 3 {
		t.Errorf("ECS desired count %d after registering min capacity 3", d)
	}
	var ve *aastypes.ValidationException
	if _, err := reg(5, 4); !errors.As(err, &ve) {
		t.Errorf("min > max: got %v, want ValidationException", err)
	}
	targets := need(c.DescribeScalableTargets(ctx, &aas.DescribeScalableTargetsInput{ServiceNamespace: aastypes.ServiceNamespaceEcs})).on(t).ScalableTargets
	if len(targets) != 1 || aws.ToInt32(targets[0].MinCapacity) != 3 || aws.ToString(targets[0].ScalableTargetARN) != aws.ToString(out.ScalableTargetARN) || targets[0].CreationTime == nil {
		t.Fatalf("targets %s", jsonOf(t, targets))
	}
	policy := &aas.PutScalingPolicyInput{PolicyName: aws.String("cpu"), ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: aws.String("service/prod/app"),
		ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount, PolicyType: aastypes.PolicyTypeTargetTrackingScaling,
		TargetTrackingScalingPolicyConfiguration: &aastypes.TargetTrackingScalingPolicyConfiguration{TargetValue: aws.Float64(60),
			PredefinedMetricSpecification: &aastypes.PredefinedMetricSpecification{PredefinedMetricType: aastypes.MetricTypeECSServiceAverageCPUUtilization},
			ScaleInCooldown:               aws.Int32(60), ScaleOutCooldown: aws.Int32(30)}}
	need(c.PutScalingPolicy(ctx, policy)).on(t)
	got := need(c.DescribeScalingPolicies(ctx, &aas.DescribeScalingPoliciesInput{ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: aws.String("service/prod/app")})).on(t).ScalingPolicies
	if len(got) != 1 || jsonOf(t, got[0].TargetTrackingScalingPolicyConfiguration) != jsonOf(t, policy.TargetTrackingScalingPolicyConfiguration) {
		t.Errorf("policy did not round-trip: %s", jsonOf(t, got))
	}
	tags := need(c.ListTagsForResource(ctx, &aas.ListTagsForResourceInput{ResourceARN: out.ScalableTargetARN})).on(t)
	if tags.Tags["team"] != "core" {
		t.Errorf("tags %v", tags.Tags)
	}
	need(c.DeregisterScalableTarget(ctx, &aas.DeregisterScalableTargetInput{ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: aws.String("service/prod/app"), ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount})).on(t)
	_, err = c.PutScalingPolicy(ctx, policy)
	var nf *aastypes.ObjectNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("policy without target: got %v, want ObjectNotFoundException", err)
	}
}

// ecsService creates cluster/name running "app" with desired tasks.
func ecsService(t *testing.T, ctx context.Context, env *awsemutest.Env, cluster, name string, desired int32) {
	t.Helper()
	c := env.ECS()
	need(c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(cluster)})).on(t)
	registerApp(t, ctx, c, "app:v1")
	need(c.CreateService(ctx, &ecs.CreateServiceInput{NetworkConfiguration: awsvpc(), LaunchType: ecstypes.LaunchTypeFargate, Cluster: aws.String(cluster), ServiceName: aws.String(name), TaskDefinition: aws.String("app"), DesiredCount: aws.Int32(desired)})).on(t)
}

func TestAppAutoScalingTargetTrackingScalesECSOnALBRequests(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c, elb, as := env.ECS(), env.ELBv2(), env.AppAutoScaling()
	w := newWeb(t, ctx, elb)
	need(c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("prod")})).on(t)
	registerApp(t, ctx, c, "app:v1")
	need(c.CreateService(ctx, &ecs.CreateServiceInput{LaunchType: ecstypes.LaunchTypeFargate, Cluster: aws.String("prod"), ServiceName: aws.String("app"), TaskDefinition: aws.String("app"), DesiredCount: aws.Int32(2),
		LoadBalancers:        []ecstypes.LoadBalancer{{TargetGroupArn: aws.String(w.blue), ContainerName: aws.String("web"), ContainerPort: aws.Int32(8080)}},
		NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{Subnets: []string{"subnet-a"}}}})).on(t)
	waitStable(t, ctx, env, c, "prod", "app")
	resource, dim := aws.String("service/prod/app"), aastypes.ScalableDimensionECSServiceDesiredCount
	need(as.RegisterScalableTarget(ctx, &aas.RegisterScalableTargetInput{ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: resource, ScalableDimension: dim,
		MinCapacity: aws.Int32(2), MaxCapacity: aws.Int32(6)})).on(t)
	label := w.lb[len("arn:aws:elasticloadbalancing:us-east-1:111111111111:loadbalancer/"):] + "/" + w.blue[len("arn:aws:elasticloadbalancing:us-east-1:111111111111:"):]
	need(as.PutScalingPolicy(ctx, &aas.PutScalingPolicyInput{PolicyName: aws.String("requests"), ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: resource,
		ScalableDimension: dim, PolicyType: aastypes.PolicyTypeTargetTrackingScaling,
		TargetTrackingScalingPolicyConfiguration: &aastypes.TargetTrackingScalingPolicyConfiguration{TargetValue: aws.Float64(100),
			ScaleOutCooldown: aws.Int32(60), ScaleInCooldown: aws.Int32(60),
			PredefinedMetricSpecification: &aastypes.PredefinedMetricSpecification{PredefinedMetricType: aastypes.MetricTypeALBRequestCountPerTarget, ResourceLabel: aws.String(label)}}})).on(t)
	drive := func(perTick int, ticks int) {
		for i := 0; i < ticks; i++ {
			if res := need(env.Emu.SendTraffic(w.listener, perTick)).on(t); res.Errors() != 0 {
				t.Fatalf("5xx while scaling: %s", res)
			}
			env.Emu.Advance(6 * time.Second)
		}
	}
	drive(100, 20) // 1000 requests a minute on 2 tasks: 500 per target against a target of 100
	if got := describeService(t, ctx, c, "prod", "app"); got.DesiredCount != 6 || got.RunningCount != 6 {
		t.Errorf("under load: desired %d running %d, want the max capacity 6", got.DesiredCount, got.RunningCount)
	}
	drive(6, 30) // 60 requests a minute: 10 per target
	if got := describeService(t, ctx, c, "prod", "app"); got.DesiredCount != 2 {
		t.Errorf("after the load: desired %d, want the min capacity 2", got.DesiredCount)
	}
	acts := need(as.DescribeScalingActivities(ctx, &aas.DescribeScalingActivitiesInput{ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: resource})).on(t).ScalingActivities
	if len(acts) < 2 || acts[0].StatusCode != aastypes.ScalingActivityStatusCodeSuccessful || aws.ToString(acts[0].Description) != "Setting desired count to 2." {
		t.Errorf("activities %s", jsonOf(t, acts))
	}
	if n := len(describeService(t, ctx, c, "prod", "app").Deployments); n != 1 {
		t.Errorf("scaling created %d deployments", n)
	}
}

// Scheduled actions round-trip, run over emulated time (at() once, rate()
// repeatedly), move the target's bounds and clamp the service's count.
func TestAppAutoScalingScheduledActions(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c := env.AppAutoScaling()
	ecsService(t, ctx, env, "prod", "app", 2)
	target := func(in *aas.PutScheduledActionInput) *aas.PutScheduledActionInput {
		in.ServiceNamespace, in.ResourceId = aastypes.ServiceNamespaceEcs, aws.String("service/prod/app")
		in.ScalableDimension = aastypes.ScalableDimensionECSServiceDesiredCount
		return in
	}
	var nf *aastypes.ObjectNotFoundException
	if _, err := c.PutScheduledAction(ctx, target(&aas.PutScheduledActionInput{ScheduledActionName: aws.String("x"), Schedule: aws.String("rate(1 hour)")})); !errors.As(err, &nf) {
		t.Errorf("action without a target: got %v, want ObjectNotFoundException", err)
	}
	need(c.RegisterScalableTarget(ctx, &aas.RegisterScalableTargetInput{ServiceNamespace: aastypes.ServiceNamespaceEcs,
		ResourceId: aws.String("service/prod/app"), ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount,
		MinCapacity: aws.Int32(2), MaxCapacity: aws.Int32(10)})).on(t)
	var ve *aastypes.ValidationException
	if _, err := c.PutScheduledAction(ctx, target(&aas.PutScheduledActionInput{ScheduledActionName: aws.String("x"), Schedule: aws.String("every night")})); !errors.As(err, &ve) {
		t.Errorf("bad schedule: got %v, want ValidationException", err)
	}
	at := env.Emu.Now().Add(30 * time.Minute).UTC().Format("2006-01-02T15:04:05")
	need(c.PutScheduledAction(ctx, target(&aas.PutScheduledActionInput{ScheduledActionName: aws.String("peak"), Schedule: aws.String("at(" + at + ")"),
		ScalableTargetAction: &aastypes.ScalableTargetAction{MinCapacity: aws.Int32(5), MaxCapacity: aws.Int32(20)}}))).on(t)
	need(c.PutScheduledAction(ctx, target(&aas.PutScheduledActionInput{ScheduledActionName: aws.String("nightly"), Schedule: aws.String("cron(0 2 * * ? *)"), Timezone: aws.String("Europe/Dublin"),
		ScalableTargetAction: &aastypes.ScalableTargetAction{MinCapacity: aws.Int32(1)}}))).on(t)
	got := need(c.DescribeScheduledActions(ctx, &aas.DescribeScheduledActionsInput{ServiceNamespace: aastypes.ServiceNamespaceEcs})).on(t).ScheduledActions
	if len(got) != 2 || aws.ToString(got[0].ScheduledActionName) != "nightly" || aws.ToString(got[0].Timezone) != "Europe/Dublin" || got[1].ScheduledActionARN == nil {
		t.Fatalf("scheduled actions %s", jsonOf(t, got))
	}
	env.Emu.Advance(31 * time.Minute)
	targets := need(c.DescribeScalableTargets(ctx, &aas.DescribeScalableTargetsInput{ServiceNamespace: aastypes.ServiceNamespaceEcs})).on(t).ScalableTargets
	if aws.ToInt32(targets[0].MinCapacity) != 5 || aws.ToInt32(targets[0].MaxCapacity) != 20 {
		t.Errorf("after the at() action: target %s", jsonOf(t, targets[0]))
	}
	if d := describeService(t, ctx, env.ECS(), "prod", "app").DesiredCount; d != 5 {
		t.Errorf("ECS desired count %d after min capacity 5", d)
	}
	need(c.DeleteScheduledAction(ctx, &aas.DeleteScheduledActionInput{ServiceNamespace: aastypes.ServiceNamespaceEcs, ScheduledActionName: aws.String("peak"),
		ResourceId: aws.String("service/prod/app"), ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount})).on(t)
	if _, err := c.DeleteScheduledAction(ctx, &aas.DeleteScheduledActionInput{ServiceNamespace: aastypes.ServiceNamespaceEcs, ScheduledActionName: aws.String("peak"),
		ResourceId: aws.String("service/prod/app"), ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount}); !errors.As(err, &nf) {
		t.Errorf("deleting twice: got %v, want ObjectNotFoundException", err)
	}
}

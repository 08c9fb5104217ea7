package awsemu_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
)

func TestECSTaskSetsBlueGreenThroughWeightedListener(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c, elb := env.ECS(), env.ELBv2()
	w := newWeb(t, ctx, elb)
	need(c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("prod")})).on(t)
	v1, v2 := registerApp(t, ctx, c, "app:v1"), registerApp(t, ctx, c, "app:v2")
	need(c.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("prod"), ServiceName: aws.String("app"), DesiredCount: aws.Int32(2),
		DeploymentController: &ecstypes.DeploymentController{Type: ecstypes.DeploymentControllerTypeExternal}})).on(t)
	net := &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{Subnets: []string{"subnet-a"}}}
	taskSet := func(td, tg string) ecstypes.TaskSet {
		return *need(c.CreateTaskSet(ctx, &ecs.CreateTaskSetInput{Cluster: aws.String("prod"), Service: aws.String("app"), TaskDefinition: aws.String(td),
			NetworkConfiguration: net, LaunchType: ecstypes.LaunchTypeFargate, Scale: &ecstypes.Scale{Value: 100, Unit: ecstypes.ScaleUnitPercent},
			LoadBalancers: []ecstypes.LoadBalancer{{TargetGroupArn: aws.String(tg), ContainerName: aws.String("web"), ContainerPort: aws.Int32(8080)}}})).on(t).TaskSet
	}
	serving := false // once blue serves, no request may fail
	steady := func(ts ecstypes.TaskSet) ecstypes.TaskSet {
		t.Helper()
		for i := 0; i < 60; i++ {
			if res := need(env.Emu.SendTraffic(w.listener, 20)).on(t); serving && res.Errors() != 0 {
				t.Fatalf("5xx during blue/green: %s", res)
			}
			out := need(c.DescribeTaskSets(ctx, &ecs.DescribeTaskSetsInput{Cluster: aws.String("prod"), Service: aws.String("app"), TaskSets: []string{*ts.TaskSetArn}})).on(t)
			if got := out.TaskSets[0]; got.StabilityStatus == ecstypes.StabilityStatusSteadyState && got.RunningCount == got.ComputedDesiredCount {
				return got
			}
			env.Emu.Advance(5 * time.Second)
		}
		t.Fatalf("task set %s never reached steady state", aws.ToString(ts.Id))
		return ts
	}
	blue := steady(taskSet(v1, w.blue))
	serving = true
	if aws.ToString(blue.Status) != "PRIMARY" || blue.ComputedDesiredCount != 2 {
		t.Fatalf("blue %s", jsonOf(t, blue))
	}
	green := steady(taskSet(v2, w.green))
	if aws.ToString(green.Status) != "ACTIVE" || len(healthyTargets(t, ctx, elb, w.green)) != 2 {
		t.Fatalf("green %s", jsonOf(t, green))
	}
	need(elb.ModifyListener(ctx, &elbv2.ModifyListenerInput{ListenerArn: aws.String(w.listener), DefaultActions: forward(map[string]int32{w.blue: 0, w.green: 100}, w.blue, w.green)})).on(t)
	if res := need(env.Emu.SendTraffic(w.listener, 100)).on(t); res.ByTargetGroup[w.green].OK != 100 {
		t.Fatalf("after the switch: %s", res)
	}
	need(c.UpdateServicePrimaryTaskSet(ctx, &ecs.UpdateServicePrimaryTaskSetInput{Cluster: aws.String("prod"), Service: aws.String("app"), PrimaryTaskSet: green.TaskSetArn})).on(t)
	need(c.DeleteTaskSet(ctx, &ecs.DeleteTaskSetInput{Cluster: aws.String("prod"), Service: aws.String("app"), TaskSet: blue.TaskSetArn})).on(t)
	for i := 0; i < 30; i++ {
		if res := need(env.Emu.SendTraffic(w.listener, 20)).on(t); res.Errors() != 0 {
			t.Fatalf("5xx while draining blue: %s", res)
		}
		env.Emu.Advance(5 * time.Second)
	}
	svc := describeService(t, ctx, c, "prod", "app")
	if len(svc.TaskSets) != 1 || aws.ToString(svc.TaskSets[0].Id) != aws.ToString(green.Id) || aws.ToString(svc.TaskSets[0].Status) != "PRIMARY" || svc.RunningCount != 2 {
		t.Errorf("after deleting blue: %s", jsonOf(t, svc.TaskSets))
	}
	if n := len(describeTargets(t, ctx, elb, w.blue)); n != 0 {
		t.Errorf("blue target group still has %d targets", n)
	}
	need(c.UpdateTaskSet(ctx, &ecs.UpdateTaskSetInput{Cluster: aws.String("prod"), Service: aws.String("app"), TaskSet: green.TaskSetArn, Scale: &ecstypes.Scale{Value: 50, Unit: ecstypes.ScaleUnitPercent}})).on(t)
	if got := steady(green); got.ComputedDesiredCount != 1 || got.RunningCount != 1 {
		t.Errorf("scaled to 50%%: %s", jsonOf(t, got))
	}
}

package awsemu_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"
)

func TestELBv2FailingTargetShowsUnhealthyBeforeECSReplacesIt(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c, elb := env.ECS(), env.ELBv2()
	w := newWeb(t, ctx, elb) // interval 5s, unhealthy threshold 2
	need(c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("prod")})).on(t)
	env.Emu.MarkImageBroken("app:v2")
	v2 := registerApp(t, ctx, c, "app:v2")
	need(c.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("prod"), ServiceName: aws.String("app"), TaskDefinition: aws.String(v2),
		DesiredCount: aws.Int32(1), LaunchType: ecstypes.LaunchTypeFargate, NetworkConfiguration: awsvpc(),
		LoadBalancers: []ecstypes.LoadBalancer{{TargetGroupArn: aws.String(w.blue), ContainerName: aws.String("web"), ContainerPort: aws.Int32(8080)}}})).on(t)
	var registeredAt, unhealthyAt time.Time
	for i := 0; i < 120 && unhealthyAt.IsZero(); i++ {
		env.Emu.Advance(time.Second)
		th := need(elb.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(w.blue)})).on(t).TargetHealthDescriptions
		if len(th) == 0 {
			continue
		}
		h := th[0].TargetHealth
		if registeredAt.IsZero() {
			registeredAt = env.Emu.Now()
		}
		if h.State != elbtypes.TargetHealthStateEnumUnhealthy {
			continue
		}
		unhealthyAt = env.Emu.Now()
		if h.Reason != elbtypes.TargetHealthReasonEnumFailedHealthChecks && h.Reason != elbtypes.TargetHealthReasonEnumResponseCodeMismatch || aws.ToString(h.Description) == "" {
			t.Errorf("unhealthy target: reason %s, description %q; want a health check failure reason and its description", h.Reason, aws.ToString(h.Description))
		}
		tasks := need(c.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String("prod"), ServiceName: aws.String("app")})).on(t).TaskArns
		if len(tasks) != 1 {
			t.Fatalf("the task of the unhealthy target is not running any more (%d running) when the target first shows unhealthy", len(tasks))
		}
	}
	if unhealthyAt.IsZero() {
		t.Fatal("the broken target never showed unhealthy")
	}
	if d := unhealthyAt.Sub(registeredAt); d < 2*5*time.Second-time.Second {
		t.Errorf("the target turned unhealthy %s after registration, want UnhealthyThresholdCount × interval = 10s", d)
	}
	env.Emu.Advance(10 * time.Second)
	th := need(elb.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(w.blue)})).on(t).TargetHealthDescriptions
	if len(th) == 0 || th[0].TargetHealth.State != elbtypes.TargetHealthStateEnumDraining {
		t.Errorf("10s after showing unhealthy the target is %s, want draining (ECS replaced the task)", jsonOf(t, th))
	}
}

func TestELBv2TargetGroupServesOneLoadBalancer(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	elb := env.ELBv2()
	w := newWeb(t, ctx, elb)
	other := need(elb.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("other"), Subnets: []string{"subnet-a", "subnet-b"}})).on(t).LoadBalancers[0].LoadBalancerArn
	forward := func(tg string) []elbtypes.Action {
		return []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(tg)}}
	}
	_, err := elb.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: other, Port: aws.Int32(80), Protocol: elbtypes.ProtocolEnumHttp, DefaultActions: forward(w.blue)})
	var limit *elbtypes.TargetGroupAssociationLimitException
	if !errors.As(err, &limit) {
		t.Fatalf("listener of a second load balancer forwarding to a used target group: got %v, want TargetGroupAssociationLimit", err)
	}
	free := need(elb.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("free"), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(8080),
		VpcId: aws.String("vpc-1"), TargetType: elbtypes.TargetTypeEnumIp})).on(t).TargetGroups[0].TargetGroupArn
	ls := need(elb.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: other, Port: aws.Int32(80), Protocol: elbtypes.ProtocolEnumHttp, DefaultActions: forward(*free)})).on(t).Listeners[0].ListenerArn
	if _, err := elb.ModifyListener(ctx, &elbv2.ModifyListenerInput{ListenerArn: ls, DefaultActions: forward(w.green)}); !errors.As(err, &limit) {
		t.Errorf("ModifyListener to a target group of another load balancer: got %v, want TargetGroupAssociationLimit", err)
	}
	_, err = elb.CreateRule(ctx, &elbv2.CreateRuleInput{ListenerArn: ls, Priority: aws.Int32(1), Actions: forward(w.blue),
		Conditions: []elbtypes.RuleCondition{{Field: aws.String("path-pattern"), Values: []string{"/api/*"}}}})
	if !errors.As(err, &limit) {
		t.Errorf("CreateRule forwarding to a target group of another load balancer: got %v, want TargetGroupAssociationLimit", err)
	}
	// The same load balancer may use its target groups in several listeners and rules.
	need(elb.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: aws.String(w.lb), Port: aws.Int32(8080), Protocol: elbtypes.ProtocolEnumHttp, DefaultActions: forward(w.blue)})).on(t)
}

func TestELBv2HealthCheckTimeoutMustBeBelowInterval(t *testing.T) {
	ctx := context.Background()
	elb := start(t).ELBv2()
	create := func(name string, interval, timeout int32) error {
		in := &elbv2.CreateTargetGroupInput{Name: aws.String(name), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: aws.String("vpc-1"),
			HealthCheckIntervalSeconds: aws.Int32(interval)}
		if timeout > 0 {
			in.HealthCheckTimeoutSeconds = aws.Int32(timeout)
		}
		_, err := elb.CreateTargetGroup(ctx, in)
		return err
	}
	for _, tc := range []struct {
		interval, timeout int32
		ok                bool
	}{{10, 5, true}, {10, 10, false}, {10, 20, false}, {5, 0, false} /* HTTP's default timeout is 6s */, {7, 0, true}, {30, 1, false}} {
		err := create("tg", tc.interval, tc.timeout)
		var ae smithy.APIError
		if tc.ok && err != nil || !tc.ok && (!errors.As(err, &ae) || ae.ErrorCode() != "ValidationError") {
			t.Errorf("interval %d, timeout %d: got %v, want ok=%v (else ValidationError)", tc.interval, tc.timeout, err, tc.ok)
		}
		if err == nil {
			tg := need(elb.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{Names: []string{"tg"}})).on(t).TargetGroups[0]
			need(elb.DeleteTargetGroup(ctx, &elbv2.DeleteTargetGroupInput{TargetGroupArn: tg.TargetGroupArn})).on(t)
		}
	}
	tg := need(elb.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("ok"), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: aws.String("vpc-1")})).on(t).TargetGroups[0]
	if aws.ToInt32(tg.HealthCheckTimeoutSeconds) != 6 {
		t.Errorf("HTTP target group's default timeout = %d, want 6", aws.ToInt32(tg.HealthCheckTimeoutSeconds))
	}
	_, err := elb.ModifyTargetGroup(ctx, &elbv2.ModifyTargetGroupInput{TargetGroupArn: tg.TargetGroupArn, HealthCheckIntervalSeconds: aws.Int32(5)})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationError" || !strings.Contains(ae.ErrorMessage(), "greater than the timeout") {
		t.Errorf("ModifyTargetGroup to an interval below the timeout: got %v, want ValidationError", err)
	}
}

func TestELBv2TargetIDsMatchTheTargetType(t *testing.T) {
	ctx := context.Background()
	elb := start(t).ELBv2()
	group := func(name string, typ elbtypes.TargetTypeEnum) *string {
		return need(elb.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String(name), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80),
			VpcId: aws.String("vpc-1"), TargetType: typ})).on(t).TargetGroups[0].TargetGroupArn
	}
	ip, inst := group("ip", elbtypes.TargetTypeEnumIp), group("inst", elbtypes.TargetTypeEnumInstance)
	for _, tc := range []struct {
		tg   *string
		id   string
		want string // "" = accepted
	}{
		{ip, "10.0.0.7", ""},
		{ip, "i-0123456789abcdef0", "is not a valid IPv4 address"},
		{inst, "i-0123456789abcdef0", ""},
		{inst, "10.0.0.7", "Instance ID '10.0.0.7' is not valid"},
	} {
		_, err := elb.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: tc.tg, Targets: []elbtypes.TargetDescription{{Id: aws.String(tc.id)}}})
		var ae smithy.APIError
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("register %s: %v", tc.id, err)
		case tc.want != "" && (!errors.As(err, &ae) || ae.ErrorCode() != "ValidationError" || !strings.Contains(ae.ErrorMessage(), tc.want)):
			t.Errorf("register %s: got %v, want ValidationError %q", tc.id, err, tc.want)
		}
	}
}

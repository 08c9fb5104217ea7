package albtraffic

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/jibe-dev/jibe/internal/awsemu"
	"github.com/jibe-dev/jibe/internal/awsemu/awsemutest"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// pair is a load balancer listener forwarding all traffic to blue, with
// green at weight 0, and a path rule forwarding the same way.
type pair struct {
	elb                         *elbv2.Client
	listener, rule, blue, green string
}

func newPair(t *testing.T) pair {
	t.Helper()
	ctx := context.Background()
	env := awsemutest.Start(t, awsemu.Options{})
	p := pair{elb: env.ELBv2()}
	lb, err := p.elb.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("web"), Subnets: []string{"subnet-a", "subnet-b"}})
	if err != nil {
		t.Fatal(err)
	}
	for name, tg := range map[string]*string{"blue": &p.blue, "green": &p.green} {
		out, err := p.elb.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String(name),
			Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(8080), VpcId: aws.String("vpc-1"), TargetType: elbtypes.TargetTypeEnumIp})
		if err != nil {
			t.Fatal(err)
		}
		*tg = aws.ToString(out.TargetGroups[0].TargetGroupArn)
	}
	forward := []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, ForwardConfig: &elbtypes.ForwardActionConfig{TargetGroups: []elbtypes.TargetGroupTuple{
		{TargetGroupArn: aws.String(p.blue), Weight: aws.Int32(100)}, {TargetGroupArn: aws.String(p.green), Weight: aws.Int32(0)}}}}}
	ls, err := p.elb.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: lb.LoadBalancers[0].LoadBalancerArn, Port: aws.Int32(80),
		Protocol: elbtypes.ProtocolEnumHttp, DefaultActions: forward})
	if err != nil {
		t.Fatal(err)
	}
	p.listener = aws.ToString(ls.Listeners[0].ListenerArn)
	rule, err := p.elb.CreateRule(ctx, &elbv2.CreateRuleInput{ListenerArn: aws.String(p.listener), Priority: aws.Int32(10),
		Conditions: []elbtypes.RuleCondition{{Field: aws.String("path-pattern"), Values: []string{"/api/*"}}}, Actions: forward})
	if err != nil {
		t.Fatal(err)
	}
	p.rule = aws.ToString(rule.Rules[0].RuleArn)
	return p
}

// Set shifts the listener's (or only the rule's) weights and reads them
// back; setting the weights already set writes nothing.
func TestSetAndRead(t *testing.T) {
	ctx := context.Background()
	p := newPair(t)
	onListener := &spec.ALBTraffic{ListenerArn: p.listener}
	onRule := &spec.ALBTraffic{ListenerRuleArn: p.rule}
	if err := Set(ctx, p.elb, onRule, p.blue, p.green, 10); err != nil {
		t.Fatal(err)
	}
	w, err := Read(ctx, p.elb, onRule)
	if err != nil || w[p.green] != 10 || w[p.blue] != 90 || w.Share(p.green) != 10 {
		t.Errorf("rule weights %v, %v; want green 10", w, err)
	}
	if w, _ := Read(ctx, p.elb, onListener); w[p.blue] != 100 || w[p.green] != 0 {
		t.Errorf("the listener's default action moved with the rule: %v", w)
	}
	if err := Set(ctx, p.elb, onListener, p.blue, p.green, 100); err != nil {
		t.Fatal(err)
	}
	if w, _ := Read(ctx, p.elb, onListener); w.Share(p.green) != 100 {
		t.Errorf("listener weights %v, want all green", w)
	}
	missing := &spec.ALBTraffic{ListenerArn: p.listener + "0"}
	if _, err := Read(ctx, p.elb, missing); reconcile.PolicyOf(err) != reconcile.PolicyStall {
		t.Errorf("missing listener: %v, want stalled", err)
	}
}

func TestWeightsShare(t *testing.T) {
	w := Weights{"a": 90, "b": 10}
	if w.Share("b") != 10 || (Weights{}).Share("a") != 0 {
		t.Errorf("share: %v", w.Share("b"))
	}
	if !sameWeights(Weights{"a": 100, "b": 0}, Weights{"a": 100}) || sameWeights(Weights{"a": 50, "b": 50}, Weights{"a": 100}) {
		t.Errorf("sameWeights")
	}
}

// An empty target group is not healthy when targets are wanted; the
// deregistration delay is the target group's attribute.
func TestTargetsHealthyAndDeregistrationDelay(t *testing.T) {
	ctx := context.Background()
	p := newPair(t)
	ok, reason, err := TargetsHealthy(ctx, p.elb, p.green, 1)
	if err != nil || ok || reason != "0 of 0 targets healthy (want 1)" {
		t.Errorf("empty group: %v %q %v", ok, reason, err)
	}
	if _, err := p.elb.ModifyTargetGroupAttributes(ctx, &elbv2.ModifyTargetGroupAttributesInput{TargetGroupArn: aws.String(p.blue),
		Attributes: []elbtypes.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String("45")}}}); err != nil {
		t.Fatal(err)
	}
	if d, err := DeregistrationDelay(ctx, p.elb, p.blue); err != nil || d != 45*time.Second {
		t.Errorf("delay %v, %v; want 45s", d, err)
	}
}

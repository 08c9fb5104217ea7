package lambda

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
)

// loadBalancer creates an ALB whose listener forwards to a lambda target
// group; it returns the listener's and the target group's ARNs.
func (r *rig) loadBalancer() (listener, tg string) {
	r.t.Helper()
	elb := r.env.ELBv2()
	lb, err := elb.CreateLoadBalancer(r.ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("orders"), Subnets: []string{"subnet-a", "subnet-b"}})
	if err != nil {
		r.t.Fatal(err)
	}
	g, err := elb.CreateTargetGroup(r.ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("orders"), TargetType: elbtypes.TargetTypeEnumLambda})
	if err != nil {
		r.t.Fatal(err)
	}
	tg = aws.ToString(g.TargetGroups[0].TargetGroupArn)
	ls, err := elb.CreateListener(r.ctx, &elbv2.CreateListenerInput{LoadBalancerArn: lb.LoadBalancers[0].LoadBalancerArn, Port: aws.Int32(80),
		Protocol: elbtypes.ProtocolEnumHttp, DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(tg)}}})
	if err != nil {
		r.t.Fatal(err)
	}
	return aws.ToString(ls.Listeners[0].ListenerArn), tg
}

func TestALBTargetRegistersAliasOnceWithQualifiedPermission(t *testing.T) {
	r := newRig(t, Options{})
	listener, tg := r.loadBalancer()
	v1 := r.deployment("rev1", function("orders-1.zip"), canary())
	v1.Target.Lambda.TargetGroupArn = tg
	r.rollout(v1)

	aliasArn := aws.ToString(r.alias().AliasArn)
	pol, err := r.fn.GetPolicy(r.ctx, &awslambda.GetPolicyInput{FunctionName: aws.String("orders"), Qualifier: aws.String("live")})
	if err != nil {
		t.Fatalf("alias policy: %v", err)
	}
	if !allows(aws.ToString(pol.Policy), aliasArn, tg) {
		t.Errorf("alias policy %s does not let the target group invoke %s", aws.ToString(pol.Policy), aliasArn)
	}
	th, err := r.env.ELBv2().DescribeTargetHealth(r.ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(tg)})
	if err != nil || len(th.TargetHealthDescriptions) != 1 || aws.ToString(th.TargetHealthDescriptions[0].Target.Id) != aliasArn {
		t.Fatalf("targets %+v, %v; want the alias ARN", th, err)
	}
	res, err := r.env.Emu.SendTraffic(listener, 100)
	if err != nil || res.OK != 100 {
		t.Fatalf("traffic through the ALB: %s, %v", res, err)
	}

	// The next revision (and a no-op) neither adds the permission nor registers again.
	r.env.Emu.ResetRequests()
	v2 := r.next(v1, "rev2", function("orders-2.zip"))
	r.rollout(v2)
	r.rollout(v2)
	for _, op := range r.writes() {
		if op == "AddPermission" || op == "RegisterTargets" {
			t.Errorf("rollout of rev2 wrote %s again (writes %v)", op, r.writes())
		}
	}
	if res, err := r.env.Emu.SendTraffic(listener, 50); err != nil || res.OK != 50 {
		t.Errorf("traffic after rev2: %s, %v", res, err)
	}
}

func TestAllowsReadsPolicyStatements(t *testing.T) {
	const alias, tg = "arn:aws:lambda:us-east-1:1:function:f:live", "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/f/1"
	for _, tc := range []struct {
		policy string
		want   bool
	}{
		{`{"Statement":[{"Effect":"Allow","Principal":{"Service":"elasticloadbalancing.amazonaws.com"},"Resource":"` + alias + `","Condition":{"ArnLike":{"AWS:SourceArn":"` + tg + `"}}}]}`, true},
		{`{"Statement":[{"Effect":"Allow","Principal":{"Service":["elasticloadbalancing.amazonaws.com"]},"Resource":"` + alias + `"}]}`, true},
		{`{"Statement":[{"Effect":"Allow","Principal":{"Service":"elasticloadbalancing.amazonaws.com"},"Resource":"` + strings.TrimSuffix(alias, ":live") + `"}]}`, false},
		{`{"Statement":[{"Effect":"Allow","Principal":{"Service":"elasticloadbalancing.amazonaws.com"},"Resource":"` + alias + `","Condition":{"ArnLike":{"AWS:SourceArn":"other"}}}]}`, false},
		{`{"Statement":[{"Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Resource":"` + alias + `"}]}`, false},
		{`not json`, false},
	} {
		if got := allows(tc.policy, alias, tg); got != tc.want {
			t.Errorf("allows(%s) = %v, want %v", tc.policy, got, tc.want)
		}
	}
}

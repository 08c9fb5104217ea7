package awsemu_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"

	emuelb "github.com/jibe-dev/jibe/internal/awsemu/elbv2"
)

func forward(weights map[string]int32, order ...string) []elbtypes.Action {
	var tgs []elbtypes.TargetGroupTuple
	for _, arn := range order {
		tgs = append(tgs, elbtypes.TargetGroupTuple{TargetGroupArn: aws.String(arn), Weight: aws.Int32(weights[arn])})
	}
	return []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, ForwardConfig: &elbtypes.ForwardActionConfig{TargetGroups: tgs}}}
}

func registerIPs(t *testing.T, ctx context.Context, c *elbv2.Client, tg string, ips ...string) {
	t.Helper()
	var targets []elbtypes.TargetDescription
	for _, ip := range ips {
		targets = append(targets, elbtypes.TargetDescription{Id: aws.String(ip), Port: aws.Int32(8080)})
	}
	need(c.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: aws.String(tg), Targets: targets})).on(t)
}

func TestELBv2WeightedForwardRoundTripsAndSplitsTraffic(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c := env.ELBv2()
	w := newWeb(t, ctx, c)
	registerIPs(t, ctx, c, w.blue, "10.0.0.1", "10.0.0.2")
	registerIPs(t, ctx, c, w.green, "10.0.1.1")
	env.Emu.Advance(10 * time.Second)

	need(c.ModifyListener(ctx, &elbv2.ModifyListenerInput{ListenerArn: aws.String(w.listener), DefaultActions: forward(map[string]int32{w.blue: 90, w.green: 10}, w.blue, w.green)})).on(t)
	ls := need(c.DescribeListeners(ctx, &elbv2.DescribeListenersInput{ListenerArns: []string{w.listener}})).on(t)
	fc := ls.Listeners[0].DefaultActions[0].ForwardConfig
	if len(fc.TargetGroups) != 2 || aws.ToInt32(fc.TargetGroups[0].Weight) != 90 || aws.ToInt32(fc.TargetGroups[1].Weight) != 10 || fc.TargetGroupStickinessConfig == nil {
		t.Fatalf("forward config did not round-trip: %s", jsonOf(t, fc))
	}
	res := need(env.Emu.SendTraffic(w.listener, 1000)).on(t)
	if res.ByTargetGroup[w.blue].Requests != 900 || res.ByTargetGroup[w.green].Requests != 100 || res.Errors() != 0 {
		t.Errorf("90/10 split: %s", res)
	}

	// A single target group by ARN is reported both ways, weight 1.
	need(c.ModifyListener(ctx, &elbv2.ModifyListenerInput{ListenerArn: aws.String(w.listener),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(w.green)}}})).on(t)
	a := need(c.DescribeListeners(ctx, &elbv2.DescribeListenersInput{LoadBalancerArn: aws.String(w.lb)})).on(t).Listeners[0].DefaultActions[0]
	if aws.ToString(a.TargetGroupArn) != w.green || len(a.ForwardConfig.TargetGroups) != 1 || aws.ToInt32(a.ForwardConfig.TargetGroups[0].Weight) != 1 {
		t.Errorf("single target group action: %s", jsonOf(t, a))
	}

	for _, bad := range []int32{-1, 1000} {
		_, err := c.ModifyListener(ctx, &elbv2.ModifyListenerInput{ListenerArn: aws.String(w.listener), DefaultActions: forward(map[string]int32{w.blue: bad}, w.blue)})
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationError" {
			t.Errorf("weight %d: got %v, want ValidationError", bad, err)
		}
	}
	_, err := c.ModifyListener(ctx, &elbv2.ModifyListenerInput{ListenerArn: aws.String(w.listener), DefaultActions: forward(map[string]int32{"arn:aws:elasticloadbalancing:us-east-1:111111111111:targetgroup/nope/1": 1}, "arn:aws:elasticloadbalancing:us-east-1:111111111111:targetgroup/nope/1")})
	var tgnf *elbtypes.TargetGroupNotFoundException
	if !errors.As(err, &tgnf) {
		t.Errorf("forward to unknown target group: got %v, want TargetGroupNotFoundException", err)
	}
}

func TestELBv2TargetHealthLifecycleAndWaiters(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c := env.ELBv2()
	w := newWeb(t, ctx, c)
	registerIPs(t, ctx, c, w.blue, "10.0.0.1")
	d := describeTargets(t, ctx, c, w.blue)
	if len(d) != 1 || d[0].TargetHealth.State != elbtypes.TargetHealthStateEnumInitial || d[0].TargetHealth.Reason != elbtypes.TargetHealthReasonEnumInitialHealthChecking {
		t.Fatalf("just registered: %s", jsonOf(t, d))
	}
	if res := need(env.Emu.SendTraffic(w.listener, 10)).on(t); res.ELB5xx != 10 {
		t.Errorf("no healthy target yet: %s", res)
	}
	inService := elbv2.NewTargetInServiceWaiter(c, func(o *elbv2.TargetInServiceWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Millisecond, time.Millisecond
		o.APIOptions = append(o.APIOptions, env.AdvanceEachAttempt(time.Second))
	})
	target := []elbtypes.TargetDescription{{Id: aws.String("10.0.0.1"), Port: aws.Int32(8080)}}
	before := env.Emu.Now()
	if err := inService.Wait(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(w.blue), Targets: target}, time.Minute); err != nil {
		t.Fatalf("TargetInService: %v", err)
	}
	if took := env.Emu.Now().Sub(before); took < 10*time.Second || took > 12*time.Second {
		t.Errorf("target became healthy after %v, want 2 checks × 5s", took)
	}
	if res := need(env.Emu.SendTraffic(w.listener, 10)).on(t); res.OK != 10 {
		t.Errorf("healthy target: %s", res)
	}

	need(c.DeregisterTargets(ctx, &elbv2.DeregisterTargetsInput{TargetGroupArn: aws.String(w.blue), Targets: target})).on(t)
	if d := describeTargets(t, ctx, c, w.blue); d[0].TargetHealth.State != elbtypes.TargetHealthStateEnumDraining {
		t.Errorf("after deregistration: %s", jsonOf(t, d))
	}
	before = env.Emu.Now()
	deregistered := elbv2.NewTargetDeregisteredWaiter(c, func(o *elbv2.TargetDeregisteredWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Millisecond, time.Millisecond
		o.APIOptions = append(o.APIOptions, env.AdvanceEachAttempt(5*time.Second))
	})
	if err := deregistered.Wait(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(w.blue), Targets: target}, time.Minute); err != nil {
		t.Fatalf("TargetDeregistered: %v", err)
	}
	if took := env.Emu.Now().Sub(before); took < 30*time.Second {
		t.Errorf("target left after %v, before the 30s deregistration delay", took)
	}
	if res := need(env.Emu.SendTraffic(w.listener, 10)).on(t); res.ELB5xx != 10 {
		t.Errorf("after draining: %s", res)
	}
	_, err := c.DeregisterTargets(ctx, &elbv2.DeregisterTargetsInput{TargetGroupArn: aws.String(w.blue), Targets: target})
	var it *elbtypes.InvalidTargetException
	if !errors.As(err, &it) {
		t.Errorf("deregistering an unknown target: got %v, want InvalidTargetException", err)
	}
}

func TestELBv2LoadBalancerAvailableWaiterAndErrors(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c := env.ELBv2()
	lb := need(c.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("edge"), Subnets: []string{"subnet-a"},
		Tags: []elbtypes.Tag{{Key: aws.String("team"), Value: aws.String("core")}}})).on(t).LoadBalancers[0]
	if lb.State.Code != elbtypes.LoadBalancerStateEnumProvisioning {
		t.Errorf("new load balancer state %s", lb.State.Code)
	}
	waiter := elbv2.NewLoadBalancerAvailableWaiter(c, func(o *elbv2.LoadBalancerAvailableWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Millisecond, time.Millisecond
		o.APIOptions = append(o.APIOptions, env.AdvanceEachAttempt(15*time.Second))
	})
	if err := waiter.Wait(ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{"edge"}}, time.Minute); err != nil {
		t.Fatalf("LoadBalancerAvailable: %v", err)
	}
	tags := need(c.DescribeTags(ctx, &elbv2.DescribeTagsInput{ResourceArns: []string{*lb.LoadBalancerArn}})).on(t)
	if len(tags.TagDescriptions[0].Tags) != 1 || aws.ToString(tags.TagDescriptions[0].Tags[0].Value) != "core" {
		t.Errorf("tags %s", jsonOf(t, tags))
	}
	_, err := c.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{"ghost"}})
	var lnf *elbtypes.LoadBalancerNotFoundException
	if !errors.As(err, &lnf) {
		t.Errorf("unknown load balancer: got %v, want LoadBalancerNotFoundException", err)
	}
	_, err = c.DescribeListeners(ctx, &elbv2.DescribeListenersInput{ListenerArns: []string{*lb.LoadBalancerArn + "/nope"}})
	var lsnf *elbtypes.ListenerNotFoundException
	if !errors.As(err, &lsnf) {
		t.Errorf("unknown listener: got %v, want ListenerNotFoundException", err)
	}
	tg := func(port int32) *elbv2.CreateTargetGroupInput {
		return &elbv2.CreateTargetGroupInput{Name: aws.String("api"), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(port), VpcId: aws.String("vpc-1")}
	}
	need(c.CreateTargetGroup(ctx, tg(80))).on(t)
	need(c.CreateTargetGroup(ctx, tg(80))).on(t) // idempotent
	_, err = c.CreateTargetGroup(ctx, tg(81))
	var dup *elbtypes.DuplicateTargetGroupNameException
	if !errors.As(err, &dup) {
		t.Errorf("conflicting target group: got %v, want DuplicateTargetGroupNameException", err)
	}
}

func TestELBv2RulesAndTargetGroupPagination(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c := env.ELBv2()
	w := newWeb(t, ctx, c)
	cond := []elbtypes.RuleCondition{{Field: aws.String("path-pattern"), PathPatternConfig: &elbtypes.PathPatternConditionConfig{Values: []string{"/api/*"}}},
		{Field: aws.String("http-header"), HttpHeaderConfig: &elbtypes.HttpHeaderConditionConfig{HttpHeaderName: aws.String("X-Canary"), Values: []string{"1"}}}}
	rule := need(c.CreateRule(ctx, &elbv2.CreateRuleInput{ListenerArn: aws.String(w.listener), Priority: aws.Int32(10), Conditions: cond,
		Actions: forward(map[string]int32{w.blue: 1, w.green: 3}, w.blue, w.green)})).on(t).Rules[0]
	_, err := c.CreateRule(ctx, &elbv2.CreateRuleInput{ListenerArn: aws.String(w.listener), Priority: aws.Int32(10), Conditions: cond,
		Actions: forward(map[string]int32{w.blue: 1}, w.blue)})
	var piu *elbtypes.PriorityInUseException
	if !errors.As(err, &piu) {
		t.Errorf("duplicate priority: got %v, want PriorityInUseException", err)
	}
	rules := need(c.DescribeRules(ctx, &elbv2.DescribeRulesInput{ListenerArn: aws.String(w.listener)})).on(t).Rules
	if len(rules) != 2 || !aws.ToBool(rules[1].IsDefault) || aws.ToString(rules[1].Priority) != "default" {
		t.Fatalf("rules: %s", jsonOf(t, rules))
	}
	if a, b := jsonOf(t, cond), jsonOf(t, rules[0].Conditions); a != b {
		t.Errorf("conditions did not round-trip:\n sent %s\n  got %s", a, b)
	}
	need(c.ModifyRule(ctx, &elbv2.ModifyRuleInput{RuleArn: rule.RuleArn, Actions: forward(map[string]int32{w.blue: 0, w.green: 100}, w.blue, w.green)})).on(t)
	got := need(c.DescribeRules(ctx, &elbv2.DescribeRulesInput{RuleArns: []string{*rule.RuleArn}})).on(t).Rules[0]
	if aws.ToInt32(got.Actions[0].ForwardConfig.TargetGroups[1].Weight) != 100 {
		t.Errorf("modified rule: %s", jsonOf(t, got.Actions))
	}
	_, err = c.DeleteTargetGroup(ctx, &elbv2.DeleteTargetGroupInput{TargetGroupArn: aws.String(w.green)})
	var riu *elbtypes.ResourceInUseException
	if !errors.As(err, &riu) {
		t.Errorf("deleting a target group in use: got %v, want ResourceInUseException", err)
	}
	need(c.DeleteRule(ctx, &elbv2.DeleteRuleInput{RuleArn: rule.RuleArn})).on(t)

	for i := 0; i < 5; i++ {
		need(c.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String(fmt.Sprintf("tg%d", i)), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: aws.String("vpc-1")})).on(t)
	}
	p := elbv2.NewDescribeTargetGroupsPaginator(c, &elbv2.DescribeTargetGroupsInput{PageSize: aws.Int32(3)})
	n, pages := 0, 0
	for p.HasMorePages() {
		n += len(need(p.NextPage(ctx)).on(t).TargetGroups)
		pages++
	}
	if n != 7 || pages != 3 {
		t.Errorf("paginated %d target groups over %d pages, want 7 over 3", n, pages)
	}
	attached := need(c.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{LoadBalancerArn: aws.String(w.lb)})).on(t).TargetGroups
	if len(attached) != 2 || len(attached[0].LoadBalancerArns) != 1 {
		t.Errorf("target groups of the load balancer: %d", len(attached))
	}
}

func deregister(tg, ip string) *elbv2.DeregisterTargetsInput {
	return &elbv2.DeregisterTargetsInput{TargetGroupArn: aws.String(tg), Targets: []elbtypes.TargetDescription{{Id: aws.String(ip), Port: aws.Int32(8080)}}}
}

func TestELBv2RulesRouteRequestsByHostPathAndHeader(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c := env.ELBv2()
	w := newWeb(t, ctx, c)
	registerIPs(t, ctx, c, w.blue, "10.0.0.1")
	registerIPs(t, ctx, c, w.green, "10.0.1.1")
	env.Emu.Advance(10 * time.Second)
	need(c.CreateRule(ctx, &elbv2.CreateRuleInput{ListenerArn: aws.String(w.listener), Priority: aws.Int32(5),
		Conditions: []elbtypes.RuleCondition{{Field: aws.String("http-header"), HttpHeaderConfig: &elbtypes.HttpHeaderConditionConfig{HttpHeaderName: aws.String("X-Canary"), Values: []string{"1"}}}},
		Actions:    forward(map[string]int32{w.green: 1}, w.green)})).on(t)
	need(c.CreateRule(ctx, &elbv2.CreateRuleInput{ListenerArn: aws.String(w.listener), Priority: aws.Int32(10),
		Conditions: []elbtypes.RuleCondition{{Field: aws.String("host-header"), HostHeaderConfig: &elbtypes.HostHeaderConditionConfig{Values: []string{"API.example.com"}}},
			{Field: aws.String("path-pattern"), PathPatternConfig: &elbtypes.PathPatternConditionConfig{Values: []string{"/v2/*"}}}},
		Actions: forward(map[string]int32{w.blue: 1, w.green: 1}, w.blue, w.green)})).on(t)
	for name, tc := range map[string]struct {
		req         emuelb.Request
		blue, green int
	}{
		"default action":               {emuelb.Request{Host: "www.example.com", Path: "/"}, 10, 0},
		"host and path rule":           {emuelb.Request{Host: "api.example.com", Path: "/v2/users/1"}, 5, 5},
		"path must match too":          {emuelb.Request{Host: "api.example.com", Path: "/v1/users"}, 10, 0},
		"header rule wins by priority": {emuelb.Request{Host: "api.example.com", Path: "/v2/x", Headers: map[string]string{"X-Canary": "1"}}, 0, 10},
	} {
		res := need(env.Emu.SendRequests(w.listener, tc.req, 10)).on(t)
		if res.ByTargetGroup[w.blue].OK != tc.blue || res.ByTargetGroup[w.green].OK != tc.green {
			t.Errorf("%s: %s", name, res)
		}
	}
}

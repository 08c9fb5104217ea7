package ecs

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// weights are the forward weights of the listener (or rule) by target
// group ARN.
type weights map[string]int32

// errNoTraffic says a strategy that shifts traffic has no traffic settings.
var errNoTraffic = errors.New("blue/green and canary strategies need the target's ecs.traffic (listener and target groups)")

// traffic returns the target's traffic settings, or a stalled error.
func traffic(d *reconcile.Deployment) (*spec.ALBTraffic, error) {
	tr := d.Target.ECS.Traffic
	if tr == nil || (tr.ListenerArn == "") == (tr.ListenerRuleArn == "") {
		return nil, reconcile.Stalled(errNoTraffic)
	}
	return tr, nil
}

// readWeights returns the forward weights of the traffic's listener or
// rule.
func (p *Platform) readWeights(ctx context.Context, tr *spec.ALBTraffic) (weights, error) {
	actions, err := p.readActions(ctx, tr)
	if err != nil {
		return nil, err
	}
	w := weights{}
	for _, a := range actions {
		if a.Type != elbtypes.ActionTypeEnumForward {
			continue
		}
		if a.ForwardConfig != nil && len(a.ForwardConfig.TargetGroups) > 0 {
			for _, tg := range a.ForwardConfig.TargetGroups {
				w[aws.ToString(tg.TargetGroupArn)] = aws.ToInt32(tg.Weight)
			}
		} else if a.TargetGroupArn != nil {
			w[*a.TargetGroupArn] = 1
		}
	}
	return w, nil
}

func (p *Platform) readActions(ctx context.Context, tr *spec.ALBTraffic) ([]elbtypes.Action, error) {
	if tr.ListenerRuleArn != "" {
		out, err := p.c.ELB.DescribeRules(ctx, &elbv2.DescribeRulesInput{RuleArns: []string{tr.ListenerRuleArn}})
		if err != nil || len(out.Rules) == 0 {
			return nil, classify(fmt.Errorf("describe listener rule %s: %w", tr.ListenerRuleArn, orNotFound(err)))
		}
		return out.Rules[0].Actions, nil
	}
	out, err := p.c.ELB.DescribeListeners(ctx, &elbv2.DescribeListenersInput{ListenerArns: []string{tr.ListenerArn}})
	if err != nil || len(out.Listeners) == 0 {
		return nil, classify(fmt.Errorf("describe listener %s: %w", tr.ListenerArn, orNotFound(err)))
	}
	return out.Listeners[0].DefaultActions, nil
}

func orNotFound(err error) error {
	if err == nil {
		return errors.New("not found")
	}
	return err
}

// share returns tg's share of traffic in percent.
func (w weights) share(tg string) float64 {
	var total int32
	for _, v := range w {
		total += v
	}
	if total == 0 {
		return 0
	}
	return float64(w[tg]) * 100 / float64(total)
}

// setWeights sends weight percent of traffic to to and the rest to from,
// keeping both target groups in the forward action (so both stay in use
// and their targets health-checked), and returns once the listener reads
// back the new weights.
func (p *Platform) setWeights(ctx context.Context, tr *spec.ALBTraffic, from, to string, weight spec.Percent) error {
	w := int32(weight + 0.5)
	want := weights{to: w, from: 100 - w}
	if have, err := p.readWeights(ctx, tr); err != nil || sameWeights(have, want) {
		return err
	}
	action := []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, ForwardConfig: &elbtypes.ForwardActionConfig{
		TargetGroups: []elbtypes.TargetGroupTuple{
			{TargetGroupArn: aws.String(from), Weight: aws.Int32(100 - w)},
			{TargetGroupArn: aws.String(to), Weight: aws.Int32(w)},
		}}}}
	if err := p.writeActions(ctx, tr, action); err != nil {
		return err
	}
	have, err := p.readWeights(ctx, tr)
	if err != nil {
		return err
	}
	if !sameWeights(have, want) {
		return reconcile.Waiting(time.Second, "listener weights are %v, not yet %v", have, want)
	}
	return nil
}

func (p *Platform) writeActions(ctx context.Context, tr *spec.ALBTraffic, actions []elbtypes.Action) error {
	if tr.ListenerRuleArn != "" {
		_, err := p.c.ELB.ModifyRule(ctx, &elbv2.ModifyRuleInput{RuleArn: aws.String(tr.ListenerRuleArn), Actions: actions})
		return classify(wrapIf(err, "modify listener rule %s", tr.ListenerRuleArn))
	}
	_, err := p.c.ELB.ModifyListener(ctx, &elbv2.ModifyListenerInput{ListenerArn: aws.String(tr.ListenerArn), DefaultActions: actions})
	return classify(wrapIf(err, "modify listener %s", tr.ListenerArn))
}

func sameWeights(have, want weights) bool {
	for tg, v := range want {
		if have[tg] != v {
			return false
		}
	}
	for tg, v := range have {
		if _, ok := want[tg]; !ok && v != 0 {
			return false
		}
	}
	return true
}

// wrapIf wraps err with a message, or returns nil.
func wrapIf(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}

// drainTime is how long in-flight requests may take to finish on tg: the
// larger of its deregistration delay and the strategy's drain time.
func (p *Platform) drainTime(ctx context.Context, d *reconcile.Deployment, tg string) (time.Duration, error) {
	var drain time.Duration
	if bg := d.Environment.Strategy.BlueGreen; bg != nil && bg.DrainTime != nil {
		drain = bg.DrainTime.Duration
	}
	out, err := p.c.ELB.DescribeTargetGroupAttributes(ctx, &elbv2.DescribeTargetGroupAttributesInput{TargetGroupArn: aws.String(tg)})
	if err != nil {
		return 0, classify(fmt.Errorf("describe attributes of target group %s: %w", tg, err))
	}
	for _, a := range out.Attributes {
		if aws.ToString(a.Key) == "deregistration_delay.timeout_seconds" {
			if s, err := strconv.Atoi(aws.ToString(a.Value)); err == nil {
				drain = max(drain, time.Duration(s)*time.Second)
			}
		}
	}
	return drain, nil
}

// targetsHealthy reports whether tg has at least want targets and all of
// its registered targets (other than draining ones) are healthy.
func (p *Platform) targetsHealthy(ctx context.Context, tg string, want int32) (bool, string, error) {
	out, err := p.c.ELB.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(tg)})
	if err != nil {
		return false, "", classify(fmt.Errorf("describe target health of %s: %w", tg, err))
	}
	var healthy, total int32
	for _, t := range out.TargetHealthDescriptions {
		switch t.TargetHealth.State {
		case elbtypes.TargetHealthStateEnumDraining:
			continue
		case elbtypes.TargetHealthStateEnumHealthy:
			healthy++
		}
		total++
	}
	return healthy == total && healthy >= want, fmt.Sprintf("%d of %d targets healthy (want %d)", healthy, total, want), nil
}

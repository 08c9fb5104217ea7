// Package albtraffic shifts traffic on an Application Load Balancer: it
// reads and sets the weights a listener's default action (or one of its
// rules) forwards to a pair of target groups, reports the health of a
// target group's targets, and reads how long deregistered targets drain.
// It serves every platform whose versions sit behind target groups.
package albtraffic

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/jibe-dev/jibe/providers/aws/awserr"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// API is the part of Elastic Load Balancing v2 the package calls.
type API interface {
	DescribeListeners(ctx context.Context, in *elbv2.DescribeListenersInput, optFns ...func(*elbv2.Options)) (*elbv2.DescribeListenersOutput, error)
	ModifyListener(ctx context.Context, in *elbv2.ModifyListenerInput, optFns ...func(*elbv2.Options)) (*elbv2.ModifyListenerOutput, error)
	DescribeRules(ctx context.Context, in *elbv2.DescribeRulesInput, optFns ...func(*elbv2.Options)) (*elbv2.DescribeRulesOutput, error)
	ModifyRule(ctx context.Context, in *elbv2.ModifyRuleInput, optFns ...func(*elbv2.Options)) (*elbv2.ModifyRuleOutput, error)
	DescribeTargetHealth(ctx context.Context, in *elbv2.DescribeTargetHealthInput, optFns ...func(*elbv2.Options)) (*elbv2.DescribeTargetHealthOutput, error)
	DescribeTargetGroups(ctx context.Context, in *elbv2.DescribeTargetGroupsInput, optFns ...func(*elbv2.Options)) (*elbv2.DescribeTargetGroupsOutput, error)
	DescribeTargetGroupAttributes(ctx context.Context, in *elbv2.DescribeTargetGroupAttributesInput, optFns ...func(*elbv2.Options)) (*elbv2.DescribeTargetGroupAttributesOutput, error)
}

// hints say what to fix for the load balancer errors that stall.
var hints = map[string]string{
	"ValidationError":     "fix the target's traffic settings or load balancer",
	"TargetGroupNotFound": "fix the target group ARNs of the target",
	"ListenerNotFound":    "fix the target's traffic.listenerArn",
	"RuleNotFound":        "fix the target's traffic.listenerRuleArn",
}

func classify(err error) error {
	return awserr.Classify(err, hints)
}

// Weights are the forward weights of the listener (or rule) by target
// group ARN.
type Weights map[string]int32

// Read returns the forward weights of the traffic's listener or rule.
func Read(ctx context.Context, api API, tr *spec.ALBTraffic) (Weights, error) {
	actions, err := readActions(ctx, api, tr)
	if err != nil {
		return nil, err
	}
	w := Weights{}
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

func readActions(ctx context.Context, api API, tr *spec.ALBTraffic) ([]elbtypes.Action, error) {
	if tr.ListenerRuleArn != "" {
		out, err := api.DescribeRules(ctx, &elbv2.DescribeRulesInput{RuleArns: []string{tr.ListenerRuleArn}})
		if err != nil || len(out.Rules) == 0 {
			return nil, classify(fmt.Errorf("describe listener rule %s: %w", tr.ListenerRuleArn, orNotFound(err)))
		}
		return out.Rules[0].Actions, nil
	}
	out, err := api.DescribeListeners(ctx, &elbv2.DescribeListenersInput{ListenerArns: []string{tr.ListenerArn}})
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

// Share returns tg's share of traffic in percent.
func (w Weights) Share(tg string) float64 {
	var total int32
	for _, v := range w {
		total += v
	}
	if total == 0 {
		return 0
	}
	return float64(w[tg]) * 100 / float64(total)
}

// Set sends weight percent of traffic to to and the rest to from,
// keeping both target groups in the forward action (so both stay in use
// and their targets health-checked). It returns once the listener reads
// back the new weights, else a waiting error.
func Set(ctx context.Context, api API, tr *spec.ALBTraffic, from, to string, weight spec.Percent) error {
	w := int32(weight + 0.5)
	want := Weights{to: w, from: 100 - w}
	if have, err := Read(ctx, api, tr); err != nil || sameWeights(have, want) {
		return err
	}
	action := []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, ForwardConfig: &elbtypes.ForwardActionConfig{
		TargetGroups: []elbtypes.TargetGroupTuple{
			{TargetGroupArn: aws.String(from), Weight: aws.Int32(100 - w)},
			{TargetGroupArn: aws.String(to), Weight: aws.Int32(w)},
		}}}}
	if err := writeActions(ctx, api, tr, action); err != nil {
		return err
	}
	have, err := Read(ctx, api, tr)
	if err != nil {
		return err
	}
	if !sameWeights(have, want) {
		return reconcile.Waiting(time.Second, "listener weights are %v, not yet %v", have, want)
	}
	return nil
}

func writeActions(ctx context.Context, api API, tr *spec.ALBTraffic, actions []elbtypes.Action) error {
	if tr.ListenerRuleArn != "" {
		_, err := api.ModifyRule(ctx, &elbv2.ModifyRuleInput{RuleArn: aws.String(tr.ListenerRuleArn), Actions: actions})
		return classify(wrapIf(err, "modify listener rule %s", tr.ListenerRuleArn))
	}
	_, err := api.ModifyListener(ctx, &elbv2.ModifyListenerInput{ListenerArn: aws.String(tr.ListenerArn), DefaultActions: actions})
	return classify(wrapIf(err, "modify listener %s", tr.ListenerArn))
}

func sameWeights(have, want Weights) bool {
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

// DeregistrationDelay returns how long tg lets in-flight requests of a
// deregistered target finish (its deregistration_delay.timeout_seconds),
// zero when it does not say.
func DeregistrationDelay(ctx context.Context, api API, tg string) (time.Duration, error) {
	out, err := api.DescribeTargetGroupAttributes(ctx, &elbv2.DescribeTargetGroupAttributesInput{TargetGroupArn: aws.String(tg)})
	if err != nil {
		return 0, classify(fmt.Errorf("describe attributes of target group %s: %w", tg, err))
	}
	var delay time.Duration
	for _, a := range out.Attributes {
		if aws.ToString(a.Key) == "deregistration_delay.timeout_seconds" {
			if s, err := strconv.Atoi(aws.ToString(a.Value)); err == nil {
				delay = max(delay, time.Duration(s)*time.Second)
			}
		}
	}
	return delay, nil
}

// TargetsHealthy reports whether tg has at least want targets and all of
// its registered targets (other than draining ones) are healthy, and how
// many are, as the reason.
func TargetsHealthy(ctx context.Context, api API, tg string, want int32) (bool, string, error) {
	out, err := api.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(tg)})
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

// DescribeTargets says how the targets of tg stand, for the reason of a
// health wait: "targets initial (health checks pass after 3 × 10 s)",
// "targets 1 healthy, 1 unhealthy (Target.Timeout: Request timed out)",
// "no targets registered in <tg>". Draining targets are left out. The
// target group's health check settings are read only while a target is
// initial.
func DescribeTargets(ctx context.Context, api API, tg string) (string, error) {
	out, err := api.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(tg)})
	if err != nil {
		return "", classify(fmt.Errorf("describe target health of %s: %w", tg, err))
	}
	counts := map[elbtypes.TargetHealthStateEnum]int{}
	var states []elbtypes.TargetHealthStateEnum
	var detail string
	for _, t := range out.TargetHealthDescriptions {
		st := t.TargetHealth.State
		if st == elbtypes.TargetHealthStateEnumDraining {
			continue
		}
		if counts[st] == 0 {
			states = append(states, st)
		}
		counts[st]++
		if st != elbtypes.TargetHealthStateEnumHealthy && st != elbtypes.TargetHealthStateEnumInitial && detail == "" {
			detail = targetReason(t.TargetHealth)
		}
	}
	if len(states) == 0 {
		return "no targets registered in " + tg, nil
	}
	slices.Sort(states)
	if counts[elbtypes.TargetHealthStateEnumInitial] > 0 && detail == "" {
		if detail, err = HealthCheckPace(ctx, api, tg); err != nil {
			return "", err
		}
	}
	parts := make([]string, len(states))
	for i, st := range states {
		parts[i] = fmt.Sprintf("%d %s", counts[st], st)
	}
	s := "targets " + strings.Join(parts, ", ")
	if len(states) == 1 {
		s = "targets " + string(states[0])
	}
	if detail != "" {
		s += " (" + detail + ")"
	}
	return s, nil
}

// targetReason is "<reason>: <description>" of a target's health.
func targetReason(h *elbtypes.TargetHealth) string {
	s := string(h.Reason)
	if d := aws.ToString(h.Description); d != "" {
		if s != "" {
			s += ": "
		}
		s += d
	}
	return s
}

// HealthCheckPace is "health checks pass after 3 × 10 s": how long a new
// target of tg takes to become healthy at best.
func HealthCheckPace(ctx context.Context, api API, tg string) (string, error) {
	out, err := api.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{TargetGroupArns: []string{tg}})
	if err != nil {
		return "", classify(fmt.Errorf("describe target group %s: %w", tg, err))
	}
	if len(out.TargetGroups) == 0 {
		return "", nil
	}
	g := out.TargetGroups[0]
	return fmt.Sprintf("health checks pass after %d × %d s", aws.ToInt32(g.HealthyThresholdCount), aws.ToInt32(g.HealthCheckIntervalSeconds)), nil
}

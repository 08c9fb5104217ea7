package ecs

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/jibe-dev/jibe/providers/aws/albtraffic"
	"github.com/jibe-dev/jibe/providers/aws/awstag"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// maxTagValue is the longest value an ELBv2 tag may hold.
const maxTagValue = 256

// maxForwardGroups is how many target groups one ALB forward action may
// name.
const maxForwardGroups = 5

// forwardedKeys are the tag keys recording what a taken-over listener or
// rule forwarded to before, in order: one forward action names at most
// five target groups, which fit in two values.
var forwardedKeys = []string{awstag.ForwardedBefore, awstag.ForwardedBefore + "-2", awstag.ForwardedBefore + "-3"}

// errBadRecord says the forwarded-before tags cannot be read back.
var errBadRecord = errors.New("malformed " + awstag.ForwardedBefore + " tag")

// trafficArn is the ARN of tr's listener or rule.
func trafficArn(tr *spec.ALBTraffic) string {
	if tr.ListenerRuleArn != "" {
		return tr.ListenerRuleArn
	}
	return tr.ListenerArn
}

// arnPrefix is "arn:<partition>:elasticloadbalancing:<region>:<account>:"
// of a listener or rule ARN, "" when arn is not one.
func arnPrefix(arn string) string {
	if i := strings.Index(arn, ":listener"); i >= 0 {
		return arn[:i+1]
	}
	return ""
}

// encodeForwarded returns the tag values recording w: entries
// "<target group ARN without prefix>=<weight>" sorted by ARN, separated by
// spaces, each value at most maxTagValue long.
func encodeForwarded(w albtraffic.Weights, prefix string) []string {
	var values []string
	var cur string
	for _, tg := range slices.Sorted(maps.Keys(w)) {
		e := tg
		if prefix != "" {
			e = strings.TrimPrefix(tg, prefix)
		}
		e += "=" + strconv.Itoa(int(w[tg]))
		if cur != "" && len(cur)+1+len(e) > maxTagValue {
			values, cur = append(values, cur), ""
		}
		if cur != "" {
			cur += " "
		}
		cur += e
	}
	if cur != "" {
		values = append(values, cur)
	}
	return values
}

// decodeForwarded reads back the weights encodeForwarded recorded.
func decodeForwarded(values []string, prefix string) (albtraffic.Weights, error) {
	w := albtraffic.Weights{}
	for _, v := range values {
		for _, e := range strings.Fields(v) {
			i := strings.LastIndexByte(e, '=')
			if i <= 0 {
				return nil, fmt.Errorf("%w: entry %q is not <target group>=<weight>", errBadRecord, e)
			}
			n, err := strconv.Atoi(e[i+1:])
			if err != nil || n < 0 || n > 999 {
				return nil, fmt.Errorf("%w: entry %q has no weight from 0 to 999", errBadRecord, e)
			}
			tg := e[:i]
			if !strings.HasPrefix(tg, "arn:") {
				tg = prefix + tg
			}
			w[tg] = int32(n)
		}
	}
	return w, nil
}

// recordForwarded tags tr's listener or rule with w, what it forwards to
// before a takeover, replacing an earlier record (or removing it when w
// is empty: the listener forwarded nowhere, and there is nothing to hand
// back).
func (p *Platform) recordForwarded(ctx context.Context, tr *spec.ALBTraffic, w albtraffic.Weights) error {
	arn := trafficArn(tr)
	values := encodeForwarded(w, arnPrefix(arn))
	if len(values) > len(forwardedKeys) {
		return reconcile.Stalled(fmt.Errorf("%s forwards to %d target groups, more than Jibe can record to hand it back", trafficName(tr), len(w)))
	}
	if len(values) > 0 {
		tags := make([]elbtypes.Tag, len(values))
		for i, v := range values {
			tags[i] = elbtypes.Tag{Key: aws.String(forwardedKeys[i]), Value: aws.String(v)}
		}
		if _, err := p.c.ELB.AddTags(ctx, &elbv2.AddTagsInput{ResourceArns: []string{arn}, Tags: tags}); err != nil {
			return classify(fmt.Errorf("tag %s with what it forwards to before the takeover: %w", trafficName(tr), err))
		}
	}
	return p.dropRecord(ctx, tr, len(values))
}

// dropRecord removes the forwarded-before tags of tr's listener or rule
// from the from-th on.
func (p *Platform) dropRecord(ctx context.Context, tr *spec.ALBTraffic, from int) error {
	if from >= len(forwardedKeys) {
		return nil
	}
	_, err := p.c.ELB.RemoveTags(ctx, &elbv2.RemoveTagsInput{ResourceArns: []string{trafficArn(tr)}, TagKeys: forwardedKeys[from:]})
	if err != nil && !gone(err) {
		return classify(fmt.Errorf("remove the %s tags of %s: %w", awstag.ForwardedBefore, trafficName(tr), err))
	}
	return nil
}

// forwardedBefore reads what tr's listener or rule forwarded to before a
// takeover: nil when nothing is recorded or the listener or rule is gone.
func (p *Platform) forwardedBefore(ctx context.Context, tr *spec.ALBTraffic) (albtraffic.Weights, error) {
	arn := trafficArn(tr)
	out, err := p.c.ELB.DescribeTags(ctx, &elbv2.DescribeTagsInput{ResourceArns: []string{arn}})
	if err != nil {
		if gone(err) {
			return nil, nil
		}
		return nil, classify(fmt.Errorf("describe the tags of %s: %w", trafficName(tr), err))
	}
	tags := map[string]string{}
	for _, d := range out.TagDescriptions {
		for _, t := range d.Tags {
			tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
	}
	var values []string
	for _, k := range forwardedKeys {
		v, ok := tags[k]
		if !ok {
			break
		}
		values = append(values, v)
	}
	return decodeForwarded(values, arnPrefix(arn))
}

// gone reports whether err says the listener, rule or target group does
// not exist.
func gone(err error) bool {
	return isCode(err, "RuleNotFound") || isCode(err, "ListenerNotFound") || isCode(err, "TargetGroupNotFound")
}

// handBack returns the traffic of a listener (or rule) that d's service
// took over (see takeOver) to what it forwarded to before, as recorded
// on it, before the service is removed (a failed first deploy) or
// deleted (its application left Git). It does so only while the listener
// still forwards to nothing but d's target groups, and once every target
// group it forwarded to before still exists and is healthy: a group no
// longer in use is first added back with weight 0 so that the load
// balancer checks its targets, and a Lambda function's group is healthy
// once the function is registered. Otherwise it leaves the listener as
// it is and logs why, saying to point it by hand. It returns Waiting
// while those targets are checked; the record is removed once decided.
func (p *Platform) handBack(ctx context.Context, d *reconcile.Deployment, step string) error {
	if d.Target.ECS == nil {
		return nil
	}
	tr := d.Target.ECS.Traffic
	if tr == nil || (tr.ListenerArn == "") == (tr.ListenerRuleArn == "") {
		return nil
	}
	before, err := p.forwardedBefore(ctx, tr)
	if err != nil || len(before) == 0 {
		return p.forgiveBadRecord(d, step, err)
	}
	now, err := albtraffic.Read(ctx, p.c.ELB, tr)
	if err != nil {
		return forgiveGone(err)
	}
	log := p.logger(d, step).With("traffic", trafficName(tr), "forwarded_before", describeWeights(before), "forwards_to", describeWeights(now))
	if !onlyOurs(now, tr, before) {
		log.Warn("not handing the traffic back to what it forwarded to before this service took it over: it was changed since")
		return p.dropRecord(ctx, tr, 0)
	}
	v, err := p.previousReady(ctx, tr, now, before)
	switch {
	case err != nil:
		return err
	case v.cannot != "":
		log.Warn("not handing the traffic back to what it forwarded to before this service took it over: it keeps forwarding "+
			"to this service's target group; point it where the path should go by hand", "why", v.cannot)
		return p.dropRecord(ctx, tr, 0)
	case v.wait != "":
		return reconcile.Waiting(p.requeue, "handing %s back to %s once healthy: %s", trafficName(tr), describeWeights(before), v.wait)
	}
	if err := p.forward(ctx, tr, before); err != nil {
		return err
	}
	log.Info("handed the traffic back to what it forwarded to before this service took it over")
	return p.dropRecord(ctx, tr, 0)
}

// forgiveBadRecord logs a record that cannot be read and goes on without
// it; other errors are returned.
func (p *Platform) forgiveBadRecord(d *reconcile.Deployment, step string, err error) error {
	if errors.Is(err, errBadRecord) {
		p.logger(d, step).Warn("not handing the traffic back: its record cannot be read; point it where the path should go by hand",
			"traffic", trafficName(d.Target.ECS.Traffic), "err", err)
		return nil
	}
	return err
}

// forgiveGone is nil when err says the listener or rule is gone.
func forgiveGone(err error) error {
	if gone(err) {
		return nil
	}
	return err
}

// onlyOurs reports whether now forwards to tr's pair and to nothing else
// but, with weight 0, target groups of before (added back by handBack to
// check their health).
func onlyOurs(now albtraffic.Weights, tr *spec.ALBTraffic, before albtraffic.Weights) bool {
	if now[tr.StableTargetGroupArn]+now[tr.CanaryTargetGroupArn] == 0 {
		return false
	}
	for tg, w := range now {
		if tg == tr.StableTargetGroupArn || tg == tr.CanaryTargetGroupArn {
			continue
		}
		if _, was := before[tg]; w != 0 || !was {
			return false
		}
	}
	return true
}

// describeWeights is "<target group ARN>=<weight>, ..." sorted.
func describeWeights(w albtraffic.Weights) string {
	parts := make([]string, 0, len(w))
	for _, tg := range slices.Sorted(maps.Keys(w)) {
		parts = append(parts, fmt.Sprintf("%s=%d", tg, w[tg]))
	}
	return strings.Join(parts, ", ")
}

// verdict is whether the target groups to hand traffic back to are
// ready: cannot says why they never will be, wait what they wait for;
// both empty means ready.
type verdict struct {
	cannot, wait string
}

// previousReady checks the health of every target group of before, and
// adds those no longer in use back to the listener with weight 0.
func (p *Platform) previousReady(ctx context.Context, tr *spec.ALBTraffic, now, before albtraffic.Weights) (verdict, error) {
	var v verdict
	var unused []string
	for _, tg := range slices.Sorted(maps.Keys(before)) {
		st, err := p.groupState(ctx, tg)
		if err != nil {
			return verdict{}, err
		}
		switch {
		case st.cannot != "":
			return st, nil
		case st.wait == stateNotInUse:
			unused = append(unused, tg)
		case st.wait != "" && v.wait == "":
			v.wait = st.wait
		}
	}
	if len(unused) == 0 {
		return v, nil
	}
	probe := maps.Clone(now)
	for _, tg := range unused {
		probe[tg] = 0
	}
	if len(probe) > maxForwardGroups {
		return verdict{cannot: fmt.Sprintf("%d target groups are more than one forward action holds to check their health", len(probe))}, nil
	}
	if err := p.forward(ctx, tr, probe); err != nil {
		return verdict{}, err
	}
	return verdict{wait: "target group(s) " + strings.Join(unused, ", ") + " added back with weight 0 for health checks"}, nil
}

// stateNotInUse marks a target group whose targets are not checked as no
// listener forwards to it.
const stateNotInUse = "not in use"

// groupState says whether tg can take traffic back: every registered
// target (but draining ones) healthy, or a Lambda function registered
// (health checks disabled).
func (p *Platform) groupState(ctx context.Context, tg string) (verdict, error) {
	out, err := p.c.ELB.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(tg)})
	if err != nil {
		if gone(err) {
			return verdict{cannot: "target group " + tg + " no longer exists"}, nil
		}
		return verdict{}, classify(fmt.Errorf("describe target health of %s: %w", tg, err))
	}
	var v verdict
	var n int
	for _, t := range out.TargetHealthDescriptions {
		h := t.TargetHealth
		switch {
		case h == nil || h.State == elbtypes.TargetHealthStateEnumDraining:
			continue
		case h.State == elbtypes.TargetHealthStateEnumHealthy:
		case h.State == elbtypes.TargetHealthStateEnumUnavailable && h.Reason == elbtypes.TargetHealthReasonEnumHealthCheckDisabled:
		case h.State == elbtypes.TargetHealthStateEnumUnused && h.Reason == elbtypes.TargetHealthReasonEnumNotInUse:
			v.wait = stateNotInUse
		case h.State == elbtypes.TargetHealthStateEnumInitial:
			if v.wait == "" {
				v.wait = "target group " + tg + ": initial health checks in progress"
			}
		default:
			return verdict{cannot: fmt.Sprintf("target group %s has a target %s (%s)", tg, h.State, h.Reason)}, nil
		}
		n++
	}
	if n == 0 {
		return verdict{cannot: "target group " + tg + " has no targets registered"}, nil
	}
	return v, nil
}

// forward makes tr's listener or rule forward to the target groups of w
// with their weights.
func (p *Platform) forward(ctx context.Context, tr *spec.ALBTraffic, w albtraffic.Weights) error {
	var tgs []elbtypes.TargetGroupTuple
	for _, tg := range slices.Sorted(maps.Keys(w)) {
		tgs = append(tgs, elbtypes.TargetGroupTuple{TargetGroupArn: aws.String(tg), Weight: aws.Int32(w[tg])})
	}
	actions := []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, ForwardConfig: &elbtypes.ForwardActionConfig{TargetGroups: tgs}}}
	var err error
	if tr.ListenerRuleArn != "" {
		_, err = p.c.ELB.ModifyRule(ctx, &elbv2.ModifyRuleInput{RuleArn: aws.String(tr.ListenerRuleArn), Actions: actions})
	} else {
		_, err = p.c.ELB.ModifyListener(ctx, &elbv2.ModifyListenerInput{ListenerArn: aws.String(tr.ListenerArn), DefaultActions: actions})
	}
	return classify(wrapIf(err, "forward %s to %s", trafficName(tr), describeWeights(w)))
}

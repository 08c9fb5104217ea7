package ecs

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/jibe-dev/jibe/providers/aws/albtraffic"
	"github.com/jibe-dev/jibe/providers/aws/awstag"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// lockedBuffer is a log sink safe for the platform's concurrent writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// logs sends the platform's records to a buffer the test reads.
func (r *rig) logs() *lockedBuffer {
	var buf lockedBuffer
	r.p.log = slog.New(slog.NewTextHandler(&buf, nil))
	return &buf
}

// quoteFunction creates the Lambda function "quote", active, registered
// in a target group of type lambda, and returns the function's and the
// group's ARNs.
func (r *rig) quoteFunction() (fn, tg string) {
	r.t.Helper()
	c := r.env.Lambda()
	f, err := c.CreateFunction(r.ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("quote"),
		Role: aws.String("arn:aws:iam::111111111111:role/fn"), Runtime: lambdatypes.RuntimeProvidedal2023,
		Handler: aws.String("bootstrap"), Code: &lambdatypes.FunctionCode{ZipFile: []byte("quote v1")}})
	if err != nil {
		r.t.Fatal(err)
	}
	for i := 0; ; i++ {
		out, err := c.GetFunction(r.ctx, &lambda.GetFunctionInput{FunctionName: aws.String("quote")})
		if err != nil {
			r.t.Fatal(err)
		}
		if out.Configuration.State == lambdatypes.StateActive {
			break
		}
		if i == 60 {
			r.t.Fatalf("function quote still %s", out.Configuration.State)
		}
		r.env.Emu.Advance(time.Second)
	}
	g, err := r.elb.CreateTargetGroup(r.ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("quote-fn"), TargetType: elbtypes.TargetTypeEnumLambda})
	if err != nil {
		r.t.Fatal(err)
	}
	tg = aws.ToString(g.TargetGroups[0].TargetGroupArn)
	must(r.t)(c.AddPermission(r.ctx, &lambda.AddPermissionInput{FunctionName: aws.String("quote"), StatementId: aws.String("elb"),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("elasticloadbalancing.amazonaws.com"), SourceArn: aws.String(tg)}))
	fn = aws.ToString(f.FunctionArn)
	must(r.t)(r.elb.RegisterTargets(r.ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: aws.String(tg),
		Targets: []elbtypes.TargetDescription{{Id: aws.String(fn)}}}))
	return fn, tg
}

// quoteRule creates a listener rule forwarding /api/quote* to tg, sends
// the rig's requests to /api/quote, and returns the traffic settings of a
// service taking the rule over.
func (r *rig) quoteRule(tg string) *spec.ALBTraffic {
	r.t.Helper()
	rule, err := r.elb.CreateRule(r.ctx, &elbv2.CreateRuleInput{ListenerArn: aws.String(r.listener), Priority: aws.Int32(10),
		Conditions: []elbtypes.RuleCondition{{Field: aws.String("path-pattern"), Values: []string{"/api/quote*"}}},
		Actions:    []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(tg)}}})
	if err != nil {
		r.t.Fatal(err)
	}
	r.path = "/api/quote"
	r.send(20)
	if r.errors != 0 || r.byTG[tg] != 20 {
		r.t.Fatalf("before the move /api/quote answers %d errors of %d, by target group %v", r.errors, r.sent, r.byTG)
	}
	r.resetTraffic()
	return &spec.ALBTraffic{ListenerRuleArn: aws.ToString(rule.Rules[0].RuleArn), StableTargetGroupArn: r.blue, CanaryTargetGroupArn: r.green}
}

// ruleWeights reads the forward weights of tr's rule.
func (r *rig) ruleWeights(tr *spec.ALBTraffic) albtraffic.Weights {
	r.t.Helper()
	w, err := albtraffic.Read(r.ctx, r.p.c.ELB, tr)
	if err != nil {
		r.t.Fatal(err)
	}
	return w
}

// ruleTags reads the tags of tr's rule.
func (r *rig) ruleTags(tr *spec.ALBTraffic) map[string]string {
	r.t.Helper()
	out, err := r.elb.DescribeTags(r.ctx, &elbv2.DescribeTagsInput{ResourceArns: []string{tr.ListenerRuleArn}})
	if err != nil {
		r.t.Fatal(err)
	}
	tags := map[string]string{}
	for _, t := range out.TagDescriptions[0].Tags {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return tags
}

// takenOver deploys the service web (rolling) with traffic tr, through to
// its promotion, which takes the rule over.
func (r *rig) takenOver(tr *spec.ALBTraffic) *reconcile.Deployment {
	r.t.Helper()
	d := r.deployment("rev1", "shop/web:v1", nil)
	d.Target.ECS.Traffic = tr
	r.rollout(d)
	r.until("promote", func() error { return r.p.Promote(r.ctx, d) })
	if w := r.ruleWeights(tr); w[r.blue] != 100 {
		r.t.Fatalf("the rule was not taken over: %v", w)
	}
	return d
}

// A first deploy that takes a path over from a Lambda function and then
// fails its verification hands the rule back to the function's target
// group before its service is removed: the path keeps answering, with no
// 5xx counted on it, and the record of the takeover is gone.
func TestFailedFirstDeployHandsATakenOverRuleBack(t *testing.T) {
	r := newRig(t)
	e := newEngine(r)
	_, fn := r.quoteFunction()
	tr := r.quoteRule(fn)
	v1 := r.deployment("rev1", "shop/web:v1", nil)
	v1.Target.ECS.Traffic = tr
	failing(t, v1)
	r.sending = true

	ro := e.run(e.start(v1), v1, ended)
	r.advance(time.Minute)

	if ro.State != reconcile.RolloutFailed || !strings.Contains(ro.Reason, "first deploy removed") {
		t.Fatalf("rollout = %s: %s", ro.State, ro.Reason)
	}
	if r.byTG[r.blue] == 0 {
		t.Fatalf("the service never served /api/quote: no takeover to hand back (%v)", r.byTG)
	}
	if w := r.ruleWeights(tr); w[fn] == 0 || w[r.blue] != 0 || w[r.green] != 0 {
		t.Errorf("after the failed first deploy the rule forwards %v, want all on the function's target group %s", w, fn)
	}
	if r.errors != 0 {
		t.Errorf("%d of %d requests to /api/quote failed (by target group %v)", r.errors, r.sent, r.errorsByTG)
	}
	if s := r.live("web"); s != nil {
		t.Errorf("service web is still %s", aws.ToString(s.Status))
	}
	if tag, ok := r.ruleTags(tr)[awstag.ForwardedBefore]; ok {
		t.Errorf("the takeover's record %q is left on the rule", tag)
	}
}

// The service that took a path over is deleted (its application left
// Git) while the function that served the path before is still
// registered in its target group: the rule goes back to it before the
// service goes, and the path keeps answering.
func TestDeleteHandsATakenOverRuleBackToAHealthyFunction(t *testing.T) {
	r := newRig(t)
	_, fn := r.quoteFunction()
	tr := r.quoteRule(fn)
	d := r.takenOver(tr)
	if tag := r.ruleTags(tr)[awstag.ForwardedBefore]; !strings.Contains(tag, "targetgroup/quote-fn/") {
		t.Errorf("the takeover's record is %q, want the function's target group", tag)
	}
	r.sending = true
	r.resetTraffic()

	r.until("delete", func() error { return r.p.Delete(r.ctx, d) })
	r.advance(time.Minute)

	if w := r.ruleWeights(tr); w[fn] == 0 || w[r.blue] != 0 {
		t.Errorf("after the deletion the rule forwards %v, want all on %s", w, fn)
	}
	if r.errors != 0 {
		t.Errorf("%d of %d requests to /api/quote failed (by target group %v)", r.errors, r.sent, r.errorsByTG)
	}
	if r.live("web") != nil {
		t.Errorf("service web is not deleted")
	}
}

// When the function that served the path before is no longer registered
// (it was pruned after the move), deleting the service leaves the rule as
// it is rather than sending the path to nothing, and says so.
func TestDeleteKeepsATakenOverRuleWhenTheFunctionIsGone(t *testing.T) {
	r := newRig(t)
	arn, fn := r.quoteFunction()
	tr := r.quoteRule(fn)
	d := r.takenOver(tr)
	must(t)(r.elb.DeregisterTargets(r.ctx, &elbv2.DeregisterTargetsInput{TargetGroupArn: aws.String(fn),
		Targets: []elbtypes.TargetDescription{{Id: aws.String(arn)}}}))
	r.advance(time.Minute)
	logs := r.logs()

	r.until("delete", func() error { return r.p.Delete(r.ctx, d) })

	if w := r.ruleWeights(tr); w[r.blue] != 100 || w[fn] != 0 {
		t.Errorf("after the deletion the rule forwards %v, want it left on %s", w, r.blue)
	}
	if r.live("web") != nil {
		t.Errorf("service web is not deleted")
	}
	if out := logs.String(); !strings.Contains(out, "has no targets registered") || !strings.Contains(out, "point it where the path should go by hand") {
		t.Errorf("no warning that the rule stays; logs:\n%s", out)
	}
	if _, ok := r.ruleTags(tr)[awstag.ForwardedBefore]; ok {
		t.Errorf("the takeover's record is left on the rule")
	}
}

// A rule changed by hand after the takeover is someone else's decision:
// deleting the service leaves it alone, and says so.
func TestDeleteLeavesARuleChangedByHandAlone(t *testing.T) {
	r := newRig(t)
	_, fn := r.quoteFunction()
	tr := r.quoteRule(fn)
	d := r.takenOver(tr)
	must(t)(r.elb.ModifyRule(r.ctx, &elbv2.ModifyRuleInput{RuleArn: aws.String(tr.ListenerRuleArn),
		Actions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumFixedResponse, FixedResponseConfig: &elbtypes.FixedResponseActionConfig{
			StatusCode: aws.String("404"), ContentType: aws.String("text/plain")}}}}))
	logs := r.logs()

	r.until("delete", func() error { return r.p.Delete(r.ctx, d) })

	if w := r.ruleWeights(tr); len(w) != 0 {
		t.Errorf("the rule changed by hand now forwards %v, want it left answering 404", w)
	}
	if out := logs.String(); !strings.Contains(out, "it was changed since") {
		t.Errorf("no warning that the rule was left alone; logs:\n%s", out)
	}
}

// What a listener forwarded to is recorded in tag values of at most 256
// characters, and read back the same, even for five target groups of
// the longest names.
func TestForwardedRecordFitsELBTagValues(t *testing.T) {
	prefix := "arn:aws:elasticloadbalancing:eu-central-1:111111111111:"
	w := albtraffic.Weights{}
	for i := range maxForwardGroups {
		w[prefix+"targetgroup/"+strings.Repeat(string(rune('a'+i)), 32)+"/0123456789abcdef"] = int32(i * 240)
	}
	values := encodeForwarded(w, prefix)
	if len(values) > len(forwardedKeys) {
		t.Fatalf("%d values, more than the %d keys", len(values), len(forwardedKeys))
	}
	for _, v := range values {
		if len(v) > maxTagValue || strings.Trim(v, "abcdefghijklmnopqrstuvwxyz0123456789 _.:/=+-@") != "" {
			t.Errorf("value %q is not a valid ELBv2 tag value", v)
		}
	}
	got, err := decodeForwarded(values, arnPrefix(prefix+"listener-rule/app/web/1/2/3"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(w) {
		t.Fatalf("read back %v, want %v", got, w)
	}
	for tg, n := range w {
		if got[tg] != n {
			t.Errorf("weight of %s read back %d, want %d", tg, got[tg], n)
		}
	}
}

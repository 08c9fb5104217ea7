package asg

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/jibe-dev/jibe/internal/awsemu/awsemutest"
	"github.com/jibe-dev/jibe/providers/aws/albtraffic"
	"github.com/jibe-dev/jibe/providers/checks"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// canary5xx is the analysis a canary step runs: the canary target
// group's 5xx rate over the last minute, at most 5 %.
func canary5xx(lb, canaryTG string) *spec.Check {
	metric := func(name string) spec.Metric {
		return spec.Metric{Namespace: "AWS/ApplicationELB", Name: name, Statistic: "Sum", Period: &spec.Duration{Duration: time.Minute},
			Dimensions: map[string]string{"LoadBalancer": lb, "TargetGroup": canaryTG}}
	}
	return &spec.Check{Name: "canary 5xx rate", CloudWatch: &spec.CloudWatchCheck{Expression: "100 * errors / requests",
		Metrics: map[string]spec.Metric{"errors": metric("HTTPCode_Target_5XX_Count"), "requests": metric("RequestCount")},
		Window:  &spec.Duration{Duration: time.Minute}, Threshold: spec.Threshold{Max: ptr(5.0)}}}
}

// dimension is the CloudWatch dimension of an ELB ARN: what follows the
// marker ("app/web/…" of a load balancer, "targetgroup/…" of a target
// group).
func dimension(arn, marker string) string { return arn[strings.LastIndex(arn, marker)+len(marker):] }

// TestCanaryAnalysisCatchesAnErroringAMIAndRollsBack: instances of an
// AMI that pass their health checks but answer half of their requests
// with a 5xx get 20 % of the traffic (Versions names the canary and
// stable groups for ${rollout.newVersion} and ${rollout.stableVersion}); the canary analysis (the canary
// target group's 5xx rate in CloudWatch) fails, Rollback returns all
// traffic to the stable group and deletes the canary group, and the
// stable target group serves every request without a 5xx throughout.
func TestCanaryAnalysisCatchesAnErroringAMIAndRollsBack(t *testing.T) {
	r, d1 := canaryRig(t)
	tr := d1.Target.AutoScalingGroup.Traffic
	r.env.Emu.SetImageErrorRate("ami-00000bad", 0.5)
	d2 := r.canaryOf(d1, "rev2", "ami-00000bad")
	r.until("apply", func() error { return r.p.Apply(r.ctx, d2) })
	if h, _ := r.waitHealth(d2); h.State != reconcile.HealthHealthy {
		t.Fatalf("an erroring AMI passes its health checks: %s: %s", h.State, h.Reason)
	}
	if v, err := r.p.Versions(r.ctx, d2); err != nil || v.New != "web-rev2" || v.Stable != "web" {
		t.Errorf("versions for ${rollout.newVersion}/${rollout.stableVersion}: %v %+v, want the groups web-rev2 and web", err, v)
	}
	r.until("shift", func() error { return r.p.ShiftTraffic(r.ctx, d2, 20) })
	stable, canary := 0, 0
	for range 12 {
		r.env.Emu.Advance(5 * time.Second)
		res, err := r.env.Emu.SendTraffic(r.listener, 50)
		if err != nil {
			t.Fatal(err)
		}
		s := res.ByTargetGroup[tr.StableTargetGroupArn]
		stable += s.Target5xx + s.ELB5xx
		canary += res.ByTargetGroup[tr.CanaryTargetGroupArn].Requests
	}
	cfg := aws.Config{Region: r.env.Region, BaseEndpoint: aws.String(r.env.URL), Retryer: awsemutest.Retryer(3),
		Credentials: credentials.NewStaticCredentialsProvider(r.env.AccessKey, r.env.SecretKey, "")}
	cs := checks.New(checks.Options{Clock: r.env.Emu, AWS: func(context.Context, string, string) (aws.Config, error) { return cfg, nil }})
	m, err := cs.Measure(r.ctx, canary5xx(dimension(r.lb, ":loadbalancer/"), dimension(tr.CanaryTargetGroupArn, ":")),
		reconcile.CheckInput{Account: "main", Region: r.env.Region})
	if err != nil {
		t.Fatal(err)
	}
	if m.Passed || m.NoData || m.Value < 20 {
		t.Fatalf("analysis of the erroring canary: %+v", m)
	}
	r.until("rollback", func() error { return r.p.Rollback(r.ctx, d2) })
	r.advance(time.Minute)
	w, _ := albtraffic.Read(r.ctx, r.p.c.ELB, tr)
	if r.live("web-rev2") != nil || w[tr.StableTargetGroupArn] != 100 {
		t.Errorf("after rollback: canary group %v, weights %v", r.live("web-rev2") != nil, w)
	}
	if canary == 0 || stable != 0 {
		t.Errorf("the canary served %d requests; the stable target group answered %d with a 5xx, want 0", canary, stable)
	}
}

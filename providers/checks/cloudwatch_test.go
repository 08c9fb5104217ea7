package checks

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/jibe-dev/jibe/internal/awsemu"
	"github.com/jibe-dev/jibe/internal/awsemu/awsemutest"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

const (
	albNamespace = "Jibe/ApplicationELB" // AWS/ namespaces are reserved for AWS
	loadBalancer = "app/web/50dc6c495c0c9188"
	canaryTG     = "targetgroup/web-canary/73e2d6bc24d8a067"
	stableTG     = "targetgroup/web-stable/943f017f100becff"
)

// awsConfigs returns the AWS configuration the agent would inject, built
// from explicit options pointing at the emulator.
func awsConfigs(env *awsemutest.Env) func(ctx context.Context, account, region string) (aws.Config, error) {
	return func(ctx context.Context, account, region string) (aws.Config, error) {
		return aws.Config{Region: region, BaseEndpoint: aws.String(env.URL), Retryer: awsemutest.Retryer(1),
			Credentials: credentials.NewStaticCredentialsProvider(env.AccessKey, env.SecretKey, "")}, nil
	}
}

// withDefaults returns c with the defaults applied at load.
func withDefaults(c spec.Check) *spec.Check {
	app := &spec.Application{Spec: spec.ApplicationSpec{Environments: []spec.Environment{{Verify: []spec.Check{c}}}}}
	spec.SetDefaults(app)
	return &app.Spec.Environments[0].Verify[0]
}

func ptr[T any](v T) *T { return &v }

func isStalled(err error) bool {
	var se *reconcile.StalledError
	return errors.As(err, &se)
}

// publishALB puts ALB-like metrics of a target group every 10s over the
// 5 minutes before the emulator's now + 5m, then moves time there.
type albTraffic struct {
	targetGroup      string
	requests, errors float64 // per 10s
	latency          float64
}

func publishALB(t *testing.T, env *awsemutest.Env, traffic ...albTraffic) {
	t.Helper()
	t0 := env.Emu.Now()
	var data []cwtypes.MetricDatum
	for _, tr := range traffic {
		dims := []cwtypes.Dimension{{Name: aws.String("LoadBalancer"), Value: aws.String(loadBalancer)}, {Name: aws.String("TargetGroup"), Value: aws.String(tr.targetGroup)}}
		datum := func(name string, at time.Time, v float64) cwtypes.MetricDatum {
			return cwtypes.MetricDatum{MetricName: aws.String(name), Dimensions: dims, Timestamp: aws.Time(at), Value: aws.Float64(v)}
		}
		for i := 0; i < 30; i++ {
			at := t0.Add(5*time.Second + time.Duration(i)*10*time.Second)
			data = append(data, datum("RequestCount", at, tr.requests), datum("TargetResponseTime", at, tr.latency))
			if tr.errors > 0 { // like ALB, no 5xx datapoints without 5xx
				data = append(data, datum("HTTPCode_Target_5XX_Count", at, tr.errors))
			}
		}
	}
	for len(data) > 0 {
		n := min(len(data), 500)
		if _, err := env.CloudWatch().PutMetricData(context.Background(), &cloudwatch.PutMetricDataInput{Namespace: aws.String(albNamespace), MetricData: data[:n]}); err != nil {
			t.Fatal(err)
		}
		data = data[n:]
	}
	env.Emu.Advance(5 * time.Minute)
}

func albMetric(name, stat, targetGroup string) spec.Metric {
	return spec.Metric{Namespace: albNamespace, Name: name, Statistic: stat,
		Dimensions: map[string]string{"LoadBalancer": loadBalancer, "TargetGroup": targetGroup}}
}

func newCloudWatchEnv(t *testing.T) (*awsemutest.Env, *Checks, reconcile.CheckInput) {
	env := awsemutest.Start(t, awsemu.Options{})
	cs := New(Options{AWS: awsConfigs(env), Clock: env.Emu})
	in := reconcile.CheckInput{Account: "prod", Region: env.Region, Vars: map[string]string{"rollout.targetGroup": canaryTG}}
	return env, cs, in
}

func TestCloudWatchSingleMetric(t *testing.T) {
	env, cs, in := newCloudWatchEnv(t)
	publishALB(t, env, albTraffic{targetGroup: canaryTG, requests: 8, latency: 0.2})

	tests := []struct {
		name      string
		metric    spec.Metric
		threshold spec.Threshold
		passed    bool
		noData    bool
		value     float64
		detail    string
	}{
		{"within", albMetric("TargetResponseTime", "Average", "${rollout.targetGroup}"), spec.Threshold{Max: ptr(0.5)}, true, false, 0.2,
			"Average of Jibe/ApplicationELB TargetResponseTime{LoadBalancer=" + loadBalancer + ", TargetGroup=" + canaryTG + "} = 0.2 over 5m, within max 0.5"},
		{"above max", albMetric("TargetResponseTime", "p99", canaryTG), spec.Threshold{Max: ptr(0.1)}, false, false, 0.2, "= 0.2 over 5m, above max 0.1"},
		{"below min", albMetric("RequestCount", "Sum", canaryTG), spec.Threshold{Min: ptr(1000.0)}, false, false, 240, "RequestCount{LoadBalancer=" + loadBalancer + ", TargetGroup=" + canaryTG + "} = 240 over 5m, below min 1000"},
		{"bounds inclusive", albMetric("RequestCount", "Sum", canaryTG), spec.Threshold{Min: ptr(240.0), Max: ptr(240.0)}, true, false, 240, "= 240 over 5m, within [240, 240]"},
		{"no data", albMetric("RequestCount", "Sum", stableTG), spec.Threshold{Min: ptr(1.0)}, false, true, 0,
			"no datapoints for Sum of Jibe/ApplicationELB RequestCount{LoadBalancer=" + loadBalancer + ", TargetGroup=" + stableTG + "} in the last 5m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := withDefaults(spec.Check{CloudWatch: &spec.CloudWatchCheck{Metric: &tt.metric, Threshold: tt.threshold}})
			m, err := cs.Measure(context.Background(), c, in)
			if err != nil {
				t.Fatal(err)
			}
			if m.Passed != tt.passed || m.NoData != tt.noData || math.Abs(m.Value-tt.value) > 1e-9 || !strings.Contains(m.Detail, tt.detail) {
				t.Errorf("measurement %+v, want passed=%v noData=%v value=%g detail %q", m, tt.passed, tt.noData, tt.value, tt.detail)
			}
			if !tt.noData && (len(m.Datapoints) != 1 || !m.Datapoints[0].At.Equal(env.Emu.Now().Add(-5*time.Minute))) {
				t.Errorf("datapoints %+v, want one for the whole window", m.Datapoints)
			}
		})
	}
}

func TestCloudWatchMetricMathErrorRate(t *testing.T) {
	env, cs, in := newCloudWatchEnv(t)
	publishALB(t, env,
		albTraffic{targetGroup: canaryTG, requests: 8, errors: 1},
		albTraffic{targetGroup: stableTG, requests: 100})
	rate := func(expr, targetGroup string, max float64) *spec.Check {
		return withDefaults(spec.Check{Name: "5xx rate", CloudWatch: &spec.CloudWatchCheck{
			Expression: expr, Threshold: spec.Threshold{Max: &max},
			Metrics: map[string]spec.Metric{
				"errors":   albMetric("HTTPCode_Target_5XX_Count", "Sum", targetGroup),
				"requests": albMetric("RequestCount", "Sum", targetGroup),
			}}})
	}
	tests := []struct {
		name   string
		check  *spec.Check
		passed bool
		noData bool
		detail string
	}{
		{"canary fails", rate("100 * errors / requests", "${rollout.targetGroup}", 1), false, false, "100 * errors / requests = 12.5 over 5m, above max 1"},
		{"canary within a looser bound", rate("100 * errors / requests", canaryTG, 15), true, false, "100 * errors / requests = 12.5 over 5m, within max 15"},
		// Without 5xx there are no 5xx datapoints: the rate has no data
		// unless FILL supplies zeros.
		{"stable without errors has no data", rate("100 * errors / requests", stableTG, 1), false, true, "no datapoints for 100 * errors / requests in the last 5m"},
		{"stable with FILL passes", rate("100 * FILL(errors, 0) / requests", stableTG, 1), true, false, "100 * FILL(errors, 0) / requests = 0 over 5m, within max 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := cs.Measure(context.Background(), tt.check, in)
			if err != nil {
				t.Fatal(err)
			}
			if m.Passed != tt.passed || m.NoData != tt.noData || m.Detail != tt.detail {
				t.Errorf("measurement %+v, want passed=%v noData=%v detail %q", m, tt.passed, tt.noData, tt.detail)
			}
		})
	}
}

func TestCloudWatchErrorsCarryTheRetryPolicy(t *testing.T) {
	env, cs, in := newCloudWatchEnv(t)
	bad := withDefaults(spec.Check{CloudWatch: &spec.CloudWatchCheck{Expression: "100 * errors /", Threshold: spec.Threshold{Max: ptr(1.0)},
		Metrics: map[string]spec.Metric{"errors": albMetric("HTTPCode_Target_5XX_Count", "Sum", canaryTG)}}})
	_, err := cs.Measure(context.Background(), bad, in)
	if !isStalled(err) || !strings.Contains(err.Error(), "Error in expression") {
		t.Errorf("invalid expression: %v, want a stalled error quoting CloudWatch", err)
	}

	env.Emu.Inject(awsemu.Fault{Service: "monitoring", Operation: "GetMetricData", Kind: awsemu.Throttle, Count: 1})
	good := withDefaults(spec.Check{CloudWatch: &spec.CloudWatchCheck{Metric: ptr(albMetric("RequestCount", "Sum", canaryTG)), Threshold: spec.Threshold{Min: ptr(1.0)}}})
	_, err = cs.Measure(context.Background(), good, in)
	if err == nil || isStalled(err) {
		t.Errorf("throttled: %v, want a retryable error", err)
	}
	if m, err := cs.Measure(context.Background(), good, in); err != nil || !m.NoData {
		t.Errorf("after the throttling: %+v, %v", m, err)
	}
}

// Each measurement pages through GetMetricData results until NextToken
// runs out and keeps only the measured query's datapoints.
func TestMetricQueryFollowsNextToken(t *testing.T) {
	now := time.Date(2026, 1, 1, 1, 0, 0, 0, time.UTC)
	cc := &spec.CloudWatchCheck{Window: &spec.Duration{Duration: 90 * time.Second}, Expression: "a + 1", Threshold: spec.Threshold{Max: ptr(10.0)},
		Metrics: map[string]spec.Metric{"a": {Namespace: "N", Name: "A", Statistic: "Sum"}, "expr": {Namespace: "N", Name: "B", Statistic: "Sum"}}}
	q := newMetricQuery(cc, nil, now)
	if q.id != "expr_1" || len(q.input.MetricDataQueries) != 3 || aws.ToInt32(q.input.MetricDataQueries[0].MetricStat.Period) != 120 ||
		!q.input.StartTime.Equal(now.Add(-90*time.Second)) || !q.input.EndTime.Equal(now) {
		t.Fatalf("query %+v", q)
	}
	pages := &pagedMetrics{pages: []cloudwatch.GetMetricDataOutput{
		{NextToken: aws.String("2"), MetricDataResults: []cwtypes.MetricDataResult{{Id: aws.String("expr_1"), Timestamps: []time.Time{now.Add(-time.Minute)}, Values: []float64{3}}}},
		{MetricDataResults: []cwtypes.MetricDataResult{{Id: aws.String("expr_1"), Timestamps: []time.Time{now.Add(-2 * time.Minute)}, Values: []float64{2}}, {Id: aws.String("a"), Timestamps: []time.Time{now}, Values: []float64{99}}}},
	}}
	points, err := q.fetch(context.Background(), pages)
	if err != nil || len(points) != 2 || points[1].Value != 3 || pages.calls != 2 {
		t.Fatalf("points %+v, err %v after %d calls", points, err, pages.calls)
	}
	if m := q.judge(points, cc.Threshold); !m.Passed || m.Value != 3 || m.Detail != "a + 1 = 3 over 1m30s, within max 10" {
		t.Errorf("measurement %+v", m)
	}
}

// pagedMetrics answers GetMetricData with fixed pages.
type pagedMetrics struct {
	pages []cloudwatch.GetMetricDataOutput
	calls int
}

func (p *pagedMetrics) GetMetricData(_ context.Context, in *cloudwatch.GetMetricDataInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error) {
	want := ""
	if p.calls > 0 {
		want = "2"
	}
	if aws.ToString(in.NextToken) != want {
		return nil, errors.New("unexpected NextToken " + aws.ToString(in.NextToken))
	}
	out := p.pages[p.calls]
	p.calls++
	return &out, nil
}

// A role that may not read metrics or alarms stalls the check with the
// permission to grant: retrying cannot fix it.
func TestCloudWatchAccessDeniedStalls(t *testing.T) {
	env, cs, in := newCloudWatchEnv(t)
	metric := withDefaults(spec.Check{CloudWatch: &spec.CloudWatchCheck{Metric: ptr(albMetric("RequestCount", "Sum", canaryTG)), Threshold: spec.Threshold{Min: ptr(1.0)}}})
	alarm := withDefaults(spec.Check{Alarm: &spec.AlarmCheck{Names: []string{"web-5xx"}}})
	for _, tt := range []struct {
		name, op, perm string
		check          *spec.Check
	}{
		{"metric", "GetMetricData", "cloudwatch:GetMetricData", metric},
		{"alarm", "DescribeAlarms", "cloudwatch:DescribeAlarms", alarm},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env.Emu.Inject(awsemu.Fault{Service: "monitoring", Operation: tt.op, Kind: awsemu.Deny, Count: 1})
			_, err := cs.Measure(context.Background(), tt.check, in)
			if !isStalled(err) || !strings.Contains(err.Error(), "grant it "+tt.perm) {
				t.Errorf("access denied: %v, want a stalled error naming %s", err, tt.perm)
			}
		})
	}
}

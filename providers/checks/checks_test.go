package checks

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/internal/awsemu"
	"github.com/jibe-dev/jibe/internal/awsemu/awsemutest"
	"github.com/jibe-dev/jibe/internal/promemu"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

func TestChecksDispatchByKind(t *testing.T) {
	ctx := context.Background()
	env := awsemutest.Start(t, awsemu.Options{})
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer web.Close()
	prom := promemu.New()
	promSrv := httptest.NewServer(prom)
	defer promSrv.Close()
	prom.Set("sum(up)", promemu.Scalar(2))
	var configs atomic.Int32
	awsFor := awsConfigs(env)
	cs := New(Options{
		Prometheus: []config.PrometheusServer{{Name: "main", URL: promSrv.URL}},
		Clock:      env.Emu,
		AWS: func(ctx context.Context, account, region string) (aws.Config, error) {
			configs.Add(1)
			return awsFor(ctx, account, region)
		},
	})
	placed := reconcile.CheckInput{Account: "prod", Region: env.Region}
	cloudWatch := withDefaults(spec.Check{CloudWatch: &spec.CloudWatchCheck{Metric: ptr(albMetric("RequestCount", "Sum", canaryTG)), Threshold: spec.Threshold{Min: ptr(1.0)}}})
	alarm := withDefaults(spec.Check{Alarm: &spec.AlarmCheck{Names: []string{"web-5xx"}}})

	tests := []struct {
		name   string
		check  *spec.Check
		in     reconcile.CheckInput
		detail string
	}{
		{"http", withDefaults(spec.Check{HTTP: &spec.HTTPCheck{URL: web.URL}}), reconcile.CheckInput{}, "status 200"},
		{"prometheus", withDefaults(spec.Check{Prometheus: &spec.PrometheusCheck{Server: "main", Query: "sum(up)", Threshold: spec.Threshold{Min: ptr(1.0)}}}), reconcile.CheckInput{}, "sum(up) = 2, within min 1"},
		{"cloudwatch", cloudWatch, placed, "no datapoints for Sum of Jibe/ApplicationELB RequestCount"},
		{"cloudwatch again", cloudWatch, placed, "no datapoints for Sum of Jibe/ApplicationELB RequestCount"},
		{"alarm", alarm, placed, "alarm web-5xx does not exist in prod us-east-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := cs.Measure(ctx, tt.check, tt.in)
			if err != nil || !strings.Contains(m.Detail, tt.detail) {
				t.Errorf("measurement %+v, %v, want %q", m, err, tt.detail)
			}
		})
	}
	if n := configs.Load(); n != 1 {
		t.Errorf("AWS configuration resolved %d times, want once per account and region", n)
	}
	if calls := len(env.Emu.Requests()); calls != 3 {
		t.Errorf("%d CloudWatch calls, want 3", calls)
	}
}

func TestChecksRefuseWhatTheyCannotMeasure(t *testing.T) {
	withAWS := New(Options{AWS: func(context.Context, string, string) (aws.Config, error) {
		t.Error("no AWS configuration should be resolved")
		return aws.Config{}, nil
	}})
	cloudWatch := withDefaults(spec.Check{Name: "5xx", CloudWatch: &spec.CloudWatchCheck{Metric: ptr(albMetric("RequestCount", "Sum", canaryTG)), Threshold: spec.Threshold{Min: ptr(1.0)}}})
	alarm := withDefaults(spec.Check{Name: "alarms", Alarm: &spec.AlarmCheck{Names: []string{"web-5xx"}}})
	both := &spec.Check{Name: "both", HTTP: &spec.HTTPCheck{URL: "http://x"}, Alarm: &spec.AlarmCheck{Names: []string{"a"}}}

	tests := []struct {
		name   string
		cs     *Checks
		check  *spec.Check
		in     reconcile.CheckInput
		reason string
	}{
		{"cloudwatch outside AWS", withAWS, cloudWatch, reconcile.CheckInput{Cluster: "kind"}, "give the environment an aws placement"},
		{"alarm outside AWS", withAWS, alarm, reconcile.CheckInput{}, "give the environment an aws placement"},
		{"no AWS accounts", New(Options{}), alarm, reconcile.CheckInput{Account: "prod", Region: "us-east-1"}, "no AWS accounts"},
		{"two kinds", withAWS, both, reconcile.CheckInput{}, "must set exactly one of"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.cs.Measure(context.Background(), tt.check, tt.in)
			if !isStalled(err) || !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("error %v, want stalled with %q", err, tt.reason)
			}
		})
	}
}

func TestShortDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{5 * time.Minute: "5m", time.Hour: "1h", 90 * time.Second: "1m30s", 30 * time.Second: "30s", 90 * time.Minute: "1h30m"} {
		if got := shortDuration(d); got != want {
			t.Errorf("shortDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

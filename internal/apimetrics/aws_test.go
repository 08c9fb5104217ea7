package apimetrics_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/jibe-dev/jibe/internal/apimetrics"
	"github.com/jibe-dev/jibe/internal/awsemu"
	"github.com/jibe-dev/jibe/internal/awsemu/awsemutest"
)

// Every call of a client built from a configuration with AWSCalls is
// counted once, by account, region, service, operation and outcome: the
// error code when the service answered one.
func TestAWSCallsAreCounted(t *testing.T) {
	env := awsemutest.Start(t, awsemu.Options{})
	cfg := aws.Config{Region: env.Region, BaseEndpoint: aws.String(env.URL),
		Credentials: credentials.NewStaticCredentialsProvider(env.AccessKey, env.SecretKey, ""), Retryer: awsemutest.Retryer(1)}
	cfg.APIOptions = append(cfg.APIOptions, apimetrics.AWSCalls("counted", env.Region))
	ctx := context.Background()
	for range 2 {
		if _, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ecs.NewFromConfig(cfg).DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("nope"), Services: []string{"web"}}); err == nil {
		t.Fatal("DescribeServices of a missing cluster succeeded")
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(apimetrics.Collectors()...)
	got := counts(t, reg, "jibe_aws_api_calls_total", "account", "counted")
	want := map[string]float64{
		"DescribeServices ClusterNotFoundException REGION ECS": 1,
		"GetCallerIdentity ok REGION STS":                      2,
	}
	for k, v := range want {
		k = strings.ReplaceAll(k, "REGION", env.Region)
		if got[k] != v {
			t.Errorf("%s = %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("counted %v, want %v", got, want)
	}
}

// counts gathers the counter name from reg, keeping the series whose label
// key is value, by their other label values (in name order) joined by
// spaces (Prometheus orders labels by name).
func counts(t *testing.T, reg *prometheus.Registry, name, key, value string) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			var others []string
			keep := false
			for _, l := range m.GetLabel() {
				if l.GetName() == key {
					keep = l.GetValue() == value
					continue
				}
				others = append(others, l.GetValue())
			}
			if keep {
				out[strings.Join(others, " ")] = m.GetCounter().GetValue()
			}
		}
	}
	return out
}

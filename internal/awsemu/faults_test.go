package awsemu_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/jibe-dev/jibe/internal/awsemu"
	"github.com/jibe-dev/jibe/internal/awsemu/awsemutest"
)

func TestThrottlingUsesEachServicesErrorAndStatus(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	once := awsemutest.Retryer(1)()
	for _, tc := range []struct {
		service, op, code string
		status            int
		call              func() error
	}{
		{"ecs", "ListClusters", "ThrottlingException", 400, func() error {
			_, err := env.ECS(func(o *ecs.Options) { o.Retryer = once }).ListClusters(ctx, &ecs.ListClustersInput{})
			return err
		}},
		{"elasticloadbalancing", "DescribeLoadBalancers", "Throttling", 400, func() error {
			_, err := env.ELBv2(func(o *elbv2.Options) { o.Retryer = once }).DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{})
			return err
		}},
		{"monitoring", "DescribeAlarms", "Throttling", 400, func() error {
			_, err := env.CloudWatch(func(o *cloudwatch.Options) { o.Retryer = once }).DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{})
			return err
		}},
		{"sts", "GetCallerIdentity", "Throttling", 400, func() error {
			_, err := env.STS(func(o *sts.Options) { o.Retryer = once }).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			return err
		}},
	} {
		env.Emu.Inject(awsemu.Fault{Service: tc.service, Operation: tc.op, Kind: awsemu.Throttle, Count: 1})
		err := tc.call()
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != tc.code {
			t.Errorf("%s: got %v, want %s", tc.service, err, tc.code)
		}
		reqs := env.Emu.Requests()
		if got := reqs[len(reqs)-1]; got.Status != tc.status || got.Operation != tc.op {
			t.Errorf("%s: recorded %+v", tc.service, got)
		}
		if err := tc.call(); err != nil {
			t.Errorf("%s: fault with Count 1 still active: %v", tc.service, err)
		}
	}
}

func TestLatencyFaultDelaysTheResponse(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	env.Emu.Inject(awsemu.Fault{Service: "ecs", Kind: awsemu.Latency, Delay: 50 * time.Millisecond, Count: 1})
	began := time.Now()
	need(env.ECS().ListClusters(ctx, &ecs.ListClustersInput{})).on(t)
	if took := time.Since(began); took < 50*time.Millisecond {
		t.Errorf("call took %v, want at least the injected 50ms", took)
	}
	canceled, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	env.Emu.Inject(awsemu.Fault{Service: "ecs", Kind: awsemu.Latency, Delay: time.Minute, Count: 1})
	if _, err := env.ECS().ListClusters(canceled, &ecs.ListClustersInput{}); err == nil {
		t.Error("a client timeout shorter than the injected latency did not fail")
	}
}

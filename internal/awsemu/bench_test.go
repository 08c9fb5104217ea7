package awsemu_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/jibe-dev/jibe/internal/awsemu"
	"github.com/jibe-dev/jibe/internal/awsemu/awsemutest"
)

// BenchmarkServe measures requests served per second through the real SDK
// clients over loopback HTTP: a DescribeServices (awsJson1.1) and a
// DescribeTargetHealth (awsQuery) per iteration, i.e. two requests.
func BenchmarkServe(b *testing.B) {
	ctx := context.Background()
	env := awsemutest.Start(b, awsemu.Options{})
	c, elb := env.ECS(), env.ELBv2()
	if _, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("bench")}); err != nil {
		b.Fatal(err)
	}
	tg, err := elb.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("bench"), Protocol: "HTTP", Port: aws.Int32(80), VpcId: aws.String("vpc-1")})
	if err != nil {
		b.Fatal(err)
	}
	arn := tg.TargetGroups[0].TargetGroupArn
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{"bench"}}); err != nil {
			b.Fatal(err)
		}
		if _, err := elb.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: arn}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(2*b.N)/b.Elapsed().Seconds(), "req/s")
}

// inProcess is an SDK HTTP client that calls the emulator's handler
// directly, without sockets.
type inProcess struct{ h http.Handler }

// Do serves req in-process.
func (p inProcess) Do(req *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	p.h.ServeHTTP(rec, req)
	return rec.Result(), nil
}

// BenchmarkServeInProcess is BenchmarkServe without the loopback TCP
// connection: the SDK's serialization plus the emulator's handling.
func BenchmarkServeInProcess(b *testing.B) {
	ctx := context.Background()
	emu := awsemu.New(awsemu.Options{Accounts: map[string]string{awsemutest.AccessKey: awsemutest.Account}})
	env := &awsemutest.Env{Emu: emu, URL: "http://emulator.invalid", Region: awsemutest.Region, AccessKey: awsemutest.AccessKey, SecretKey: "s"}
	c := env.ECS(func(o *ecs.Options) { o.HTTPClient = inProcess{emu} })
	elb := env.ELBv2(func(o *elbv2.Options) { o.HTTPClient = inProcess{emu} })
	if _, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("bench")}); err != nil {
		b.Fatal(err)
	}
	tg, err := elb.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("bench"), Protocol: "HTTP", Port: aws.Int32(80), VpcId: aws.String("vpc-1")})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{"bench"}}); err != nil {
			b.Fatal(err)
		}
		if _, err := elb.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: tg.TargetGroups[0].TargetGroupArn}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(2*b.N)/b.Elapsed().Seconds(), "req/s")
}

package awsemu_test

import (
	"context"
	"errors"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/jibe-dev/jibe/internal/awsemu"
	"github.com/jibe-dev/jibe/internal/awsemu/awsemutest"
	"github.com/jibe-dev/jibe/internal/awsemu/clock"
)

func TestListenAndServeStopsWithContext(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- awsemu.ListenAndServe(ctx, addr, awsemu.Options{}) }()
	env := &awsemutest.Env{URL: "http://" + addr, Region: "us-east-1", AccessKey: "AKID", SecretKey: "s"}
	c := env.ECS()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := c.ListClusters(ctx, &ecs.ListClustersInput{})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("emulator never answered: %v", err)
		}
		runtime.Gosched()
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("ListenAndServe returned %v, want context.Canceled", err)
	}
}

func TestRealTimeModeRunsTransitionsLazily(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewScaled(clock.Epoch, 1)
	env := awsemutest.Start(t, awsemu.Options{Clock: clk})
	c := env.ECS()
	need(c.CreateCluster(ctx, &ecs.CreateClusterInput{})).on(t)
	registerApp(t, ctx, c, "app:v1")
	need(c.CreateService(ctx, &ecs.CreateServiceInput{NetworkConfiguration: awsvpc(), LaunchType: ecstypes.LaunchTypeFargate, ServiceName: aws.String("app"), TaskDefinition: aws.String("app"), DesiredCount: aws.Int32(1)})).on(t)
	// Jumping the real-time clock forward is applied on the next read.
	clk.Advance(time.Minute)
	if s := describeService(t, ctx, c, "default", "app"); s.RunningCount != 1 {
		t.Errorf("running %d after a minute of emulated time, want 1", s.RunningCount)
	}
}

func TestSpeedOptionRunsARealTimeClock(t *testing.T) {
	emu := awsemu.New(awsemu.Options{Speed: 1000})
	before := emu.Now()
	deadline := time.Now().Add(5 * time.Second)
	for !emu.Now().After(before.Add(time.Second)) {
		if time.Now().After(deadline) {
			t.Fatal("emulated time did not move at 1000x")
		}
		runtime.Gosched()
	}
	if time.Since(before) > time.Hour {
		t.Errorf("real-time clock started at %v, not now", before)
	}
}

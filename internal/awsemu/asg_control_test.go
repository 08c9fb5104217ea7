package awsemu_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/jibe-dev/jibe/internal/awsemu"
)

// An AMI marked broken through the control endpoint of `jibe emulator
// aws` launches instances that fail their health checks.
func TestControlEndpointBreaksAnAMI(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	env.AddImages(t, "ami-00000bad")
	resp, err := http.Post(env.URL+awsemu.ControlPrefix+"image/behavior", "application/json", strings.NewReader(`{"image": "ami-00000bad", "broken": true}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("control endpoint: %s", resp.Status)
	}
	lt := need(env.EC2().CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("bad"),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String("ami-00000bad")}})).on(t).LaunchTemplate
	as := env.AutoScaling()
	need(as.CreateAutoScalingGroup(ctx, &autoscaling.CreateAutoScalingGroupInput{AutoScalingGroupName: aws.String("bad"), MinSize: aws.Int32(1), MaxSize: aws.Int32(1),
		LaunchTemplate: &astypes.LaunchTemplateSpecification{LaunchTemplateId: lt.LaunchTemplateId, Version: aws.String("1")}, HealthCheckGracePeriod: aws.Int32(30)})).on(t)
	unhealthy := false
	for i := 0; i < 12 && !unhealthy; i++ {
		env.Emu.Advance(10 * time.Second)
		for _, in := range need(as.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{})).on(t).AutoScalingGroups[0].Instances {
			unhealthy = unhealthy || aws.ToString(in.HealthStatus) == "Unhealthy"
		}
	}
	if !unhealthy {
		t.Error("no instance of the AMI marked broken failed its health checks")
	}
}

package awsemu_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// TestInstanceRefreshWaitsAtCheckpoints: with CheckpointPercentages
// [50, 100] and a 10-minute CheckpointDelay, a refresh of 4 instances
// replaces 2, waits 10 minutes saying so in its StatusReason (replacing
// nothing), then finishes; a delay without percentages is refused.
func TestInstanceRefreshWaitsAtCheckpoints(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	env.AddImages(t, "ami-00000001", "ami-00000002")
	ec, as := env.EC2(), env.AutoScaling()
	lt := need(ec.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("web"),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String("ami-00000001")}})).on(t).LaunchTemplate
	need(as.CreateAutoScalingGroup(ctx, &autoscaling.CreateAutoScalingGroupInput{AutoScalingGroupName: aws.String("web"), MinSize: aws.Int32(4), MaxSize: aws.Int32(4),
		LaunchTemplate: &astypes.LaunchTemplateSpecification{LaunchTemplateId: lt.LaunchTemplateId, Version: aws.String("1")}})).on(t)
	env.Emu.Advance(time.Minute)
	need(ec.CreateLaunchTemplateVersion(ctx, &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateId: lt.LaunchTemplateId,
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String("ami-00000002")}})).on(t)
	desired := &astypes.DesiredConfiguration{LaunchTemplate: &astypes.LaunchTemplateSpecification{LaunchTemplateId: lt.LaunchTemplateId, Version: aws.String("2")}}
	if _, err := as.StartInstanceRefresh(ctx, &autoscaling.StartInstanceRefreshInput{AutoScalingGroupName: aws.String("web"), DesiredConfiguration: desired,
		Preferences: &astypes.RefreshPreferences{CheckpointDelay: aws.Int32(600)}}); apiCode(err) != "ValidationError" {
		t.Errorf("a delay without percentages: %v", err)
	}
	need(as.StartInstanceRefresh(ctx, &autoscaling.StartInstanceRefreshInput{AutoScalingGroupName: aws.String("web"), DesiredConfiguration: desired,
		Preferences: &astypes.RefreshPreferences{MinHealthyPercentage: aws.Int32(50), SkipMatching: aws.Bool(true),
			CheckpointPercentages: []int32{50, 100}, CheckpointDelay: aws.Int32(600)}})).on(t)
	refresh := func() astypes.InstanceRefresh {
		return need(as.DescribeInstanceRefreshes(ctx, &autoscaling.DescribeInstanceRefreshesInput{AutoScalingGroupName: aws.String("web")})).on(t).InstanceRefreshes[0]
	}
	onV2 := func() int {
		n := 0
		for _, in := range describeGroup(t, as, "web").Instances {
			if aws.ToString(in.LaunchTemplate.Version) == "2" {
				n++
			}
		}
		return n
	}
	for range 60 {
		if strings.HasPrefix(aws.ToString(refresh().StatusReason), "Waiting at checkpoint 1 of 2") {
			break
		}
		env.Emu.Advance(5 * time.Second)
	}
	ref := refresh()
	if !strings.HasPrefix(aws.ToString(ref.StatusReason), "Waiting at checkpoint 1 of 2") || ref.Status != astypes.InstanceRefreshStatusInProgress ||
		aws.ToInt32(ref.PercentageComplete) != 50 || onV2() != 2 || len(ref.Preferences.CheckpointPercentages) != 2 {
		t.Fatalf("at the checkpoint: %s %q %d%%, %d instances on v2", ref.Status, aws.ToString(ref.StatusReason), aws.ToInt32(ref.PercentageComplete), onV2())
	}
	env.Emu.Advance(9 * time.Minute)
	if n := onV2(); n != 2 || refresh().Status != astypes.InstanceRefreshStatusInProgress {
		t.Errorf("during the checkpoint delay: %d instances on v2, refresh %s", n, refresh().Status)
	}
	env.Emu.Advance(5 * time.Minute)
	if ref := refresh(); ref.Status != astypes.InstanceRefreshStatusSuccessful || onV2() != 4 {
		t.Errorf("after the delay: %s %q, %d instances on v2", ref.Status, aws.ToString(ref.StatusReason), onV2())
	}
}

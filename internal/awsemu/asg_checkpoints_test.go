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

// TestCancelledRefreshKeepsTheGroupsTemplate: as on AWS, a CheckpointDelay
// above two days is refused, and a refresh cancelled at a checkpoint
// leaves the instances it replaced but never applies its desired
// configuration: the group launches its previous version again, so a
// refresh started next to the same version can be rolled back to it.
func TestCancelledRefreshKeepsTheGroupsTemplate(t *testing.T) {
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
	start := func(cps ...int32) error {
		_, err := as.StartInstanceRefresh(ctx, &autoscaling.StartInstanceRefreshInput{AutoScalingGroupName: aws.String("web"), DesiredConfiguration: desired,
			Preferences: &astypes.RefreshPreferences{MinHealthyPercentage: aws.Int32(50), SkipMatching: aws.Bool(true), CheckpointPercentages: cps, CheckpointDelay: aws.Int32(172800)}})
		return err
	}
	if _, err := as.StartInstanceRefresh(ctx, &autoscaling.StartInstanceRefreshInput{AutoScalingGroupName: aws.String("web"), DesiredConfiguration: desired,
		Preferences: &astypes.RefreshPreferences{CheckpointPercentages: []int32{50, 100}, CheckpointDelay: aws.Int32(172801)}}); apiCode(err) != "ValidationError" {
		t.Errorf("a delay above two days: %v", err)
	}
	if err := start(25, 100); err != nil {
		t.Fatal(err)
	}
	refresh := func() astypes.InstanceRefresh {
		return need(as.DescribeInstanceRefreshes(ctx, &autoscaling.DescribeInstanceRefreshesInput{AutoScalingGroupName: aws.String("web")})).on(t).InstanceRefreshes[0]
	}
	for range 60 {
		if aws.ToInt32(refresh().PercentageComplete) >= 25 {
			break
		}
		env.Emu.Advance(5 * time.Second)
	}
	need(as.CancelInstanceRefresh(ctx, &autoscaling.CancelInstanceRefreshInput{AutoScalingGroupName: aws.String("web")})).on(t)
	if v := aws.ToString(describeGroup(t, as, "web").LaunchTemplate.Version); v != "1" {
		t.Errorf("after cancelling, the group launches version %s, want 1", v)
	}
	if err := start(50, 100); err != nil {
		t.Fatal(err)
	}
	need(as.RollbackInstanceRefresh(ctx, &autoscaling.RollbackInstanceRefreshInput{AutoScalingGroupName: aws.String("web")})).on(t)
	for range 120 {
		if refresh().Status == astypes.InstanceRefreshStatusRollbackSuccessful {
			break
		}
		env.Emu.Advance(5 * time.Second)
	}
	g := describeGroup(t, as, "web")
	for _, in := range g.Instances {
		if aws.ToString(in.LaunchTemplate.Version) != "1" {
			t.Errorf("after the rollback instance %s runs version %s", aws.ToString(in.InstanceId), aws.ToString(in.LaunchTemplate.Version))
		}
	}
	if ref := refresh(); ref.Status != astypes.InstanceRefreshStatusRollbackSuccessful || aws.ToString(g.LaunchTemplate.Version) != "1" {
		t.Errorf("rollback: %s, group on version %s", ref.Status, aws.ToString(g.LaunchTemplate.Version))
	}
}

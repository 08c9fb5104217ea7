package awsemu_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// TestAutoScalingLifecycleHooksScheduledActionsAndTerminationPolicies: a
// group created with a launching hook holds its instances in
// Pending:Wait until CompleteLifecycleAction (CONTINUE) or the heartbeat
// timeout (ABANDON terminates); scheduled actions and termination
// policies round-trip; template block devices too.
func TestAutoScalingLifecycleHooksScheduledActionsAndTerminationPolicies(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	env.AddImages(t, "ami-00000001")
	ec, as := env.EC2(), env.AutoScaling()
	need(ec.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("web"), LaunchTemplateData: &ec2types.RequestLaunchTemplateData{
		ImageId: aws.String("ami-00000001"), BlockDeviceMappings: []ec2types.LaunchTemplateBlockDeviceMappingRequest{{DeviceName: aws.String("/dev/xvda"),
			Ebs: &ec2types.LaunchTemplateEbsBlockDeviceRequest{VolumeSize: aws.Int32(20), VolumeType: ec2types.VolumeTypeGp3, Encrypted: aws.Bool(true)}}}}})).on(t)
	v := need(ec.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateName: aws.String("web")})).on(t).LaunchTemplateVersions[0]
	if bd := v.LaunchTemplateData.BlockDeviceMappings; len(bd) != 1 || aws.ToInt32(bd[0].Ebs.VolumeSize) != 20 || bd[0].Ebs.VolumeType != ec2types.VolumeTypeGp3 {
		t.Errorf("block devices %+v", bd)
	}
	need(as.CreateAutoScalingGroup(ctx, &autoscaling.CreateAutoScalingGroupInput{AutoScalingGroupName: aws.String("web"), MinSize: aws.Int32(2), MaxSize: aws.Int32(2),
		LaunchTemplate:      &astypes.LaunchTemplateSpecification{LaunchTemplateName: aws.String("web"), Version: aws.String("1")},
		TerminationPolicies: []string{"OldestLaunchTemplate", "Default"},
		LifecycleHookSpecificationList: []astypes.LifecycleHookSpecification{{LifecycleHookName: aws.String("warm"),
			LifecycleTransition: aws.String("autoscaling:EC2_INSTANCE_LAUNCHING"), HeartbeatTimeout: aws.Int32(300), DefaultResult: aws.String("ABANDON")}}})).on(t)
	env.Emu.Advance(31 * time.Second)
	g := describeGroup(t, as, "web")
	if len(g.Instances) != 2 || g.Instances[0].LifecycleState != astypes.LifecycleStatePendingWait || len(g.TerminationPolicies) != 2 {
		t.Fatalf("instances %+v, termination policies %v", g.Instances, g.TerminationPolicies)
	}
	need(as.CompleteLifecycleAction(ctx, &autoscaling.CompleteLifecycleActionInput{AutoScalingGroupName: aws.String("web"), LifecycleHookName: aws.String("warm"),
		InstanceId: g.Instances[0].InstanceId, LifecycleActionResult: aws.String("CONTINUE")})).on(t)
	env.Emu.Advance(6 * time.Minute)
	g = describeGroup(t, as, "web")
	states := map[astypes.LifecycleState]int{}
	for _, in := range g.Instances {
		states[in.LifecycleState]++
	}
	if states[astypes.LifecycleStateInService] != 1 || states[astypes.LifecycleStatePendingWait] != 1 {
		t.Errorf("after one completion and the timeout (ABANDON, then a replacement waiting): %v", states)
	}
	hooks := need(as.DescribeLifecycleHooks(ctx, &autoscaling.DescribeLifecycleHooksInput{AutoScalingGroupName: aws.String("web")})).on(t).LifecycleHooks
	if len(hooks) != 1 || aws.ToInt32(hooks[0].HeartbeatTimeout) != 300 {
		t.Errorf("hooks %+v", hooks)
	}
	need(as.PutScheduledUpdateGroupAction(ctx, &autoscaling.PutScheduledUpdateGroupActionInput{AutoScalingGroupName: aws.String("web"),
		ScheduledActionName: aws.String("morning"), Recurrence: aws.String("0 8 * * *"), MinSize: aws.Int32(2), TimeZone: aws.String("Europe/Paris")})).on(t)
	acts := need(as.DescribeScheduledActions(ctx, &autoscaling.DescribeScheduledActionsInput{AutoScalingGroupName: aws.String("web")})).on(t).ScheduledUpdateGroupActions
	if len(acts) != 1 || aws.ToString(acts[0].Recurrence) != "0 8 * * *" || aws.ToInt32(acts[0].MinSize) != 2 || acts[0].MaxSize != nil {
		t.Errorf("scheduled actions %+v", acts)
	}
	need(as.DeleteScheduledAction(ctx, &autoscaling.DeleteScheduledActionInput{AutoScalingGroupName: aws.String("web"), ScheduledActionName: aws.String("morning")})).on(t)
	need(as.DeleteLifecycleHook(ctx, &autoscaling.DeleteLifecycleHookInput{AutoScalingGroupName: aws.String("web"), LifecycleHookName: aws.String("warm")})).on(t)
}

func describeGroup(t *testing.T, as *autoscaling.Client, name string) astypes.AutoScalingGroup {
	t.Helper()
	return need(as.DescribeAutoScalingGroups(context.Background(), &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{name}})).on(t).AutoScalingGroups[0]
}

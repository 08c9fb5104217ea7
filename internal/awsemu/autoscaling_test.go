package awsemu_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"
)

func TestEC2LaunchTemplateVersions(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	env.AddImages(t, "ami-00000001", "ami-00000002", "ami-00000bad")
	c := env.EC2()
	lt := need(c.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("web"), VersionDescription: aws.String("first"),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String("ami-00000001"), InstanceType: ec2types.InstanceTypeT3Micro,
			SecurityGroupIds: []string{"sg-1", "sg-2"}, UserData: aws.String("IyEvYmluL3No"),
			IamInstanceProfile: &ec2types.LaunchTemplateIamInstanceProfileSpecificationRequest{Name: aws.String("web")},
			MetadataOptions:    &ec2types.LaunchTemplateInstanceMetadataOptionsRequest{HttpTokens: ec2types.LaunchTemplateHttpTokensStateRequired},
			TagSpecifications: []ec2types.LaunchTemplateTagSpecificationRequest{{ResourceType: ec2types.ResourceTypeInstance,
				Tags: []ec2types.Tag{{Key: aws.String("app"), Value: aws.String("web")}}}}}})).on(t).LaunchTemplate
	if aws.ToInt64(lt.LatestVersionNumber) != 1 || aws.ToInt64(lt.DefaultVersionNumber) != 1 {
		t.Fatalf("template %s", jsonOf(t, lt))
	}
	v2 := need(c.CreateLaunchTemplateVersion(ctx, &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateId: lt.LaunchTemplateId, SourceVersion: aws.String("1"),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String("ami-00000002")}})).on(t).LaunchTemplateVersion
	d := v2.LaunchTemplateData
	if aws.ToInt64(v2.VersionNumber) != 2 || aws.ToString(d.ImageId) != "ami-00000002" || d.InstanceType != ec2types.InstanceTypeT3Micro || len(d.SecurityGroupIds) != 2 ||
		aws.ToString(d.IamInstanceProfile.Name) != "web" || d.MetadataOptions.HttpTokens != ec2types.LaunchTemplateHttpTokensStateRequired ||
		len(d.TagSpecifications) != 1 || aws.ToString(d.TagSpecifications[0].Tags[0].Value) != "web" {
		t.Errorf("version 2 did not inherit version 1: %s", jsonOf(t, v2))
	}
	got := need(c.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateName: aws.String("web"), Versions: []string{"$Latest", "$Default"}})).on(t)
	if len(got.LaunchTemplateVersions) != 2 || aws.ToInt64(got.LaunchTemplateVersions[0].VersionNumber) != 2 || !aws.ToBool(got.LaunchTemplateVersions[1].DefaultVersion) {
		t.Errorf("$Latest/$Default: %s", jsonOf(t, got.LaunchTemplateVersions))
	}
	need(c.ModifyLaunchTemplate(ctx, &ec2.ModifyLaunchTemplateInput{LaunchTemplateId: lt.LaunchTemplateId, DefaultVersion: aws.String("2")})).on(t)
	all := need(c.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{})).on(t).LaunchTemplates
	if len(all) != 1 || aws.ToInt64(all[0].DefaultVersionNumber) != 2 {
		t.Errorf("templates %s", jsonOf(t, all))
	}
	_, err := c.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("web"), LaunchTemplateData: &ec2types.RequestLaunchTemplateData{}})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidLaunchTemplateName.AlreadyExistsException" {
		t.Errorf("duplicate template: got %v", err)
	}
}

func TestAutoScalingGroupConvergesAndRefreshesBehindTargetGroup(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	env.AddImages(t, "ami-00000001", "ami-00000002", "ami-00000bad")
	ec, as, elb := env.EC2(), env.AutoScaling(), env.ELBv2()
	w := newWeb(t, ctx, elb)
	tg := need(elb.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("asg"), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80),
		VpcId: aws.String("vpc-1"), HealthCheckIntervalSeconds: aws.Int32(5), HealthCheckTimeoutSeconds: aws.Int32(2), HealthyThresholdCount: aws.Int32(2)})).on(t).TargetGroups[0].TargetGroupArn
	need(elb.ModifyTargetGroupAttributes(ctx, &elbv2.ModifyTargetGroupAttributesInput{TargetGroupArn: tg,
		Attributes: []elbtypes.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String("10")}}})).on(t)
	need(elb.ModifyListener(ctx, &elbv2.ModifyListenerInput{ListenerArn: aws.String(w.listener), DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: tg}}})).on(t)
	lt := need(ec.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("web"),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String("ami-00000001"), InstanceType: ec2types.InstanceTypeT3Micro}})).on(t).LaunchTemplate

	need(as.CreateAutoScalingGroup(ctx, &autoscaling.CreateAutoScalingGroupInput{AutoScalingGroupName: aws.String("web"), MinSize: aws.Int32(4), MaxSize: aws.Int32(6),
		LaunchTemplate:  &astypes.LaunchTemplateSpecification{LaunchTemplateId: lt.LaunchTemplateId, Version: aws.String("$Latest")},
		TargetGroupARNs: []string{*tg}, HealthCheckType: aws.String("ELB"), HealthCheckGracePeriod: aws.Int32(60), VPCZoneIdentifier: aws.String("subnet-a")})).on(t)
	_, err := as.CreateAutoScalingGroup(ctx, &autoscaling.CreateAutoScalingGroupInput{AutoScalingGroupName: aws.String("web"), MinSize: aws.Int32(1), MaxSize: aws.Int32(1),
		LaunchTemplate: &astypes.LaunchTemplateSpecification{LaunchTemplateId: lt.LaunchTemplateId}})
	var exists *astypes.AlreadyExistsFault
	if !errors.As(err, &exists) {
		t.Errorf("duplicate group: got %v, want AlreadyExistsFault", err)
	}
	inService := autoscaling.NewGroupInServiceWaiter(as, func(o *autoscaling.GroupInServiceWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Millisecond, time.Millisecond
		o.APIOptions = append(o.APIOptions, env.AdvanceEachAttempt(15*time.Second))
	})
	if err := inService.Wait(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{"web"}}, time.Minute); err != nil {
		t.Fatalf("GroupInService: %v", err)
	}
	env.Emu.Advance(15 * time.Second)
	if ids := healthyTargets(t, ctx, elb, *tg); len(ids) != 4 {
		t.Fatalf("healthy targets %v", ids)
	}

	need(ec.CreateLaunchTemplateVersion(ctx, &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateId: lt.LaunchTemplateId, SourceVersion: aws.String("1"),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String("ami-00000002")}})).on(t)
	ref := need(as.StartInstanceRefresh(ctx, &autoscaling.StartInstanceRefreshInput{AutoScalingGroupName: aws.String("web"),
		Preferences: &astypes.RefreshPreferences{MinHealthyPercentage: aws.Int32(75)}})).on(t)
	_, err = as.StartInstanceRefresh(ctx, &autoscaling.StartInstanceRefreshInput{AutoScalingGroupName: aws.String("web")})
	var inProgress *astypes.InstanceRefreshInProgressFault
	if !errors.As(err, &inProgress) {
		t.Errorf("second refresh: got %v, want InstanceRefreshInProgressFault", err)
	}
	var status astypes.InstanceRefreshStatus
	for i := 0; i < 200 && status != astypes.InstanceRefreshStatusSuccessful; i++ {
		if res := need(env.Emu.SendTraffic(w.listener, 20)).on(t); res.Errors() != 0 {
			t.Fatalf("t+%ds: %s", i*5, res)
		}
		env.Emu.Advance(5 * time.Second)
		out := need(as.DescribeInstanceRefreshes(ctx, &autoscaling.DescribeInstanceRefreshesInput{AutoScalingGroupName: aws.String("web"), InstanceRefreshIds: []string{*ref.InstanceRefreshId}})).on(t)
		status = out.InstanceRefreshes[0].Status
	}
	if status != astypes.InstanceRefreshStatusSuccessful {
		t.Fatalf("refresh status %s", status)
	}
	g := need(as.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{"web"}})).on(t).AutoScalingGroups[0]
	for _, in := range g.Instances {
		if aws.ToString(in.LaunchTemplate.Version) != "2" || in.LifecycleState != astypes.LifecycleStateInService {
			t.Errorf("instance %s on version %s state %s", aws.ToString(in.InstanceId), aws.ToString(in.LaunchTemplate.Version), in.LifecycleState)
		}
	}
	if len(g.Instances) != 4 {
		t.Errorf("%d instances after refresh, want 4", len(g.Instances))
	}
}

func TestAutoScalingReplacesInstancesOfBrokenImage(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	env.AddImages(t, "ami-00000001", "ami-00000002", "ami-00000bad")
	ec, as := env.EC2(), env.AutoScaling()
	env.Emu.MarkImageBroken("ami-00000bad")
	lt := need(ec.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("bad"),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String("ami-00000bad")}})).on(t).LaunchTemplate
	need(as.CreateAutoScalingGroup(ctx, &autoscaling.CreateAutoScalingGroupInput{AutoScalingGroupName: aws.String("bad"), MinSize: aws.Int32(1), MaxSize: aws.Int32(1),
		LaunchTemplate: &astypes.LaunchTemplateSpecification{LaunchTemplateName: lt.LaunchTemplateName}, HealthCheckGracePeriod: aws.Int32(30)})).on(t)
	seen, terminating := map[string]bool{}, 0
	for i := 0; i < 20; i++ {
		env.Emu.Advance(15 * time.Second)
		g := need(as.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{})).on(t).AutoScalingGroups[0]
		for _, in := range g.Instances {
			seen[aws.ToString(in.InstanceId)] = true
			if in.LifecycleState == astypes.LifecycleStateTerminating && aws.ToString(in.HealthStatus) == "Unhealthy" {
				terminating++
			}
		}
	}
	if len(seen) < 2 || terminating == 0 {
		t.Errorf("instances of a broken image were not replaced: %d instances seen, %d unhealthy terminations observed", len(seen), terminating)
	}
	need(as.DeleteAutoScalingGroup(ctx, &autoscaling.DeleteAutoScalingGroupInput{AutoScalingGroupName: aws.String("bad"), ForceDelete: aws.Bool(true)})).on(t)
	env.Emu.Advance(time.Minute)
	if n := len(need(as.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{})).on(t).AutoScalingGroups); n != 0 {
		t.Errorf("%d groups after force delete", n)
	}
}

// What red/black and refresh rollbacks rely on, with AWS's refusals:
// detaching a group's target groups drains its instances, suspended
// processes stop launches, scaling policies are stored per group, and a
// refresh rolls back only when started with a desired configuration.
func TestAutoScalingDetachSuspendPoliciesAndRefreshRollback(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	env.AddImages(t, "ami-00000001", "ami-00000002", "ami-00000bad")
	ec, as, elb := env.EC2(), env.AutoScaling(), env.ELBv2()
	w := newWeb(t, ctx, elb)
	tg := need(elb.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("asg"), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80),
		VpcId: aws.String("vpc-1"), HealthCheckIntervalSeconds: aws.Int32(5), HealthCheckTimeoutSeconds: aws.Int32(2), HealthyThresholdCount: aws.Int32(2)})).on(t).TargetGroups[0].TargetGroupArn
	need(elb.ModifyListener(ctx, &elbv2.ModifyListenerInput{ListenerArn: aws.String(w.listener), DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: tg}}})).on(t)
	lt := need(ec.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("web"),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String("ami-00000001")}})).on(t).LaunchTemplate
	need(as.CreateAutoScalingGroup(ctx, &autoscaling.CreateAutoScalingGroupInput{AutoScalingGroupName: aws.String("web"), MinSize: aws.Int32(2), MaxSize: aws.Int32(4),
		LaunchTemplate: &astypes.LaunchTemplateSpecification{LaunchTemplateId: lt.LaunchTemplateId, Version: aws.String("1")}, TargetGroupARNs: []string{*tg},
		Tags: []astypes.Tag{{ResourceId: aws.String("web"), Key: aws.String("jibe.dev/group"), Value: aws.String("web")}}})).on(t)
	env.Emu.Advance(time.Minute)
	if ids := healthyTargets(t, ctx, elb, *tg); len(ids) != 2 {
		t.Fatalf("healthy targets %v", ids)
	}
	byTag := need(as.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{Filters: []astypes.Filter{{Name: aws.String("tag:jibe.dev/group"), Values: []string{"web"}}}})).on(t)
	none := need(as.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{Filters: []astypes.Filter{{Name: aws.String("tag:jibe.dev/group"), Values: []string{"api"}}}})).on(t)
	if len(byTag.AutoScalingGroups) != 1 || len(none.AutoScalingGroups) != 0 {
		t.Errorf("tag filters: %d and %d groups, want 1 and 0", len(byTag.AutoScalingGroups), len(none.AutoScalingGroups))
	}

	_, err := as.SuspendProcesses(ctx, &autoscaling.SuspendProcessesInput{AutoScalingGroupName: aws.String("web"), ScalingProcesses: []string{"Launching"}})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationError" {
		t.Errorf("an unknown process: got %v, want ValidationError", err)
	}
	need(as.SuspendProcesses(ctx, &autoscaling.SuspendProcessesInput{AutoScalingGroupName: aws.String("web"), ScalingProcesses: []string{"Launch"}})).on(t)
	need(as.SetDesiredCapacity(ctx, &autoscaling.SetDesiredCapacityInput{AutoScalingGroupName: aws.String("web"), DesiredCapacity: aws.Int32(3)})).on(t)
	env.Emu.Advance(time.Minute)
	g := need(as.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{"web"}})).on(t).AutoScalingGroups[0]
	if len(g.Instances) != 2 || len(g.SuspendedProcesses) != 1 || aws.ToString(g.SuspendedProcesses[0].ProcessName) != "Launch" {
		t.Errorf("with Launch suspended: %d instances, suspended %+v", len(g.Instances), g.SuspendedProcesses)
	}
	need(as.ResumeProcesses(ctx, &autoscaling.ResumeProcessesInput{AutoScalingGroupName: aws.String("web")})).on(t)
	need(as.SetDesiredCapacity(ctx, &autoscaling.SetDesiredCapacityInput{AutoScalingGroupName: aws.String("web"), DesiredCapacity: aws.Int32(2)})).on(t)

	need(as.PutScalingPolicy(ctx, &autoscaling.PutScalingPolicyInput{AutoScalingGroupName: aws.String("web"), PolicyName: aws.String("cpu"), PolicyType: aws.String("TargetTrackingScaling"),
		TargetTrackingConfiguration: &astypes.TargetTrackingConfiguration{TargetValue: aws.Float64(40),
			PredefinedMetricSpecification: &astypes.PredefinedMetricSpecification{PredefinedMetricType: astypes.MetricTypeASGAverageCPUUtilization}}})).on(t)
	ps := need(as.DescribePolicies(ctx, &autoscaling.DescribePoliciesInput{AutoScalingGroupName: aws.String("web")})).on(t).ScalingPolicies
	if len(ps) != 1 || aws.ToFloat64(ps[0].TargetTrackingConfiguration.TargetValue) != 40 || ps[0].TargetTrackingConfiguration.PredefinedMetricSpecification.PredefinedMetricType != astypes.MetricTypeASGAverageCPUUtilization {
		t.Errorf("policies %s", jsonOf(t, ps))
	}

	need(ec.CreateLaunchTemplateVersion(ctx, &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateId: lt.LaunchTemplateId, SourceVersion: aws.String("1"),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String("ami-00000002")}})).on(t)
	need(as.StartInstanceRefresh(ctx, &autoscaling.StartInstanceRefreshInput{AutoScalingGroupName: aws.String("web")})).on(t)
	_, err = as.RollbackInstanceRefresh(ctx, &autoscaling.RollbackInstanceRefreshInput{AutoScalingGroupName: aws.String("web")})
	var irreversible *astypes.IrreversibleInstanceRefreshFault
	if !errors.As(err, &irreversible) {
		t.Errorf("rollback of a refresh without desired configuration: got %v, want IrreversibleInstanceRefreshFault", err)
	}
	need(as.CancelInstanceRefresh(ctx, &autoscaling.CancelInstanceRefreshInput{AutoScalingGroupName: aws.String("web")})).on(t)
	need(as.StartInstanceRefresh(ctx, &autoscaling.StartInstanceRefreshInput{AutoScalingGroupName: aws.String("web"),
		DesiredConfiguration: &astypes.DesiredConfiguration{LaunchTemplate: &astypes.LaunchTemplateSpecification{LaunchTemplateId: lt.LaunchTemplateId, Version: aws.String("2")}}})).on(t)
	env.Emu.Advance(40 * time.Second)
	need(as.RollbackInstanceRefresh(ctx, &autoscaling.RollbackInstanceRefreshInput{AutoScalingGroupName: aws.String("web")})).on(t)
	var ref astypes.InstanceRefresh
	for i := 0; i < 120 && ref.Status != astypes.InstanceRefreshStatusRollbackSuccessful; i++ {
		env.Emu.Advance(5 * time.Second)
		ref = need(as.DescribeInstanceRefreshes(ctx, &autoscaling.DescribeInstanceRefreshesInput{AutoScalingGroupName: aws.String("web")})).on(t).InstanceRefreshes[0]
	}
	g = need(as.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{"web"}})).on(t).AutoScalingGroups[0]
	if ref.Status != astypes.InstanceRefreshStatusRollbackSuccessful || aws.ToString(g.LaunchTemplate.Version) != "1" {
		t.Fatalf("rollback: status %s, group on version %s: %s", ref.Status, aws.ToString(g.LaunchTemplate.Version), jsonOf(t, g.Instances))
	}
	for _, in := range g.Instances {
		if aws.ToString(in.LaunchTemplate.Version) != "1" {
			t.Errorf("instance %s on version %s after the rollback", aws.ToString(in.InstanceId), aws.ToString(in.LaunchTemplate.Version))
		}
	}

	need(as.DetachLoadBalancerTargetGroups(ctx, &autoscaling.DetachLoadBalancerTargetGroupsInput{AutoScalingGroupName: aws.String("web"), TargetGroupARNs: []string{*tg}})).on(t)
	th := need(elb.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: tg})).on(t).TargetHealthDescriptions
	for _, d := range th {
		if d.TargetHealth.State != elbtypes.TargetHealthStateEnumDraining {
			t.Errorf("target %s is %s after detach, want draining", aws.ToString(d.Target.Id), d.TargetHealth.State)
		}
	}
	need(as.AttachLoadBalancerTargetGroups(ctx, &autoscaling.AttachLoadBalancerTargetGroupsInput{AutoScalingGroupName: aws.String("web"), TargetGroupARNs: []string{*tg}})).on(t)
	env.Emu.Advance(time.Minute)
	if ids := healthyTargets(t, ctx, elb, *tg); len(ids) != 2 {
		t.Errorf("healthy targets after re-attach: %v", ids)
	}
}

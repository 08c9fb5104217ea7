package awsemu_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// TestMixedInstancesPolicyAsAWSRefusesIt: a group names its launch
// template plainly or in a mixed instances policy, never both; the
// policy's overrides and distribution are checked as AWS does, stored
// with AWS's defaults, and an update with a plain template replaces it.
func TestMixedInstancesPolicyAsAWSRefusesIt(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	env.AddImages(t, "ami-00000001")
	ec, as := env.EC2(), env.AutoScaling()
	lt := need(ec.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("web"),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String("ami-00000001"), InstanceType: ec2types.InstanceTypeT3Small}})).on(t).LaunchTemplate
	ref := &astypes.LaunchTemplateSpecification{LaunchTemplateId: lt.LaunchTemplateId, Version: aws.String("1")}
	policy := func(dist *astypes.InstancesDistribution, overrides ...astypes.LaunchTemplateOverrides) *astypes.MixedInstancesPolicy {
		return &astypes.MixedInstancesPolicy{LaunchTemplate: &astypes.LaunchTemplate{LaunchTemplateSpecification: ref, Overrides: overrides}, InstancesDistribution: dist}
	}
	typ := func(t string, w ...string) astypes.LaunchTemplateOverrides {
		o := astypes.LaunchTemplateOverrides{InstanceType: aws.String(t)}
		if len(w) > 0 {
			o.WeightedCapacity = aws.String(w[0])
		}
		return o
	}
	create := func(plain *astypes.LaunchTemplateSpecification, m *astypes.MixedInstancesPolicy) error {
		_, err := as.CreateAutoScalingGroup(ctx, &autoscaling.CreateAutoScalingGroupInput{AutoScalingGroupName: aws.String("web"), MinSize: aws.Int32(1), MaxSize: aws.Int32(2),
			LaunchTemplate: plain, MixedInstancesPolicy: m})
		return err
	}
	for name, err := range map[string]error{
		"both a launch template and a policy": create(ref, policy(nil, typ("m5.large"))),
		"weights on some overrides only":      create(nil, policy(nil, typ("m5.large", "1"), typ("m5.xlarge"))),
		"a weight above 999":                  create(nil, policy(nil, typ("m5.large", "1000"))),
		"a type twice":                        create(nil, policy(nil, typ("m5.large"), typ("m5.large"))),
		"pools without lowest-price": create(nil, policy(&astypes.InstancesDistribution{SpotAllocationStrategy: aws.String("capacity-optimized"),
			SpotInstancePools: aws.Int32(3)}, typ("m5.large"))),
		"on demand above 100%": create(nil, policy(&astypes.InstancesDistribution{OnDemandPercentageAboveBaseCapacity: aws.Int32(101)}, typ("m5.large"))),
	} {
		if apiCode(err) != "ValidationError" {
			t.Errorf("%s: %v, want a ValidationError", name, err)
		}
	}
	if err := create(nil, policy(&astypes.InstancesDistribution{OnDemandBaseCapacity: aws.Int32(1)}, typ("m5.large", "1"), typ("m5.xlarge", "2"))); err != nil {
		t.Fatal(err)
	}
	g := describeGroup(t, as, "web")
	d := g.MixedInstancesPolicy.InstancesDistribution
	if g.LaunchTemplate != nil || aws.ToInt32(d.OnDemandPercentageAboveBaseCapacity) != 100 || aws.ToString(d.SpotAllocationStrategy) != "lowest-price" ||
		aws.ToInt32(d.SpotInstancePools) != 2 || aws.ToString(d.OnDemandAllocationStrategy) != "prioritized" {
		t.Errorf("group with a policy: launch template %+v, distribution %+v", g.LaunchTemplate, d)
	}
	need(as.UpdateAutoScalingGroup(ctx, &autoscaling.UpdateAutoScalingGroupInput{AutoScalingGroupName: aws.String("web"), LaunchTemplate: ref})).on(t)
	if g := describeGroup(t, as, "web"); g.MixedInstancesPolicy != nil || aws.ToString(g.LaunchTemplate.Version) != "1" {
		t.Errorf("after an update with a plain template: %+v %+v", g.LaunchTemplate, g.MixedInstancesPolicy)
	}
}

// TestWarmPoolAsAWSKeepsIt: PutWarmPool checks its sizes and state,
// DescribeWarmPool and DescribeAutoScalingGroups report it, a group with
// one is only deleted forced or once DeleteWarmPool removed it.
func TestWarmPoolAsAWSKeepsIt(t *testing.T) {
	ctx := context.Background()
	_, as := webGroup(t, ctx, 1, 4)
	put := func(in autoscaling.PutWarmPoolInput) error {
		in.AutoScalingGroupName = aws.String("web")
		_, err := as.PutWarmPool(ctx, &in)
		return err
	}
	for name, err := range map[string]error{
		"minSize above the prepared capacity": put(autoscaling.PutWarmPoolInput{MinSize: aws.Int32(3), MaxGroupPreparedCapacity: aws.Int32(2)}),
		"an unknown pool state":               put(autoscaling.PutWarmPoolInput{PoolState: "Frozen"}),
		"a negative minSize":                  put(autoscaling.PutWarmPoolInput{MinSize: aws.Int32(-1)}),
	} {
		if apiCode(err) != "ValidationError" {
			t.Errorf("%s: %v, want a ValidationError", name, err)
		}
	}
	if err := put(autoscaling.PutWarmPoolInput{MinSize: aws.Int32(1), PoolState: astypes.WarmPoolStateHibernated,
		InstanceReusePolicy: &astypes.InstanceReusePolicy{ReuseOnScaleIn: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	w := need(as.DescribeWarmPool(ctx, &autoscaling.DescribeWarmPoolInput{AutoScalingGroupName: aws.String("web")})).on(t).WarmPoolConfiguration
	if w == nil || aws.ToInt32(w.MinSize) != 1 || w.PoolState != astypes.WarmPoolStateHibernated || w.MaxGroupPreparedCapacity != nil || !aws.ToBool(w.InstanceReusePolicy.ReuseOnScaleIn) {
		t.Errorf("warm pool: %+v", w)
	}
	if g := describeGroup(t, as, "web"); g.WarmPoolConfiguration == nil || aws.ToInt32(g.WarmPoolSize) != 3 {
		t.Errorf("group's warm pool: %+v, size %d (want 4 max - 1 desired = 3)", g.WarmPoolConfiguration, aws.ToInt32(g.WarmPoolSize))
	}
	if _, err := as.DeleteAutoScalingGroup(ctx, &autoscaling.DeleteAutoScalingGroupInput{AutoScalingGroupName: aws.String("web")}); apiCode(err) != "ResourceInUse" {
		t.Errorf("deleting a group with a warm pool: %v, want ResourceInUse", err)
	}
	need(as.DeleteWarmPool(ctx, &autoscaling.DeleteWarmPoolInput{AutoScalingGroupName: aws.String("web")})).on(t)
	if _, err := as.DeleteWarmPool(ctx, &autoscaling.DeleteWarmPoolInput{AutoScalingGroupName: aws.String("web")}); apiCode(err) != "ValidationError" {
		t.Errorf("deleting a warm pool twice: %v", err)
	}
}

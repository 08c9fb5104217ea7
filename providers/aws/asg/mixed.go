package asg

import (
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"

	"github.com/jibe-dev/jibe/spec"
)

// AWS's defaults of an instances distribution, which DescribeAutoScalingGroups
// returns when the spec leaves them out.
const (
	defaultOnDemandPercentage = 100
	defaultSpotPools          = 2
	lowestPrice               = "lowest-price"
	prioritized               = "prioritized"
)

// mixedData is a mixed instances policy in the shape diffs compare (the
// launch template version aside, which the template's diff shows).
type mixedData struct {
	Overrides                  []overrideData `json:"overrides"`
	OnDemandBaseCapacity       int32          `json:"onDemandBaseCapacity"`
	OnDemandPercentage         int32          `json:"onDemandPercentageAboveBaseCapacity"`
	OnDemandAllocationStrategy string         `json:"onDemandAllocationStrategy"`
	SpotAllocationStrategy     string         `json:"spotAllocationStrategy"`
	SpotInstancePools          int32          `json:"spotInstancePools,omitempty"`
}

type overrideData struct {
	InstanceType     string `json:"instanceType"`
	WeightedCapacity string `json:"weightedCapacity,omitempty"`
}

// desiredMixed returns the spec's policy with AWS's defaults; nil when it
// has none.
func desiredMixed(m *spec.MixedInstancesPolicy) *mixedData {
	if m == nil {
		return nil
	}
	out := &mixedData{OnDemandPercentage: defaultOnDemandPercentage, OnDemandAllocationStrategy: prioritized, SpotAllocationStrategy: lowestPrice}
	for _, o := range m.Overrides {
		od := overrideData{InstanceType: o.InstanceType}
		if o.WeightedCapacity > 0 {
			od.WeightedCapacity = strconv.Itoa(int(o.WeightedCapacity))
		}
		out.Overrides = append(out.Overrides, od)
	}
	if d := m.InstancesDistribution; d != nil {
		out.OnDemandBaseCapacity = aws.ToInt32(d.OnDemandBaseCapacity)
		if d.OnDemandPercentageAboveBaseCapacity != nil {
			out.OnDemandPercentage = *d.OnDemandPercentageAboveBaseCapacity
		}
		out.OnDemandAllocationStrategy = or(d.OnDemandAllocationStrategy, prioritized)
		out.SpotAllocationStrategy = or(d.SpotAllocationStrategy, lowestPrice)
		out.SpotInstancePools = d.SpotInstancePools
	}
	if out.SpotAllocationStrategy == lowestPrice && out.SpotInstancePools == 0 {
		out.SpotInstancePools = defaultSpotPools
	}
	return out
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// liveMixed returns a group's policy; nil when it has none.
func liveMixed(m *astypes.MixedInstancesPolicy) *mixedData {
	if m == nil {
		return nil
	}
	out := &mixedData{}
	if lt := m.LaunchTemplate; lt != nil {
		for _, o := range lt.Overrides {
			out.Overrides = append(out.Overrides, overrideData{InstanceType: aws.ToString(o.InstanceType), WeightedCapacity: aws.ToString(o.WeightedCapacity)})
		}
	}
	if d := m.InstancesDistribution; d != nil {
		out.OnDemandBaseCapacity, out.OnDemandPercentage = aws.ToInt32(d.OnDemandBaseCapacity), aws.ToInt32(d.OnDemandPercentageAboveBaseCapacity)
		out.OnDemandAllocationStrategy, out.SpotAllocationStrategy = aws.ToString(d.OnDemandAllocationStrategy), aws.ToString(d.SpotAllocationStrategy)
		out.SpotInstancePools = aws.ToInt32(d.SpotInstancePools)
	}
	return out
}

// mixedPolicy returns the API's policy of m launching the template lt.
func mixedPolicy(m *mixedData, lt *astypes.LaunchTemplateSpecification) *astypes.MixedInstancesPolicy {
	out := &astypes.MixedInstancesPolicy{LaunchTemplate: &astypes.LaunchTemplate{LaunchTemplateSpecification: lt},
		InstancesDistribution: &astypes.InstancesDistribution{OnDemandBaseCapacity: aws.Int32(m.OnDemandBaseCapacity),
			OnDemandPercentageAboveBaseCapacity: aws.Int32(m.OnDemandPercentage), OnDemandAllocationStrategy: aws.String(m.OnDemandAllocationStrategy),
			SpotAllocationStrategy: aws.String(m.SpotAllocationStrategy)}}
	if m.SpotAllocationStrategy == lowestPrice {
		out.InstancesDistribution.SpotInstancePools = aws.Int32(m.SpotInstancePools)
	}
	for _, o := range m.Overrides {
		ov := astypes.LaunchTemplateOverrides{InstanceType: aws.String(o.InstanceType)}
		if o.WeightedCapacity != "" {
			ov.WeightedCapacity = aws.String(o.WeightedCapacity)
		}
		out.LaunchTemplate.Overrides = append(out.LaunchTemplate.Overrides, ov)
	}
	return out
}

// groupTemplate is the launch template a group launches: its plain one
// or its mixed instances policy's; nil when it has neither.
func groupTemplate(g *astypes.AutoScalingGroup) *astypes.LaunchTemplateSpecification {
	if g.LaunchTemplate != nil {
		return g.LaunchTemplate
	}
	if m := g.MixedInstancesPolicy; m != nil && m.LaunchTemplate != nil {
		return m.LaunchTemplate.LaunchTemplateSpecification
	}
	return nil
}

// desiredTemplate is the launch template a refresh replaces instances
// with: its desired configuration's, plain or mixed; nil when it has none.
func desiredTemplate(ref *astypes.InstanceRefresh) *astypes.LaunchTemplateSpecification {
	dc := ref.DesiredConfiguration
	switch {
	case dc == nil:
		return nil
	case dc.LaunchTemplate != nil:
		return dc.LaunchTemplate
	case dc.MixedInstancesPolicy != nil && dc.MixedInstancesPolicy.LaunchTemplate != nil:
		return dc.MixedInstancesPolicy.LaunchTemplate.LaunchTemplateSpecification
	}
	return nil
}

// launchWith sets what a group launches from: the template lt, plain or
// in the spec's mixed instances policy (AWS refuses both).
func launchWith(g *spec.AutoScalingGroupTarget, lt *astypes.LaunchTemplateSpecification) (*astypes.LaunchTemplateSpecification, *astypes.MixedInstancesPolicy) {
	if m := desiredMixed(g.MixedInstancesPolicy); m != nil {
		return nil, mixedPolicy(m, lt)
	}
	return lt, nil
}

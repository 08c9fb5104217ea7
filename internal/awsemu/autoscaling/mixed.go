package autoscaling

import (
	"slices"
	"strconv"

	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

// Limits AWS puts on a mixed instances policy.
const (
	maxOverrides      = 40
	maxWeight         = 999
	maxSpotPools      = 20
	defaultSpotPools  = 2
	lowestPrice       = "lowest-price"
	prioritized       = "prioritized"
	errLaunchTemplate = "Valid requests must contain either LaunchTemplate, LaunchConfigurationName, InstanceId or MixedInstancesPolicy parameter."
)

// spotStrategies are the SpotAllocationStrategy values AWS accepts.
var spotStrategies = []string{lowestPrice, "capacity-optimized", "capacity-optimized-prioritized", "price-capacity-optimized"}

// mixedPolicy is a group's MixedInstancesPolicy: the launch template
// (kept in group.lt), instance type overrides and the instances
// distribution, with AWS's defaults filled in.
type mixedPolicy struct {
	overrides []xmlOverride
	dist      xmlDistribution
}

type xmlOverride struct {
	InstanceType     string
	WeightedCapacity string `xml:",omitempty"`
}

type xmlDistribution struct {
	OnDemandAllocationStrategy          string
	OnDemandBaseCapacity                int
	OnDemandPercentageAboveBaseCapacity int
	SpotAllocationStrategy              string
	SpotInstancePools                   int `xml:",omitempty"`
}

type xmlMixedTemplate struct {
	LaunchTemplateSpecification ltSpec
	Overrides                   []xmlOverride `xml:"Overrides>member"`
}

type xmlMixed struct {
	LaunchTemplate        xmlMixedTemplate
	InstancesDistribution xmlDistribution
}

// launchTemplateOf reads the launch template of a group's create or update
// (or a refresh's desired configuration) at prefix: LaunchTemplate or
// MixedInstancesPolicy, refusing both as AWS does. ok is false when f
// has neither.
func (s *Service) launchTemplateOf(r *region, f protocol.Form) (lt ltSpec, mixed *mixedPolicy, ok bool, err error) {
	hasLT, hasMixed := f.Has("LaunchTemplate"), f.Has("MixedInstancesPolicy")
	switch {
	case hasLT && hasMixed:
		return ltSpec{}, nil, false, validation(errLaunchTemplate)
	case hasLT:
		lt = readLT(f.Sub("LaunchTemplate"))
	case hasMixed:
		m := f.Sub("MixedInstancesPolicy")
		lt = readLT(m.Sub("LaunchTemplate.LaunchTemplateSpecification"))
		if mixed, err = readMixed(m); err != nil {
			return ltSpec{}, nil, false, err
		}
	default:
		return ltSpec{}, nil, false, nil
	}
	if lt.ID == "" && lt.Name == "" {
		return ltSpec{}, nil, false, validation("A launch template must be specified")
	}
	if _, err := s.cfg.Templates.Resolve(r.scope, lt.ID, lt.Name, lt.Version); err != nil {
		return ltSpec{}, nil, false, validation("%v", err)
	}
	return lt, mixed, true, nil
}

func readLT(f protocol.Form) ltSpec {
	return ltSpec{ID: f.String("LaunchTemplateId"), Name: f.String("LaunchTemplateName"), Version: f.String("Version")}
}

// readMixed reads a MixedInstancesPolicy, refusing what AWS refuses: more
// than 40 overrides, a type overridden twice, weights outside 1..999 or
// given for some types only, a distribution out of range, an unknown
// allocation strategy, SpotInstancePools other than with lowest-price.
func readMixed(m protocol.Form) (*mixedPolicy, error) {
	p := &mixedPolicy{}
	weighted := 0
	for _, o := range m.List("LaunchTemplate.Overrides") {
		x := xmlOverride{InstanceType: o.String("InstanceType"), WeightedCapacity: o.String("WeightedCapacity")}
		if x.InstanceType == "" {
			return nil, validation("An override must specify an InstanceType")
		}
		if slices.ContainsFunc(p.overrides, func(y xmlOverride) bool { return y.InstanceType == x.InstanceType }) {
			return nil, validation("Duplicate instance type %s in the overrides of the MixedInstancesPolicy", x.InstanceType)
		}
		if x.WeightedCapacity != "" {
			if w, err := strconv.Atoi(x.WeightedCapacity); err != nil || w < 1 || w > maxWeight {
				return nil, validation("WeightedCapacity must be between 1 and %d", maxWeight)
			}
			weighted++
		}
		p.overrides = append(p.overrides, x)
	}
	if len(p.overrides) > maxOverrides {
		return nil, validation("The MixedInstancesPolicy can have at most %d overrides", maxOverrides)
	}
	if weighted > 0 && weighted != len(p.overrides) {
		return nil, validation("If you specify WeightedCapacity for one override, you must specify it for all of them")
	}
	return p, p.readDistribution(m.Sub("InstancesDistribution"))
}

func (p *mixedPolicy) readDistribution(d protocol.Form) error {
	p.dist = xmlDistribution{OnDemandAllocationStrategy: prioritized, OnDemandPercentageAboveBaseCapacity: 100, SpotAllocationStrategy: lowestPrice}
	if v := d.String("OnDemandAllocationStrategy"); v != "" {
		if v != prioritized && v != lowestPrice {
			return validation("OnDemandAllocationStrategy must be prioritized or lowest-price")
		}
		p.dist.OnDemandAllocationStrategy = v
	}
	if v, ok := d.Int("OnDemandBaseCapacity"); ok {
		if v < 0 {
			return validation("OnDemandBaseCapacity must be 0 or more")
		}
		p.dist.OnDemandBaseCapacity = v
	}
	if v, ok := d.Int("OnDemandPercentageAboveBaseCapacity"); ok {
		if v < 0 || v > 100 {
			return validation("OnDemandPercentageAboveBaseCapacity must be between 0 and 100")
		}
		p.dist.OnDemandPercentageAboveBaseCapacity = v
	}
	if v := d.String("SpotAllocationStrategy"); v != "" {
		if !slices.Contains(spotStrategies, v) {
			return validation("SpotAllocationStrategy must be one of %v", spotStrategies)
		}
		p.dist.SpotAllocationStrategy = v
	}
	pools, hasPools := d.Int("SpotInstancePools")
	switch {
	case hasPools && p.dist.SpotAllocationStrategy != lowestPrice:
		return validation("SpotInstancePools is only valid with the lowest-price SpotAllocationStrategy")
	case hasPools && (pools < 1 || pools > maxSpotPools):
		return validation("SpotInstancePools must be between 1 and %d", maxSpotPools)
	case hasPools:
		p.dist.SpotInstancePools = pools
	case p.dist.SpotAllocationStrategy == lowestPrice:
		p.dist.SpotInstancePools = defaultSpotPools
	}
	return nil
}

// xml returns the policy as DescribeAutoScalingGroups returns it.
func (p *mixedPolicy) xml(lt ltSpec) *xmlMixed {
	if p == nil {
		return nil
	}
	return &xmlMixed{LaunchTemplate: xmlMixedTemplate{LaunchTemplateSpecification: lt, Overrides: slices.Clone(p.overrides)}, InstancesDistribution: p.dist}
}

// instanceType is the type a new instance launches as: the first
// override's, else the template's.
func (p *mixedPolicy) instanceType(template string) string {
	if p == nil || len(p.overrides) == 0 {
		return template
	}
	return p.overrides[0].InstanceType
}

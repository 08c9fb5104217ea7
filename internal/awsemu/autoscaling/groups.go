package autoscaling

import (
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

// group is one Auto Scaling group.
type group struct {
	name, arn            string
	lt                   ltSpec
	mixed                *mixedPolicy // nil when the group has a plain LaunchTemplate
	warmPool             *warmPool
	min, max, desired    int
	vpcZone, healthCheck string
	grace                int
	targetGroups         []string
	tags                 []xmlTag
	created              time.Time
	instances            []*instance
	refreshes            []*refresh // newest first
	deleting             bool
	suspendedProcs       map[string]bool
	policies             map[string]*policy
	activities           []activity // newest first
	launchAfter          time.Time  // no launch before, after a failed one
	hooks                map[string]*hook
	actions              map[string]*scheduled
	terminationPolicies  []string
}

// ltSpec is a group's launch template reference.
type ltSpec struct {
	ID      string `xml:"LaunchTemplateId,omitempty"`
	Name    string `xml:"LaunchTemplateName,omitempty"`
	Version string `xml:"Version,omitempty"`
}

type xmlTag struct {
	ResourceId        string
	ResourceType      string
	Key               string
	Value             string
	PropagateAtLaunch bool
}

func (s *Service) createGroup(r *region, f protocol.Form, now time.Time) (any, error) {
	name := f.String("AutoScalingGroupName")
	if name == "" {
		return nil, validation("AutoScalingGroupName is required")
	}
	if len(name) > 255 {
		return nil, validation("1 validation error detected: Value '%s' at 'autoScalingGroupName' failed to satisfy constraint: Member must have length less than or equal to 255", name)
	}
	if _, ok := r.groups[name]; ok {
		return nil, protocol.Errorf("AlreadyExists", "AutoScalingGroup by this name already exists - A group with the name %s already exists", name)
	}
	g := &group{name: name, created: now, healthCheck: "EC2", grace: 300,
		arn: fmt.Sprintf("arn:aws:autoscaling:%s:%s:autoScalingGroup:%s:autoScalingGroupName/%s", r.scope.Region, r.scope.Account, s.newID("uuid-"), name)}
	lt, mixed, ok, err := s.launchTemplateOf(r, f)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, validation("A launch template must be specified")
	}
	g.lt, g.mixed = lt, mixed
	if err := g.apply(f, true); err != nil {
		return nil, err
	}
	if err := createHooks(g, f); err != nil {
		return nil, err
	}
	for _, t := range f.List("Tags") {
		prop, _ := t.Bool("PropagateAtLaunch")
		g.tags = append(g.tags, xmlTag{ResourceId: name, ResourceType: "auto-scaling-group", Key: t.String("Key"), Value: t.String("Value"), PropagateAtLaunch: prop})
	}
	r.groups[name] = g
	return nil, nil
}

// apply sets the sizing and health parameters present in f.
func (g *group) apply(f protocol.Form, create bool) error {
	minSize, hasMin := f.Int("MinSize")
	maxSize, hasMax := f.Int("MaxSize")
	if create && (!hasMin || !hasMax) {
		return validation("MinSize and MaxSize are required")
	}
	if hasMin {
		g.min = minSize
	}
	if hasMax {
		g.max = maxSize
	}
	if d, ok := f.Int("DesiredCapacity"); ok {
		g.desired = d
	} else if create {
		g.desired = g.min
	} else {
		g.desired = min(max(g.desired, g.min), g.max) // new bounds move the desired capacity
	}
	if g.min > g.max || g.desired < g.min || g.desired > g.max {
		return validation("Desired capacity:%d must be between the specified min size:%d and max size:%d", g.desired, g.min, g.max)
	}
	if v := f.String("VPCZoneIdentifier"); v != "" {
		g.vpcZone = v
	}
	if v := f.String("HealthCheckType"); v != "" {
		g.healthCheck = v
	}
	if v, ok := f.Int("HealthCheckGracePeriod"); ok {
		g.grace = v
	}
	if tgs := f.Strings("TargetGroupARNs"); len(tgs) > 0 {
		g.targetGroups = tgs
	}
	if tps := f.Strings("TerminationPolicies"); len(tps) > 0 {
		g.terminationPolicies = tps
	}
	return nil
}

func (s *Service) findGroup(r *region, name string) (*group, error) {
	g, ok := r.groups[name]
	if !ok || g.deleting {
		return nil, validation("AutoScalingGroup name not found - AutoScalingGroup %s not found", name)
	}
	return g, nil
}

func (s *Service) updateGroup(r *region, f protocol.Form, now time.Time) (any, error) {
	g, err := s.findGroup(r, f.String("AutoScalingGroupName"))
	if err != nil {
		return nil, err
	}
	next := *g
	lt, mixed, ok, err := s.launchTemplateOf(r, f)
	if err != nil {
		return nil, err
	}
	if ok { // a plain launch template replaces a mixed instances policy
		next.lt, next.mixed = lt, mixed
	}
	if err := next.apply(f, false); err != nil {
		return nil, err
	}
	*g = next
	return nil, nil
}

func (s *Service) setDesiredCapacity(r *region, f protocol.Form, now time.Time) (any, error) {
	g, err := s.findGroup(r, f.String("AutoScalingGroupName"))
	if err != nil {
		return nil, err
	}
	d, _ := f.Int("DesiredCapacity")
	if d < g.min || d > g.max {
		return nil, validation("New SetDesiredCapacity value %d is below min value %d or above max value %d for the AutoScalingGroup.", d, g.min, g.max)
	}
	g.desired = d
	return nil, nil
}

func (s *Service) deleteGroup(r *region, f protocol.Form, now time.Time) (any, error) {
	g, err := s.findGroup(r, f.String("AutoScalingGroupName"))
	if err != nil {
		return nil, err
	}
	force, _ := f.Bool("ForceDelete")
	if g.warmPool != nil && !force {
		return nil, protocol.Errorf("ResourceInUse", "You cannot delete an AutoScalingGroup while it has a warm pool. Delete the warm pool first, or use ForceDelete.")
	}
	if len(g.live()) > 0 && !force {
		return nil, protocol.Errorf("ResourceInUse", "You cannot delete an AutoScalingGroup while there are instances or pending Spot instance request(s) still in the group.")
	}
	g.deleting, g.desired, g.min, g.warmPool = true, 0, 0, nil
	return nil, nil
}

type xmlInstance struct {
	InstanceId           string
	InstanceType         string
	AvailabilityZone     string
	LifecycleState       string
	HealthStatus         string
	LaunchTemplate       ltSpec
	ProtectedFromScaleIn bool
}

type xmlGroup struct {
	AutoScalingGroupName             string
	AutoScalingGroupARN              string
	LaunchTemplate                   *ltSpec      `xml:",omitempty"`
	MixedInstancesPolicy             *xmlMixed    `xml:",omitempty"`
	WarmPoolConfiguration            *xmlWarmPool `xml:",omitempty"`
	WarmPoolSize                     int          `xml:",omitempty"`
	MinSize                          int
	MaxSize                          int
	DesiredCapacity                  int
	DefaultCooldown                  int
	AvailabilityZones                []string `xml:"AvailabilityZones>member"`
	HealthCheckType                  string
	HealthCheckGracePeriod           int
	Instances                        []xmlInstance `xml:"Instances>member"`
	CreatedTime                      string
	VPCZoneIdentifier                string       `xml:",omitempty"`
	TargetGroupARNs                  []string     `xml:"TargetGroupARNs>member"`
	Tags                             []xmlTag     `xml:"Tags>member"`
	SuspendedProcesses               []xmlProcess `xml:"SuspendedProcesses>member"`
	Status                           string       `xml:",omitempty"`
	TerminationPolicies              []string     `xml:"TerminationPolicies>member"`
	NewInstancesProtectedFromScaleIn bool
}

func (g *group) xml(r *region) xmlGroup {
	lt := g.lt
	x := xmlGroup{AutoScalingGroupName: g.name, AutoScalingGroupARN: g.arn, LaunchTemplate: &lt, MinSize: g.min, MaxSize: g.max,
		DesiredCapacity: g.desired, DefaultCooldown: 300, AvailabilityZones: []string{r.scope.Region + "a"}, HealthCheckType: g.healthCheck,
		HealthCheckGracePeriod: g.grace, CreatedTime: isoTime(g.created), VPCZoneIdentifier: g.vpcZone, TargetGroupARNs: g.targetGroups, Tags: g.tags,
		SuspendedProcesses: g.suspendedXML(), TerminationPolicies: g.terminationPolicies}
	if g.mixed != nil {
		x.LaunchTemplate, x.MixedInstancesPolicy = nil, g.mixed.xml(lt)
	}
	if g.warmPool != nil {
		x.WarmPoolConfiguration, x.WarmPoolSize = g.warmPool.xml(), g.warmPool.size(g)
	}
	if len(x.TerminationPolicies) == 0 {
		x.TerminationPolicies = []string{"Default"}
	}
	if g.deleting {
		x.Status = "Delete in progress"
	}
	for _, in := range g.instances {
		x.Instances = append(x.Instances, xmlInstance{InstanceId: in.id, InstanceType: in.typ, AvailabilityZone: r.scope.Region + "a",
			LifecycleState: in.state, HealthStatus: in.health, LaunchTemplate: ltSpec{ID: in.ltID, Name: in.ltName, Version: strconv.Itoa(in.version)}})
	}
	return x
}

type groupsResult struct {
	AutoScalingGroups []xmlGroup `xml:"AutoScalingGroups>member"`
	NextToken         string     `xml:",omitempty"`
}

func (s *Service) describeGroups(r *region, f protocol.Form, now time.Time) (any, error) {
	names := f.Strings("AutoScalingGroupNames")
	var found []*group
	for _, n := range sortedNames(r) {
		if (len(names) == 0 || contains(names, n)) && r.groups[n].matches(f.List("Filters")) {
			found = append(found, r.groups[n])
		}
	}
	max, _ := f.Int("MaxRecords")
	start, end, next, err := protocol.Page(len(found), f.String("NextToken"), max, 50)
	if err != nil {
		return nil, protocol.Errorf("InvalidNextToken", "invalid NextToken")
	}
	out := &groupsResult{NextToken: next}
	for _, g := range found[start:end] {
		out.AutoScalingGroups = append(out.AutoScalingGroups, g.xml(r))
	}
	return out, nil
}

func sortedNames(r *region) []string {
	var out []string
	for n := range r.groups {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// matches reports whether the group passes every filter: tag:KEY (the
// tag's value is one of Values), tag-key and tag-value.
func (g *group) matches(filters []protocol.Form) bool {
	for _, f := range filters {
		name, values := f.String("Name"), f.Strings("Values")
		ok := false
		for _, t := range g.tags {
			switch {
			case name == "tag:"+t.Key, name == "tag-value":
				ok = ok || contains(values, t.Value)
			case name == "tag-key":
				ok = ok || contains(values, t.Key)
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

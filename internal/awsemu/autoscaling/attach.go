package autoscaling

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

// processes are the scaling processes SuspendProcesses accepts.
var processes = []string{"Launch", "Terminate", "AddToLoadBalancer", "AlarmNotification", "AZRebalance",
	"HealthCheck", "InstanceRefresh", "ReplaceUnhealthy", "ScheduledActions"}

// attachTargetGroups adds target groups to a group; its InService
// instances are registered in them at once.
func (s *Service) attachTargetGroups(r *region, f protocol.Form, now time.Time) (any, error) {
	g, err := s.findGroup(r, f.String("AutoScalingGroupName"))
	if err != nil {
		return nil, err
	}
	arns := f.Strings("TargetGroupARNs")
	if len(arns) == 0 {
		return nil, validation("TargetGroupARNs is required")
	}
	for _, tg := range arns {
		if slices.Contains(g.targetGroups, tg) {
			continue
		}
		g.targetGroups = append(g.targetGroups, tg)
		for _, in := range g.instances {
			if in.state == stateInService && !g.suspended("AddToLoadBalancer") {
				s.register(r, in, tg, now)
			}
		}
	}
	return nil, nil
}

// register registers an instance in a target group.
func (s *Service) register(r *region, in *instance, tg string, now time.Time) {
	if s.cfg.Targets.RegisterTarget(r.scope, tg, in.id, 0, in.behavior, now) == nil && !slices.Contains(in.registered, tg) {
		in.registered = append(in.registered, tg)
	}
}

// detachTargetGroups removes target groups from a group; its instances
// are deregistered from them (and drain for the deregistration delay).
func (s *Service) detachTargetGroups(r *region, f protocol.Form, now time.Time) (any, error) {
	g, err := s.findGroup(r, f.String("AutoScalingGroupName"))
	if err != nil {
		return nil, err
	}
	arns := f.Strings("TargetGroupARNs")
	if len(arns) == 0 {
		return nil, validation("TargetGroupARNs is required")
	}
	g.targetGroups = slices.DeleteFunc(g.targetGroups, func(tg string) bool { return slices.Contains(arns, tg) })
	for _, in := range g.instances {
		kept := in.registered[:0]
		for _, tg := range in.registered {
			if slices.Contains(arns, tg) {
				_ = s.cfg.Targets.DeregisterTarget(r.scope, tg, in.id, 0, now)
				continue
			}
			kept = append(kept, tg)
		}
		in.registered = kept
	}
	return nil, nil
}

// suspendProcesses suspends the named processes (all when none is named).
func (s *Service) suspendProcesses(r *region, f protocol.Form, now time.Time) (any, error) {
	return s.setProcesses(r, f, true)
}

// resumeProcesses resumes the named processes (all when none is named).
func (s *Service) resumeProcesses(r *region, f protocol.Form, now time.Time) (any, error) {
	return s.setProcesses(r, f, false)
}

func (s *Service) setProcesses(r *region, f protocol.Form, suspend bool) (any, error) {
	g, err := s.findGroup(r, f.String("AutoScalingGroupName"))
	if err != nil {
		return nil, err
	}
	names := f.Strings("ScalingProcesses")
	if len(names) == 0 {
		names = processes
	}
	for _, n := range names {
		if !slices.Contains(processes, n) {
			return nil, validation("Invalid scaling process name: %s", n)
		}
	}
	if g.suspendedProcs == nil {
		g.suspendedProcs = map[string]bool{}
	}
	for _, n := range names {
		if suspend {
			g.suspendedProcs[n] = true
		} else {
			delete(g.suspendedProcs, n)
		}
	}
	return nil, nil
}

// suspended reports whether the process is suspended on the group.
func (g *group) suspended(process string) bool { return g.suspendedProcs[process] }

type xmlProcess struct {
	ProcessName      string
	SuspensionReason string
}

func (g *group) suspendedXML() []xmlProcess {
	var out []xmlProcess
	for n := range g.suspendedProcs {
		out = append(out, xmlProcess{ProcessName: n, SuspensionReason: "User suspended"})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ProcessName < out[j].ProcessName })
	return out
}

// createOrUpdateTags sets tags on groups.
func (s *Service) createOrUpdateTags(r *region, f protocol.Form, now time.Time) (any, error) {
	for _, t := range f.List("Tags") {
		g, err := s.findGroup(r, t.String("ResourceId"))
		if err != nil {
			return nil, err
		}
		prop, _ := t.Bool("PropagateAtLaunch")
		tag := xmlTag{ResourceId: g.name, ResourceType: "auto-scaling-group", Key: t.String("Key"), Value: t.String("Value"), PropagateAtLaunch: prop}
		if i := slices.IndexFunc(g.tags, func(x xmlTag) bool { return x.Key == tag.Key }); i >= 0 {
			g.tags[i] = tag
		} else {
			g.tags = append(g.tags, tag)
		}
	}
	return nil, nil
}

// deleteTags removes tags from groups.
func (s *Service) deleteTags(r *region, f protocol.Form, now time.Time) (any, error) {
	for _, t := range f.List("Tags") {
		g, err := s.findGroup(r, t.String("ResourceId"))
		if err != nil {
			return nil, err
		}
		g.tags = slices.DeleteFunc(g.tags, func(x xmlTag) bool { return x.Key == t.String("Key") })
	}
	return nil, nil
}

// policy is one scaling policy.
type policy struct {
	PolicyARN                      string
	PolicyName                     string
	AutoScalingGroupName           string
	PolicyType                     string
	AdjustmentType                 string         `xml:",omitempty"`
	StepAdjustments                []xmlStep      `xml:"StepAdjustments>member"`
	TargetTrackingConfiguration    *xmlTracking   `xml:",omitempty"`
	PredictiveScalingConfiguration *xmlPredictive `xml:",omitempty"`
	Enabled                        bool
}

type xmlStep struct {
	MetricIntervalLowerBound *float64 `xml:",omitempty"`
	MetricIntervalUpperBound *float64 `xml:",omitempty"`
	ScalingAdjustment        int
}

type xmlTracking struct {
	PredefinedMetricSpecification *xmlPredefined `xml:",omitempty"`
	TargetValue                   float64
	DisableScaleIn                bool
}

type xmlPredefined struct {
	PredefinedMetricType string
	ResourceLabel        string `xml:",omitempty"`
}

// putScalingPolicy creates or replaces a policy of a group.
func (s *Service) putScalingPolicy(r *region, f protocol.Form, now time.Time) (any, error) {
	g, err := s.findGroup(r, f.String("AutoScalingGroupName"))
	if err != nil {
		return nil, err
	}
	name := f.String("PolicyName")
	if name == "" {
		return nil, validation("PolicyName is required")
	}
	p := &policy{PolicyName: name, AutoScalingGroupName: g.name, PolicyType: f.String("PolicyType"), AdjustmentType: f.String("AdjustmentType"), Enabled: true,
		PolicyARN: fmt.Sprintf("arn:aws:autoscaling:%s:%s:scalingPolicy:%s:autoScalingGroupName/%s:policyName/%s", r.scope.Region, r.scope.Account, s.newID("uuid-"), g.name, name)}
	if p.PolicyType == "" {
		p.PolicyType = "SimpleScaling"
	}
	if enabled, ok := f.Bool("Enabled"); ok {
		p.Enabled = enabled
	}
	switch p.PolicyType {
	case "PredictiveScaling":
		if p.PredictiveScalingConfiguration, err = readPredictive(f.Sub("PredictiveScalingConfiguration")); err != nil {
			return nil, err
		}
	case "TargetTrackingScaling":
		tf := f.Sub("TargetTrackingConfiguration")
		v, ok := tf.Float("TargetValue")
		if !ok {
			return nil, validation("TargetTrackingConfiguration.TargetValue is required")
		}
		tt := &xmlTracking{TargetValue: v}
		tt.DisableScaleIn, _ = tf.Bool("DisableScaleIn")
		if m := tf.String("PredefinedMetricSpecification.PredefinedMetricType"); m != "" {
			tt.PredefinedMetricSpecification = &xmlPredefined{PredefinedMetricType: m, ResourceLabel: tf.String("PredefinedMetricSpecification.ResourceLabel")}
		} else if !tf.Has("CustomizedMetricSpecification") {
			return nil, validation("One of PredefinedMetricSpecification or CustomizedMetricSpecification must be specified")
		}
		p.TargetTrackingConfiguration = tt
	case "StepScaling":
		for _, st := range f.List("StepAdjustments") {
			adj, _ := st.Int("ScalingAdjustment")
			x := xmlStep{ScalingAdjustment: adj}
			if v, ok := st.Float("MetricIntervalLowerBound"); ok {
				x.MetricIntervalLowerBound = &v
			}
			if v, ok := st.Float("MetricIntervalUpperBound"); ok {
				x.MetricIntervalUpperBound = &v
			}
			p.StepAdjustments = append(p.StepAdjustments, x)
		}
		if len(p.StepAdjustments) == 0 {
			return nil, validation("StepAdjustments is required for StepScaling policies")
		}
	}
	if old := g.policies[name]; old != nil {
		p.PolicyARN = old.PolicyARN
	}
	if g.policies == nil {
		g.policies = map[string]*policy{}
	}
	g.policies[name] = p
	return &struct{ PolicyARN string }{p.PolicyARN}, nil
}

type policiesResult struct {
	ScalingPolicies []policy `xml:"ScalingPolicies>member"`
}

// describePolicies lists the policies of a group (or of every group).
func (s *Service) describePolicies(r *region, f protocol.Form, now time.Time) (any, error) {
	name := f.String("AutoScalingGroupName")
	out := &policiesResult{}
	for _, gn := range sortedNames(r) {
		g := r.groups[gn]
		if name != "" && gn != name || g.deleting {
			continue
		}
		for _, pn := range sortedKeys(g.policies) {
			if names := f.Strings("PolicyNames"); len(names) == 0 || slices.Contains(names, pn) {
				out.ScalingPolicies = append(out.ScalingPolicies, *g.policies[pn])
			}
		}
	}
	return out, nil
}

// deletePolicy deletes a policy of a group.
func (s *Service) deletePolicy(r *region, f protocol.Form, now time.Time) (any, error) {
	g, err := s.findGroup(r, f.String("AutoScalingGroupName"))
	if err != nil {
		return nil, err
	}
	name := f.String("PolicyName")
	if g.policies[name] == nil {
		return nil, validation("Policy %s not found for group %s", name, g.name)
	}
	delete(g.policies, name)
	return nil, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

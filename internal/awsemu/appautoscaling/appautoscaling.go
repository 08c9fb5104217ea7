// Package appautoscaling emulates Application Auto Scaling (awsJson1.1):
// scalable targets, scaling policies, scheduled actions and tags.
package appautoscaling

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

// Scalable is a service whose capacity Application Auto Scaling manages
// (ECS for the "ecs" namespace).
type Scalable interface {
	// ClampCapacity keeps the resource's capacity within [min, max]; it
	// fails when the resource does not exist.
	ClampCapacity(scope protocol.Scope, resourceID string, min, max int32, now time.Time) error
	// Capacity returns the resource's current capacity.
	Capacity(scope protocol.Scope, resourceID string) (int32, error)
	// SetCapacity changes the resource's capacity.
	SetCapacity(scope protocol.Scope, resourceID string, n int32, now time.Time) error
}

// Config wires Application Auto Scaling to the services it scales.
type Config struct {
	// Scalables maps a service namespace (e.g. "ecs") to its service.
	Scalables map[types.ServiceNamespace]Scalable
	// Metrics feeds target tracking policies; optional.
	Metrics Metrics
	// Alarms keeps the TargetTracking-* alarms of target tracking
	// policies; optional.
	Alarms Alarms
}

// Service is the emulated Application Auto Scaling.
type Service struct {
	cfg     Config
	codec   *protocol.JSON11
	regions map[protocol.Scope]*region
	ids     int
}

// New returns an empty Application Auto Scaling.
func New(cfg Config) *Service {
	return &Service{cfg: cfg, codec: protocol.NewLegacyJSON11(false), regions: map[protocol.Scope]*region{}}
}

// Name returns the signing name "application-autoscaling".
func (s *Service) Name() string { return "application-autoscaling" }

// Kind returns awsJson1.1.
func (s *Service) Kind() protocol.Kind { return protocol.KindJSON11 }

// Codec returns the awsJson1.1 codec.
func (s *Service) Codec() protocol.Codec { return s.codec }

// region is the state of one account and region.
type region struct {
	targets    map[string]*types.ScalableTarget // by key()
	policies   map[string]*types.ScalingPolicy  // by target key + "/" + policy name
	tags       map[string]map[string]string     // by ARN
	tracking   map[string]*tracking             // by policy key
	scheduled  map[string]*scheduled            // by target key + "/" + action name
	activities []types.ScalingActivity
}

func key(ns types.ServiceNamespace, resource string, dim types.ScalableDimension) string {
	return string(ns) + "|" + resource + "|" + string(dim)
}

func (s *Service) region(scope protocol.Scope) *region {
	r, ok := s.regions[scope]
	if !ok {
		r = &region{targets: map[string]*types.ScalableTarget{}, policies: map[string]*types.ScalingPolicy{}, tags: map[string]map[string]string{},
			tracking: map[string]*tracking{}, scheduled: map[string]*scheduled{}}
		s.regions[scope] = r
	}
	return r
}

type handler func(s *Service, r *region, c *protocol.Call) (any, error)

var handlers = map[string]handler{
	"RegisterScalableTarget":    (*Service).registerScalableTarget,
	"DescribeScalableTargets":   (*Service).describeScalableTargets,
	"DeregisterScalableTarget":  (*Service).deregisterScalableTarget,
	"PutScalingPolicy":          (*Service).putScalingPolicy,
	"DescribeScalingPolicies":   (*Service).describeScalingPolicies,
	"DeleteScalingPolicy":       (*Service).deleteScalingPolicy,
	"DescribeScalingActivities": (*Service).describeScalingActivities,
	"PutScheduledAction":        (*Service).putScheduledAction,
	"DescribeScheduledActions":  (*Service).describeScheduledActions,
	"DeleteScheduledAction":     (*Service).deleteScheduledAction,
	"TagResource":               (*Service).tagResource,
	"UntagResource":             (*Service).untagResource,
	"ListTagsForResource":       (*Service).listTagsForResource,
}

// Handle serves one call.
func (s *Service) Handle(c *protocol.Call) (any, error) {
	h, ok := handlers[c.Operation]
	if !ok {
		return nil, protocol.Errorf("UnknownOperationException", "operation %s is not supported by the emulator", c.Operation)
	}
	return h(s, s.region(c.Scope()), c)
}

// registered returns the key of a registered scalable target, or
// ObjectNotFoundException.
func (r *region) registered(ns types.ServiceNamespace, resource *string, dim types.ScalableDimension) (string, error) {
	k := key(ns, aws.ToString(resource), dim)
	if _, ok := r.targets[k]; !ok {
		return "", notFound("No scalable target registered for service namespace: %s, resource ID: %s, scalable dimension: %s", ns, aws.ToString(resource), dim)
	}
	return k, nil
}

// selection is what a Describe call selects among a namespace's policies
// or scheduled actions: the resource, dimension and names it names.
type selection struct {
	ns       types.ServiceNamespace
	resource *string
	dim      types.ScalableDimension
	names    []string
}

// match reports whether an item of resource and dimension, named name,
// is selected.
func (s selection) match(ns types.ServiceNamespace, resource *string, dim types.ScalableDimension, name *string) bool {
	return ns == s.ns && (s.resource == nil || aws.ToString(resource) == *s.resource) &&
		(s.dim == "" || dim == s.dim) && (len(s.names) == 0 || contains(s.names, aws.ToString(name)))
}

func validation(format string, args ...any) error {
	return protocol.Errorf("ValidationException", format, args...)
}

func notFound(format string, args ...any) error {
	return protocol.Errorf("ObjectNotFoundException", format, args...)
}

func (s *Service) registerScalableTarget(r *region, c *protocol.Call) (any, error) {
	var in aas.RegisterScalableTargetInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	if err := validateTarget(&in); err != nil {
		return nil, err
	}
	k := key(in.ServiceNamespace, *in.ResourceId, in.ScalableDimension)
	t, exists := r.targets[k]
	if !exists {
		if in.MinCapacity == nil || in.MaxCapacity == nil {
			return nil, validation("MinCapacity and MaxCapacity are required to register a new scalable target")
		}
		t = s.newTarget(c, &in)
	}
	next := withCapacity(*t, &in)
	if aws.ToInt32(next.MinCapacity) > aws.ToInt32(next.MaxCapacity) {
		return nil, validation("Minimum capacity cannot be greater than maximum capacity")
	}
	if sc, ok := s.cfg.Scalables[in.ServiceNamespace]; ok {
		if err := sc.ClampCapacity(c.Scope(), *in.ResourceId, aws.ToInt32(next.MinCapacity), aws.ToInt32(next.MaxCapacity), c.Now); err != nil {
			return nil, validation("%v", err)
		}
	}
	*t = next
	r.targets[k] = t
	r.tag(*t.ScalableTargetARN, in.Tags)
	return &aas.RegisterScalableTargetOutput{ScalableTargetARN: t.ScalableTargetARN}, nil
}

func validateTarget(in *aas.RegisterScalableTargetInput) error {
	if in.ServiceNamespace == "" || aws.ToString(in.ResourceId) == "" || in.ScalableDimension == "" {
		return validation("ServiceNamespace, ResourceId and ScalableDimension are required")
	}
	if in.ServiceNamespace == types.ServiceNamespaceEcs && !strings.HasPrefix(*in.ResourceId, "service/") {
		return validation("Unsupported resource ID format: %s", *in.ResourceId)
	}
	return nil
}

func (s *Service) newTarget(c *protocol.Call, in *aas.RegisterScalableTargetInput) *types.ScalableTarget {
	s.ids++
	return &types.ScalableTarget{ServiceNamespace: in.ServiceNamespace, ResourceId: in.ResourceId, ScalableDimension: in.ScalableDimension,
		CreationTime: aws.Time(c.Now), ScalableTargetARN: aws.String(fmt.Sprintf("arn:aws:application-autoscaling:%s:%s:scalable-target/%016x", c.Region, c.Account, s.ids)),
		RoleARN: aws.String(fmt.Sprintf("arn:aws:iam::%s:role/aws-service-role/ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService", c.Account))}
}

// withCapacity applies the capacity settings present in the request.
func withCapacity(t types.ScalableTarget, in *aas.RegisterScalableTargetInput) types.ScalableTarget {
	if in.MinCapacity != nil {
		t.MinCapacity = in.MinCapacity
	}
	if in.MaxCapacity != nil {
		t.MaxCapacity = in.MaxCapacity
	}
	if in.SuspendedState != nil {
		t.SuspendedState = in.SuspendedState
	}
	return t
}

// tag adds tags to a resource, creating its tag set.
func (r *region) tag(arn string, tags map[string]string) {
	if _, ok := r.tags[arn]; !ok {
		r.tags[arn] = map[string]string{}
	}
	for k, v := range tags {
		r.tags[arn][k] = v
	}
}

func (s *Service) describeScalableTargets(r *region, c *protocol.Call) (any, error) {
	var in aas.DescribeScalableTargetsInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	var found []types.ScalableTarget
	for _, k := range sortedKeys(r.targets) {
		t := r.targets[k]
		if t.ServiceNamespace != in.ServiceNamespace || (in.ScalableDimension != "" && t.ScalableDimension != in.ScalableDimension) {
			continue
		}
		if len(in.ResourceIds) > 0 && !contains(in.ResourceIds, aws.ToString(t.ResourceId)) {
			continue
		}
		found = append(found, *t)
	}
	start, end, next, err := protocol.Page(len(found), aws.ToString(in.NextToken), int(aws.ToInt32(in.MaxResults)), 50)
	if err != nil {
		return nil, validation("invalid NextToken")
	}
	return &aas.DescribeScalableTargetsOutput{ScalableTargets: found[start:end], NextToken: optString(next)}, nil
}

func (s *Service) deregisterScalableTarget(r *region, c *protocol.Call) (any, error) {
	var in aas.DeregisterScalableTargetInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	k, err := r.registered(in.ServiceNamespace, in.ResourceId, in.ScalableDimension)
	if err != nil {
		return nil, err
	}
	delete(r.targets, k)
	for pk, p := range r.policies {
		if strings.HasPrefix(pk, k+"/") {
			s.deleteAlarms(c.Scope(), p.Alarms)
			delete(r.policies, pk)
		}
	}
	for sk := range r.scheduled {
		if strings.HasPrefix(sk, k+"/") {
			delete(r.scheduled, sk)
		}
	}
	return &aas.DeregisterScalableTargetOutput{}, nil
}

func (s *Service) putScalingPolicy(r *region, c *protocol.Call) (any, error) {
	var in aas.PutScalingPolicyInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	k, err := r.registered(in.ServiceNamespace, in.ResourceId, in.ScalableDimension)
	if err != nil {
		return nil, err
	}
	if err := validatePolicy(&in); err != nil {
		return nil, err
	}
	pk := k + "/" + aws.ToString(in.PolicyName)
	p, exists := r.policies[pk]
	if !exists {
		s.ids++
		p = &types.ScalingPolicy{CreationTime: aws.Time(c.Now), PolicyARN: aws.String(fmt.Sprintf("arn:aws:autoscaling:%s:%s:scalingPolicy:%08x-0000-4000-8000-%012x:resource/%s/%s:policyName/%s",
			c.Region, c.Account, s.ids, s.ids, in.ServiceNamespace, aws.ToString(in.ResourceId), aws.ToString(in.PolicyName)))}
	}
	arn, created, old := p.PolicyARN, p.CreationTime, p.Alarms
	if err := protocol.Copy(&in, p); err != nil {
		return nil, err
	}
	p.PolicyARN, p.CreationTime = arn, created
	s.trackingAlarms(c.Scope(), p, old, c.Now)
	r.policies[pk] = p
	return &aas.PutScalingPolicyOutput{PolicyARN: p.PolicyARN, Alarms: p.Alarms}, nil
}

func validatePolicy(in *aas.PutScalingPolicyInput) error {
	if aws.ToString(in.PolicyName) == "" {
		return validation("PolicyName is required")
	}
	switch in.PolicyType {
	case types.PolicyTypeTargetTrackingScaling:
		tt := in.TargetTrackingScalingPolicyConfiguration
		if tt == nil || tt.TargetValue == nil {
			return validation("TargetTrackingScalingPolicyConfiguration with a TargetValue is required")
		}
		if tt.PredefinedMetricSpecification == nil && tt.CustomizedMetricSpecification == nil {
			return validation("A predefined or customized metric specification is required")
		}
	case types.PolicyTypeStepScaling, "":
		if in.StepScalingPolicyConfiguration == nil {
			return validation("StepScalingPolicyConfiguration is required")
		}
	}
	return nil
}

func (s *Service) describeScalingPolicies(r *region, c *protocol.Call) (any, error) {
	var in aas.DescribeScalingPoliciesInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	sel := selection{in.ServiceNamespace, in.ResourceId, in.ScalableDimension, in.PolicyNames}
	var found []types.ScalingPolicy
	for _, pk := range sortedKeys(r.policies) {
		p := r.policies[pk]
		if !sel.match(p.ServiceNamespace, p.ResourceId, p.ScalableDimension, p.PolicyName) {
			continue
		}
		found = append(found, *p)
	}
	start, end, next, err := protocol.Page(len(found), aws.ToString(in.NextToken), int(aws.ToInt32(in.MaxResults)), 10)
	if err != nil {
		return nil, validation("invalid NextToken")
	}
	return &aas.DescribeScalingPoliciesOutput{ScalingPolicies: found[start:end], NextToken: optString(next)}, nil
}

func (s *Service) deleteScalingPolicy(r *region, c *protocol.Call) (any, error) {
	var in aas.DeleteScalingPolicyInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	pk := key(in.ServiceNamespace, aws.ToString(in.ResourceId), in.ScalableDimension) + "/" + aws.ToString(in.PolicyName)
	p, ok := r.policies[pk]
	if ok {
		s.deleteAlarms(c.Scope(), p.Alarms)
	}
	if !ok {
		return nil, notFound("No scaling policy found for service namespace: %s, resource ID: %s, scalable dimension: %s, policy name: %s",
			in.ServiceNamespace, aws.ToString(in.ResourceId), in.ScalableDimension, aws.ToString(in.PolicyName))
	}
	delete(r.policies, pk)
	return &aas.DeleteScalingPolicyOutput{}, nil
}

func (s *Service) tagResource(r *region, c *protocol.Call) (any, error) {
	var in aas.TagResourceInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	tags, ok := r.tags[aws.ToString(in.ResourceARN)]
	if !ok {
		return nil, protocol.Errorf("ResourceNotFoundException", "resource %s not found", aws.ToString(in.ResourceARN))
	}
	for k, v := range in.Tags {
		tags[k] = v
	}
	return &aas.TagResourceOutput{}, nil
}

func (s *Service) untagResource(r *region, c *protocol.Call) (any, error) {
	var in aas.UntagResourceInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	tags, ok := r.tags[aws.ToString(in.ResourceARN)]
	if !ok {
		return nil, protocol.Errorf("ResourceNotFoundException", "resource %s not found", aws.ToString(in.ResourceARN))
	}
	for _, k := range in.TagKeys {
		delete(tags, k)
	}
	return &aas.UntagResourceOutput{}, nil
}

func (s *Service) listTagsForResource(r *region, c *protocol.Call) (any, error) {
	var in aas.ListTagsForResourceInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	tags, ok := r.tags[aws.ToString(in.ResourceARN)]
	if !ok {
		return nil, protocol.Errorf("ResourceNotFoundException", "resource %s not found", aws.ToString(in.ResourceARN))
	}
	return &aas.ListTagsForResourceOutput{Tags: tags}, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
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

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

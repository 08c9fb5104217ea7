// Package elbv2 emulates Elastic Load Balancing v2 (awsQuery): load
// balancers, target groups, listeners and rules with weighted forward
// actions, target registration with health checks evaluated over emulated
// time, connection draining after the deregistration delay, and a traffic
// model that turns requests sent through a listener into per-target-group
// 2xx/5xx counts and CloudWatch metrics.
package elbv2

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

const xmlns = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"

// lbProvisionTime is how long a new load balancer stays "provisioning".
const lbProvisionTime = 30 * time.Second

// MetricSink receives the metrics the traffic model produces.
type MetricSink interface {
	// PutMetric records one datapoint.
	PutMetric(scope protocol.Scope, namespace, name string, dims map[string]string, value float64, unit string, at time.Time)
}

// Functions is the part of Lambda that lambda target groups use.
type Functions interface {
	// AllowsInvoke reports whether the function's resource policy lets
	// principal invoke it from sourceArn.
	AllowsInvoke(scope protocol.Scope, functionArn, principal, sourceArn string) bool
	// Invoke runs the function (alias routing included) and reports
	// whether it failed; ready is false while it cannot be invoked.
	Invoke(scope protocol.Scope, functionArn string, now time.Time) (failed, ready bool)
}

// Config wires ELBv2 to the services it feeds.
type Config struct {
	// Metrics receives AWS/ApplicationELB metrics; optional.
	Metrics MetricSink
	// Functions backs lambda target groups; optional.
	Functions Functions
}

// Service is the emulated ELBv2.
type Service struct {
	cfg     Config
	codec   *protocol.Query
	regions map[protocol.Scope]*region
	ids     uint64
}

// New returns an empty ELBv2.
func New(cfg Config) *Service {
	return &Service{cfg: cfg, codec: protocol.NewQuery(xmlns), regions: map[protocol.Scope]*region{}}
}

// Name returns the signing name "elasticloadbalancing".
func (s *Service) Name() string { return "elasticloadbalancing" }

// Kind returns awsQuery.
func (s *Service) Kind() protocol.Kind { return protocol.KindQuery }

// Codec returns the awsQuery codec.
func (s *Service) Codec() protocol.Codec { return s.codec }

// handler serves one operation.
type handler func(s *Service, r *region, f protocol.Form, now time.Time) (any, error)

var handlers = map[string]handler{
	"CreateLoadBalancer":             (*Service).createLoadBalancer,
	"DescribeLoadBalancers":          (*Service).describeLoadBalancers,
	"DeleteLoadBalancer":             (*Service).deleteLoadBalancer,
	"DescribeLoadBalancerAttributes": (*Service).describeLoadBalancerAttributes,
	"ModifyLoadBalancerAttributes":   (*Service).modifyLoadBalancerAttributes,
	"CreateTargetGroup":              (*Service).createTargetGroup,
	"DescribeTargetGroups":           (*Service).describeTargetGroups,
	"ModifyTargetGroup":              (*Service).modifyTargetGroup,
	"DeleteTargetGroup":              (*Service).deleteTargetGroup,
	"DescribeTargetGroupAttributes":  (*Service).describeTargetGroupAttributes,
	"ModifyTargetGroupAttributes":    (*Service).modifyTargetGroupAttributes,
	"RegisterTargets":                (*Service).registerTargets,
	"DeregisterTargets":              (*Service).deregisterTargets,
	"DescribeTargetHealth":           (*Service).describeTargetHealth,
	"CreateListener":                 (*Service).createListener,
	"DescribeListeners":              (*Service).describeListeners,
	"ModifyListener":                 (*Service).modifyListener,
	"DeleteListener":                 (*Service).deleteListener,
	"CreateRule":                     (*Service).createRule,
	"DescribeRules":                  (*Service).describeRules,
	"ModifyRule":                     (*Service).modifyRule,
	"DeleteRule":                     (*Service).deleteRule,
	"SetRulePriorities":              (*Service).setRulePriorities,
	"AddTags":                        (*Service).addTags,
	"RemoveTags":                     (*Service).removeTags,
	"DescribeTags":                   (*Service).describeTags,
}

// Handle serves one ELBv2 call.
func (s *Service) Handle(c *protocol.Call) (any, error) {
	h, ok := handlers[c.Operation]
	if !ok {
		return nil, protocol.Errorf("InvalidAction", "operation %s is not supported by the emulator", c.Operation)
	}
	return h(s, s.region(c.Scope()), protocol.NewForm(c.Form), c.Now)
}

func (s *Service) region(scope protocol.Scope) *region {
	r, ok := s.regions[scope]
	if !ok {
		r = newRegion(scope)
		s.regions[scope] = r
	}
	return r
}

// newID returns a unique, deterministic 16-hex-digit id.
func (s *Service) newID() string {
	s.ids++
	return fmt.Sprintf("%016x", s.ids)
}

// elbName is what target group and load balancer names may contain.
var elbName = regexp.MustCompile(`^[a-zA-Z0-9-]*$`)

// checkName applies ELBv2's rules to a target group or load balancer name
// (what is "Target group name" or "The load balancer name"): 1 to 32
// letters, digits and hyphens, not beginning or ending with a hyphen.
func checkName(what, name string) error {
	switch {
	case name == "":
		return validation("%s '' cannot be empty", what)
	case len(name) > 32:
		return validation("%s '%s' cannot be longer than '32' characters", what, name)
	case !elbName.MatchString(name):
		return validation("%s '%s' can only contain characters that are alphanumeric characters or hyphens(-)", what, name)
	case strings.HasPrefix(name, "-") || strings.HasSuffix(name, "-"):
		return validation("%s '%s' cannot begin or end with '-'", what, name)
	}
	return nil
}

func validation(format string, args ...any) error {
	return protocol.Errorf("ValidationError", format, args...)
}

func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

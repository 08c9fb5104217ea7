// Package autoscaling emulates EC2 Auto Scaling (awsQuery): groups that
// launch instances from EC2 launch templates, converge on their desired
// capacity over emulated time, register instances in target groups, replace
// unhealthy instances, and run instance refreshes within
// MinHealthyPercentage.
package autoscaling

import (
	"fmt"
	"sort"
	"time"

	"github.com/jibe-dev/jibe/internal/awsemu/artifact"
	"github.com/jibe-dev/jibe/internal/awsemu/ec2"
	"github.com/jibe-dev/jibe/internal/awsemu/ecs"
	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

const xmlns = "http://autoscaling.amazonaws.com/doc/2011-01-01/"

// Timing of the emulated instance lifecycle.
const (
	launchTime    = 30 * time.Second // Pending → InService
	terminateTime = 10 * time.Second // Terminating → Terminated (after draining)
)

// Templates resolves launch templates (EC2).
type Templates interface {
	Resolve(scope protocol.Scope, id, name, version string) (ec2.Template, error)
}

// Targets is the part of ELBv2 groups register instances in.
type Targets interface {
	RegisterTarget(scope protocol.Scope, arn, id string, port int32, b artifact.Behavior, now time.Time) error
	DeregisterTarget(scope protocol.Scope, arn, id string, port int32, now time.Time) error
	TargetState(scope protocol.Scope, arn, id string, port int32, now time.Time) ecs.TargetState
}

// Images tells whether instances of a machine image can launch (EC2):
// its state, or the error RunInstances answers for it.
type Images interface {
	ImageState(scope protocol.Scope, id string, now time.Time) (string, error)
}

// Artifacts tells how machine images behave.
type Artifacts interface {
	Image(image string) artifact.Behavior
}

// Config wires Auto Scaling to the services it depends on.
type Config struct {
	Templates Templates
	Targets   Targets
	Artifacts Artifacts
	// Images, when set, refuses launches of AMIs that do not exist or are
	// not available: the launch fails as a scaling activity.
	Images Images
}

// Service is the emulated EC2 Auto Scaling.
type Service struct {
	cfg     Config
	codec   *protocol.Query
	regions map[protocol.Scope]*region
	ids     int
}

// New returns an empty Auto Scaling.
func New(cfg Config) *Service {
	return &Service{cfg: cfg, codec: protocol.NewQuery(xmlns), regions: map[protocol.Scope]*region{}}
}

// Name returns the signing name "autoscaling".
func (s *Service) Name() string { return "autoscaling" }

// Kind returns awsQuery.
func (s *Service) Kind() protocol.Kind { return protocol.KindQuery }

// Codec returns the awsQuery codec.
func (s *Service) Codec() protocol.Codec { return s.codec }

type region struct {
	scope  protocol.Scope
	groups map[string]*group
}

func (s *Service) region(scope protocol.Scope) *region {
	r, ok := s.regions[scope]
	if !ok {
		r = &region{scope: scope, groups: map[string]*group{}}
		s.regions[scope] = r
	}
	return r
}

type handler func(s *Service, r *region, f protocol.Form, now time.Time) (any, error)

var handlers = map[string]handler{
	"CreateAutoScalingGroup":         (*Service).createGroup,
	"DescribeAutoScalingGroups":      (*Service).describeGroups,
	"UpdateAutoScalingGroup":         (*Service).updateGroup,
	"SetDesiredCapacity":             (*Service).setDesiredCapacity,
	"DeleteAutoScalingGroup":         (*Service).deleteGroup,
	"StartInstanceRefresh":           (*Service).startInstanceRefresh,
	"DescribeInstanceRefreshes":      (*Service).describeInstanceRefreshes,
	"CancelInstanceRefresh":          (*Service).cancelInstanceRefresh,
	"RollbackInstanceRefresh":        (*Service).rollbackInstanceRefresh,
	"AttachLoadBalancerTargetGroups": (*Service).attachTargetGroups,
	"DetachLoadBalancerTargetGroups": (*Service).detachTargetGroups,
	"SuspendProcesses":               (*Service).suspendProcesses,
	"ResumeProcesses":                (*Service).resumeProcesses,
	"CreateOrUpdateTags":             (*Service).createOrUpdateTags,
	"DeleteTags":                     (*Service).deleteTags,
	"PutScalingPolicy":               (*Service).putScalingPolicy,
	"DescribePolicies":               (*Service).describePolicies,
	"DeletePolicy":                   (*Service).deletePolicy,
	"DescribeScalingActivities":      (*Service).describeScalingActivities,
	"PutLifecycleHook":               (*Service).putLifecycleHook,
	"DescribeLifecycleHooks":         (*Service).describeLifecycleHooks,
	"DeleteLifecycleHook":            (*Service).deleteLifecycleHook,
	"CompleteLifecycleAction":        (*Service).completeLifecycleAction,
	"PutScheduledUpdateGroupAction":  (*Service).putScheduledAction,
	"DescribeScheduledActions":       (*Service).describeScheduledActions,
	"DeleteScheduledAction":          (*Service).deleteScheduledAction,
	"PutWarmPool":                    (*Service).putWarmPool,
	"DescribeWarmPool":               (*Service).describeWarmPool,
	"DeleteWarmPool":                 (*Service).deleteWarmPool,
}

// Handle serves one Auto Scaling call.
func (s *Service) Handle(c *protocol.Call) (any, error) {
	h, ok := handlers[c.Operation]
	if !ok {
		return nil, protocol.Errorf("InvalidAction", "operation %s is not supported by the emulator", c.Operation)
	}
	return h(s, s.region(c.Scope()), protocol.NewForm(c.Form), c.Now)
}

// Step advances every group of every region.
func (s *Service) Step(now time.Time) {
	for _, r := range s.regions {
		names := make([]string, 0, len(r.groups))
		for n := range r.groups {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			if s.stepGroup(r, r.groups[n], now) {
				delete(r.groups, n)
			}
		}
	}
}

func (s *Service) newID(prefix string) string {
	s.ids++
	return fmt.Sprintf("%s%017x", prefix, s.ids)
}

func validation(format string, args ...any) error {
	return protocol.Errorf("ValidationError", format, args...)
}

func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

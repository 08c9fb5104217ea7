// Package ecs emulates Amazon ECS (awsJson1.1): clusters, task definition
// families and revisions, services with rolling deployments, and tasks.
//
// Deployments follow ECS's rolling-update rules over emulated time: an
// update creates a PRIMARY deployment, older ones become ACTIVE and drain
// within the minimumHealthyPercent/maximumPercent bounds, tasks register
// into the service's target groups and become healthy through ELBv2's
// health checks, and the deployment circuit breaker fails (and optionally
// rolls back) deployments whose tasks keep failing.
package ecs

import (
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs/schemas"
	"github.com/jibe-dev/jibe/internal/awsemu/artifact"
	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

// TargetState is the health of a registered target as ELBv2 reports it.
type TargetState string

// Target states ECS reacts to.
const (
	TargetInitial   TargetState = "initial"
	TargetHealthy   TargetState = "healthy"
	TargetUnhealthy TargetState = "unhealthy"
	TargetDraining  TargetState = "draining"
	// TargetGone means the target is not registered (any more).
	TargetGone TargetState = ""
)

// Targets is the part of ELBv2 that ECS drives: the target groups of
// services with load balancers.
type Targets interface {
	// TargetGroupType returns the target type ("ip", "instance") of a
	// target group, and false when it does not exist.
	TargetGroupType(scope protocol.Scope, arn string) (string, bool)
	// TargetGroupAttached reports whether a listener or rule forwards to
	// the target group.
	TargetGroupAttached(scope protocol.Scope, arn string) bool
	// RegisterTarget registers id:port; it behaves like the artifact it
	// runs (broken targets fail health checks).
	RegisterTarget(scope protocol.Scope, arn, id string, port int32, b artifact.Behavior, now time.Time) error
	// DeregisterTarget starts draining id:port.
	DeregisterTarget(scope protocol.Scope, arn, id string, port int32, now time.Time) error
	// TargetState returns the health of id:port in the target group.
	TargetState(scope protocol.Scope, arn, id string, port int32, now time.Time) TargetState
	// HealthCheckInterval returns the target group's health check
	// interval: ECS replaces a task whose target has been unhealthy for
	// one more interval, so the unhealthy state is visible first.
	HealthCheckInterval(scope protocol.Scope, arn string) time.Duration
}

// Artifacts tells how container images behave.
type Artifacts interface {
	Image(image string) artifact.Behavior
}

// Registry is the part of Cloud Map that ECS drives: the instances of
// services with service registries.
type Registry interface {
	RegisterInstance(scope protocol.Scope, serviceArn, instanceID string, attrs map[string]string, now time.Time) error
	DeregisterInstance(scope protocol.Scope, serviceArn, instanceID string, now time.Time) error
}

// Alarms is the part of CloudWatch that deployment alarms watch.
type Alarms interface {
	// AlarmState returns "OK", "ALARM", "INSUFFICIENT_DATA", or "" when the
	// alarm does not exist.
	AlarmState(scope protocol.Scope, name string) string
	// AlarmWindow returns how long to watch the alarm after a deployment
	// reached its steady state (the bake time).
	AlarmWindow(scope protocol.Scope, name string) time.Duration
}

// Config wires ECS to the services it depends on.
type Config struct {
	// Alarms backs deployment alarms; optional.
	Alarms    Alarms
	Targets   Targets
	Artifacts Artifacts
	// Registry receives task instances of services with service
	// registries; optional.
	Registry Registry
	// Images is the ECR that tasks pull their account's images from;
	// optional (every image pulls when nil).
	Images Images
}

// Timing of the emulated task lifecycle.
const (
	provisionTime = 5 * time.Second  // PROVISIONING → PENDING
	startTime     = 10 * time.Second // PENDING → RUNNING
	stopTime      = 5 * time.Second  // STOPPING → STOPPED
	stoppedTTL    = time.Hour        // how long STOPPED tasks stay visible
)

// Service is the emulated ECS.
type Service struct {
	cfg     Config
	codec   *protocol.JSON11
	regions map[protocol.Scope]*region
	ids     int64
}

// New returns an empty ECS.
func New(cfg Config) *Service {
	return &Service{
		cfg:     cfg,
		codec:   protocol.NewJSON11(schemas.AmazonEC2ContainerServiceV20141113),
		regions: map[protocol.Scope]*region{},
	}
}

// Name returns the signing name "ecs".
func (s *Service) Name() string { return "ecs" }

// Kind returns awsJson1.1.
func (s *Service) Kind() protocol.Kind { return protocol.KindJSON11 }

// Codec returns the awsJson1.1 codec.
func (s *Service) Codec() protocol.Codec { return s.codec }

// handler serves one operation.
type handler func(s *Service, c *protocol.Call) (any, error)

var handlers = map[string]handler{
	"CreateCluster":               (*Service).createCluster,
	"DescribeClusters":            (*Service).describeClusters,
	"ListClusters":                (*Service).listClusters,
	"DeleteCluster":               (*Service).deleteCluster,
	"RegisterTaskDefinition":      (*Service).registerTaskDefinition,
	"DescribeTaskDefinition":      (*Service).describeTaskDefinition,
	"DeregisterTaskDefinition":    (*Service).deregisterTaskDefinition,
	"ListTaskDefinitions":         (*Service).listTaskDefinitions,
	"ListTaskDefinitionFamilies":  (*Service).listTaskDefinitionFamilies,
	"CreateService":               (*Service).createService,
	"UpdateService":               (*Service).updateService,
	"DeleteService":               (*Service).deleteService,
	"DescribeServices":            (*Service).describeServices,
	"ListServices":                (*Service).listServices,
	"ListTasks":                   (*Service).listTasks,
	"DescribeTasks":               (*Service).describeTasks,
	"StopTask":                    (*Service).stopTask,
	"RunTask":                     (*Service).runTask,
	"CreateTaskSet":               (*Service).createTaskSet,
	"UpdateTaskSet":               (*Service).updateTaskSet,
	"UpdateServicePrimaryTaskSet": (*Service).updateServicePrimaryTaskSet,
	"DeleteTaskSet":               (*Service).deleteTaskSet,
	"DescribeTaskSets":            (*Service).describeTaskSets,
	"TagResource":                 (*Service).tagResource,
	"UntagResource":               (*Service).untagResource,
	"ListTagsForResource":         (*Service).listTagsForResource,
	"RegisterContainerInstance":   (*Service).registerContainerInstance,
	"DeregisterContainerInstance": (*Service).deregisterContainerInstance,
	"ListContainerInstances":      (*Service).listContainerInstances,
	"DescribeContainerInstances":  (*Service).describeContainerInstances,
}

// Handle serves one ECS call.
func (s *Service) Handle(c *protocol.Call) (any, error) {
	h, ok := handlers[c.Operation]
	if !ok {
		return nil, protocol.Errorf("UnknownOperationException", "operation %s is not supported by the emulator", c.Operation)
	}
	return h(s, c)
}

// region returns the state of the call's account and region.
func (s *Service) region(scope protocol.Scope) *region {
	r, ok := s.regions[scope]
	if !ok {
		r = newRegion(scope)
		s.regions[scope] = r
	}
	return r
}

// newID returns a unique, deterministic hexadecimal id.
func (s *Service) newID() string {
	s.ids++
	return fmt.Sprintf("%032x", s.ids)
}

func invalidParameter(format string, args ...any) error {
	return protocol.Errorf("InvalidParameterException", format, args...)
}

func clientError(format string, args ...any) error {
	return protocol.Errorf("ClientException", format, args...)
}

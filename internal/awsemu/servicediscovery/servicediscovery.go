// Package servicediscovery emulates AWS Cloud Map (awsJson1.1): HTTP and
// DNS namespaces created through asynchronous operations that complete
// over emulated time, services, instances (registered by clients or by
// ECS for services with service registries), custom health status and
// DiscoverInstances.
package servicediscovery

import (
	"fmt"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"
	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

// Operation timings: how long asynchronous operations stay SUBMITTED and
// PENDING before SUCCESS.
const (
	namespaceTime = 30 * time.Second // DNS namespaces (hosted zone creation)
	instanceTime  = 5 * time.Second  // instance (de)registration
)

// Service is the emulated Cloud Map.
type Service struct {
	codec   *protocol.JSON11
	regions map[protocol.Scope]*region
	ids     int
}

// New returns an empty Cloud Map.
func New() *Service {
	return &Service{codec: protocol.NewLegacyJSON11(false), regions: map[protocol.Scope]*region{}}
}

// Name returns the signing name "servicediscovery".
func (s *Service) Name() string { return "servicediscovery" }

// Kind returns awsJson1.1.
func (s *Service) Kind() protocol.Kind { return protocol.KindJSON11 }

// Codec returns the awsJson1.1 codec.
func (s *Service) Codec() protocol.Codec { return s.codec }

// region is the Cloud Map state of one account and region.
type region struct {
	scope      protocol.Scope
	namespaces map[string]*namespace // by id
	services   map[string]*service   // by id
	operations map[string]*operation // by id
	tags       map[string][]types.Tag
}

type namespace struct {
	ns    types.Namespace
	ready time.Time // visible from then on (operation SUCCESS)
}

type service struct {
	svc       types.Service
	instances map[string]*instance
}

type instance struct {
	inst   types.Instance
	health types.HealthStatus
}

type operation struct {
	op   types.Operation
	done time.Time
}

func (s *Service) region(scope protocol.Scope) *region {
	r, ok := s.regions[scope]
	if !ok {
		r = &region{scope: scope, namespaces: map[string]*namespace{}, services: map[string]*service{},
			operations: map[string]*operation{}, tags: map[string][]types.Tag{}}
		s.regions[scope] = r
	}
	return r
}

func (r *region) arn(resource string) string {
	return fmt.Sprintf("arn:aws:servicediscovery:%s:%s:%s", r.scope.Region, r.scope.Account, resource)
}

func (s *Service) id(prefix string) string {
	s.ids++
	return fmt.Sprintf("%s-%016x", prefix, s.ids)
}

type handler func(s *Service, r *region, c *protocol.Call) (any, error)

var handlers = map[string]handler{
	"CreateHttpNamespace":              (*Service).createHTTPNamespace,
	"CreatePrivateDnsNamespace":        (*Service).createPrivateDNSNamespace,
	"GetNamespace":                     (*Service).getNamespace,
	"ListNamespaces":                   (*Service).listNamespaces,
	"DeleteNamespace":                  (*Service).deleteNamespace,
	"GetOperation":                     (*Service).getOperation,
	"CreateService":                    (*Service).createService,
	"GetService":                       (*Service).getService,
	"ListServices":                     (*Service).listServices,
	"DeleteService":                    (*Service).deleteService,
	"RegisterInstance":                 (*Service).registerInstance,
	"DeregisterInstance":               (*Service).deregisterInstance,
	"GetInstance":                      (*Service).getInstance,
	"ListInstances":                    (*Service).listInstances,
	"DiscoverInstances":                (*Service).discoverInstances,
	"GetInstancesHealthStatus":         (*Service).getInstancesHealthStatus,
	"UpdateInstanceCustomHealthStatus": (*Service).updateInstanceCustomHealthStatus,
	"TagResource":                      (*Service).tagResource,
	"UntagResource":                    (*Service).untagResource,
	"ListTagsForResource":              (*Service).listTagsForResource,
}

// Handle serves one Cloud Map call.
func (s *Service) Handle(c *protocol.Call) (any, error) {
	h, ok := handlers[c.Operation]
	if !ok {
		return nil, protocol.Errorf("UnknownOperationException", "operation %s is not supported by the emulator", c.Operation)
	}
	return h(s, s.region(c.Scope()), c)
}

// Step completes the asynchronous operations that are due.
func (s *Service) Step(now time.Time) {
	for _, r := range s.regions {
		for _, op := range r.operations {
			op.advance(now)
		}
	}
}

// advance moves an operation SUBMITTED → PENDING → SUCCESS.
func (o *operation) advance(now time.Time) {
	switch {
	case o.op.Status == types.OperationStatusSuccess:
	case !now.Before(o.done):
		o.op.Status, o.op.UpdateDate = types.OperationStatusSuccess, aws.Time(o.done)
	case o.op.Status == types.OperationStatusSubmitted && now.After(*o.op.CreateDate):
		o.op.Status, o.op.UpdateDate = types.OperationStatusPending, aws.Time(now)
	}
}

// newOperation records an asynchronous operation finishing after d.
func (s *Service) newOperation(r *region, now time.Time, typ types.OperationType, targets map[string]string, d time.Duration) string {
	id := s.id("op")
	op := &operation{op: types.Operation{Id: aws.String(id), Type: typ, Status: types.OperationStatusSubmitted, Targets: targets,
		CreateDate: aws.Time(now), UpdateDate: aws.Time(now), OwnerAccount: aws.String(r.scope.Account)}, done: now.Add(d)}
	op.advance(now)
	r.operations[id] = op
	return id
}

func (s *Service) getOperation(r *region, c *protocol.Call) (any, error) {
	var in sd.GetOperationInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	op, ok := r.operations[aws.ToString(in.OperationId)]
	if !ok {
		return nil, protocol.Errorf("OperationNotFound", "Operation %s not found", aws.ToString(in.OperationId))
	}
	o := op.op
	return &sd.GetOperationOutput{Operation: &o}, nil
}

func invalid(format string, args ...any) error {
	return protocol.Errorf("InvalidInput", format, args...)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Package lambda emulates AWS Lambda (restJson1): functions with their full
// configuration, the Pending → Active and InProgress → Successful state
// machines over emulated time, RevisionId preconditions, versions,
// weighted aliases, provisioned concurrency (IN_PROGRESS → READY over
// emulated time), Invoke with a configurable result, resource policies,
// tags and event source mappings (Creating → Enabled over emulated time).
package lambda

import (
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda/schemas"
	"github.com/jibe-dev/jibe/internal/awsemu/artifact"
	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

// Timing of the emulated state machines.
const (
	createTime    = 5 * time.Second  // Pending → Active
	createTimeVPC = 30 * time.Second // Pending → Active with a VPC
	updateTime    = 5 * time.Second  // InProgress → Successful
)

// Artifacts tells how function versions behave.
type Artifacts interface {
	FunctionVersion(function, version string) artifact.Behavior
}

// Config wires Lambda to the services it depends on.
type Config struct {
	Artifacts Artifacts
	// Metrics receives the AWS/Lambda metrics of invocations; optional.
	Metrics Metrics
}

// Metrics stores CloudWatch datapoints.
type Metrics interface {
	PutMetric(scope protocol.Scope, namespace, name string, dims map[string]string, value float64, unit string, at time.Time)
}

// Service is the emulated Lambda.
type Service struct {
	cfg     Config
	codec   *protocol.RESTJSON
	regions map[protocol.Scope]*region
	ids     int
}

// New returns an empty Lambda.
func New(cfg Config) *Service {
	return &Service{cfg: cfg, codec: protocol.NewRESTJSON(schemas.AWSGirApiService), regions: map[protocol.Scope]*region{}}
}

// Name returns the signing name "lambda".
func (s *Service) Name() string { return "lambda" }

// Kind returns restJson1.
func (s *Service) Kind() protocol.Kind { return protocol.KindRESTJSON }

// Codec returns the restJson1 codec.
func (s *Service) Codec() protocol.Codec { return s.codec }

// region is the Lambda state of one account and region.
type region struct {
	scope     protocol.Scope
	functions map[string]*function
	layers    map[string]int      // latest version of each layer
	mappings  map[string]*mapping // event source mappings by UUID
}

func (s *Service) region(scope protocol.Scope) *region {
	r, ok := s.regions[scope]
	if !ok {
		r = &region{scope: scope, functions: map[string]*function{}, layers: map[string]int{}, mappings: map[string]*mapping{}}
		s.regions[scope] = r
	}
	return r
}

// route is one restJson1 operation binding and its handler.
type route struct {
	protocol.Route
	h handler
}

// handler serves one operation.
type handler func(s *Service, r *region, c *protocol.Call) (any, error)

var routes = []route{
	newRoute("POST /2015-03-31/functions", "CreateFunction", (*Service).createFunction),
	newRoute("GET /2015-03-31/functions", "ListFunctions", (*Service).listFunctions),
	newRoute("GET /2015-03-31/functions/{FunctionName}", "GetFunction", (*Service).getFunction),
	newRoute("DELETE /2015-03-31/functions/{FunctionName}", "DeleteFunction", (*Service).deleteFunction),
	newRoute("GET /2015-03-31/functions/{FunctionName}/configuration", "GetFunctionConfiguration", (*Service).getFunctionConfiguration),
	newRoute("PUT /2015-03-31/functions/{FunctionName}/configuration", "UpdateFunctionConfiguration", (*Service).updateFunctionConfiguration),
	newRoute("PUT /2015-03-31/functions/{FunctionName}/code", "UpdateFunctionCode", (*Service).updateFunctionCode),
	newRoute("POST /2015-03-31/functions/{FunctionName}/versions", "PublishVersion", (*Service).publishVersion),
	newRoute("GET /2015-03-31/functions/{FunctionName}/versions", "ListVersionsByFunction", (*Service).listVersions),
	newRoute("POST /2015-03-31/functions/{FunctionName}/aliases", "CreateAlias", (*Service).createAlias),
	newRoute("GET /2015-03-31/functions/{FunctionName}/aliases", "ListAliases", (*Service).listAliases),
	newRoute("GET /2015-03-31/functions/{FunctionName}/aliases/{Name}", "GetAlias", (*Service).getAlias),
	newRoute("PUT /2015-03-31/functions/{FunctionName}/aliases/{Name}", "UpdateAlias", (*Service).updateAlias),
	newRoute("DELETE /2015-03-31/functions/{FunctionName}/aliases/{Name}", "DeleteAlias", (*Service).deleteAlias),
	newRoute("POST /2015-03-31/functions/{FunctionName}/invocations", "Invoke", (*Service).invoke),
	newRoute("POST /2015-03-31/functions/{FunctionName}/policy", "AddPermission", (*Service).addPermission),
	newRoute("GET /2015-03-31/functions/{FunctionName}/policy", "GetPolicy", (*Service).getPolicy),
	newRoute("DELETE /2015-03-31/functions/{FunctionName}/policy/{StatementId}", "RemovePermission", (*Service).removePermission),
	newRoute("PUT /2017-10-31/functions/{FunctionName}/concurrency", "PutFunctionConcurrency", (*Service).putConcurrency),
	newRoute("DELETE /2017-10-31/functions/{FunctionName}/concurrency", "DeleteFunctionConcurrency", (*Service).deleteConcurrency),
	newRoute("GET /2019-09-30/functions/{FunctionName}/concurrency", "GetFunctionConcurrency", (*Service).getConcurrency),
	newRoute("PUT /2019-09-30/functions/{FunctionName}/provisioned-concurrency", "PutProvisionedConcurrencyConfig", (*Service).putProvisioned),
	newRoute("GET /2019-09-30/functions/{FunctionName}/provisioned-concurrency", "GetProvisionedConcurrencyConfig", (*Service).getProvisioned),
	newRoute("GET /2019-09-30/functions/{FunctionName}/provisioned-concurrency", "ListProvisionedConcurrencyConfigs", (*Service).listProvisioned),
	newRoute("DELETE /2019-09-30/functions/{FunctionName}/provisioned-concurrency", "DeleteProvisionedConcurrencyConfig", (*Service).deleteProvisioned),
	newRoute("POST /2015-03-31/event-source-mappings", "CreateEventSourceMapping", (*Service).createEventSourceMapping),
	newRoute("GET /2015-03-31/event-source-mappings", "ListEventSourceMappings", (*Service).listEventSourceMappings),
	newRoute("GET /2015-03-31/event-source-mappings/{UUID}", "GetEventSourceMapping", (*Service).getEventSourceMapping),
	newRoute("PUT /2015-03-31/event-source-mappings/{UUID}", "UpdateEventSourceMapping", (*Service).updateEventSourceMapping),
	newRoute("DELETE /2015-03-31/event-source-mappings/{UUID}", "DeleteEventSourceMapping", (*Service).deleteEventSourceMapping),
	newRoute("POST /2018-10-31/layers/{LayerName}/versions", "PublishLayerVersion", (*Service).publishLayerVersion),
	newRoute("GET /2018-10-31/layers", "GetLayerVersionByArn", (*Service).getLayerVersionByArn),
	newRoute("GET /2017-03-31/tags/{Resource}", "ListTags", (*Service).listTags),
	newRoute("POST /2017-03-31/tags/{Resource}", "TagResource", (*Service).tagResource),
	newRoute("DELETE /2017-03-31/tags/{Resource}", "UntagResource", (*Service).untagResource),
}

func newRoute(spec, op string, h handler) route {
	return route{Route: protocol.NewRoute(spec, op), h: h}
}

// Route resolves the operation from the method and path.
func (s *Service) Route(c *protocol.Call) bool {
	for _, rt := range routes {
		if params, ok := rt.Match(c.HTTP.Method, c.HTTP.URL.EscapedPath()); ok {
			c.Operation, c.Params = rt.Operation, params
			if c.Operation == "GetProvisionedConcurrencyConfig" && c.HTTP.URL.Query().Get("List") == "ALL" {
				c.Operation = "ListProvisionedConcurrencyConfigs" // the same path, told apart by the query
			}
			return true
		}
	}
	return false
}

// Handle serves one Lambda call.
func (s *Service) Handle(c *protocol.Call) (any, error) {
	for _, rt := range routes {
		if rt.Operation == c.Operation {
			return rt.h(s, s.region(c.Scope()), c)
		}
	}
	return nil, protocol.StatusErrorf(http.StatusNotFound, "UnknownOperationException", "unknown operation %s", c.Operation)
}

// Step finishes function creations and updates, and event source
// mapping transitions, that are due.
func (s *Service) Step(now time.Time) {
	for _, r := range s.regions {
		names := make([]string, 0, len(r.functions))
		for n := range r.functions {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			s.settle(r.functions[n], now)
		}
		r.settleMappings(now)
	}
}

func (s *Service) revision() string {
	s.ids++
	return fmt.Sprintf("%08x-0000-4000-8000-%012x", s.ids, s.ids)
}

func notFound(format string, args ...any) error {
	return protocol.StatusErrorf(http.StatusNotFound, "ResourceNotFoundException", format, args...)
}

func conflict(format string, args ...any) error {
	return protocol.StatusErrorf(http.StatusConflict, "ResourceConflictException", format, args...)
}

func invalid(format string, args ...any) error {
	return protocol.Errorf("InvalidParameterValueException", format, args...)
}

func preconditionFailed() error {
	return protocol.StatusErrorf(http.StatusPreconditionFailed, "PreconditionFailedException",
		"The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id")
}

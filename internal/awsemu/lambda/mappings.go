package lambda

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

// mappingTime is how long an event source mapping stays Creating,
// Updating or Deleting.
const mappingTime = 5 * time.Second

// Event source mapping states, as Lambda reports them.
const (
	mappingCreating = "Creating"
	mappingEnabled  = "Enabled"
	mappingDisabled = "Disabled"
	mappingUpdating = "Updating"
	mappingDeleting = "Deleting"
)

// mapping is one event source mapping: its configuration as Lambda
// reports it, whether it is enabled once settled, and when its current
// transition ends.
type mapping struct {
	cfg       types.EventSourceMappingConfiguration
	function  string // the function's name
	qualifier string // "" when the mapping's FunctionArn is unqualified
	enabled   bool
	settleAt  time.Time
}

// settleMappings finishes the transitions of r's mappings that are due.
func (r *region) settleMappings(now time.Time) {
	for id, m := range r.mappings {
		if now.Before(m.settleAt) {
			continue
		}
		switch aws.ToString(m.cfg.State) {
		case mappingDeleting:
			delete(r.mappings, id)
		case mappingCreating, mappingUpdating:
			m.cfg.State = aws.String(mappingDisabled)
			if m.enabled {
				m.cfg.State = aws.String(mappingEnabled)
			}
		}
	}
}

// mappingTarget resolves the FunctionName of a mapping: the function and
// its qualifier (a version or an alias, which must exist).
func (r *region) mappingTarget(ref string) (*function, string, error) {
	fn, q, err := r.find(ref)
	if err != nil {
		return nil, "", err
	}
	if q == latest {
		q = ""
	}
	if _, err := fn.resolve(q); err != nil {
		return nil, "", err
	}
	return fn, q, nil
}

func (s *Service) createEventSourceMapping(r *region, c *protocol.Call) (any, error) {
	var in lambda.CreateEventSourceMappingInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	fn, q, err := r.mappingTarget(aws.ToString(in.FunctionName))
	if err != nil {
		return nil, err
	}
	source := aws.ToString(in.EventSourceArn)
	if err := validateMapping(&in); err != nil {
		return nil, err
	}
	if m := r.mappingOf(source, fn.qualified(q)); m != nil {
		return nil, conflict("An event source mapping with event source (\"%s\") and function (\"%s\") already exists. Please update or delete the existing mapping with UUID %s",
			source, fn.qualified(q), aws.ToString(m.cfg.UUID))
	}
	m := &mapping{function: fn.name, qualifier: q, enabled: in.Enabled == nil || *in.Enabled, settleAt: c.Now.Add(mappingTime)}
	if err := protocol.Copy(&in, &m.cfg, "FunctionName", "Enabled", "StartingPosition"); err != nil {
		return nil, err
	}
	id := s.revision()
	m.cfg.UUID, m.cfg.FunctionArn = aws.String(id), aws.String(fn.qualified(q))
	m.cfg.EventSourceMappingArn = aws.String(fmt.Sprintf("arn:aws:lambda:%s:%s:event-source-mapping:%s", r.scope.Region, r.scope.Account, id))
	m.cfg.StartingPosition, m.cfg.State, m.cfg.StateTransitionReason = in.StartingPosition, aws.String(mappingCreating), aws.String("USER_INITIATED")
	m.cfg.LastModified, m.cfg.LastProcessingResult = aws.Time(c.Now), aws.String("No records processed")
	if m.cfg.BatchSize == nil {
		m.cfg.BatchSize = aws.Int32(defaultBatchSize(source))
	}
	r.mappings[id] = m
	return &protocol.RESTResponse{Status: http.StatusAccepted, Body: mappingOutput[lambda.CreateEventSourceMappingOutput](m)}, nil
}

// validateMapping checks a new mapping's parameters as Lambda does: an
// event source, a starting position for streams, a batch size in range.
func validateMapping(in *lambda.CreateEventSourceMappingInput) error {
	source := aws.ToString(in.EventSourceArn)
	if source == "" && in.SelfManagedEventSource == nil {
		return invalid("Unrecognized event source, must be kinesis, dynamodb stream, sqs, msk, mq or documentdb")
	}
	if isStream(source) && in.StartingPosition == "" {
		return invalid("1 validation error detected: Value null at 'startingPosition' failed to satisfy constraint: Member must not be null")
	}
	if b := in.BatchSize; b != nil && (*b < 1 || *b > 10000) {
		return protocol.Errorf("ValidationException", "1 validation error detected: Value '%d' at 'batchSize' failed to satisfy constraint: Member must have value between 1 and 10000", *b)
	}
	return nil
}

// isStream reports whether source is a Kinesis or DynamoDB stream, which
// need a starting position.
func isStream(source string) bool {
	return strings.HasPrefix(source, "arn:aws:kinesis:") || strings.Contains(source, ":dynamodb:") && strings.Contains(source, "/stream/")
}

// defaultBatchSize is Lambda's batch size for a source: 10 for SQS, 100
// for the others.
func defaultBatchSize(source string) int32 {
	if strings.HasPrefix(source, "arn:aws:sqs:") {
		return 10
	}
	return 100
}

// mappingOf returns the live mapping of source to the qualified function
// ARN, nil when there is none.
func (r *region) mappingOf(source, functionARN string) *mapping {
	for _, m := range r.mappings {
		if aws.ToString(m.cfg.EventSourceArn) == source && aws.ToString(m.cfg.FunctionArn) == functionARN && aws.ToString(m.cfg.State) != mappingDeleting {
			return m
		}
	}
	return nil
}

// mappingOutput copies a mapping's configuration into one of the
// operations' outputs, which have the same members.
func mappingOutput[T any](m *mapping) *T {
	out := new(T)
	_ = protocol.Copy(&m.cfg, out)
	return out
}

// mappingFromPath returns the mapping named by the {UUID} label.
func (r *region) mappingFromPath(c *protocol.Call) (*mapping, error) {
	m, ok := r.mappings[c.Params["UUID"]]
	if !ok {
		return nil, notFound("The resource you requested does not exist. (Service: Lambda, Status Code: 404, Request ID: %s)", c.Params["UUID"])
	}
	return m, nil
}

func (s *Service) getEventSourceMapping(r *region, c *protocol.Call) (any, error) {
	m, err := r.mappingFromPath(c)
	if err != nil {
		return nil, err
	}
	return mappingOutput[lambda.GetEventSourceMappingOutput](m), nil
}

// checkSettled refuses a change while the mapping is in a transition.
func checkSettled(m *mapping) error {
	switch aws.ToString(m.cfg.State) {
	case mappingCreating, mappingUpdating, mappingDeleting:
		return protocol.Errorf("ResourceInUseException", "Cannot update the event source mapping because it is in use. State: %s", aws.ToString(m.cfg.State))
	}
	return nil
}

func (s *Service) updateEventSourceMapping(r *region, c *protocol.Call) (any, error) {
	var in lambda.UpdateEventSourceMappingInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	m, err := r.mappingFromPath(c)
	if err != nil {
		return nil, err
	}
	if err := checkSettled(m); err != nil {
		return nil, err
	}
	if b := in.BatchSize; b != nil && (*b < 1 || *b > 10000) {
		return nil, protocol.Errorf("ValidationException", "1 validation error detected: Value '%d' at 'batchSize' failed to satisfy constraint: Member must have value between 1 and 10000", *b)
	}
	if in.FunctionName != nil {
		fn, q, err := r.mappingTarget(*in.FunctionName)
		if err != nil {
			return nil, err
		}
		m.function, m.qualifier, m.cfg.FunctionArn = fn.name, q, aws.String(fn.qualified(q))
	}
	if in.Enabled != nil {
		m.enabled = *in.Enabled
	}
	if err := protocol.Copy(&in, &m.cfg, "UUID", "FunctionName", "Enabled"); err != nil {
		return nil, err
	}
	m.cfg.State, m.cfg.LastModified, m.settleAt = aws.String(mappingUpdating), aws.Time(c.Now), c.Now.Add(mappingTime)
	return &protocol.RESTResponse{Status: http.StatusAccepted, Body: mappingOutput[lambda.UpdateEventSourceMappingOutput](m)}, nil
}

func (s *Service) deleteEventSourceMapping(r *region, c *protocol.Call) (any, error) {
	m, err := r.mappingFromPath(c)
	if err != nil {
		return nil, err
	}
	if err := checkSettled(m); err != nil {
		return nil, err
	}
	m.cfg.State, m.cfg.LastModified, m.settleAt = aws.String(mappingDeleting), aws.Time(c.Now), c.Now.Add(mappingTime)
	return &protocol.RESTResponse{Status: http.StatusAccepted, Body: mappingOutput[lambda.DeleteEventSourceMappingOutput](m)}, nil
}

// listEventSourceMappings lists mappings by event source and function. A
// qualified FunctionName (a version or an alias) lists the mappings of
// that qualifier; an unqualified one lists every mapping of the function,
// qualified or not.
func (s *Service) listEventSourceMappings(r *region, c *protocol.Call) (any, error) {
	q := c.HTTP.URL.Query()
	var match func(*mapping) bool = func(*mapping) bool { return true }
	if ref := q.Get("FunctionName"); ref != "" {
		fn, qual, err := r.find(ref)
		if err != nil {
			return nil, err
		}
		match = func(m *mapping) bool { return m.function == fn.name && (qual == "" || m.qualifier == qual) }
	}
	source := q.Get("EventSourceArn")
	var ids []string
	for id, m := range r.mappings {
		if match(m) && (source == "" || aws.ToString(m.cfg.EventSourceArn) == source) {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	max, _ := strconv.Atoi(q.Get("MaxItems"))
	start, end, next, err := protocol.Page(len(ids), q.Get("Marker"), min(max, 100), 100)
	if err != nil {
		return nil, invalid("invalid Marker")
	}
	out := &lambda.ListEventSourceMappingsOutput{NextMarker: optString(next), EventSourceMappings: []types.EventSourceMappingConfiguration{}}
	for _, id := range ids[start:end] {
		out.EventSourceMappings = append(out.EventSourceMappings, r.mappings[id].cfg)
	}
	return out, nil
}

// mappingsOnVersion returns the UUIDs of the mappings whose FunctionArn
// is qualified with version v of fn, sorted.
func (r *region) mappingsOnVersion(fn *function, v string) []string {
	var ids []string
	for id, m := range r.mappings {
		if m.function == fn.name && m.qualifier == v {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

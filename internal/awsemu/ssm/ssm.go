// Package ssm emulates the Parameter Store of AWS Systems Manager
// (awsJson1.1): String, StringList and SecureString parameters found by
// name or ARN, with versions counted on overwrite. SecureString values
// read without decryption come back as an opaque ciphertext, as on AWS.
// Version and label selectors ("name:3") are not modelled.
package ssm

import (
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/schemas"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

// maxGetParameters is how many names one GetParameters call accepts.
const maxGetParameters = 10

// Service is the emulated Parameter Store.
type Service struct {
	codec   *protocol.JSON11
	regions map[protocol.Scope]*region
}

// New returns an empty Parameter Store.
func New() *Service {
	return &Service{codec: protocol.NewJSON11(schemas.AmazonSSM), regions: map[protocol.Scope]*region{}}
}

// Name returns the signing name "ssm".
func (s *Service) Name() string { return "ssm" }

// Kind returns awsJson1.1.
func (s *Service) Kind() protocol.Kind { return protocol.KindJSON11 }

// Codec returns the awsJson1.1 codec.
func (s *Service) Codec() protocol.Codec { return s.codec }

type region struct {
	params map[string]*parameter // by name
}

type parameter struct {
	name, value, description, dataType string
	typ                                types.ParameterType
	version                            int64
	modified                           time.Time
}

func (s *Service) region(scope protocol.Scope) *region {
	r, ok := s.regions[scope]
	if !ok {
		r = &region{params: map[string]*parameter{}}
		s.regions[scope] = r
	}
	return r
}

type handler func(r *region, c *protocol.Call) (any, error)

var handlers = map[string]handler{
	"PutParameter":    (*region).putParameter,
	"GetParameter":    (*region).getParameter,
	"GetParameters":   (*region).getParameters,
	"DeleteParameter": (*region).deleteParameter,
}

// Handle serves one Parameter Store call.
func (s *Service) Handle(c *protocol.Call) (any, error) {
	h, ok := handlers[c.Operation]
	if !ok {
		return nil, protocol.Errorf("UnknownOperationException", "operation %s is not supported by the emulator", c.Operation)
	}
	return h(s.region(c.Scope()), c)
}

// errNotFound is Parameter Store's answer for an unknown parameter: AWS
// sends the code with an empty message.
func errNotFound() error { return protocol.Errorf("ParameterNotFound", "") }

// nameOf turns a parameter ARN into the parameter's name; names are
// returned as they are.
func nameOf(id string) string {
	if !strings.HasPrefix(id, "arn:") {
		return id
	}
	parts := strings.SplitN(id, ":", 6)
	if len(parts) < 6 || !strings.HasPrefix(parts[5], "parameter/") {
		return id
	}
	return strings.TrimPrefix(parts[5], "parameter")
}

// find resolves a name or ARN. An ARN's resource is "parameter/a/b" for
// "/a/b" and "parameter/x" for "x".
func (r *region) find(id string) (*parameter, bool) {
	name := nameOf(id)
	if p, ok := r.params[name]; ok {
		return p, true
	}
	if name != id {
		p, ok := r.params[strings.TrimPrefix(name, "/")]
		return p, ok
	}
	return nil, false
}

func (p *parameter) arn(c *protocol.Call) string {
	return fmt.Sprintf("arn:aws:ssm:%s:%s:parameter/%s", c.Region, c.Account, strings.TrimPrefix(p.name, "/"))
}

// out returns the parameter as read; a SecureString without decryption
// reads as a ciphertext.
func (p *parameter) out(c *protocol.Call, decrypt bool) types.Parameter {
	v := p.value
	if p.typ == types.ParameterTypeSecureString && !decrypt {
		v = base64.StdEncoding.EncodeToString([]byte("emulated-kms:" + p.name + ":" + fmt.Sprint(p.version)))
	}
	return types.Parameter{Name: aws.String(p.name), Type: p.typ, Value: aws.String(v), Version: p.version,
		LastModifiedDate: aws.Time(p.modified), ARN: aws.String(p.arn(c)), DataType: aws.String(p.dataType)}
}

func (r *region) putParameter(c *protocol.Call) (any, error) {
	var in ssm.PutParameterInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	name := aws.ToString(in.Name)
	if err := checkName(name); err != nil {
		return nil, err
	}
	if aws.ToString(in.Value) == "" {
		return nil, protocol.Errorf("ValidationException", "1 validation error detected: Value '' at 'value' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	old, exists := r.params[name]
	if exists && !aws.ToBool(in.Overwrite) {
		return nil, protocol.Errorf("ParameterAlreadyExists", "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.")
	}
	p := &parameter{name: name, value: aws.ToString(in.Value), description: aws.ToString(in.Description), typ: in.Type,
		dataType: aws.ToString(in.DataType), version: 1, modified: c.Now}
	if exists {
		p.version = old.version + 1
		if p.typ == "" {
			p.typ = old.typ
		}
	}
	if p.typ == "" {
		p.typ = types.ParameterTypeString
	}
	if p.dataType == "" {
		p.dataType = "text"
	}
	r.params[name] = p
	return &ssm.PutParameterOutput{Version: p.version, Tier: types.ParameterTierStandard}, nil
}

// checkName applies Parameter Store's naming rules that matter here.
func checkName(name string) error {
	switch {
	case name == "" || len(name) > 2048:
		return protocol.Errorf("ValidationException", "Parameter name must be between 1 and 2048 characters")
	case strings.HasPrefix(strings.ToLower(strings.TrimPrefix(name, "/")), "aws") ||
		strings.HasPrefix(strings.ToLower(strings.TrimPrefix(name, "/")), "ssm"):
		return protocol.Errorf("ValidationException", "No access to reserved parameter name: %s.", name)
	case strings.Contains(name, "/") && !strings.HasPrefix(name, "/"):
		return protocol.Errorf("ValidationException", "Parameter name must be a fully qualified name.")
	}
	return nil
}

func (r *region) getParameter(c *protocol.Call) (any, error) {
	var in ssm.GetParameterInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	p, ok := r.find(aws.ToString(in.Name))
	if !ok {
		return nil, errNotFound()
	}
	v := p.out(c, aws.ToBool(in.WithDecryption))
	return &ssm.GetParameterOutput{Parameter: &v}, nil
}

// getParameters returns the parameters found and lists the others, as
// asked, in InvalidParameters: a missing name is not an error.
func (r *region) getParameters(c *protocol.Call) (any, error) {
	var in ssm.GetParametersInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	if len(in.Names) == 0 || len(in.Names) > maxGetParameters {
		return nil, protocol.Errorf("ValidationException", "1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length less than or equal to %d", maxGetParameters)
	}
	out := &ssm.GetParametersOutput{}
	for _, n := range in.Names {
		p, ok := r.find(n)
		if !ok {
			out.InvalidParameters = append(out.InvalidParameters, n)
			continue
		}
		out.Parameters = append(out.Parameters, p.out(c, aws.ToBool(in.WithDecryption)))
	}
	return out, nil
}

func (r *region) deleteParameter(c *protocol.Call) (any, error) {
	var in ssm.DeleteParameterInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	p, ok := r.find(aws.ToString(in.Name))
	if !ok {
		return nil, errNotFound()
	}
	delete(r.params, p.name)
	return &ssm.DeleteParameterOutput{}, nil
}

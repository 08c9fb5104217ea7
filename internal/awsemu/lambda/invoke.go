package lambda

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

// SetResponse makes Invoke of every function named name (in any account
// and region) return payload; nil restores the default, which echoes the
// request payload.
func (s *Service) SetResponse(name string, payload []byte) {
	for _, r := range s.regions {
		if fn, ok := r.functions[name]; ok {
			fn.response = payload
		}
	}
}

// weightEpsilon absorbs float rounding when accumulating routing weights,
// so that ten invocations at 0.1 route exactly one to the extra version.
const weightEpsilon = 1e-9

// pickVersion resolves the qualifier to the version that runs: an alias
// with routing sends its additional version the configured share of
// invocations, deterministically.
func (fn *function) pickVersion(q string) (string, error) {
	if q == "" || q == latest {
		return latest, nil
	}
	a, ok := fn.aliases[q]
	if !ok {
		if _, err := fn.resolve(q); err != nil {
			return "", err
		}
		return q, nil
	}
	version := aws.ToString(a.FunctionVersion)
	if a.RoutingConfig == nil {
		return version, nil
	}
	for extra, w := range a.RoutingConfig.AdditionalVersionWeights {
		fn.routing[q] += w
		if fn.routing[q] >= 1-weightEpsilon {
			fn.routing[q]--
			return extra, nil
		}
	}
	return version, nil
}

func (s *Service) invoke(r *region, c *protocol.Call) (any, error) {
	fn, q, err := r.funcFromPath(c)
	if err != nil {
		return nil, err
	}
	if fn.cfg.State == types.StatePending {
		return nil, conflict("The operation cannot be performed at this time. The function is currently in the following state: Pending")
	}
	version, err := fn.pickVersion(q)
	if err != nil {
		return nil, err
	}
	h := http.Header{"X-Amz-Executed-Version": {version}}
	switch types.InvocationType(c.HTTP.Header.Get("X-Amz-Invocation-Type")) {
	case types.InvocationTypeEvent:
		return &protocol.RESTResponse{Status: http.StatusAccepted, Header: h, Body: []byte{}}, nil
	case types.InvocationTypeDryRun:
		return &protocol.RESTResponse{Status: http.StatusNoContent, Header: h, Body: []byte{}}, nil
	}
	failed := s.fails(fn, version)
	s.invoked(c.Scope(), fn, q, version, failed, c.Now)
	if failed {
		h.Set("X-Amz-Function-Error", "Unhandled")
		body, _ := json.Marshal(map[string]string{"errorType": "EmulatedFailure", "errorMessage": fmt.Sprintf("version %s of %s failed (emulated)", version, fn.name)})
		return &protocol.RESTResponse{Status: http.StatusOK, Header: h, Body: body}, nil
	}
	body := fn.response
	if body == nil {
		body = c.Body
	}
	return &protocol.RESTResponse{Status: http.StatusOK, Header: h, Body: body}, nil
}

// statement is one resource-policy statement.
type statement struct {
	Sid       string
	Effect    string
	Principal map[string]string
	Action    string
	Resource  string
	Condition map[string]map[string]string `json:",omitempty"`
}

func (s *Service) addPermission(r *region, c *protocol.Call) (any, error) {
	var in lambda.AddPermissionInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	fn, q, err := r.funcFromPath(c)
	if err != nil {
		return nil, err
	}
	if in.RevisionId != nil && *in.RevisionId != aws.ToString(fn.cfg.RevisionId) {
		return nil, preconditionFailed()
	}
	st, err := newStatement(fn, q, &in)
	if err != nil {
		return nil, err
	}
	for _, old := range fn.statements(st.Resource) {
		if old.Sid == st.Sid {
			return nil, conflict("The statement id (%s) provided already exists. Please provide a new statement id, or remove the existing statement.", st.Sid)
		}
	}
	b, _ := json.Marshal(st)
	fn.policy = append(fn.policy, b)
	return &protocol.RESTResponse{Status: http.StatusCreated, Body: &lambda.AddPermissionOutput{Statement: aws.String(string(b))}}, nil
}

// qualified returns the ARN a qualifier's policy applies to: the
// function's ARN, with ":qualifier" unless q is empty.
func (fn *function) qualified(q string) string {
	if q == "" {
		return fn.arn
	}
	return fn.arn + ":" + q
}

// statements returns the statements of the policy of one ARN (the
// function's, or a version's or alias's): as in AWS, each qualifier has
// its own resource policy.
func (fn *function) statements(resource string) []statement {
	var out []statement
	for _, raw := range fn.policy {
		var st statement
		_ = json.Unmarshal(raw, &st)
		if st.Resource == resource {
			out = append(out, st)
		}
	}
	return out
}

func newStatement(fn *function, q string, in *lambda.AddPermissionInput) (statement, error) {
	if aws.ToString(in.StatementId) == "" || aws.ToString(in.Action) == "" || aws.ToString(in.Principal) == "" {
		return statement{}, invalid("StatementId, Action and Principal are required")
	}
	resource := fn.arn
	if q != "" {
		if _, err := fn.resolve(q); err != nil {
			return statement{}, err
		}
		resource += ":" + q
	}
	st := statement{Sid: *in.StatementId, Effect: "Allow", Action: *in.Action, Resource: resource, Principal: map[string]string{"Service": *in.Principal}}
	if _, err := strconv.Atoi(*in.Principal); err == nil || len(*in.Principal) > 4 && (*in.Principal)[:4] == "arn:" {
		st.Principal = map[string]string{"AWS": *in.Principal}
	}
	if in.SourceArn != nil {
		st.Condition = map[string]map[string]string{"ArnLike": {"AWS:SourceArn": *in.SourceArn}}
	}
	return st, nil
}

// policyDocument renders the resource policy of one ARN.
func (fn *function) policyDocument(resource string) string {
	doc := struct {
		Version   string
		Id        string
		Statement []statement
	}{"2012-10-17", "default", fn.statements(resource)}
	b, _ := json.Marshal(doc)
	return string(b)
}

// getPolicy returns the policy of the function or, with a Qualifier, of
// that version or alias; ResourceNotFoundException when it has none.
func (s *Service) getPolicy(r *region, c *protocol.Call) (any, error) {
	fn, q, err := r.funcFromPath(c)
	if err != nil {
		return nil, err
	}
	if len(fn.statements(fn.qualified(q))) == 0 {
		return nil, notFound("The resource you requested does not exist.")
	}
	return &lambda.GetPolicyOutput{Policy: aws.String(fn.policyDocument(fn.qualified(q))), RevisionId: fn.cfg.RevisionId}, nil
}

func (s *Service) removePermission(r *region, c *protocol.Call) (any, error) {
	fn, q, err := r.funcFromPath(c)
	if err != nil {
		return nil, err
	}
	sid, resource := c.Params["StatementId"], fn.qualified(q)
	for i, raw := range fn.policy {
		var st statement
		_ = json.Unmarshal(raw, &st)
		if st.Sid == sid && st.Resource == resource {
			fn.policy = append(fn.policy[:i], fn.policy[i+1:]...)
			return &protocol.RESTResponse{Status: http.StatusNoContent, Body: []byte{}}, nil
		}
	}
	return nil, notFound("Statement %s is not found in resource policy.", sid)
}

// AllowsInvoke reports whether the resource policy of functionArn (the
// function's, or with a qualifier the version's or alias's: AWS checks
// the policy of the ARN invoked) lets principal (e.g.
// "elasticloadbalancing.amazonaws.com") invoke it from sourceArn.
func (s *Service) AllowsInvoke(scope protocol.Scope, functionArn, principal, sourceArn string) bool {
	fn, q, err := s.region(scope).find(functionArn)
	if err != nil {
		return false
	}
	for _, st := range fn.statements(fn.qualified(q)) {
		src := st.Condition["ArnLike"]["AWS:SourceArn"]
		if st.Principal["Service"] == principal && (src == "" || src == sourceArn) {
			return true
		}
	}
	return false
}

// Invoke runs a function for another service (a load balancer target):
// alias routing applies, and broken versions fail. ready is false when
// the function does not exist or is still Pending.
func (s *Service) Invoke(scope protocol.Scope, functionArn string, now time.Time) (failed, ready bool) {
	fn, q, err := s.region(scope).find(functionArn)
	if err != nil || fn.cfg.State == types.StatePending {
		return false, false
	}
	version, err := fn.pickVersion(q)
	if err != nil {
		return false, false
	}
	failed = s.fails(fn, version)
	s.invoked(scope, fn, q, version, failed, now)
	return failed, true
}

// invocationDuration is the emulated run time of every invocation.
const invocationDuration = 20.0 // milliseconds

// invoked publishes the AWS/Lambda metrics of one invocation, as Lambda
// does: Invocations, Errors and Duration by function, by qualifier
// (Resource = function:qualifier) and, through an alias, by the version
// that ran (ExecutedVersion), so that a canary version's errors show.
func (s *Service) invoked(scope protocol.Scope, fn *function, q, version string, failed bool, now time.Time) {
	if s.cfg.Metrics == nil {
		return
	}
	dims := []map[string]string{{"FunctionName": fn.name}}
	if q != "" && q != latest {
		dims = append(dims, map[string]string{"FunctionName": fn.name, "Resource": fn.name + ":" + q})
		if _, alias := fn.aliases[q]; alias {
			dims = append(dims, map[string]string{"FunctionName": fn.name, "Resource": fn.name + ":" + q, "ExecutedVersion": version})
		}
	}
	errs := 0.0
	if failed {
		errs = 1
	}
	for _, d := range dims {
		s.cfg.Metrics.PutMetric(scope, "AWS/Lambda", "Invocations", d, 1, "Count", now)
		s.cfg.Metrics.PutMetric(scope, "AWS/Lambda", "Errors", d, errs, "Count", now)
		s.cfg.Metrics.PutMetric(scope, "AWS/Lambda", "Duration", d, invocationDuration, "Milliseconds", now)
	}
}

// fails reports whether the next invocation of a version fails: always
// for broken versions, and for the configured share of invocations
// otherwise, spread deterministically.
func (s *Service) fails(fn *function, version string) bool {
	if s.cfg.Artifacts == nil {
		return false
	}
	b := s.cfg.Artifacts.FunctionVersion(fn.name, version)
	if b.Broken {
		return true
	}
	fn.errAcc[version] += b.ErrorRate
	if fn.errAcc[version] >= 1-weightEpsilon {
		fn.errAcc[version]--
		return true
	}
	return false
}

func (s *Service) tagged(r *region, c *protocol.Call) (*function, error) {
	fn, _, err := r.find(c.Params["Resource"])
	return fn, err
}

func (s *Service) listTags(r *region, c *protocol.Call) (any, error) {
	fn, err := s.tagged(r, c)
	if err != nil {
		return nil, err
	}
	return &lambda.ListTagsOutput{Tags: fn.tags}, nil
}

func (s *Service) tagResource(r *region, c *protocol.Call) (any, error) {
	var in lambda.TagResourceInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	fn, err := s.tagged(r, c)
	if err != nil {
		return nil, err
	}
	for k, v := range in.Tags {
		fn.tags[k] = v
	}
	return &protocol.RESTResponse{Status: http.StatusNoContent, Body: []byte{}}, nil
}

func (s *Service) untagResource(r *region, c *protocol.Call) (any, error) {
	fn, err := s.tagged(r, c)
	if err != nil {
		return nil, err
	}
	keys := c.HTTP.URL.Query()["tagKeys"]
	sort.Strings(keys)
	for _, k := range keys {
		delete(fn.tags, k)
	}
	return &protocol.RESTResponse{Status: http.StatusNoContent, Body: []byte{}}, nil
}

package lambda

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

// latest is the unpublished version qualifier.
const latest = "$LATEST"

// function is one Lambda function: $LATEST, published versions, aliases,
// resource policy and tags.
type function struct {
	name, arn   string
	cfg         types.FunctionConfiguration // $LATEST
	imageURI    string
	tags        map[string]string
	versions    []*types.FunctionConfiguration // versions[n-1] is version n
	versionSigs []string
	aliases     map[string]*types.AliasConfiguration
	policy      []json.RawMessage
	pendingEnd  time.Time // when State becomes Active
	updateEnd   time.Time // when LastUpdateStatus becomes Successful
	response    []byte    // Invoke result; nil echoes the payload
	routing     map[string]float64
	errAcc      map[string]float64      // per-version error-rate accumulators
	reserved    *int32                  // reserved concurrency; nil when unreserved
	provisioned map[string]*provisioned // provisioned concurrency by qualifier
}

// splitName parses a function name, partial ARN or ARN with an optional
// qualifier.
func splitName(ref string) (name, qualifier string) {
	f := strings.Split(ref, ":")
	switch {
	case strings.HasPrefix(ref, "arn:") && len(f) >= 7:
		name = f[6]
		if len(f) > 7 {
			qualifier = f[7]
		}
	case len(f) >= 3 && f[1] == "function":
		name = f[2]
		if len(f) > 3 {
			qualifier = f[3]
		}
	default:
		name = f[0]
		if len(f) > 1 {
			qualifier = f[1]
		}
	}
	return name, qualifier
}

func (r *region) find(ref string) (*function, string, error) {
	name, q := splitName(ref)
	fn, ok := r.functions[name]
	if !ok {
		return nil, "", notFound("Function not found: arn:aws:lambda:%s:%s:function:%s", r.scope.Region, r.scope.Account, name)
	}
	return fn, q, nil
}

// funcFromPath resolves the {FunctionName} label and the Qualifier query
// parameter.
func (r *region) funcFromPath(c *protocol.Call) (*function, string, error) {
	fn, q, err := r.find(c.Params["FunctionName"])
	if err != nil {
		return nil, "", err
	}
	if qq := c.HTTP.URL.Query().Get("Qualifier"); qq != "" {
		q = qq
	}
	return fn, q, nil
}

func (s *Service) createFunction(r *region, c *protocol.Call) (any, error) {
	var in lambda.CreateFunctionInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	name := aws.ToString(in.FunctionName)
	if err := validateCreate(&in); err != nil {
		return nil, err
	}
	if _, exists := r.functions[name]; exists {
		return nil, conflict("Function already exist: %s", name)
	}
	fn := &function{name: name, arn: fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", r.scope.Region, r.scope.Account, name),
		tags: in.Tags, aliases: map[string]*types.AliasConfiguration{}, routing: map[string]float64{}, errAcc: map[string]float64{}}
	if fn.tags == nil {
		fn.tags = map[string]string{}
	}
	if err := protocol.Copy(&in, &fn.cfg, "Layers", "Code", "Tags", "ImageConfig"); err != nil {
		return nil, err
	}
	fn.cfg.FunctionArn, fn.cfg.Version = aws.String(fn.arn), aws.String(latest)
	s.applyDefaults(fn, r, &in)
	s.setCode(fn, in.Code)
	fn.cfg.State, fn.cfg.StateReason, fn.cfg.StateReasonCode = types.StatePending, aws.String("The function is being created."), types.StateReasonCodeCreating
	fn.pendingEnd = c.Now.Add(createTime)
	if fn.cfg.VpcConfig != nil && len(fn.cfg.VpcConfig.SubnetIds) > 0 {
		fn.pendingEnd = c.Now.Add(createTimeVPC)
	}
	s.touch(fn, c.Now)
	r.functions[name] = fn
	if in.Publish {
		s.publish(fn, "")
	}
	return &protocol.RESTResponse{Status: http.StatusCreated, Body: configOutput(fn.cfg)}, nil
}

// functionNamePattern is CreateFunction's constraint on FunctionName.
const functionNamePattern = `(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?`

var functionName = regexp.MustCompile(`^` + functionNamePattern + `$`)

func validateCreate(in *lambda.CreateFunctionInput) error {
	name := aws.ToString(in.FunctionName)
	if !functionName.MatchString(name) {
		return constraint(name, "functionName", "Member must satisfy regular expression pattern: "+functionNamePattern)
	}
	if name == "" || len(name) > 64 || strings.ContainsAny(name, ":/") {
		return invalid("1 validation error detected: Value '%s' at 'functionName' failed to satisfy constraint", name)
	}
	if aws.ToString(in.Role) == "" {
		return invalid("The role defined for the function cannot be assumed by Lambda.")
	}
	if err := validateSettings(in.Role, in.MemorySize, in.Timeout, in.EphemeralStorage); err != nil {
		return err
	}
	if err := validateEnvironment(in.Environment); err != nil {
		return err
	}
	if err := validateText(in.Description, in.Handler); err != nil {
		return err
	}
	if in.Code == nil {
		return invalid("Code is required")
	}
	if in.PackageType == types.PackageTypeImage {
		if aws.ToString(in.Code.ImageUri) == "" {
			return invalid("Source image is required for Image package type")
		}
		return nil
	}
	if in.Runtime == "" || aws.ToString(in.Handler) == "" {
		return invalid("Runtime and Handler are mandatory parameters for functions created with Zip archives.")
	}
	return nil
}

// roleARN is the form AWS requires of an execution role.
var roleARN = regexp.MustCompile(`^arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$`)

// validateSettings checks the role's ARN form, the memory size (128 to
// 10240 MB), the timeout (1 to 900 s) and /tmp (512 to 10240 MB) as AWS
// does, with its ValidationException wording.
func validateSettings(role *string, memory, timeout *int32, tmp *types.EphemeralStorage) error {
	switch {
	case role != nil && !roleARN.MatchString(*role):
		return constraint(*role, "role", "Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+")
	case memory != nil && (*memory < 128 || *memory > 10240):
		return constraint(fmt.Sprint(*memory), "memorySize", "Member must have value between 128 and 10240")
	case timeout != nil && (*timeout < 1 || *timeout > 900):
		return constraint(fmt.Sprint(*timeout), "timeout", "Member must have value between 1 and 900")
	case tmp != nil && (aws.ToInt32(tmp.Size) < 512 || aws.ToInt32(tmp.Size) > 10240):
		return constraint(fmt.Sprint(aws.ToInt32(tmp.Size)), "ephemeralStorage.size", "Member must have value between 512 and 10240")
	}
	return nil
}

// maxEnvironment is the largest environment Lambda accepts, in bytes of
// its JSON encoding.
const maxEnvironment = 4096

// envKey is the pattern of environment variable names. AWS documents
// [a-zA-Z]([a-zA-Z0-9_])+ but accepts one-letter names, so this only
// refuses the characters and first letters the pattern excludes.
var envKey = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]*$`)

// reservedEnv are the variables Lambda sets itself and refuses to take
// from the function's configuration.
var reservedEnv = map[string]bool{
	"_HANDLER": true, "_X_AMZN_TRACE_ID": true, "AWS_DEFAULT_REGION": true, "AWS_REGION": true,
	"AWS_EXECUTION_ENV": true, "AWS_LAMBDA_FUNCTION_NAME": true, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": true,
	"AWS_LAMBDA_FUNCTION_VERSION": true, "AWS_LAMBDA_INITIALIZATION_TYPE": true, "AWS_LAMBDA_LOG_GROUP_NAME": true,
	"AWS_LAMBDA_LOG_STREAM_NAME": true, "AWS_ACCESS_KEY": true, "AWS_ACCESS_KEY_ID": true,
	"AWS_SECRET_ACCESS_KEY": true, "AWS_SECRET_KEY": true, "AWS_SESSION_TOKEN": true,
	"AWS_LAMBDA_RUNTIME_API": true, "LAMBDA_TASK_ROOT": true, "LAMBDA_RUNTIME_DIR": true,
}

// validateEnvironment applies Lambda's rules to environment variables:
// names matching its pattern, no reserved names, at most 4 KB in all.
func validateEnvironment(env *types.Environment) error {
	if env == nil {
		return nil
	}
	var taken []string
	for k := range env.Variables {
		if !envKey.MatchString(k) {
			return protocol.Errorf("ValidationException", "1 validation error detected: Value at 'environment.variables' failed to satisfy constraint: Map keys must satisfy constraint: [Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+]")
		}
		if reservedEnv[k] {
			taken = append(taken, k)
		}
	}
	if len(taken) > 0 {
		slices.Sort(taken)
		return invalid("Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: %s", strings.Join(taken, ", "))
	}
	if measured, _ := json.Marshal(env.Variables); len(measured) > maxEnvironment {
		return invalid("Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: %s", measured)
	}
	return nil
}

// handlerPattern is the model's constraint on Handler.
var handlerPattern = regexp.MustCompile(`^[^\s]+$`)

// validateText checks a description (at most 256 characters) and a handler
// (at most 128 characters without whitespace) as the model does.
func validateText(description, handler *string) error {
	switch {
	case description != nil && len(*description) > 256:
		return constraint(*description, "description", "Member must have length less than or equal to 256")
	case handler != nil && len(*handler) > 128:
		return constraint(*handler, "handler", "Member must have length less than or equal to 128")
	case handler != nil && *handler != "" && !handlerPattern.MatchString(*handler):
		return constraint(*handler, "handler", `Member must satisfy regular expression pattern: [^\s]+`)
	}
	return nil
}

// constraint is AWS's ValidationException for a value out of its
// constraint.
func constraint(value, field, rule string) error {
	return protocol.Errorf("ValidationException", "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: %s", value, field, rule)
}

func (s *Service) applyDefaults(fn *function, r *region, in *lambda.CreateFunctionInput) {
	if fn.cfg.PackageType == "" {
		fn.cfg.PackageType = types.PackageTypeZip
	}
	if fn.cfg.Timeout == nil {
		fn.cfg.Timeout = aws.Int32(3)
	}
	if fn.cfg.MemorySize == nil {
		fn.cfg.MemorySize = aws.Int32(128)
	}
	if len(fn.cfg.Architectures) == 0 {
		fn.cfg.Architectures = []types.Architecture{types.ArchitectureX8664}
	}
	if fn.cfg.TracingConfig == nil {
		fn.cfg.TracingConfig = &types.TracingConfigResponse{Mode: types.TracingModePassThrough}
	}
	if fn.cfg.EphemeralStorage == nil {
		fn.cfg.EphemeralStorage = &types.EphemeralStorage{Size: aws.Int32(512)}
	}
	if fn.cfg.VpcConfig != nil && len(fn.cfg.VpcConfig.SubnetIds) > 0 {
		fn.cfg.VpcConfig.VpcId = aws.String("vpc-emulated")
	}
	fn.cfg.Layers = layers(in.Layers)
	if in.ImageConfig != nil {
		fn.cfg.ImageConfigResponse = &types.ImageConfigResponse{ImageConfig: in.ImageConfig}
	}
}

func layers(arns []string) []types.Layer {
	var out []types.Layer
	for _, a := range arns {
		out = append(out, types.Layer{Arn: aws.String(a), CodeSize: 1024})
	}
	return out
}

// setCode records the deployment package and its SHA-256.
func (s *Service) setCode(fn *function, code *types.FunctionCode) {
	var digest [32]byte
	switch {
	case code.ImageUri != nil:
		fn.imageURI = *code.ImageUri
		digest = sha256.Sum256([]byte(fn.imageURI))
		fn.cfg.CodeSize = 0
	case len(code.ZipFile) > 0:
		digest = sha256.Sum256(code.ZipFile)
		fn.cfg.CodeSize = int64(len(code.ZipFile))
	default:
		digest = sha256.Sum256([]byte(aws.ToString(code.S3Bucket) + "/" + aws.ToString(code.S3Key) + "@" + aws.ToString(code.S3ObjectVersion)))
		fn.cfg.CodeSize = 1024
	}
	fn.cfg.CodeSha256 = aws.String(base64.StdEncoding.EncodeToString(digest[:]))
}

// touch records a modification of $LATEST.
func (s *Service) touch(fn *function, now time.Time) {
	fn.cfg.RevisionId = aws.String(s.revision())
	fn.cfg.LastModified = aws.String(now.UTC().Format("2006-01-02T15:04:05.000+0000"))
}

// settle finishes the creation or update that is due at now.
func (s *Service) settle(fn *function, now time.Time) {
	if fn.cfg.State == types.StatePending && !now.Before(fn.pendingEnd) {
		fn.cfg.State, fn.cfg.StateReason, fn.cfg.StateReasonCode = types.StateActive, nil, types.StateReasonCodeIdle
		fn.cfg.LastUpdateStatus = types.LastUpdateStatusSuccessful
		fn.cfg.RevisionId = aws.String(s.revision())
	}
	if fn.cfg.LastUpdateStatus == types.LastUpdateStatusInProgress && !now.Before(fn.updateEnd) {
		fn.cfg.LastUpdateStatus, fn.cfg.LastUpdateStatusReason, fn.cfg.LastUpdateStatusReasonCode = types.LastUpdateStatusSuccessful, nil, ""
		fn.cfg.RevisionId = aws.String(s.revision())
	}
}

// checkUpdatable rejects changes while the function is being created or
// updated, and stale RevisionIds.
func checkUpdatable(fn *function, revision *string) error {
	if fn.cfg.State == types.StatePending {
		return conflict("The operation cannot be performed at this time. The function is currently in the following state: Pending")
	}
	if fn.cfg.LastUpdateStatus == types.LastUpdateStatusInProgress {
		return conflict("The operation cannot be performed at this time. An update is in progress for resource: %s", fn.arn)
	}
	if revision != nil && *revision != aws.ToString(fn.cfg.RevisionId) {
		return preconditionFailed()
	}
	return nil
}

// beginUpdate starts an InProgress update of $LATEST.
func (s *Service) beginUpdate(fn *function, now time.Time) {
	fn.cfg.LastUpdateStatus = types.LastUpdateStatusInProgress
	fn.cfg.LastUpdateStatusReason = aws.String("The function is being updated.")
	fn.cfg.LastUpdateStatusReasonCode = ""
	fn.updateEnd = now.Add(updateTime)
	s.touch(fn, now)
}

func (s *Service) updateFunctionConfiguration(r *region, c *protocol.Call) (any, error) {
	var in lambda.UpdateFunctionConfigurationInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	fn, _, err := r.funcFromPath(c)
	if err != nil {
		return nil, err
	}
	if err := checkUpdatable(fn, in.RevisionId); err != nil {
		return nil, err
	}
	if err := validateSettings(in.Role, in.MemorySize, in.Timeout, in.EphemeralStorage); err != nil {
		return nil, err
	}
	if err := validateEnvironment(in.Environment); err != nil {
		return nil, err
	}
	if err := validateText(in.Description, in.Handler); err != nil {
		return nil, err
	}
	var next types.FunctionConfiguration
	if err := protocol.Overlay(&fn.cfg, &in, &next, "Layers", "FunctionName", "RevisionId", "ImageConfig"); err != nil {
		return nil, err
	}
	fn.cfg = next
	clearEmpty(&fn.cfg, &in)
	if in.Layers != nil {
		fn.cfg.Layers = layers(in.Layers)
	}
	if in.ImageConfig != nil {
		fn.cfg.ImageConfigResponse = &types.ImageConfigResponse{ImageConfig: in.ImageConfig}
	}
	s.beginUpdate(fn, c.Now)
	return configOutput(fn.cfg), nil
}

// clearEmpty applies the empty strings of an update, which clear a field
// in AWS (the overlay keeps the old value of empty fields).
func clearEmpty(cfg *types.FunctionConfiguration, in *lambda.UpdateFunctionConfigurationInput) {
	if in.Description != nil {
		cfg.Description = in.Description
	}
	if in.KMSKeyArn != nil && *in.KMSKeyArn == "" {
		cfg.KMSKeyArn = nil
	}
	if vpc := in.VpcConfig; vpc != nil && len(vpc.SubnetIds) == 0 && len(vpc.SecurityGroupIds) == 0 {
		cfg.VpcConfig = nil
	}
	if in.DeadLetterConfig != nil && aws.ToString(in.DeadLetterConfig.TargetArn) == "" {
		cfg.DeadLetterConfig = nil
	}
}

func (s *Service) updateFunctionCode(r *region, c *protocol.Call) (any, error) {
	var in lambda.UpdateFunctionCodeInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	fn, _, err := r.funcFromPath(c)
	if err != nil {
		return nil, err
	}
	if err := checkUpdatable(fn, in.RevisionId); err != nil {
		return nil, err
	}
	if in.ImageUri == nil && len(in.ZipFile) == 0 && in.S3Bucket == nil {
		return nil, invalid("Please provide a source for function code.")
	}
	s.setCode(fn, &types.FunctionCode{ImageUri: in.ImageUri, ZipFile: in.ZipFile, S3Bucket: in.S3Bucket, S3Key: in.S3Key, S3ObjectVersion: in.S3ObjectVersion})
	if len(in.Architectures) > 0 {
		fn.cfg.Architectures = in.Architectures
	}
	s.beginUpdate(fn, c.Now)
	if in.Publish {
		s.settle(fn, fn.updateEnd)
		s.publish(fn, "")
	}
	return configOutput(fn.cfg), nil
}

// configOutput wraps a configuration as the operations' output shape.
func configOutput(cfg types.FunctionConfiguration) *lambda.GetFunctionConfigurationOutput {
	out := &lambda.GetFunctionConfigurationOutput{}
	_ = protocol.Copy(&cfg, out)
	return out
}

func (s *Service) getFunctionConfiguration(r *region, c *protocol.Call) (any, error) {
	fn, q, err := r.funcFromPath(c)
	if err != nil {
		return nil, err
	}
	cfg, err := fn.resolve(q)
	if err != nil {
		return nil, err
	}
	return configOutput(*cfg), nil
}

// resolve returns the configuration of a qualifier: $LATEST, a version
// number or an alias (its primary version).
func (fn *function) resolve(q string) (*types.FunctionConfiguration, error) {
	if q == "" || q == latest {
		return &fn.cfg, nil
	}
	if a, ok := fn.aliases[q]; ok {
		q = aws.ToString(a.FunctionVersion)
		if q == latest {
			return &fn.cfg, nil
		}
	}
	n, err := strconv.Atoi(q)
	if err != nil || n < 1 || n > len(fn.versions) || fn.versions[n-1] == nil {
		return nil, notFound("Function not found: %s:%s", fn.arn, q)
	}
	return fn.versions[n-1], nil
}

func (s *Service) getFunction(r *region, c *protocol.Call) (any, error) {
	fn, q, err := r.funcFromPath(c)
	if err != nil {
		return nil, err
	}
	cfg, err := fn.resolve(q)
	if err != nil {
		return nil, err
	}
	out := &lambda.GetFunctionOutput{Configuration: cfg, Tags: fn.tags}
	if fn.reserved != nil {
		out.Concurrency = &types.Concurrency{ReservedConcurrentExecutions: fn.reserved}
	}
	if fn.imageURI != "" {
		out.Code = &types.FunctionCodeLocation{RepositoryType: aws.String("ECR"), ImageUri: aws.String(fn.imageURI), ResolvedImageUri: aws.String(fn.imageURI)}
	} else {
		out.Code = &types.FunctionCodeLocation{RepositoryType: aws.String("S3"), Location: aws.String("https://awslambda-emulated.s3.amazonaws.com/" + fn.name)}
	}
	return out, nil
}

func (s *Service) deleteFunction(r *region, c *protocol.Call) (any, error) {
	fn, q, err := r.funcFromPath(c)
	if err != nil {
		return nil, err
	}
	if q == "" || q == latest {
		delete(r.functions, fn.name)
		return &protocol.RESTResponse{Status: http.StatusNoContent, Body: []byte{}}, nil
	}
	if _, err := fn.resolve(q); err != nil {
		return nil, err
	}
	for _, a := range fn.aliases {
		if aws.ToString(a.FunctionVersion) == q {
			return nil, conflict("Unable to delete version because the following aliases reference it: [%s]", aws.ToString(a.Name))
		}
	}
	if ids := r.mappingsOnVersion(fn, q); len(ids) > 0 {
		return nil, conflict("Unable to delete version because the following event source mappings reference it: [%s]", strings.Join(ids, ", "))
	}
	n, _ := strconv.Atoi(q)
	fn.versions[n-1] = nil
	delete(fn.provisioned, q) // Lambda deletes a version's configuration with it
	return &protocol.RESTResponse{Status: http.StatusNoContent, Body: []byte{}}, nil
}

func (s *Service) listFunctions(r *region, c *protocol.Call) (any, error) {
	names := make([]string, 0, len(r.functions))
	for n := range r.functions {
		names = append(names, n)
	}
	sort.Strings(names)
	start, end, next, err := pageQuery(c, len(names))
	if err != nil {
		return nil, err
	}
	out := &lambda.ListFunctionsOutput{NextMarker: optString(next)}
	for _, n := range names[start:end] {
		out.Functions = append(out.Functions, r.functions[n].cfg)
	}
	return out, nil
}

// pageQuery applies the Marker/MaxItems query parameters (at most 50).
func pageQuery(c *protocol.Call, n int) (int, int, string, error) {
	q := c.HTTP.URL.Query()
	max, _ := strconv.Atoi(q.Get("MaxItems"))
	start, end, next, err := protocol.Page(n, q.Get("Marker"), min(max, 50), 50)
	if err != nil {
		return 0, 0, "", invalid("invalid Marker")
	}
	return start, end, next, nil
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

package lambda

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/jibe-dev/jibe/providers/aws/apidiff"
	"github.com/jibe-dev/jibe/providers/aws/awstag"
	"github.com/jibe-dev/jibe/spec"
)

// The tags Jibe puts on functions: the keys every AWS platform uses (awstag), and
// the identity of the code $LATEST was last given.
const (
	TagApp         = awstag.App
	TagEnvironment = awstag.Environment
	TagRevision    = awstag.Revision
	// TagCode is codeID of the package $LATEST runs, so that Diff and
	// Apply know an S3 package without downloading it.
	TagCode = "jibe.dev/code"
)

// ownTags are the tags Jibe manages, left out of diffs.
var ownTags = map[string]bool{TagApp: true, TagEnvironment: true, TagRevision: true, TagCode: true}

// codeLocation names a package: the image URI, zip:<CodeSha256> for a
// folder of the application zipped (so the same files are the same
// package wherever they live), or s3://bucket/key with ?versionId= when a
// version is given.
func codeLocation(c spec.LambdaCode) string {
	if c.ImageUri != "" {
		return c.ImageUri
	}
	if c.Folder != "" {
		return "zip:" + zipSha256(c.ZipFile)
	}
	loc := "s3://" + c.S3Bucket + "/" + c.S3Key
	if c.S3ObjectVersion != "" {
		loc += "?versionId=" + c.S3ObjectVersion
	}
	return loc
}

// zipSha256 is a zip's CodeSha256 as Lambda computes it: the base64 of
// its SHA-256.
func zipSha256(zip []byte) string {
	sum := sha256.Sum256(zip)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// codeID is a short digest of a package's location, recorded in TagCode
// and in version descriptions.
func codeID(c spec.LambdaCode) string {
	sum := sha256.Sum256([]byte(codeLocation(c)))
	return hex.EncodeToString(sum[:8])
}

// desiredTags are the function's tags: the file's and Jibe's own.
func desiredTags(d deployment) map[string]string {
	tags := maps.Clone(d.fn.Tags)
	if tags == nil {
		tags = map[string]string{}
	}
	tags[TagApp], tags[TagEnvironment], tags[TagRevision] = d.App, d.Env, d.Revision
	tags[TagCode] = codeID(d.fn.Code)
	return tags
}

// userTags are tags without Jibe's own.
func userTags(tags map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range tags {
		if !ownTags[k] {
			out[k] = v
		}
	}
	return out
}

// normalize fills Lambda's defaults and sorts order-free lists, so that
// the file and what Lambda reports compare equal when they mean the same:
// Zip, 128 MB, 3 s, x86_64, PassThrough tracing, 512 MB of /tmp, Text
// logs to /aws/lambda/<name> (INFO levels for JSON), SnapStart None; an
// empty environment, VPC, image configuration or dead-letter target is
// none. Code, tags and the name are left out: they are compared apart.
func normalize(f spec.LambdaFunction) spec.LambdaFunction {
	name := f.FunctionName
	f.FunctionName, f.Code, f.Tags = "", spec.LambdaCode{}, nil
	f.PackageType = orDefault(f.PackageType, "Zip")
	f.MemorySize = orInt(f.MemorySize, 128)
	f.Timeout = orInt(f.Timeout, 3)
	if len(f.Architectures) == 0 {
		f.Architectures = []string{"x86_64"}
	}
	if f.TracingConfig == nil || f.TracingConfig.Mode == "" {
		f.TracingConfig = &spec.LambdaTracingConfig{Mode: "PassThrough"}
	}
	if f.EphemeralStorage == nil {
		f.EphemeralStorage = &spec.LambdaEphemeralStorage{Size: 512}
	}
	if f.Environment != nil && len(f.Environment.Variables) == 0 {
		f.Environment = nil
	}
	f.VpcConfig = normalizeVPC(f.VpcConfig)
	if f.DeadLetterConfig != nil && f.DeadLetterConfig.TargetArn == "" {
		f.DeadLetterConfig = nil
	}
	if ic := f.ImageConfig; ic != nil && len(ic.EntryPoint) == 0 && len(ic.Command) == 0 && ic.WorkingDirectory == "" {
		f.ImageConfig = nil
	}
	f.LoggingConfig = normalizeLogging(f.LoggingConfig, name)
	if f.SnapStart == nil || f.SnapStart.ApplyOn == "" {
		f.SnapStart = &spec.LambdaSnapStart{ApplyOn: "None"}
	}
	if len(f.Layers) == 0 {
		f.Layers = nil
	}
	if len(f.FileSystemConfigs) == 0 {
		f.FileSystemConfigs = nil
	}
	return f
}

func normalizeVPC(v *spec.LambdaVpcConfig) *spec.LambdaVpcConfig {
	if v == nil || len(v.SubnetIds) == 0 && len(v.SecurityGroupIds) == 0 {
		return nil
	}
	out := *v
	out.SubnetIds, out.SecurityGroupIds = slices.Sorted(slices.Values(v.SubnetIds)), slices.Sorted(slices.Values(v.SecurityGroupIds))
	return &out
}

func normalizeLogging(l *spec.LambdaLoggingConfig, name string) *spec.LambdaLoggingConfig {
	out := spec.LambdaLoggingConfig{}
	if l != nil {
		out = *l
	}
	out.LogFormat = orDefault(out.LogFormat, "Text")
	out.LogGroup = orDefault(out.LogGroup, "/aws/lambda/"+name)
	if out.LogFormat == "JSON" {
		out.ApplicationLogLevel = orDefault(out.ApplicationLogLevel, "INFO")
		out.SystemLogLevel = orDefault(out.SystemLogLevel, "INFO")
	} else {
		out.ApplicationLogLevel, out.SystemLogLevel = "", ""
	}
	return &out
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func orInt(p *int32, def int32) *int32 {
	if p == nil {
		return aws.Int32(def)
	}
	return p
}

// liveFunction returns a configuration Lambda reports in the file's shape
// (reserved is the function's reserved concurrency, nil when none).
func liveFunction(c *types.FunctionConfiguration, reserved *int32) spec.LambdaFunction {
	f := spec.LambdaFunction{FunctionName: aws.ToString(c.FunctionName), Description: aws.ToString(c.Description),
		Role: aws.ToString(c.Role), PackageType: string(c.PackageType), Runtime: string(c.Runtime), Handler: aws.ToString(c.Handler),
		MemorySize: c.MemorySize, Timeout: c.Timeout, KMSKeyArn: aws.ToString(c.KMSKeyArn), ReservedConcurrentExecutions: reserved}
	for _, a := range c.Architectures {
		f.Architectures = append(f.Architectures, string(a))
	}
	for _, l := range c.Layers {
		f.Layers = append(f.Layers, aws.ToString(l.Arn))
	}
	if c.Environment != nil {
		f.Environment = &spec.LambdaEnvironment{Variables: c.Environment.Variables}
	}
	if v := c.VpcConfig; v != nil {
		f.VpcConfig = &spec.LambdaVpcConfig{SubnetIds: v.SubnetIds, SecurityGroupIds: v.SecurityGroupIds, Ipv6AllowedForDualStack: v.Ipv6AllowedForDualStack}
	}
	if c.DeadLetterConfig != nil {
		f.DeadLetterConfig = &spec.LambdaDeadLetterConfig{TargetArn: aws.ToString(c.DeadLetterConfig.TargetArn)}
	}
	if c.TracingConfig != nil {
		f.TracingConfig = &spec.LambdaTracingConfig{Mode: string(c.TracingConfig.Mode)}
	}
	if c.EphemeralStorage != nil {
		f.EphemeralStorage = &spec.LambdaEphemeralStorage{Size: aws.ToInt32(c.EphemeralStorage.Size)}
	}
	if ic := c.ImageConfigResponse; ic != nil && ic.ImageConfig != nil {
		f.ImageConfig = &spec.LambdaImageConfig{EntryPoint: ic.ImageConfig.EntryPoint, Command: ic.ImageConfig.Command,
			WorkingDirectory: aws.ToString(ic.ImageConfig.WorkingDirectory)}
	}
	if l := c.LoggingConfig; l != nil {
		f.LoggingConfig = &spec.LambdaLoggingConfig{LogFormat: string(l.LogFormat), LogGroup: aws.ToString(l.LogGroup),
			ApplicationLogLevel: string(l.ApplicationLogLevel), SystemLogLevel: string(l.SystemLogLevel)}
	}
	if c.SnapStart != nil {
		f.SnapStart = &spec.LambdaSnapStart{ApplyOn: string(c.SnapStart.ApplyOn)}
	}
	for _, fs := range c.FileSystemConfigs {
		f.FileSystemConfigs = append(f.FileSystemConfigs, spec.LambdaFileSystemConfig{Arn: aws.ToString(fs.Arn), LocalMountPath: aws.ToString(fs.LocalMountPath)})
	}
	return f
}

// createInput is the CreateFunction request of the file, tagged.
func createInput(d deployment) (*awslambda.CreateFunctionInput, error) {
	in := &awslambda.CreateFunctionInput{}
	if err := apidiff.Recode(d.fn, in); err != nil {
		return nil, err
	}
	in.Tags = desiredTags(d)
	in.Publish = false
	if d.fn.Code.Folder != "" {
		in.Code = &types.FunctionCode{ZipFile: d.fn.Code.ZipFile}
	}
	return in, nil
}

// updateInput is the UpdateFunctionConfiguration request that makes the
// function's configuration the file's: fields the file leaves out are
// sent empty (or as Lambda's default, from normalize), so that removing a
// field from the file removes it from the function.
func updateInput(d deployment, revisionID *string) (*awslambda.UpdateFunctionConfigurationInput, error) {
	want := normalize(*d.fn)
	want.FunctionName = d.fn.FunctionName
	in := &awslambda.UpdateFunctionConfigurationInput{}
	if err := apidiff.Recode(want, in); err != nil {
		return nil, err
	}
	in.FunctionName, in.RevisionId = aws.String(d.fn.FunctionName), revisionID
	in.Description, in.KMSKeyArn = aws.String(want.Description), aws.String(want.KMSKeyArn)
	if in.Environment == nil {
		in.Environment = &types.Environment{Variables: map[string]string{}}
	}
	if in.VpcConfig == nil {
		in.VpcConfig = &types.VpcConfig{SubnetIds: []string{}, SecurityGroupIds: []string{}}
	}
	if in.DeadLetterConfig == nil {
		in.DeadLetterConfig = &types.DeadLetterConfig{TargetArn: aws.String("")}
	}
	if in.Layers == nil {
		in.Layers = []string{}
	}
	if in.FileSystemConfigs == nil {
		in.FileSystemConfigs = []types.FileSystemConfig{}
	}
	if in.ImageConfig == nil && want.PackageType == "Image" {
		in.ImageConfig = &types.ImageConfig{}
	}
	return in, nil
}

// codeInput is the UpdateFunctionCode request of the file's package (and
// architecture, which Lambda changes with the code).
func codeInput(d deployment, revisionID *string) *awslambda.UpdateFunctionCodeInput {
	c := d.fn.Code
	in := &awslambda.UpdateFunctionCodeInput{FunctionName: aws.String(d.fn.FunctionName), RevisionId: revisionID}
	switch {
	case c.ImageUri != "":
		in.ImageUri = aws.String(c.ImageUri)
	case c.Folder != "":
		in.ZipFile = c.ZipFile
	default:
		in.S3Bucket, in.S3Key = aws.String(c.S3Bucket), aws.String(c.S3Key)
		if c.S3ObjectVersion != "" {
			in.S3ObjectVersion = aws.String(c.S3ObjectVersion)
		}
	}
	for _, a := range normalize(*d.fn).Architectures {
		in.Architectures = append(in.Architectures, types.Architecture(a))
	}
	return in
}

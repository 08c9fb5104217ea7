package spec_test

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/jibe-dev/jibe/internal/strictyaml"
	"github.com/jibe-dev/jibe/spec"
)

// today is the day the runtime table was last checked; tests read the
// deprecation table as of it.
var today = clocktesting.NewFakePassiveClock(time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC))

// fnPatch replaces the Runtime and Handler of the base function file, and
// adds lines after the Code block.
func fnPatch(runtime, handler, extra string) []patch {
	return []patch{
		{"function.yaml", "Runtime: python3.12\nHandler: app.handler\n", "Runtime: " + runtime + "\nHandler: " + handler + "\n"},
		{"function.yaml", "", extra},
	}
}

// want is a problem or warning expected at a field of function.yaml, with
// a part of its message.
type want struct{ field, msg string }

// Each of Lambda's own rules refuses what AWS refuses, at the field's line
// in the function file, and says what to write instead; what AWS accepts
// passes without a problem.
func TestLambdaRules(t *testing.T) {
	for _, tc := range []struct {
		name                   string
		runtime, handler, more string
		errs, warns            []want
	}{
		// Runtimes come from the SDK's enumeration.
		{name: "runtime typo", runtime: "pyhton3.12", handler: "app.handler",
			errs: []want{{"Runtime", `"pyhton3.12" is not a Lambda runtime; did you mean python3.12?`}}},
		{name: "runtime in capitals", runtime: "Python3.12", handler: "app.handler",
			errs: []want{{"Runtime", "did you mean python3.12?"}}},
		{name: "unknown runtime", runtime: "cobol85", handler: "app.handler",
			errs: []want{{"Runtime", `"cobol85" is not a Lambda runtime; use one of AWS's runtime identifiers, such as python3.14, nodejs24.x`}}},
		{name: "current runtime", runtime: "nodejs22.x", handler: "index.handler"},
		// Deprecated runtimes are warned, with what AWS blocks and when.
		{name: "deprecated, updates blocked", runtime: "python3.8", handler: "app.handler",
			warns: []want{{"Runtime", "python3.8 is deprecated since 2024-10-14 (no security patches); AWS refuses to create or update functions that use it since 2025-11-01, so deploying fails unless AWS extended the dates for your account; move to python3.14"}}},
		{name: "deprecated AL1 runtime", runtime: "go1.x", handler: "bootstrap",
			warns: []want{{"Runtime", "go1.x is deprecated since 2024-01-08 (no security patches); AWS refuses to create or update functions that use it since 2025-11-01, so deploying fails unless AWS extended the dates for your account; move to provided.al2023"}}},
		{name: "deprecated, creation blocked later", runtime: "python3.10", handler: "app.handler",
			warns: []want{{"Runtime", "python3.10 is deprecated since 2026-10-31 (no security patches); AWS refuses new functions that use it from 2027-02-01 and updates from 2027-03-03; move to python3.14"}}},
		// Ranges.
		{name: "memory too small", runtime: "python3.12", handler: "app.handler", more: "MemorySize: 64\n",
			errs: []want{{"MemorySize", "MemorySize 64 MB is outside Lambda's 128-10240 MB; set a value in that range"}}},
		{name: "memory too large", runtime: "python3.12", handler: "app.handler", more: "MemorySize: 10241\n",
			errs: []want{{"MemorySize", "outside Lambda's 128-10240 MB"}}},
		{name: "memory bounds", runtime: "python3.12", handler: "app.handler", more: "MemorySize: 10240\n"},
		{name: "timeout zero", runtime: "python3.12", handler: "app.handler", more: "Timeout: 0\n",
			errs: []want{{"Timeout", "Timeout 0 s is outside Lambda's 1-900 seconds"}}},
		{name: "timeout too long", runtime: "python3.12", handler: "app.handler", more: "Timeout: 901\n",
			errs: []want{{"Timeout", "Timeout 901 s is outside Lambda's 1-900 seconds; longer work belongs in Step Functions or ECS"}}},
		{name: "timeout bound", runtime: "python3.12", handler: "app.handler", more: "Timeout: 900\n"},
		{name: "ephemeral storage too small", runtime: "python3.12", handler: "app.handler", more: "EphemeralStorage: {Size: 511}\n",
			errs: []want{{"EphemeralStorage.Size", "EphemeralStorage.Size 511 MB is outside Lambda's 512-10240 MB"}}},
		{name: "ephemeral storage too large", runtime: "python3.12", handler: "app.handler", more: "EphemeralStorage: {Size: 10241}\n",
			errs: []want{{"EphemeralStorage.Size", "outside Lambda's 512-10240 MB"}}},
		{name: "ephemeral storage bound", runtime: "python3.12", handler: "app.handler", more: "EphemeralStorage: {Size: 512}\n"},
		{name: "negative reserved concurrency", runtime: "python3.12", handler: "app.handler", more: "ReservedConcurrentExecutions: -1\n",
			errs: []want{{"ReservedConcurrentExecutions", "must be 0 or more (0 stops every invocation); remove it to use the account's unreserved concurrency"}}},
		{name: "zero reserved concurrency", runtime: "python3.12", handler: "app.handler", more: "ReservedConcurrentExecutions: 0\n"},
		// Handlers by runtime.
		{name: "python handler without function", runtime: "python3.12", handler: "app",
			errs: []want{{"Handler", `handler "app" is not of the form file.function that python3.12 expects, such as app.handler or src/app.handler`}}},
		{name: "python handler in a package", runtime: "python3.13", handler: "orders.app.handler"},
		{name: "python handler in a folder", runtime: "python3.13", handler: "src/app.handler"},
		{name: "node handler", runtime: "nodejs22.x", handler: "index",
			errs: []want{{"Handler", "file.function that nodejs22.x expects, such as index.handler"}}},
		{name: "node handler in a folder", runtime: "nodejs22.x", handler: "dist/index.handler"},
		{name: "ruby handler", runtime: "ruby3.4", handler: "function",
			errs: []want{{"Handler", "file.method that ruby3.4 expects, such as function.handler or function.Module::Class.method"}}},
		{name: "ruby class handler", runtime: "ruby3.4", handler: "function.Handler::Process.handle"},
		{name: "java handler with method", runtime: "java21", handler: "com.example.Handler::handleRequest"},
		{name: "java handler class", runtime: "java21", handler: "com.example.Handler"},
		{name: "java handler path", runtime: "java21", handler: "com/example/Handler.java",
			errs: []want{{"Handler", "package.Class::method or package.Class that java21 expects, such as com.example.Handler::handleRequest"}}},
		{name: "java handler without method", runtime: "java17", handler: `"com.example.Handler::"`,
			errs: []want{{"Handler", "package.Class::method or package.Class"}}},
		{name: "dotnet class library handler", runtime: "dotnet8", handler: "Orders::Orders.Function::Handle"},
		{name: "dotnet executable handler", runtime: "dotnet8", handler: "Orders"},
		{name: "dotnet handler with two parts", runtime: "dotnet8", handler: "Orders::Handle",
			errs: []want{{"Handler", "Assembly::Namespace.Class::Method (or the assembly's name alone for an executable) that dotnet8 expects, such as Orders::Orders.Function::Handle"}}},
		{name: "custom runtime handler", runtime: "provided.al2023", handler: "anything-at-all"},
		{name: "handler with a space", runtime: "provided.al2023", handler: `"app handler"`,
			errs: []want{{"Handler", "a handler has no spaces and at most 128 characters"}}},
		// Role and ARNs.
		{name: "layers", runtime: "python3.12", handler: "app.handler",
			more: "Layers:\n  - arn:aws:lambda:eu-west-1:580247275435:layer:LambdaInsightsExtension-Arm64:20\n  - arn:aws:lambda:eu-west-1:123456789012:layer:shared\n",
			errs: []want{{"Layers[1]", `"arn:aws:lambda:eu-west-1:123456789012:layer:shared" is not a layer version ARN; write arn:aws:lambda:<region>:<account>:layer:<name>:<version>`}}},
		{name: "too many layers", runtime: "python3.12", handler: "app.handler",
			more: "Layers: [" + strings.Repeat("\"arn:aws:lambda:eu-west-1:123456789012:layer:l:1\", ", 5) + "\"arn:aws:lambda:eu-west-1:123456789012:layer:l:2\"]\n",
			errs: []want{{"Layers", "6 layers; a function takes at most 5"}}},
		{name: "KMS alias", runtime: "python3.12", handler: "app.handler", more: "KMSKeyArn: alias/orders\n",
			errs: []want{{"KMSKeyArn", `"alias/orders" is not a KMS key ARN; write arn:aws:kms:<region>:<account>:key/<key-id>`}}},
		{name: "KMS key", runtime: "python3.12", handler: "app.handler", more: "KMSKeyArn: arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab\n"},
		{name: "dead letter to S3", runtime: "python3.12", handler: "app.handler", more: "DeadLetterConfig: {TargetArn: \"arn:aws:s3:::orders-dlq\"}\n",
			errs: []want{{"DeadLetterConfig.TargetArn", `"arn:aws:s3:::orders-dlq" is not an SQS queue or SNS topic ARN; write arn:aws:sqs:<region>:<account>:<queue> or arn:aws:sns:<region>:<account>:<topic>`}}},
		{name: "dead letter to SNS", runtime: "python3.12", handler: "app.handler", more: "DeadLetterConfig: {TargetArn: \"arn:aws:sns:eu-west-1:123456789012:orders-dlq\"}\n"},
		// Enumerations.
		{name: "tracing mode", runtime: "python3.12", handler: "app.handler", more: "TracingConfig: {Mode: active}\n",
			errs: []want{{"TracingConfig.Mode", "Active"}}},
		{name: "log levels", runtime: "python3.12", handler: "app.handler",
			more: "LoggingConfig: {LogFormat: JSON, ApplicationLogLevel: VERBOSE, SystemLogLevel: ERROR}\n",
			errs: []want{
				{"LoggingConfig.ApplicationLogLevel", `"VERBOSE" is not allowed; use one of "TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"`},
				{"LoggingConfig.SystemLogLevel", `"ERROR" is not allowed; use one of "DEBUG", "INFO", "WARN"`},
			}},
		{name: "log levels need JSON", runtime: "python3.12", handler: "app.handler",
			more: "LoggingConfig: {ApplicationLogLevel: INFO}\n",
			errs: []want{{"LoggingConfig.ApplicationLogLevel", "log levels need LogFormat: JSON"}}},
		{name: "log levels in JSON", runtime: "python3.12", handler: "app.handler",
			more: "LoggingConfig: {LogFormat: JSON, ApplicationLogLevel: info, SystemLogLevel: WARN}\n",
			errs: []want{{"LoggingConfig.ApplicationLogLevel", `did you mean "INFO"?`}}},
		// File systems.
		{name: "mount outside /mnt", runtime: "python3.12", handler: "app.handler",
			more: "VpcConfig: {SubnetIds: [subnet-1], SecurityGroupIds: [sg-1]}\nFileSystemConfigs:\n  - Arn: arn:aws:elasticfilesystem:eu-west-1:123456789012:access-point/fsap-0123456789abcdef0\n    LocalMountPath: /data\n",
			errs: []want{{"FileSystemConfigs[0].LocalMountPath", `"/data" is not a folder directly under /mnt/; write a path such as /mnt/data`}}},
		{name: "mount without VPC", runtime: "python3.12", handler: "app.handler",
			more: "FileSystemConfigs:\n  - Arn: arn:aws:elasticfilesystem:eu-west-1:123456789012:access-point/fsap-0123456789abcdef0\n    LocalMountPath: /mnt/data\n",
			errs: []want{{"FileSystemConfigs", "a function reaches EFS through a VPC; set VpcConfig with the subnets and security groups of the file system's mount targets"}}},
		{name: "mount of a file system", runtime: "python3.12", handler: "app.handler",
			more: "VpcConfig: {SubnetIds: [subnet-1], SecurityGroupIds: [sg-1]}\nFileSystemConfigs:\n  - Arn: arn:aws:elasticfilesystem:eu-west-1:123456789012:file-system/fs-0123456789abcdef0\n    LocalMountPath: /mnt/data\n",
			errs: []want{{"FileSystemConfigs[0].Arn", "is not an EFS access point ARN; write arn:aws:elasticfilesystem:<region>:<account>:access-point/fsap-"}}},
		{name: "mount", runtime: "python3.12", handler: "app.handler",
			more: "VpcConfig: {SubnetIds: [subnet-1], SecurityGroupIds: [sg-1]}\nFileSystemConfigs:\n  - Arn: arn:aws:elasticfilesystem:eu-west-1:123456789012:access-point/fsap-0123456789abcdef0\n    LocalMountPath: /mnt/data\n"},
		// Environment variables.
		{name: "variable names", runtime: "python3.12", handler: "app.handler",
			more: "Environment:\n  Variables:\n    1ST: a\n    MY-VAR: b\n    GOOD_NAME: c\n",
			errs: []want{
				{`Environment.Variables["1ST"]`, `"1ST" is not a valid environment variable name; start with a letter and use letters, digits and _`},
				{"Environment.Variables.MY-VAR", `"MY-VAR" is not a valid environment variable name`},
			}},
		{name: "reserved variables", runtime: "python3.12", handler: "app.handler",
			more: "Environment:\n  Variables:\n    AWS_REGION: eu-west-1\n    AWS_LAMBDA_FUNCTION_NAME: x\n    AWS_LAMBDA_EXEC_WRAPPER: /opt/wrapper\n",
			errs: []want{
				{"Environment.Variables.AWS_REGION", "AWS_REGION is reserved: Lambda sets it and refuses a function that does; remove it"},
				{"Environment.Variables.AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_NAME is reserved"},
			}},
		{name: "variables too large", runtime: "python3.12", handler: "app.handler",
			more: "Environment:\n  Variables:\n    BLOB: " + strings.Repeat("s3cr3t", 700) + "\n",
			errs: []want{{"Environment.Variables", "the variables take 4211 bytes, above Lambda's 4 KB (4096 bytes) for all of them; keep large values in SSM Parameter Store or Secrets Manager and read them when the function starts"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			patches := fnPatch(tc.runtime, tc.handler, tc.more)
			app, err := spec.LoadFS(patched(t, patches), "app", spec.WithClock(today))
			problems := strictyaml.AsList(err)
			checkWanted(t, "problem", problems, tc.errs)
			var warnings strictyaml.ErrorList
			if app != nil {
				warnings = app.Warnings
			}
			var le *spec.LoadError
			if errors.As(err, &le) {
				warnings = le.Warnings
			}
			checkWanted(t, "warning", warnings, tc.warns)
			if strings.Contains(err2s(err), "s3cr3t") {
				t.Errorf("a message quotes a variable's value:\n%v", err)
			}
		})
	}
}

func err2s(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// checkWanted checks that got holds exactly the wanted entries, each at a
// line of function.yaml.
func checkWanted(t *testing.T, kind string, got strictyaml.ErrorList, wanted []want) {
	t.Helper()
	if len(got) != len(wanted) {
		t.Errorf("got %d %ss, want %d:\n%v", len(got), kind, len(wanted), got)
	}
	for _, w := range wanted {
		found := false
		for _, g := range got {
			if g.Field == w.field && strings.Contains(g.Message, w.msg) {
				found = true
				if g.File != "app/function.yaml" || g.Line == 0 || g.Column == 0 {
					t.Errorf("%s without its place in function.yaml: %v", kind, g)
				}
			}
		}
		if !found {
			t.Errorf("no %s at %s with %q in:\n%v", kind, w.field, w.msg, got)
		}
	}
}

// The role must be an IAM role ARN once placeholders are resolved.
func TestLambdaRole(t *testing.T) {
	for _, tc := range []struct{ role, err string }{
		{"arn:aws:iam::123456789012:role/fn", ""},
		{"arn:aws:iam::123456789012:role/service-role/fn", ""},
		{"arn:aws-cn:iam::123456789012:role/fn", ""},
		{"arn:aws-us-gov:iam::123456789012:role/fn", ""},
		{"arn:aws:iam::${vars.account}:role/fn", ""},
		{"arn:aws:iam::1:role/fn", `"arn:aws:iam::1:role/fn" is not an IAM role ARN; write arn:aws:iam::<12-digit account>:role/<name>, e.g. arn:aws:iam::${vars.accountId}:role/fn-exec`},
		{"fn-exec", `"fn-exec" is not an IAM role ARN`},
		{"arn:aws:iam::123456789012:user/fn", `is not an IAM role ARN`},
		{"arn:aws:iam::${vars.short}:role/fn", `"arn:aws:iam::12345:role/fn" is not an IAM role ARN`},
	} {
		t.Run(tc.role, func(t *testing.T) {
			patches := []patch{
				{"function.yaml", "Role: arn:aws:iam::111111111111:role/fn", "Role: " + tc.role},
				{"jibe.yaml", "    cluster: main\n", "    cluster: main\n    account: \"123456789012\"\n    short: \"12345\"\n"},
			}
			_, err := spec.LoadFS(patched(t, patches), "app", spec.WithClock(today))
			var wanted []want
			if tc.err != "" {
				wanted = []want{{"Role", tc.err}}
			}
			checkWanted(t, "problem", strictyaml.AsList(err), wanted)
		})
	}
}

// Every runtime of the deprecation table is one the SDK knows, so that
// the table cannot name a runtime Jibe refuses.
func TestDeprecatedRuntimesAreKnown(t *testing.T) {
	known := map[string]bool{}
	for _, r := range types.Runtime("").Values() {
		known[string(r)] = true
	}
	for _, r := range spec.DeprecatedRuntimes() {
		if !known[r] {
			t.Errorf("%s is in the deprecation table but not in the SDK's runtimes", r)
		}
	}
}

// The enumerations of the function file's types are the SDK's, so that
// decoding refuses exactly what Lambda refuses.
func TestLambdaEnumsAreTheSDKs(t *testing.T) {
	for _, tc := range []struct {
		typ   any
		field string
		sdk   []string
	}{
		{spec.LambdaFunction{}, "PackageType", names(types.PackageType("").Values())},
		{spec.LambdaTracingConfig{}, "Mode", names(types.TracingMode("").Values())},
		{spec.LambdaLoggingConfig{}, "LogFormat", names(types.LogFormat("").Values())},
		{spec.LambdaLoggingConfig{}, "ApplicationLogLevel", names(types.ApplicationLogLevel("").Values())},
		{spec.LambdaLoggingConfig{}, "SystemLogLevel", names(types.SystemLogLevel("").Values())},
	} {
		f, ok := reflect.TypeOf(tc.typ).FieldByName(tc.field)
		if !ok {
			t.Fatalf("%T has no field %s", tc.typ, tc.field)
		}
		var tagged []string
		for _, part := range strings.Split(f.Tag.Get("jsonschema"), ",") {
			if v, ok := strings.CutPrefix(part, "enum="); ok {
				tagged = append(tagged, v)
			}
		}
		slices.Sort(tagged)
		slices.Sort(tc.sdk)
		if !slices.Equal(tagged, tc.sdk) {
			t.Errorf("%T.%s: enum %v, the SDK's %v", tc.typ, tc.field, tagged, tc.sdk)
		}
	}
}

func names[T ~string](values []T) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = string(v)
	}
	return out
}

// Before a runtime's deprecation date, a warning says when it comes once
// it is near; long before, nothing is said.
func TestRuntimeDeprecationAhead(t *testing.T) {
	for _, tc := range []struct {
		day  time.Time
		want string
	}{
		{time.Date(2026, 9, 15, 0, 0, 0, 0, time.UTC), "python3.10 is deprecated on 2026-10-31 (in 46 days): AWS stops its security patches then, refuses new functions that use it from 2027-02-01 and updates from 2027-03-03; move to python3.14"},
		{time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), ""},
		{time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC), "python3.10 is deprecated since 2026-10-31 (no security patches); AWS refuses new functions that use it since 2027-02-01, so a new environment cannot be created, and updates from 2027-03-03; move to python3.14"},
	} {
		fsys := patched(t, fnPatch("python3.10", "app.handler", ""))
		app, err := spec.LoadFS(fsys, "app", spec.WithClock(clocktesting.NewFakePassiveClock(tc.day)))
		if err != nil {
			t.Fatal(err)
		}
		var wanted []want
		if tc.want != "" {
			wanted = []want{{"Runtime", tc.want}}
		}
		checkWanted(t, "warning", app.Warnings, wanted)
	}
}

// Warnings come with the problems of an invalid spec, so that validate
// shows both at once.
func TestWarningsWithProblems(t *testing.T) {
	fsys := patched(t, fnPatch("python3.8", "app.handler", "MemorySize: 64\n"))
	app, err := spec.LoadFS(fsys, "app", spec.WithClock(today))
	var le *spec.LoadError
	if app != nil || !errors.As(err, &le) {
		t.Fatalf("want a *spec.LoadError, got %T %v", err, err)
	}
	if len(le.Problems) != 1 || len(le.Warnings) != 1 || le.Warnings[0].Line != 3 || le.Warnings[0].Column != 10 {
		t.Errorf("problems:\n%v\nwarnings:\n%v", le.Problems, le.Warnings)
	}
	if err.Error() != le.Problems.Error() {
		t.Errorf("the error's text holds only problems:\n%v", err)
	}
}

package spec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"k8s.io/utils/clock"

	"github.com/jibe-dev/jibe/internal/strictyaml"
)

// WithClock dates the checks that depend on the day, such as Lambda
// runtime deprecations; the wall clock by default.
func WithClock(c clock.PassiveClock) Option {
	return func(l *loader) { l.clock = c }
}

// Lambda's limits, as the Lambda API reference (CreateFunction) and the
// Lambda quotas page give them.
const (
	lambdaMinMemory, lambdaMaxMemory   = 128, 10240 // MB
	lambdaMinTimeout, lambdaMaxTimeout = 1, 900     // seconds
	lambdaMinTmp, lambdaMaxTmp         = 512, 10240 // MB of /tmp
	lambdaMaxLayers                    = 5          // layers per function
	lambdaMaxHandler                   = 128        // characters
	lambdaMaxEnvironment               = 4096       // bytes of all variables, as JSON
	lambdaNoticeDays                   = 90         // days of warning before a deprecation
	lambdaDay                          = time.Hour * 24
	lambdaDateLayout                   = time.DateOnly
	lambdaSuggestedRuntimes            = "python3.14, nodejs24.x, java25, dotnet10, ruby3.4 or provided.al2023"
)

// lambdaRuntimes are the runtime identifiers Lambda knows: the SDK's
// enumeration, which follows the Lambda API model.
var lambdaRuntimes = enumNames(types.Runtime("").Values())

// runtimeLifecycle gives the days (UTC) on which AWS deprecates a runtime
// (no more security patches or support), then refuses to create functions
// that use it, then refuses to update them; and the runtime to move to.
type runtimeLifecycle struct {
	deprecated, createBlock, updateBlock, successor string
}

// deprecatedRuntimes is AWS's runtime deprecation table ("Lambda runtimes"
// in the Lambda Developer Guide, docs.aws.amazon.com/lambda/latest/dg/
// lambda-runtimes.html), as known on 2026-12-05. The dates up to
// nodejs18.x are those of cfn-lint's LmbdRuntimeLifecycle.json (taken
// from that page; nodejs18.x's deprecation day from tflint-ruleset-aws's
// deprecated-runtime rule); those of python3.9, nodejs20.x and python3.10
// are the ones AWS Health notices gave (quoted in public issue threads).
// AWS moves these dates, mostly later, so the table only warns: even past
// its update block, an account may have been granted more time. Runtimes
// whose dates could not be confirmed (python3.11, java8.al2, java11,
// java17, provided.al2, ruby3.2, dotnet8) are left out rather than guessed.
var deprecatedRuntimes = map[string]runtimeLifecycle{
	"nodejs":         {"2016-10-31", "2016-10-31", "2016-10-31", "nodejs24.x"},
	"nodejs4.3":      {"2020-03-05", "2020-03-05", "2020-03-05", "nodejs24.x"},
	"nodejs4.3-edge": {"2020-03-05", "2019-04-30", "2019-04-30", "nodejs24.x"},
	"nodejs6.10":     {"2019-08-12", "2019-08-12", "2019-08-12", "nodejs24.x"},
	"nodejs8.10":     {"2020-03-06", "2020-03-06", "2020-03-06", "nodejs24.x"},
	"nodejs10.x":     {"2021-07-30", "2021-07-30", "2022-02-14", "nodejs24.x"},
	"nodejs12.x":     {"2023-03-31", "2023-03-31", "2023-04-30", "nodejs24.x"},
	"nodejs14.x":     {"2023-12-04", "2024-07-09", "2025-11-01", "nodejs24.x"},
	"nodejs16.x":     {"2024-06-12", "2025-10-01", "2025-11-01", "nodejs24.x"},
	"nodejs18.x":     {"2025-09-01", "2025-10-01", "2025-11-01", "nodejs24.x"},
	"nodejs20.x":     {"2026-04-30", "2026-06-01", "2026-07-01", "nodejs24.x"},
	"python2.7":      {"2021-07-15", "2021-07-15", "2022-05-30", "python3.14"},
	"python3.6":      {"2022-07-18", "2022-07-18", "2022-08-29", "python3.14"},
	"python3.7":      {"2023-12-04", "2024-01-09", "2025-11-01", "python3.14"},
	"python3.8":      {"2024-10-14", "2025-10-01", "2025-11-01", "python3.14"},
	"python3.9":      {"2025-12-15", "2026-01-15", "2026-02-15", "python3.14"},
	"python3.10":     {"2026-10-31", "2027-02-01", "2027-03-03", "python3.14"},
	"java8":          {"2024-01-08", "2024-02-08", "2025-11-01", "java25"},
	"dotnetcore1.0":  {"2019-06-27", "2019-07-30", "2019-07-30", "dotnet10"},
	"dotnetcore2.0":  {"2019-05-30", "2019-05-30", "2019-05-30", "dotnet10"},
	"dotnetcore2.1":  {"2022-01-05", "2022-01-05", "2022-04-13", "dotnet10"},
	"dotnetcore3.1":  {"2023-04-03", "2023-04-03", "2023-05-03", "dotnet10"},
	"dotnet6":        {"2024-11-12", "2025-10-01", "2025-11-01", "dotnet10"},
	"ruby2.5":        {"2021-07-30", "2021-07-30", "2022-03-31", "ruby3.4"},
	"ruby2.7":        {"2023-12-07", "2024-01-09", "2025-11-01", "ruby3.4"},
	"go1.x":          {"2024-01-08", "2024-02-08", "2025-11-01", "provided.al2023"},
	"provided":       {"2024-01-08", "2024-02-08", "2025-11-01", "provided.al2023"},
}

// DeprecatedRuntimes returns the Lambda runtimes that validation warns
// about once their deprecation day is near or past, sorted.
func DeprecatedRuntimes() []string {
	return slices.Sorted(maps.Keys(deprecatedRuntimes))
}

// reservedLambdaVariables are the environment variables Lambda sets and
// refuses in a function's configuration ("Reserved environment variables"
// in the Lambda Developer Guide). Others that Lambda sets, such as PATH,
// TZ or AWS_LAMBDA_EXEC_WRAPPER, may be set.
var reservedLambdaVariables = []string{
	"_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
	"AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
	"AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
	"AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
	"AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
}

// The forms of ARNs and names Lambda accepts. A partition is aws,
// aws-cn, aws-us-gov and the like; a region is like eu-west-1.
const (
	arnPrefix = `^arn:aws(?:-[a-z]+)*:`
	arnRegion = `[a-z]{2}(?:-[a-z]+)+-\d+:\d{12}:`
)

var (
	roleARN     = regexp.MustCompile(arnPrefix + `iam::\d{12}:role/[\w+=,.@/-]+$`)
	layerARN    = regexp.MustCompile(arnPrefix + `lambda:` + arnRegion + `layer:[\w-]+:\d+$`)
	kmsKeyARN   = regexp.MustCompile(arnPrefix + `kms:` + arnRegion + `key/[\w-]+$`)
	queueARN    = regexp.MustCompile(arnPrefix + `(?:sqs|sns):` + arnRegion + `[\w.-]+$`)
	efsPointARN = regexp.MustCompile(arnPrefix + `elasticfilesystem:` + arnRegion + `access-point/fsap-[0-9a-f]{17}$`)
	mountPath   = regexp.MustCompile(`^/mnt/[\w.-]+$`)
	lambdaVarRE = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]*$`)
)

// handlerForm is the handler a family of runtimes expects.
type handlerForm struct {
	re   *regexp.Regexp
	form string // "file.function that %s expects, such as ..."
}

// handlerForms are the handler forms by runtime prefix. OS-only runtimes
// (provided.*, go1.x) take any handler: their bootstrap reads it.
var handlerForms = []struct {
	prefix string
	handlerForm
}{
	{"python", handlerForm{regexp.MustCompile(`^\S+\.[A-Za-z_]\w*$`),
		"file.function that %s expects, such as app.handler or src/app.handler (for the function handler of src/app.py)"}},
	{"nodejs", handlerForm{regexp.MustCompile(`^\S+\.[A-Za-z_$][\w$]*$`),
		"file.function that %s expects, such as index.handler (for the export handler of index.js or index.mjs)"}},
	{"ruby", handlerForm{regexp.MustCompile(`^\S+\.\S+$`),
		"file.method that %s expects, such as function.handler or function.Module::Class.method"}},
	{"java", handlerForm{regexp.MustCompile(`^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*(?:::[A-Za-z_$][\w$]*)?$`),
		"package.Class::method or package.Class that %s expects, such as com.example.Handler::handleRequest"}},
	{"dotnet", handlerForm{regexp.MustCompile(`^[^:\s]+(?:::[^:\s]+::[^:\s]+)?$`),
		"Assembly::Namespace.Class::Method (or the assembly's name alone for an executable) that %s expects, such as Orders::Orders.Function::Handle"}},
}

// lambdaCheck reports the problems and warnings of one function file.
type lambdaCheck struct {
	l   *loader
	doc *strictyaml.Document
}

func (c lambdaCheck) errorf(field, format string, args ...any) {
	c.l.errs = append(c.l.errs, c.doc.Errorf(field, format, args...))
}

func (c lambdaCheck) warnf(field, format string, args ...any) {
	c.l.warns = append(c.l.warns, c.doc.Errorf(field, format, args...))
}

// checkLambda checks a rendered function file against Lambda's own rules,
// those CreateFunction enforces, so that a mistake is found before a
// deployment. Deprecated runtimes are warnings.
func (l *loader) checkLambda(doc *strictyaml.Document, fn *LambdaFunction) {
	c := lambdaCheck{l: l, doc: doc}
	if fn.PackageType != "Image" && fn.Runtime != "" && c.runtime(fn.Runtime) && fn.Handler != "" {
		c.handler(fn.Runtime, fn.Handler)
	}
	c.naming(fn)
	c.ranges(fn)
	c.snapStart(fn)
	c.arns(fn)
	c.logging(fn.LoggingConfig)
	c.fileSystems(fn)
	if fn.Environment != nil {
		c.environment(fn.Environment.Variables)
	}
}

// runtime checks that Lambda knows runtime, and warns when it is
// deprecated. It reports whether the runtime is known.
func (c lambdaCheck) runtime(runtime string) bool {
	if !slices.Contains(lambdaRuntimes, runtime) {
		if s := strictyaml.Suggest(runtime, lambdaRuntimes); s != "" {
			c.errorf("Runtime", "%q is not a Lambda runtime; did you mean %s?", runtime, s)
		} else {
			c.errorf("Runtime", "%q is not a Lambda runtime; use one of AWS's runtime identifiers, such as %s "+
				"(a language Lambda has no runtime for runs on provided.al2023)", runtime, lambdaSuggestedRuntimes)
		}
		return false
	}
	if lc, ok := deprecatedRuntimes[runtime]; ok {
		if msg := lc.warning(runtime, c.l.clock.Now()); msg != "" {
			c.warnf("Runtime", "%s", msg)
		}
	}
	return true
}

// warning words where runtime stands in its deprecation on day now, or
// returns "" long before its deprecation.
func (lc runtimeLifecycle) warning(runtime string, now time.Time) string {
	day := func(s string) time.Time {
		t, err := time.Parse(lambdaDateLayout, s)
		if err != nil {
			panic(fmt.Sprintf("deprecatedRuntimes: %s: %v", runtime, err)) // a typo in the table above
		}
		return t
	}
	now = now.UTC()
	move := "; move to " + lc.successor
	switch {
	case now.Before(day(lc.deprecated)):
		days := int(day(lc.deprecated).Sub(now.Truncate(lambdaDay)) / lambdaDay)
		if days > lambdaNoticeDays {
			return ""
		}
		return fmt.Sprintf("%s is deprecated on %s (in %d days): AWS stops its security patches then, refuses new functions that use it from %s and updates from %s%s",
			runtime, lc.deprecated, days, lc.createBlock, lc.updateBlock, move)
	case now.Before(day(lc.createBlock)):
		return fmt.Sprintf("%s is deprecated since %s (no security patches); AWS refuses new functions that use it from %s and updates from %s%s",
			runtime, lc.deprecated, lc.createBlock, lc.updateBlock, move)
	case now.Before(day(lc.updateBlock)):
		return fmt.Sprintf("%s is deprecated since %s (no security patches); AWS refuses new functions that use it since %s, so a new environment cannot be created, and updates from %s%s",
			runtime, lc.deprecated, lc.createBlock, lc.updateBlock, move)
	}
	return fmt.Sprintf("%s is deprecated since %s (no security patches); AWS refuses to create or update functions that use it since %s, so deploying fails unless AWS extended the dates for your account%s",
		runtime, lc.deprecated, lc.updateBlock, move)
}

// handler checks the handler's form for the runtime's language.
func (c lambdaCheck) handler(runtime, handler string) {
	if len(handler) > lambdaMaxHandler || strings.ContainsAny(handler, " \t\r\n") {
		c.errorf("Handler", "handler %q: a handler has no spaces and at most %d characters; name the entry point, such as app.handler", handler, lambdaMaxHandler)
		return
	}
	for _, f := range handlerForms {
		if strings.HasPrefix(runtime, f.prefix) && !f.re.MatchString(handler) {
			c.errorf("Handler", "handler %q is not of the form "+f.form, handler, runtime)
		}
	}
}

// ranges checks the sizes and counts Lambda bounds.
func (c lambdaCheck) ranges(fn *LambdaFunction) {
	if m := fn.MemorySize; m != nil && (*m < lambdaMinMemory || *m > lambdaMaxMemory) {
		c.errorf("MemorySize", "MemorySize %d MB is outside Lambda's %d-%d MB; set a value in that range (CPU grows with memory)",
			*m, lambdaMinMemory, lambdaMaxMemory)
	}
	if t := fn.Timeout; t != nil && *t < lambdaMinTimeout {
		c.errorf("Timeout", "Timeout %d s is outside Lambda's %d-%d seconds; set at least %d", *t, lambdaMinTimeout, lambdaMaxTimeout, lambdaMinTimeout)
	}
	if t := fn.Timeout; t != nil && *t > lambdaMaxTimeout {
		c.errorf("Timeout", "Timeout %d s is outside Lambda's %d-%d seconds; longer work belongs in Step Functions or ECS", *t, lambdaMinTimeout, lambdaMaxTimeout)
	}
	if e := fn.EphemeralStorage; e != nil && (e.Size < lambdaMinTmp || e.Size > lambdaMaxTmp) {
		c.errorf("EphemeralStorage.Size", "EphemeralStorage.Size %d MB is outside Lambda's %d-%d MB; set a value in that range, or remove EphemeralStorage for the default %d MB",
			e.Size, lambdaMinTmp, lambdaMaxTmp, lambdaMinTmp)
	}
	if r := fn.ReservedConcurrentExecutions; r != nil && *r < 0 {
		c.errorf("ReservedConcurrentExecutions", "ReservedConcurrentExecutions %d must be 0 or more (0 stops every invocation); remove it to use the account's unreserved concurrency", *r)
	}
	if n := len(fn.Layers); n > lambdaMaxLayers {
		c.errorf("Layers", "%d layers; a function takes at most %d: merge layers, or move their content into the package", n, lambdaMaxLayers)
	}
}

// arns checks the form of the ARNs a function names.
func (c lambdaCheck) arns(fn *LambdaFunction) {
	if !roleARN.MatchString(fn.Role) {
		c.errorf("Role", "%q is not an IAM role ARN; write arn:aws:iam::<12-digit account>:role/<name>, e.g. arn:aws:iam::${vars.accountId}:role/fn-exec with the account as a variable of each environment", fn.Role)
	}
	for i, layer := range fn.Layers {
		if !layerARN.MatchString(layer) {
			c.errorf(strictyaml.JoinIndex("Layers", i), "%q is not a layer version ARN; write arn:aws:lambda:<region>:<account>:layer:<name>:<version>", layer)
		}
	}
	if k := fn.KMSKeyArn; k != "" && !kmsKeyARN.MatchString(k) {
		c.errorf("KMSKeyArn", "%q is not a KMS key ARN; write arn:aws:kms:<region>:<account>:key/<key-id> (the key's ARN, not an alias)", k)
	}
	if d := fn.DeadLetterConfig; d != nil && d.TargetArn != "" && !queueARN.MatchString(d.TargetArn) {
		c.errorf("DeadLetterConfig.TargetArn", "%q is not an SQS queue or SNS topic ARN; write arn:aws:sqs:<region>:<account>:<queue> or arn:aws:sns:<region>:<account>:<topic>", d.TargetArn)
	}
}

// logging checks that log levels come with the JSON log format, the only
// one that takes them. The levels' names are enumerations of the types,
// checked when decoding.
func (c lambdaCheck) logging(lc *LambdaLoggingConfig) {
	if lc == nil || lc.LogFormat == string(types.LogFormatJson) {
		return
	}
	for field, level := range map[string]string{"ApplicationLogLevel": lc.ApplicationLogLevel, "SystemLogLevel": lc.SystemLogLevel} {
		if level != "" {
			c.errorf("LoggingConfig."+field, "log levels need LogFormat: JSON; set it, or remove the level to keep text logs")
		}
	}
}

// enumNames returns the names of an SDK enumeration's Values().
func enumNames[T ~string](values []T) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = string(v)
	}
	return out
}

// fileSystems checks EFS mounts.
func (c lambdaCheck) fileSystems(fn *LambdaFunction) {
	if len(fn.FileSystemConfigs) == 0 {
		return
	}
	if len(fn.FileSystemConfigs) > 1 {
		c.errorf("FileSystemConfigs", "%d file systems; a function mounts at most one: keep one, with folders for the rest", len(fn.FileSystemConfigs))
	}
	if fn.VpcConfig == nil || len(fn.VpcConfig.SubnetIds) == 0 {
		c.errorf("FileSystemConfigs", "a function reaches EFS through a VPC; set VpcConfig with the subnets and security groups of the file system's mount targets")
	}
	for i, fs := range fn.FileSystemConfigs {
		field := strictyaml.JoinIndex("FileSystemConfigs", i)
		if !efsPointARN.MatchString(fs.Arn) {
			c.errorf(field+".Arn", "%q is not an EFS access point ARN; write arn:aws:elasticfilesystem:<region>:<account>:access-point/fsap-<id> (Lambda mounts access points, not file systems)", fs.Arn)
		}
		if !mountPath.MatchString(fs.LocalMountPath) {
			c.errorf(field+".LocalMountPath", "%q is not a folder directly under /mnt/; write a path such as /mnt/data", fs.LocalMountPath)
		}
	}
}

// environment checks variable names and their total size. Values are
// never quoted: they may be secrets.
func (c lambdaCheck) environment(vars map[string]string) {
	for _, name := range slices.Sorted(maps.Keys(vars)) {
		field := strictyaml.JoinKey("Environment.Variables", name)
		switch {
		case !lambdaVarRE.MatchString(name):
			c.errorf(field, "%q is not a valid environment variable name; start with a letter and use letters, digits and _", name)
		case slices.Contains(reservedLambdaVariables, name):
			c.errorf(field, "%s is reserved: Lambda sets it and refuses a function that does; remove it", name)
		}
	}
	if n := environmentSize(vars); n > lambdaMaxEnvironment {
		c.errorf("Environment.Variables", "the variables take %d bytes, above Lambda's 4 KB (%d bytes) for all of them; "+
			"keep large values in SSM Parameter Store or Secrets Manager and read them when the function starts", n, lambdaMaxEnvironment)
	}
}

// environmentSize is the size Lambda measures: the variables as JSON.
func environmentSize(vars map[string]string) int {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(vars); err != nil {
		return 0
	}
	return len(bytes.TrimSpace(b.Bytes()))
}

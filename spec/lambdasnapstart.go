package spec

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/jibe-dev/jibe/internal/strictyaml"
)

// Lambda's limits on names and descriptions (CreateFunction).
const (
	lambdaMaxName        = 64  // characters of a function name
	lambdaMaxDescription = 256 // characters of a description
)

var lambdaNameRE = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)

// snapStartRuntimes are the runtime families SnapStart supports and the
// first version of each that does ("Improving startup performance with
// Lambda SnapStart" in the Lambda Developer Guide): Java 11, Python 3.12
// and .NET 8 and later. OS-only runtimes and images are not supported.
var snapStartRuntimes = []struct {
	re    *regexp.Regexp
	first int
}{
	{regexp.MustCompile(`^java(\d+)$`), 11},
	{regexp.MustCompile(`^python3\.(\d+)$`), 12},
	{regexp.MustCompile(`^dotnet(\d+)$`), 8},
}

// naming checks the function's name and description.
func (c lambdaCheck) naming(fn *LambdaFunction) {
	name := fn.FunctionName
	if !strings.HasPrefix(name, "arn:") && (len(name) > lambdaMaxName || !lambdaNameRE.MatchString(name)) {
		c.errorf("FunctionName", "%q is not a Lambda function name; use at most %d letters, digits, - and _", name, lambdaMaxName)
	}
	if n := len([]rune(fn.Description)); n > lambdaMaxDescription {
		c.errorf("Description", "the description has %d characters; Lambda takes at most %d", n, lambdaMaxDescription)
	}
}

// snapStart checks what SnapStart does not support: other runtimes,
// images, EFS and more than 512 MB of /tmp.
func (c lambdaCheck) snapStart(fn *LambdaFunction) {
	if fn.SnapStart == nil || fn.SnapStart.ApplyOn != "PublishedVersions" {
		return
	}
	if fn.PackageType == "Image" || fn.Runtime != "" && !snapStartRuntime(fn.Runtime) {
		what := "container images"
		if fn.PackageType != "Image" {
			what = fn.Runtime
		}
		c.errorf("SnapStart", "SnapStart does not support %s; it runs on Java 11, Python 3.12, .NET 8 and later runtimes: remove SnapStart, or use provisioned concurrency", what)
	}
	if len(fn.FileSystemConfigs) > 0 {
		c.errorf("SnapStart", "SnapStart does not support Amazon EFS; remove SnapStart or FileSystemConfigs")
	}
	if e := fn.EphemeralStorage; e != nil && e.Size > lambdaMinTmp {
		c.errorf("EphemeralStorage.Size", "SnapStart supports at most %d MB of ephemeral storage; lower EphemeralStorage.Size or remove SnapStart", lambdaMinTmp)
	}
}

// snapStartRuntime reports whether SnapStart supports runtime.
func snapStartRuntime(runtime string) bool {
	for _, r := range snapStartRuntimes {
		if m := r.re.FindStringSubmatch(runtime); m != nil {
			v, _ := strconv.Atoi(m[1])
			return v >= r.first
		}
	}
	return false
}

// checkSnapStartConcurrency refuses SnapStart on a function the target
// gives provisioned concurrency: Lambda does not support both.
func (l *loader) checkSnapStartConcurrency(doc *strictyaml.Document, t *LambdaTarget, fn *LambdaFunction) {
	if t.ProvisionedConcurrency != nil && fn.SnapStart != nil && fn.SnapStart.ApplyOn == "PublishedVersions" {
		l.errs = append(l.errs, doc.Errorf("SnapStart", "SnapStart does not support provisioned concurrency, which the target sets (lambda.provisionedConcurrency); use one or the other"))
	}
}

package spec

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// deprecatedRuntimes are the Lambda runtimes AWS has deprecated (no
// security patches; creating functions with them is blocked or soon
// will be), by the runtime to move to. The runtimes themselves come from
// the SDK's enum (types.Runtime), which does not mark deprecation.
var deprecatedRuntimes = map[string]string{
	"nodejs": "nodejs22.x", "nodejs4.3": "nodejs22.x", "nodejs4.3-edge": "nodejs22.x", "nodejs6.10": "nodejs22.x",
	"nodejs8.10": "nodejs22.x", "nodejs10.x": "nodejs22.x", "nodejs12.x": "nodejs22.x", "nodejs14.x": "nodejs22.x",
	"nodejs16.x": "nodejs22.x", "nodejs18.x": "nodejs22.x",
	"java8": "java21", "java8.al2": "java21",
	"python2.7": "python3.13", "python3.6": "python3.13", "python3.7": "python3.13", "python3.8": "python3.13", "python3.9": "python3.13",
	"dotnetcore1.0": "dotnet8", "dotnetcore2.0": "dotnet8", "dotnetcore2.1": "dotnet8", "dotnetcore3.1": "dotnet8", "dotnet6": "dotnet8",
	"go1.x": "provided.al2023", "provided": "provided.al2023",
	"ruby2.5": "ruby3.4", "ruby2.7": "ruby3.4",
}

// runtimeRule checks a Zip function's runtime against the SDK's enum: it
// returns an error for an unknown runtime (naming the nearest known one)
// and a warning for a deprecated one.
func runtimeRule(runtime string) (problem, warning string) {
	known := types.Runtime("").Values()
	if slices.Contains(known, types.Runtime(runtime)) {
		if next, ok := deprecatedRuntimes[runtime]; ok {
			return "", fmt.Sprintf("runtime %s is deprecated by AWS: move to %s (or the latest of its family)", runtime, next)
		}
		return "", ""
	}
	return fmt.Sprintf("%q is not a Lambda runtime; did you mean %s?", runtime, nearestRuntime(runtime, known)), ""
}

// nearestRuntime returns the known runtime closest to s by edit distance,
// preferring runtimes that are not deprecated.
func nearestRuntime(s string, known []types.Runtime) string {
	best, bestD := "", -1
	for _, k := range known {
		d := editDistance(s, string(k))
		if _, old := deprecatedRuntimes[string(k)]; old {
			d++
		}
		if bestD < 0 || d < bestD {
			best, bestD = string(k), d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// handlerForms are the handler forms Lambda's runtimes accept, by runtime
// family (the runtime's leading letters), with an example.
var handlerForms = map[string]struct {
	re      *regexp.Regexp
	example string
}{
	"nodejs": {regexp.MustCompile(`^[\w./-]+\.[A-Za-z_$][\w$]*$`), "index.handler (file index.js or .mjs, export handler)"},
	"python": {regexp.MustCompile(`^[\w./-]+\.[A-Za-z_]\w*$`), "app.handler (module app, function handler)"},
	"ruby":   {regexp.MustCompile(`^[\w./-]+\.[A-Za-z_]\w*[?!]?$`), "function.handler (file function.rb, method handler)"},
	"java":   {regexp.MustCompile(`^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*(::[A-Za-z_$][\w$]*)?$`), "com.example.Handler::handleRequest"},
	"dotnet": {regexp.MustCompile(`^[\w.]+::[\w.]+::\w+$|^[\w.]+$`), "MyAssembly::MyNamespace.MyClass::MyMethod"},
}

// handlerRule checks a handler's form for its runtime; "" when it fits or
// the runtime (provided, go) takes any handler.
func handlerRule(runtime, handler string) string {
	family := strings.TrimRight(strings.SplitN(runtime, ".", 2)[0], "0123456789")
	if strings.HasPrefix(runtime, "dotnet") {
		family = "dotnet"
	}
	form, ok := handlerForms[family]
	if !ok || form.re.MatchString(handler) {
		return ""
	}
	return fmt.Sprintf("%q is not a %s handler: write it as %s", handler, family, form.example)
}

// roleARNRE is the form of an IAM role ARN.
var roleARNRE = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$`)

// roleRule checks the execution role's ARN form.
func roleRule(role string) string {
	if roleARNRE.MatchString(role) {
		return ""
	}
	return fmt.Sprintf("%q is not an IAM role ARN: write arn:aws:iam::<12-digit account>:role/<name>", role)
}

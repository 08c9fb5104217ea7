package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const lambdaApp = `apiVersion: jibe.dev/v1alpha1
kind: Application
metadata: {name: fn}
spec:
  targets: [{name: fn, lambda: {function: function.yaml}}]
  environments: [{name: dev, aws: {account: dev}}]
`

// writeLambdaApp writes an application whose function file is function.
func writeLambdaApp(t *testing.T, function string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "fn")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "jibe.yaml"), lambdaApp)
	writeFile(t, filepath.Join(dir, "function.yaml"), function)
	return dir
}

// A bad function file: its problems at their lines, and the deprecated
// runtime's warning next to them; the warning does not count as a problem.
func TestValidateLambdaFunction(t *testing.T) {
	dir := writeLambdaApp(t, `FunctionName: fn
Role: arn:aws:iam::1:role/fn
Runtime: python3.8
Handler: app
MemorySize: 64
Code: {S3Bucket: b, S3Key: k.zip}
`)
	fn := filepath.Join(dir, "function.yaml")
	code, out, errOut := jibe(t, "validate", dir)
	if code != exitProblems {
		t.Fatalf("exit %d, want %d\n%s%s", code, exitProblems, out, errOut)
	}
	for _, want := range []string{
		fn + `:2:7: Role: "arn:aws:iam::1:role/fn" is not an IAM role ARN; write arn:aws:iam::<12-digit account>:role/<name>`,
		fn + `:3:10: warning: Runtime: python3.8 is deprecated since 2024-10-14 (no security patches); AWS refuses to create or update functions that use it since 2025-11-01`,
		fn + `:4:10: Handler: handler "app" is not of the form file.function that python3.8 expects, such as app.handler`,
		fn + `:5:13: MemorySize: MemorySize 64 MB is outside Lambda's 128-10240 MB`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	if errOut != "3 problems found\n" {
		t.Errorf("stderr = %q; warnings are not problems", errOut)
	}
}

// A valid application with a warning: the warning is printed, the
// application is ok and the exit status is 0, in every format.
func TestValidateWarningOnly(t *testing.T) {
	dir := writeLambdaApp(t, `FunctionName: fn
Role: arn:aws:iam::123456789012:role/fn
Runtime: go1.x
Handler: bootstrap
Code: {S3Bucket: b, S3Key: k.zip}
`)
	fn := filepath.Join(dir, "function.yaml")
	code, out, errOut := jibe(t, "validate", dir)
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	want := fn + ":3:10: warning: Runtime: go1.x is deprecated since 2024-01-08"
	if !strings.Contains(out, want) || !strings.Contains(out, "ok "+dir+" (application fn)\n") {
		t.Errorf("stdout:\n%s\nwant %q and ok", out, want)
	}

	code, out, _ = jibe(t, "validate", "-o", "github", dir)
	annotation := "::warning file=" + escapeProperty(fn) + ",line=3,col=10,title=jibe validate::Runtime: go1.x is deprecated since 2024-01-08"
	if code != exitOK || !strings.HasPrefix(out, annotation) {
		t.Errorf("exit %d, annotations:\n%s\nwant %s", code, out, annotation)
	}

	code, out, _ = jibe(t, "validate", "--format", "json", dir)
	var doc struct {
		Valid   bool
		Results []struct {
			Problems []json.RawMessage
			Warnings []struct {
				File           string
				Line, Column   int
				Field, Message string
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if code != exitOK || !doc.Valid || len(doc.Results) != 1 || len(doc.Results[0].Problems) != 0 || len(doc.Results[0].Warnings) != 1 {
		t.Fatalf("exit %d, doc = %+v", code, doc)
	}
	if w := doc.Results[0].Warnings[0]; w.File != fn || w.Line != 3 || w.Column != 10 || w.Field != "Runtime" || !strings.HasPrefix(w.Message, "go1.x is deprecated") {
		t.Errorf("warning = %+v", w)
	}
}

// `jibe validate --config` checks applications against the agent
// configuration: accounts it does not configure, approvals with no GitHub
// to read reviews from, and with --source that source's tenancy.
func TestValidateAgainstTheAgentConfiguration(t *testing.T) {
	cfg := writeAgentConfig(t, "payments", "staging", "{name: staging, region: eu-west-1}")
	code, out, errOut := jibe(t, "validate", "--config", cfg, "../../examples/ecs-web")
	if code != exitProblems || !strings.Contains(out, `AWS account "production" is not configured: add it under aws.accounts`) || !strings.Contains(out, "environment production needs approval from pull-request reviews") {
		t.Errorf("exit %d, output:\n%s%s\nwant the unconfigured production account reported", code, out, errOut)
	}
	code, out, _ = jibe(t, "validate", "--config", cfg, "--source", "nope", "../../examples/ecs-web")
	if code != exitProblems || !strings.Contains(out, `no source "nope" (it has payments)`) {
		t.Errorf("exit %d, output:\n%s\nwant the unknown source reported", code, out)
	}
	if code, _, errOut := jibe(t, "validate", "--source", "payments", "../../examples/ecs-web"); code != exitUsage || !strings.Contains(errOut, "--source needs --config") {
		t.Errorf("exit %d, stderr %q; want --source without --config refused", code, errOut)
	}
}

// writeApp writes an application's files under a new folder.
func writeApp(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "app")
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, p, content)
	}
	return dir
}

// The mistakes of issue 18, as a new user makes them: each is a problem
// at its file, line and column.
func TestValidateCatchesWhatDeployRefuses(t *testing.T) {
	dir := writeApp(t, map[string]string{
		"jibe.yaml": `apiVersion: jibe.dev/v1alpha1
kind: Application
metadata: {name: mistakes}
spec:
  targets:
    - {name: site, kubernetes: {manifests: k8s}}
    - {name: fn, lambda: {function: function.yaml}}
    - {name: web, ecs: {taskDefinition: taskdef.yaml, service: service.yaml}}
  environments: [{name: dev, aws: {account: dev}, kubernetes: {cluster: dev}}]
`,
		"k8s/deploy.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: site
spec:
  replicaz: 2
  selector: {matchLabels: {app: site}}
  template:
    metadata: {labels: {app: site}}
    spec:
      containers:
        - name: site
          image: nginx:1.27
          ports:
            - containerPort: "eighty"
`,
		"k8s/other.yaml": `apiVersion: apps/v9
kind: Deployment
metadata: {name: other}
`,
		"function.yaml": `FunctionName: fn
Role: arn:aws:iam::123456789012:role/fn
Runtime: pyhton3.12
Handler: app.handler
Code: {S3Bucket: b, S3Key: k.zip}
`,
		"taskdef.yaml": `family: web
networkMode: awsvpc
requiresCompatibilities: [FARGATE]
cpu: "512"
memory: "99"
containerDefinitions:
  - {name: web, image: "nginx:1.27", portMappings: [{containerPort: 80}]}
`,
		"service.yaml": `serviceName: web
cluster: main
launchType: FARGATE
networkConfiguration: {awsvpcConfiguration: {subnets: [subnet-1]}}
`,
	})
	code, out, errOut := jibe(t, "validate", dir)
	if code != exitProblems {
		t.Fatalf("exit %d, want %d\n%s%s", code, exitProblems, out, errOut)
	}
	for _, want := range []string{
		dir + `/k8s/deploy.yaml:6:3: spec.replicaz: unknown field "replicaz" in apps/v1 Deployment; did you mean "replicas"?`,
		dir + `/k8s/deploy.yaml:15:30: spec.template.spec.containers[0].ports[0].containerPort: expected an integer, got "eighty"`,
		dir + `/k8s/other.yaml:1:13: apiVersion: apps/v9 does not serve Deployment in Kubernetes 1.35; use apiVersion apps/v1`,
		dir + `/function.yaml:3:10: Runtime: "pyhton3.12" is not a Lambda runtime; did you mean python3.12?`,
		dir + `/taskdef.yaml:5:9: memory: memory 99 MiB does not fit Fargate's cpu 512`,
	} {
		if !strings.Contains(out, filepath.FromSlash(want)) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
}

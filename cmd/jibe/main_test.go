package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/spec"
)

func jibe(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	// A deadline, so that a command that unexpectedly keeps running fails
	// the test instead of hanging the package.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code = run(ctx, args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestValidateExamples(t *testing.T) {
	code, out, errOut := jibe(t, "validate", "../../examples")
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{
		"ok ../../examples/agent.yaml (agent configuration)",
		"ok ../../examples/ecs-web (application checkout)",
		"ok ../../examples/lambda-api (application orders-api)",
		"ok ../../examples/k8s-guestbook (application guestbook)",
		"ok ../../examples/demo/checkout (application checkout)",
		"ok ../../examples/demo/quote (application quote)",
		"ok ../../examples/demo/quote-service (application quote-service)",
	} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
}

// Problems go to stdout as file:line:column lines; the count goes to
// stderr; the exit status is 1.
func TestValidateReportsProblems(t *testing.T) {
	code, out, errOut := jibe(t, "validate", "../../spec/testdata/invalid/many-errors/jibe.yaml")
	if code != exitProblems {
		t.Fatalf("exit %d, want %d", code, exitProblems)
	}
	want, err := os.ReadFile("../../spec/testdata/invalid/many-errors/errors.golden")
	if err != nil {
		t.Fatal(err)
	}
	wantOut := strings.ReplaceAll(string(want), "testdata/", "../../spec/testdata/")
	if out != wantOut {
		t.Errorf("stdout:\n%s\nwant:\n%s", out, wantOut)
	}
	if errOut != "9 problems found\n" {
		t.Errorf("stderr = %q", errOut)
	}
}

func TestValidateJSON(t *testing.T) {
	code, out, _ := jibe(t, "validate", "--format", "json", "../../spec/testdata/invalid/many-errors", "../../examples/lambda-api")
	if code != exitProblems {
		t.Fatalf("exit %d", code)
	}
	var doc struct {
		Valid   bool
		Results []struct {
			Path, Kind, Name string
			Problems         []struct {
				File           string
				Line, Column   int
				Field, Message string
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if doc.Valid || len(doc.Results) != 2 {
		t.Fatalf("doc = %+v", doc)
	}
	p := doc.Results[0].Problems[0]
	if p.Line != 19 || p.Column != 11 || p.Field != "spec.environments[0].strategy.canary" || !strings.HasSuffix(p.File, "jibe.yaml") {
		t.Errorf("first problem = %+v", p)
	}
	if r := doc.Results[1]; r.Name != "orders-api" || r.Kind != "Application" || r.Problems == nil || len(r.Problems) != 0 {
		t.Errorf("valid result = %+v", r)
	}
}

func TestValidateGitHubAnnotations(t *testing.T) {
	_, out, _ := jibe(t, "validate", "-o", "github", "../../spec/testdata/invalid/many-errors")
	first := strings.SplitN(out, "\n", 2)[0]
	want := "::error file=../../spec/testdata/invalid/many-errors/jibe.yaml,line=19,col=11,title=jibe validate::spec.environments[0].strategy.canary: target \"api\" needs ecs.traffic (a listener and stable/canary target groups) for canary"
	if first != want {
		t.Errorf("annotation:\n%s\nwant:\n%s", first, want)
	}
	if !strings.Contains(out, "weight 20%25 does not increase") {
		t.Errorf("%% must be escaped in annotations:\n%s", out)
	}
}

func TestValidateUsageErrors(t *testing.T) {
	dir := t.TempDir()
	other := filepath.Join(dir, "deploy.yaml")
	if err := os.WriteFile(other, []byte("kind: Deployment\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"validate"}, "requires at least 1 arg"},
		{[]string{"validate", filepath.Join(dir, "missing")}, "no such file or directory"},
		{[]string{"validate", dir}, "no jibe.yaml or agent configuration under"},
		{[]string{"validate", other}, "is not a Jibe file: its kind is Deployment"},
		{[]string{"validate", "--format", "xml", "../../examples"}, `unknown --format "xml"`},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
	}
	for _, tt := range tests {
		code, _, errOut := jibe(t, tt.args...)
		if code != exitUsage || !strings.Contains(errOut, tt.want) {
			t.Errorf("jibe %v: exit %d, stderr %q; want exit %d with %q", tt.args, code, errOut, exitUsage, tt.want)
		}
	}
}

// `jibe schema` prints exactly the checked-in schemas.
func TestSchema(t *testing.T) {
	files := map[string]string{"config": config.SchemaFile}
	for name, s := range spec.Schemas {
		files[name] = s.File
	}
	for name, file := range files {
		code, out, errOut := jibe(t, "schema", name)
		if code != exitOK {
			t.Fatalf("schema %s: exit %d: %s", name, code, errOut)
		}
		want, err := os.ReadFile(filepath.Join("../../docs/schema", file))
		if err != nil {
			t.Fatal(err)
		}
		if out != string(want) {
			t.Errorf("jibe schema %s differs from docs/schema/%s", name, file)
		}
	}
	if code, _, errOut := jibe(t, "schema", "nope"); code != exitUsage || !strings.Contains(errOut, `no schema named "nope"; choose one of application, config,`) {
		t.Errorf("unknown schema: exit %d, %q", code, errOut)
	}
}

var update = flag.Bool("update", false, "rewrite docs/reference")

// docs/reference is what `jibe schema --reference` prints, so the field
// reference can never drift from the code.
func TestReferenceDocs(t *testing.T) {
	for _, name := range schemaNames() {
		_, out, _ := jibe(t, "schema", "--reference", name)
		file := filepath.Join("../../docs/reference", name+".md")
		if *update {
			if err := os.WriteFile(file, []byte(out), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(file)
		if err != nil {
			t.Fatalf("%v (run go test ./cmd/jibe -update)", err)
		}
		if out != string(want) {
			t.Errorf("%s is out of date: run go test ./cmd/jibe -update", file)
		}
	}
}

func TestVersionAndHelp(t *testing.T) {
	code, out, _ := jibe(t, "version")
	if code != exitOK || !strings.HasPrefix(out, "jibe dev (commit ") {
		t.Errorf("version: %d %q", code, out)
	}
	for _, args := range [][]string{{"--help"}, {"validate", "--help"}, {"schema", "-h"}, {"help", "version"}} {
		code, out, _ := jibe(t, args...)
		if code != exitOK || !strings.Contains(out, "Usage:") {
			t.Errorf("jibe %v: exit %d, output %q", args, code, out)
		}
	}
}

// `jibe emulator aws` serves real AWS API calls until it is stopped.
func TestEmulatorAWS(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"emulator", "aws", "--listen", addr, "--speed", "10"}, io.Discard, io.Discard)
	}()

	client := ecs.New(ecs.Options{Region: "eu-west-1", BaseEndpoint: aws.String("http://" + addr),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := client.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("demo")})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("emulator not serving: %v", err)
		}
		select {
		case <-time.After(20 * time.Millisecond):
		case code := <-done:
			t.Fatalf("emulator exited with %d", code)
		}
	}
	out, err := client.ListClusters(ctx, &ecs.ListClustersInput{})
	if err != nil || len(out.ClusterArns) != 1 {
		t.Fatalf("clusters = %v, %v", out, err)
	}
	cancel()
	if code := <-done; code != exitOK {
		t.Errorf("exit %d after stop", code)
	}
}

// A busy port is reported, with what to do, before the emulator announces
// itself as listening.
func TestEmulatorAWSReportsABusyPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	code, _, errOut := jibe(t, "emulator", "aws", "--listen", ln.Addr().String())
	if code == exitOK || strings.Contains(errOut, "listening on") || !strings.Contains(errOut, "cannot listen on "+ln.Addr().String()) || !strings.Contains(errOut, "--listen") {
		t.Errorf("exit %d, stderr %q; want the busy port reported before any announcement", code, errOut)
	}
}

package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/jibe-dev/jibe/internal/awsemu"
	"github.com/jibe-dev/jibe/internal/awsemu/awsemutest"
	"github.com/jibe-dev/jibe/providers/aws/asg"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// `jibe plan` of an AMI bump shows the launch template's fields that
// change, the AMI old → new, and writes nothing.
func TestPlanShowsTheAMIBumpOfAnAutoScalingGroup(t *testing.T) {
	env := awsemutest.Start(t, awsemu.Options{Accounts: map[string]string{"AKIASTAGING": "111111111111"}})
	t.Setenv("JIBE_TEST_KEY_ID", "AKIASTAGING")
	t.Setenv("JIBE_TEST_SECRET", "secret")
	dir := t.TempDir()
	app := `apiVersion: jibe.dev/v1alpha1
kind: Application
metadata: {name: vms}
spec:
  artifacts:
    ami: {ami: AMI}
  targets:
    - name: web
      autoScalingGroup:
        name: web-${env.name}
        launchTemplate: {imageId: "${artifacts.ami}", instanceType: t3.small}
        minSize: 1
        maxSize: 3
        subnets: [subnet-1]
  environments:
    - name: staging
      aws: {account: staging, region: eu-west-1}
`
	writeFile(t, filepath.Join(dir, "vms", "jibe.yaml"), strings.Replace(app, "AMI", "ami-0000000000000aaa1", 1))
	loaded, err := spec.Load(filepath.Join(dir, "vms"), spec.WithPlatforms(builtinPlatforms()...))
	if err != nil {
		t.Fatal(err)
	}
	r, err := loaded.Render("staging")
	if err != nil {
		t.Fatal(err)
	}
	cfg := aws.Config{Region: "eu-west-1", BaseEndpoint: aws.String(env.URL), Credentials: credentials.NewStaticCredentialsProvider("AKIASTAGING", "secret", "")}
	p := asg.New(asg.NewClients(cfg), asg.Options{Clock: env.Emu})
	d := &reconcile.Deployment{App: "vms", Env: "staging", Revision: "rev1", Mode: spec.StrategyRolling, Account: "staging", Region: "eu-west-1",
		Environment: r.Environment, Target: r.Targets[0]}
	if err := p.Apply(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	env.Emu.Advance(time.Minute)

	writeFile(t, filepath.Join(dir, "vms", "jibe.yaml"), strings.Replace(app, "AMI", "ami-0000000000000bbb2", 1))
	config := filepath.Join(dir, "agent.yaml")
	writeFile(t, config, `apiVersion: jibe.dev/v1alpha1
kind: AgentConfig
sources:
  - name: fleet
    dir: {path: apps}
    allow: {accounts: [staging]}
aws:
  accounts:
    - name: staging
      accountID: "111111111111"
      region: eu-west-1
      endpoint: `+env.URL+`
      credentials: {accessKeyID: {env: JIBE_TEST_KEY_ID}, secretAccessKey: {env: JIBE_TEST_SECRET}}
`)
	env.Emu.ResetRequests()
	code, out, errOut := jibe(t, "plan", "--config", config, "--env", "staging", "--source", "fleet", filepath.Join(dir, "vms"))
	if code != exitOK {
		t.Fatalf("exit %d: %s%s", code, errOut, out)
	}
	for _, want := range []string{"EC2 launch template web-staging", "imageId", "ami-0000000000000aaa1", "ami-0000000000000bbb2"} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}
	t.Logf("plan:\n%s", out)
	if w := env.Emu.WriteCalls(); len(w) != 0 {
		t.Errorf("planning wrote to AWS: %+v", w)
	}
}

package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/jibe-dev/jibe/internal/awsemu"
	"github.com/jibe-dev/jibe/internal/awsemu/awsemutest"
)

// `jibe plan` shows what the bundled ECS example would create in an
// account, here the AWS emulator, and changes nothing.
func TestPlanCommand(t *testing.T) {
	env := awsemutest.Start(t, awsemu.Options{Accounts: map[string]string{"AKIASTAGING": "111111111111"}})
	t.Setenv("JIBE_TEST_KEY_ID", "AKIASTAGING")
	t.Setenv("JIBE_TEST_SECRET", "secret")
	staging := env.As("AKIASTAGING", "secret", "eu-west-1")
	if _, err := staging.ECS().CreateCluster(t.Context(), &ecs.CreateClusterInput{ClusterName: aws.String("staging")}); err != nil {
		t.Fatal(err)
	}
	cfg := writeAgentConfig(t, "payments", "staging, production", emulatedStaging(env.URL), "{name: production, region: eu-west-1}")
	env.Emu.ResetRequests()
	code, out, errOut := jibe(t, "plan", "--config", cfg, "--env", "staging", "--source", "payments", "../../examples/ecs-web")
	if code != exitOK {
		t.Fatalf("exit %d: %s%s", code, errOut, out)
	}
	for _, want := range []string{"Plan for checkout at working-tree\n", "staging (rolling):", "+ create", "steps:", "1. apply web"} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}
	if w := env.Emu.WriteCalls(); len(w) != 0 {
		t.Errorf("planning wrote to AWS: %+v", w)
	}
}

// `jibe plan` shows the bundled Lambda example's function and alias
// created in an account, and writes nothing.
func TestPlanCommandLambda(t *testing.T) {
	env := awsemutest.Start(t, awsemu.Options{Accounts: map[string]string{"AKIASTAGING": "111111111111"}})
	t.Setenv("JIBE_TEST_KEY_ID", "AKIASTAGING")
	t.Setenv("JIBE_TEST_SECRET", "secret")
	cfg := writeAgentConfig(t, "orders", "staging, production", emulatedStaging(env.URL), "{name: production, region: eu-west-1}")
	env.Emu.ResetRequests()
	code, out, errOut := jibe(t, "plan", "--config", cfg, "--env", "staging", "--source", "orders", "../../examples/lambda-api")
	if code != exitOK {
		t.Fatalf("exit %d: %s%s", code, errOut, out)
	}
	for _, want := range []string{"staging (rolling):", "Lambda function orders-api-staging", "Lambda alias orders-api-staging:live", "1. apply api"} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}
	if w := env.Emu.WriteCalls(); len(w) != 0 {
		t.Errorf("planning wrote to AWS: %+v", w)
	}
}

// An environment that cannot be planned (here: outside the source's
// tenancy) is named with its reason, the others are still planned, and
// the exit code says something failed.
func TestPlanCommandShowsEveryEnvironmentItCouldPlan(t *testing.T) {
	env := awsemutest.Start(t, awsemu.Options{Accounts: map[string]string{"AKIASTAGING": "111111111111"}})
	t.Setenv("JIBE_TEST_KEY_ID", "AKIASTAGING")
	t.Setenv("JIBE_TEST_SECRET", "secret")
	staging := env.As("AKIASTAGING", "secret", "eu-west-1")
	if _, err := staging.ECS().CreateCluster(t.Context(), &ecs.CreateClusterInput{ClusterName: aws.String("staging")}); err != nil {
		t.Fatal(err)
	}
	cfg := writeAgentConfig(t, "payments", "staging", emulatedStaging(env.URL), "{name: production, region: eu-west-1}")
	code, out, _ := jibe(t, "plan", "--config", cfg, "--source", "payments", "../../examples/ecs-web")
	if code == exitOK {
		t.Errorf("exit 0 although production could not be planned:\n%s", out)
	}
	for _, want := range []string{"staging (rolling):", "+ create", "production: could not be planned: ", "production"} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}

	code, out, _ = jibe(t, "plan", "--config", cfg, "--source", "payments", "-o", "json", "../../examples/ecs-web")
	if code == exitOK || !strings.Contains(out, `"environment": "production"`) || !strings.Contains(out, `"name": "staging"`) {
		t.Errorf("exit %d, JSON plan without both the staging plan and production's error:\n%s", code, out)
	}
}

// A mistyped --source is refused, naming the configured sources, rather
// than planning without tenancy checks.
func TestPlanCommandRefusesAnUnknownSource(t *testing.T) {
	cfg := writeAgentConfig(t, "payments", "staging", "{name: staging, region: eu-west-1}", "{name: production, region: eu-west-1}")
	code, out, errOut := jibe(t, "plan", "--config", cfg, "--source", "paymnets", "../../examples/ecs-web")
	if code == exitOK || !strings.Contains(errOut+out, `no source "paymnets" (it has payments)`) {
		t.Errorf("exit %d; want the unknown source refused:\n%s%s", code, errOut, out)
	}
}

// writeAgentConfig writes an agent configuration with one folder source
// allowed the accounts allow (a YAML list's items), and the accounts (each
// a YAML flow mapping), and returns its path.
func writeAgentConfig(t *testing.T, source, allow string, accounts ...string) string {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "agent.yaml")
	writeFile(t, cfg, "apiVersion: jibe.dev/v1alpha1\nkind: AgentConfig\nsources:\n  - name: "+source+
		"\n    dir: {path: apps}\n    allow: {accounts: ["+allow+"]}\naws:\n  accounts:\n    - "+strings.Join(accounts, "\n    - ")+"\n")
	return cfg
}

// emulatedStaging is the staging account on the AWS emulator at url, with
// credentials from JIBE_TEST_KEY_ID and JIBE_TEST_SECRET.
func emulatedStaging(url string) string {
	return `{name: staging, accountID: "111111111111", region: eu-west-1, endpoint: "` + url +
		`", credentials: {accessKeyID: {env: JIBE_TEST_KEY_ID}, secretAccessKey: {env: JIBE_TEST_SECRET}}}`
}

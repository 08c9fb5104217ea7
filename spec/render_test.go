package spec_test

import (
	"fmt"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/jibe-dev/jibe/spec"
)

func mustRender(t *testing.T, dir, env string) *spec.Rendered {
	t.Helper()
	app, err := spec.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := app.Render(env)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// A release is a one-line change: the artifact's image lands in every
// container that names it, with environment variables resolved.
func TestRenderECSResolvesPlaceholders(t *testing.T) {
	r := mustRender(t, "../examples/ecs-web", "production")
	td, svc := r.Targets[0].TaskDefinition, r.Targets[0].Service
	if td.Family != "checkout-production" {
		t.Errorf("family = %q", td.Family)
	}
	if got := td.ContainerDefinitions[0].Image; got != "123456789012.dkr.ecr.eu-west-1.amazonaws.com/checkout-web:1.4.2" {
		t.Errorf("web image = %q", got)
	}
	if td.ContainerDefinitions[1].FirelensConfiguration == nil || td.ContainerDefinitions[1].FirelensConfiguration.Type != "fluentbit" {
		t.Errorf("log router lost its FireLens configuration: %+v", td.ContainerDefinitions[1])
	}
	if got := td.TaskRoleArn; got != "arn:aws:iam::222222222222:role/checkout-task" {
		t.Errorf("task role = %q", got)
	}
	if got := svc.Cluster; got != "production" {
		t.Errorf("cluster = %q", got)
	}
	if got := svc.NetworkConfiguration.AwsvpcConfiguration.Subnets; len(got) != 1 || got[0] != "subnet-0f1e2d3c4b5a60002" {
		t.Errorf("subnets = %v", got)
	}
	if got := r.Targets[0].ECS.Traffic.CanaryTargetGroupArn; got != "arn:aws:elasticloadbalancing:eu-west-1:222222222222:targetgroup/checkout-green/c1d2e3f4a5b6c7d8" {
		t.Errorf("traffic placeholders not resolved in the spec: %q", got)
	}
	if r.Environment.Strategy.Kind() != spec.StrategyCanary || len(r.Environment.Strategy.Canary.Steps) != 5 {
		t.Errorf("strategy = %+v", r.Environment.Strategy)
	}
}

// Placeholders also fill typed fields: replicas is an integer in the
// rendered Deployment, and differs per environment.
func TestRenderKubernetesTypedPlaceholders(t *testing.T) {
	for env, want := range map[string]int{"staging": 2, "production": 6} {
		r := mustRender(t, "../examples/k8s-guestbook", env)
		var dep map[string]any
		for _, m := range r.Targets[0].Manifests {
			if m.Object["kind"] == "Deployment" {
				dep = m.Object
			}
		}
		if dep == nil {
			t.Fatalf("%s: no Deployment rendered", env)
		}
		if got := dep["spec"].(map[string]any)["replicas"]; got != want {
			t.Errorf("%s: replicas = %#v, want %d", env, got, want)
		}
	}
}

// ${rollout.*} is kept for the engine; the rest of a check is resolved.
func TestRenderKeepsRolloutPlaceholdersInChecks(t *testing.T) {
	r := mustRender(t, "../examples/lambda-api", "production")
	c := r.Environment.Strategy.Canary.Steps[1].Analysis.Checks[0]
	if got := c.CloudWatch.Metric.Dimensions["ExecutedVersion"]; got != "${rollout.version}" {
		t.Errorf("ExecutedVersion dimension = %q", got)
	}
	fn := r.Targets[0].Function
	if fn.Code.S3Bucket != "acme-artifacts" || fn.Code.S3Key != "orders-api/orders-api-2.7.0.zip" {
		t.Errorf("code = %+v", fn.Code)
	}
	if fn.TracingConfig.Mode != "Active" || fn.DeadLetterConfig.TargetArn != "arn:aws:sqs:eu-west-1:222222222222:orders-api-dlq" {
		t.Errorf("function = %+v", fn)
	}
	if r.Environment.Approval.Reviews != 2 || r.Environment.Approval.From.Permission != spec.PermissionMaintain {
		t.Errorf("approval = %+v", r.Environment.Approval)
	}
}

func TestRenderUnknownEnvironment(t *testing.T) {
	app, err := spec.Load("../examples/lambda-api")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.Render("qa"); err == nil || err.Error() != `application orders-api has no environment "qa"; its environments are staging, production` {
		t.Errorf("err = %v", err)
	}
}

// A kustomization is built with placeholders resolved in its files, per
// environment.
func TestRenderKustomize(t *testing.T) {
	for env, replicas := range map[string]int{"staging": 1, "production": 4} {
		r := mustRender(t, "testdata/valid/kustomize", env)
		ms := r.Targets[0].Manifests
		if len(ms) != 1 {
			t.Fatalf("%s: %d manifests, want 1", env, len(ms))
		}
		obj := ms[0].Object
		md := obj["metadata"].(map[string]any)
		if md["namespace"] != "shop-"+env || md["labels"].(map[string]any)["jibe.dev/environment"] != env {
			t.Errorf("%s: metadata = %v", env, md)
		}
		spec := obj["spec"].(map[string]any)
		if spec["replicas"] != replicas {
			t.Errorf("%s: replicas = %#v, want %d", env, spec["replicas"], replicas)
		}
		c := spec["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
		if c["image"] != "registry.example.com/shop/api:2.1.0" {
			t.Errorf("%s: image = %v", env, c["image"])
		}
	}
}

// Every kind of local file a kustomization names is read from the
// application's folder under kustomize's root-only load restrictions (a
// base or component may be elsewhere in the folder), with the
// environment's placeholders resolved. The output is in
// testdata/kustomize-features.golden.
func TestRenderKustomizeFeatures(t *testing.T) {
	r := mustRender(t, "testdata/valid/kustomize-features", "production")
	got := map[string]map[string]any{}
	for _, m := range r.Targets[0].Manifests {
		got[fmt.Sprintf("%v/%v", m.Object["kind"], m.Object["metadata"].(map[string]any)["name"])] = m.Object
	}
	out, err := yaml.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "testdata/kustomize-features.golden", string(out))
}

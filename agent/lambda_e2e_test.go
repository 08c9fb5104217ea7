package agent

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/internal/awsemu"
	"github.com/jibe-dev/jibe/internal/awsemu/awsemutest"
	"github.com/jibe-dev/jibe/providers/aws/lambda"
	"github.com/jibe-dev/jibe/providers/checks"
	"github.com/jibe-dev/jibe/providers/slack"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// lambdaE2E is the real agent with the real Lambda platform, CloudWatch
// checks and Slack notifications, on the AWS emulator whose clock the
// agent's follows. At every step of time the function's alias is invoked
// 20 times, as callers would.
type lambdaE2E struct {
	*harness
	env      *awsemutest.Env
	clock    *clocktesting.FakeClock
	fn       *awslambda.Client
	notifier *slack.Notifier
	slack    *slackHook
	failed   int // invocations that returned a function error
}

// slackHook records the bodies of the notifications posted to it.
type slackHook struct {
	mu     sync.Mutex
	bodies []string
}

func (s *slackHook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.bodies = append(s.bodies, string(b))
	s.mu.Unlock()
}

func (s *slackHook) all() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.bodies, "\n")
}

func newLambdaE2E(t *testing.T) *lambdaE2E {
	t.Helper()
	env := awsemutest.Start(t, awsemu.Options{})
	x := &lambdaE2E{env: env, clock: clocktesting.NewFakeClock(env.Emu.Now()), fn: env.Lambda(), slack: &slackHook{}}
	hook := httptest.NewServer(x.slack)
	t.Cleanup(hook.Close)
	t.Setenv("JIBE_TEST_SLACK_URL", hook.URL)
	var err error
	x.notifier, err = slack.New([]config.SlackWebhook{{Name: "team", URL: config.SecretRef{Env: "JIBE_TEST_SLACK_URL"}}}, slack.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := aws.Config{Region: env.Region, BaseEndpoint: aws.String(env.URL),
		Credentials: credentials.NewStaticCredentialsProvider(env.AccessKey, env.SecretKey, ""), Retryer: awsemutest.Retryer(10)}
	platform := lambda.New(lambda.NewClients(cfg), lambda.Options{Clock: env.Emu, RequeueAfter: 5 * time.Second})
	measure := checks.New(checks.Options{Clock: env.Emu,
		AWS: func(context.Context, string, string) (aws.Config, error) { return cfg, nil }})
	x.harness = newHarnessWith(t, strings.NewReplacer("ACCOUNT", awsemutest.Account, "REGION", env.Region).Replace(ecsConfig), func(h *harness, o *Options) {
		o.Clock = x.clock
		o.Platforms = map[spec.Platform]reconcile.Platform{spec.PlatformLambda: platform}
		o.Checks = measure
	})
	x.agent.Subscribe(reconcile.SubscriberFunc(x.notifier.Notify))
	return x
}

// files is the function at package key: a canary of 10% analysed by the
// new version's own error rate in CloudWatch (the ExecutedVersion
// dimension, filled by ${rollout.newVersion}), then 50% and 100%.
func (x *lambdaE2E) files(key string) map[string]string {
	r := strings.NewReplacer("KEY", key, "REGION", x.env.Region, "ACCOUNT", awsemutest.Account)
	const dims = `{FunctionName: orders, Resource: "orders:live", ExecutedVersion: "${rollout.newVersion}"}`
	return map[string]string{
		"apps/shop/jibe.yaml": r.Replace(`apiVersion: jibe.dev/v1alpha1
kind: Application
metadata: {name: shop}
spec:
  artifacts:
    code: {s3: {bucket: artifacts, key: KEY}}
  targets:
    - name: api
      lambda: {function: function.yaml, alias: live}
  environments:
    - name: production
      aws: {account: main, region: REGION}
      strategy:
        canary:
          steps:
            - setWeight: 10
            - analysis:
                checks:
                  - name: new version error rate
                    cloudWatch:
                      expression: 100 * FILL(errors, 0) / invocations
                      metrics:
                        errors: {namespace: AWS/Lambda, name: Errors, statistic: Sum, dimensions: ` + dims + `}
                        invocations: {namespace: AWS/Lambda, name: Invocations, statistic: Sum, dimensions: ` + dims + `}
                      window: 1m
                      threshold: {max: 5}
                    interval: 30s
                    duration: 1m
                    inconclusive: retry
            - setWeight: 50
            - setWeight: 100
      rollback: automatic
`),
		"apps/shop/function.yaml": r.Replace(`FunctionName: orders
Role: arn:aws:iam::ACCOUNT:role/orders
Runtime: python3.12
Handler: app.handler
Code:
  S3Bucket: ${artifacts.code.bucket}
  S3Key: ${artifacts.code.key}
MemorySize: 256
Environment:
  Variables: {MODE: prod}
`),
	}
}

// settle reconciles until done, moving the emulated time (the agent's and
// the emulator's together) 5s at a time and invoking the alias 20 times
// at each step once it exists.
func (x *lambdaE2E) settle(what string, done func() bool) {
	x.t.Helper()
	for range 720 { // an hour of emulated time
		x.drain()
		if done() {
			return
		}
		x.clock.Step(5 * time.Second)
		x.env.Emu.Advance(5 * time.Second)
		x.invoke(20)
		x.awaitDue()
	}
	x.t.Fatalf("%s: not done after an hour of emulated time; apps %+v", what, x.agent.Applications())
}

// invoke invokes the alias n times, if it exists, counting function errors.
func (x *lambdaE2E) invoke(n int) map[string]int {
	ran := map[string]int{}
	for range n {
		out, err := x.fn.Invoke(x.t.Context(), &awslambda.InvokeInput{FunctionName: aws.String("orders"), Qualifier: aws.String("live")})
		if err != nil {
			return ran
		}
		ran[aws.ToString(out.ExecutedVersion)]++
		if out.FunctionError != nil {
			x.failed++
		}
	}
	return ran
}

func (x *lambdaE2E) rollout(revision string) *reconcile.Rollout {
	r, err := x.journal.Current(shopApp, "production")
	if err != nil || r.Revision != revision {
		return nil
	}
	return r
}

func (x *lambdaE2E) ended(revision string) func() bool {
	return func() bool { r := x.rollout(revision); return r != nil && r.State.Final() }
}

// alias returns the alias's version and extra weights.
func (x *lambdaE2E) alias() (string, map[string]float64) {
	x.t.Helper()
	a, err := x.fn.GetAlias(x.t.Context(), &awslambda.GetAliasInput{FunctionName: aws.String("orders"), Name: aws.String("live")})
	if err != nil {
		x.t.Fatal(err)
	}
	var w map[string]float64
	if a.RoutingConfig != nil && len(a.RoutingConfig.AdditionalVersionWeights) > 0 {
		w = a.RoutingConfig.AdditionalVersionWeights
	}
	return aws.ToString(a.FunctionVersion), w
}

// errorsCounted is the sum of the function's AWS/Lambda Errors metric over
// the last hour, as CloudWatch has it from the emulator.
func (x *lambdaE2E) errorsCounted() float64 {
	x.t.Helper()
	now := x.env.Emu.Now()
	out, err := x.env.CloudWatch().GetMetricStatistics(x.t.Context(), &cloudwatch.GetMetricStatisticsInput{Namespace: aws.String("AWS/Lambda"),
		MetricName: aws.String("Errors"), Dimensions: []cwtypes.Dimension{{Name: aws.String("FunctionName"), Value: aws.String("orders")}},
		StartTime: aws.Time(now.Add(-time.Hour)), EndTime: aws.Time(now.Add(time.Minute)), Period: aws.Int32(3600),
		Statistics: []cwtypes.Statistic{cwtypes.StatisticSum}})
	if err != nil {
		x.t.Fatal(err)
	}
	sum := 0.0
	for _, p := range out.Datapoints {
		sum += aws.ToFloat64(p.Sum)
	}
	return sum
}

// A healthy Lambda canary goes 10% → analysis of the new version's own
// error rate → 50% → 100% and is promoted: the alias points at the new
// version alone, the status is a success, and the emulator counted no
// invocation error during the canary.
func TestE2ELambdaCanarySucceeds(t *testing.T) {
	x := newLambdaE2E(t)
	v1 := x.push(x.files("orders/1.0.0.zip"))
	x.settle("v1 rolled out", x.ended(v1))
	if r := x.rollout(v1); r.State != reconcile.RolloutSucceeded {
		t.Fatalf("v1: %s (%s)", r.State, r.Reason)
	}
	v2 := x.push(x.files("orders/1.1.0.zip"))
	sawCanary := false
	x.settle("v2 rolled out", func() bool {
		if v, w := x.alias(); v == "1" && w["2"] == 0.1 {
			sawCanary = true
		}
		return x.ended(v2)()
	})
	r := x.rollout(v2)
	if r.State != reconcile.RolloutSucceeded {
		t.Fatalf("v2: %s (%s)", r.State, r.Reason)
	}
	if !sawCanary {
		t.Errorf("the alias never sent 10%% to version 2")
	}
	if v, w := x.alias(); v != "2" || w != nil {
		t.Errorf("after promotion the alias is at %s %v, want 2 alone", v, w)
	}
	if s := x.statuses(v2)["jibe/shop/production"]; s.State != "success" {
		t.Errorf("production status = %s %q", s.State, s.Description)
	}
	if x.failed != 0 || x.errorsCounted() != 0 {
		t.Errorf("%d invocations failed, CloudWatch counted %v errors; want none", x.failed, x.errorsCounted())
	}
	var analysis *reconcile.StepOutcome
	for i := range r.Outcomes {
		if r.Outcomes[i].Kind == reconcile.StepVerify {
			analysis = &r.Outcomes[i]
		}
	}
	if analysis == nil || len(analysis.Measurements) == 0 || analysis.Measurements[len(analysis.Measurements)-1].NoData {
		t.Errorf("the analysis measured nothing of version 2: %+v", analysis)
	}
}

// A broken Lambda version fails the canary analysis on its own
// CloudWatch error rate and is rolled back automatically: the alias sends
// everything to the old version again, the status is a failure naming
// the check, and Slack is told.
func TestE2ELambdaCanaryOfBrokenVersionRolledBack(t *testing.T) {
	x := newLambdaE2E(t)
	v1 := x.push(x.files("orders/1.0.0.zip"))
	x.settle("v1 rolled out", x.ended(v1))

	x.env.Emu.SetFunctionVersionErrorRate("orders", "2", 0.5)
	v2 := x.push(x.files("orders/1.1.0.zip"))
	x.settle("v2 analysed", x.ended(v2))

	r := x.rollout(v2)
	if r.State != reconcile.RolloutRolledBack || !strings.Contains(r.Reason, "new version error rate") {
		t.Fatalf("v2: %s (%s)", r.State, r.Reason)
	}
	s := x.statuses(v2)["jibe/shop/production"]
	if s.State != "failure" || !strings.Contains(s.Description, "new version error rate failed") || !strings.Contains(s.Description, "above max 5") {
		t.Errorf("production status = %s %q", s.State, s.Description)
	}
	if v, w := x.alias(); v != "1" || w != nil {
		t.Errorf("after the rollback the alias is at %s %v, want 1 alone", v, w)
	}
	if ran := x.invoke(50); ran["1"] != 50 {
		t.Errorf("after the rollback versions ran %v, want all on 1", ran)
	}
	if err := x.notifier.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := x.slack.all(); !strings.Contains(got, "new version error rate") {
		t.Errorf("Slack was not told of the failed analysis:\n%s", got)
	}
}

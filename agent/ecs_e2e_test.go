package agent

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"k8s.io/utils/clock"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/jibe-dev/jibe/internal/awsemu"
	"github.com/jibe-dev/jibe/internal/awsemu/awsemutest"
	"github.com/jibe-dev/jibe/providers/aws/ecs"
	"github.com/jibe-dev/jibe/providers/checks"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

const ecsConfig = `apiVersion: jibe.dev/v1alpha1
kind: AgentConfig
sources:
  - name: shop
    git: {url: URL, repository: acme/shop, pollInterval: 5s}
    allow: {accounts: [main], checkHosts: ["127.0.0.1"]}
aws:
  accounts:
    - {name: main, accountID: "ACCOUNT", region: REGION}
github:
  token: {env: GITHUB_TOKEN}
`

// ecsE2E is the real agent with the real ECS platform and CloudWatch
// checks on the AWS emulator, whose clock the agent's follows: a cluster
// "prod" and an ALB listener forwarding to a blue (stable) and a green
// (canary) target group, with traffic sent at every step of time.
type ecsE2E struct {
	*harness
	env                          *awsemutest.Env
	clock                        *clocktesting.FakeClock
	listener, blue, green, lbDim string
	greenDim                     string
}

func newECSE2E(t *testing.T) *ecsE2E {
	t.Helper()
	return newECSE2EWith(t, ecsConfig, nil)
}

// newECSE2EWith is newECSE2E with an agent configuration of its own
// (ACCOUNT, REGION and ENDPOINT are the emulator's) and tune adjusting
// the agent's options last.
func newECSE2EWith(t *testing.T, cfgYAML string, tune func(*harness, *Options)) *ecsE2E {
	t.Helper()
	env := awsemutest.Start(t, awsemu.Options{})
	x := &ecsE2E{env: env, clock: clocktesting.NewFakeClock(env.Emu.Now())}
	cfg := aws.Config{Region: env.Region, BaseEndpoint: aws.String(env.URL),
		Credentials: credentials.NewStaticCredentialsProvider(env.AccessKey, env.SecretKey, ""), Retryer: awsemutest.Retryer(10)}
	platform := ecs.New(ecs.NewClients(cfg), ecs.Options{Clock: env.Emu, RequeueAfter: 5 * time.Second})
	measure := checks.New(checks.Options{Clock: env.Emu,
		AWS: func(context.Context, string, string) (aws.Config, error) { return cfg, nil }})
	x.harness = newHarnessWith(t, strings.NewReplacer("ACCOUNT", awsemutest.Account, "REGION", env.Region, "ENDPOINT", env.URL).Replace(cfgYAML), func(h *harness, o *Options) {
		withReviews(h, o)
		o.Clock = x.clock
		o.Journal = journalOn(t, h, x.clock)
		o.Platforms = map[spec.Platform]reconcile.Platform{spec.PlatformECS: platform}
		o.Checks = measure
		if tune != nil {
			tune(h, o)
		}
	})
	x.loadBalancer(env.ELBv2())
	if _, err := env.ECS().CreateCluster(t.Context(), &awsecs.CreateClusterInput{ClusterName: aws.String("prod")}); err != nil {
		t.Fatal(err)
	}
	return x
}

// journalOn replaces h's journal with one dating rollouts on c, the
// agent's clock, as the wall clock dates both in production; it returns
// the new journal.
func journalOn(t *testing.T, h *harness, c clock.PassiveClock) *reconcile.Journal {
	t.Helper()
	j, err := reconcile.OpenJournal(t.TempDir()+"/journal.db", reconcile.JournalOptions{Clock: c})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	h.journal = j
	return j
}

// loadBalancer creates the ALB, its two target groups and the listener
// forwarding everything to blue.
func (x *ecsE2E) loadBalancer(c *elbv2.Client) {
	ctx := x.t.Context()
	lb, err := c.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("web"), Subnets: []string{"subnet-a", "subnet-b"}})
	if err != nil {
		x.t.Fatal(err)
	}
	arns := map[string]string{}
	for _, name := range []string{"blue", "green"} {
		tg, err := c.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String(name), Protocol: elbtypes.ProtocolEnumHttp,
			Port: aws.Int32(8080), VpcId: aws.String("vpc-1"), TargetType: elbtypes.TargetTypeEnumIp,
			HealthCheckIntervalSeconds: aws.Int32(5), HealthCheckTimeoutSeconds: aws.Int32(2), HealthyThresholdCount: aws.Int32(2)})
		if err != nil {
			x.t.Fatal(err)
		}
		arns[name] = *tg.TargetGroups[0].TargetGroupArn
	}
	x.blue, x.green = arns["blue"], arns["green"]
	ls, err := c.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: lb.LoadBalancers[0].LoadBalancerArn, Port: aws.Int32(80),
		Protocol: elbtypes.ProtocolEnumHttp, DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward,
			ForwardConfig: &elbtypes.ForwardActionConfig{TargetGroups: []elbtypes.TargetGroupTuple{
				{TargetGroupArn: aws.String(x.blue), Weight: aws.Int32(100)}, {TargetGroupArn: aws.String(x.green), Weight: aws.Int32(0)}}}}}})
	if err != nil {
		x.t.Fatal(err)
	}
	x.listener = *ls.Listeners[0].ListenerArn
	// CloudWatch names an ALB and a target group by the end of their ARN.
	x.lbDim = (*lb.LoadBalancers[0].LoadBalancerArn)[strings.Index(*lb.LoadBalancers[0].LoadBalancerArn, ":loadbalancer/")+len(":loadbalancer/"):]
	x.greenDim = x.green[strings.Index(x.green, ":targetgroup/")+1:]
}

// files is the service at image: a canary of 20% analysed by the
// canary target group's 5xx rate in CloudWatch, then 100%.
func (x *ecsE2E) files(image string) map[string]string {
	r := strings.NewReplacer("IMAGE", image, "REGION", x.env.Region, "LISTENER", x.listener, "BLUE", x.blue, "GREEN", x.green,
		"LBDIM", x.lbDim, "TGDIM", x.greenDim, "ACCOUNT", awsemutest.Account)
	return map[string]string{
		"apps/shop/jibe.yaml": r.Replace(`apiVersion: jibe.dev/v1alpha1
kind: Application
metadata: {name: shop}
spec:
  artifacts:
    web: {image: IMAGE}
  targets:
    - name: web
      ecs:
        taskDefinition: taskdef.yaml
        service: service.yaml
        traffic: {listenerArn: LISTENER, stableTargetGroupArn: BLUE, canaryTargetGroupArn: GREEN}
  environments:
    - name: production
      aws: {account: main, region: REGION}
      strategy:
        canary:
          steps:
            - setWeight: 20
            - analysis:
                checks:
                  - name: canary 5xx rate
                    cloudWatch:
                      expression: 100 * FILL(errors, 0) / requests
                      metrics:
                        errors: {namespace: AWS/ApplicationELB, name: HTTPCode_Target_5XX_Count, statistic: Sum, dimensions: {LoadBalancer: LBDIM, TargetGroup: TGDIM}}
                        requests: {namespace: AWS/ApplicationELB, name: RequestCount, statistic: Sum, dimensions: {LoadBalancer: LBDIM, TargetGroup: TGDIM}}
                      window: 1m
                      threshold: {max: 5}
                    interval: 30s
                    duration: 1m
                    inconclusive: retry
            - setWeight: 100
      rollback: automatic
`),
		"apps/shop/taskdef.yaml": r.Replace(`family: web
networkMode: awsvpc
requiresCompatibilities: [FARGATE]
cpu: "256"
memory: "512"
executionRoleArn: arn:aws:iam::ACCOUNT:role/exec
containerDefinitions:
  - name: web
    image: ${artifacts.web}
    portMappings: [{containerPort: 8080}]
`),
		"apps/shop/service.yaml": r.Replace(`serviceName: web
cluster: prod
desiredCount: 2
launchType: FARGATE
networkConfiguration: {awsvpcConfiguration: {subnets: [subnet-a]}}
loadBalancers: [{targetGroupArn: BLUE, containerName: web, containerPort: 8080}]
deploymentConfiguration: {deploymentCircuitBreaker: {enable: true, rollback: true}}
healthCheckGracePeriodSeconds: 30
`),
	}
}

// settle reconciles until done, moving the emulated time (the agent's and
// the emulator's together) 5s at a time and sending 20 requests through
// the listener at each step.
func (x *ecsE2E) settle(what string, done func() bool) {
	x.t.Helper()
	for range 720 { // an hour of emulated time
		x.drain()
		if done() {
			return
		}
		x.clock.Step(5 * time.Second)
		x.env.Emu.Advance(5 * time.Second)
		if _, err := x.env.Emu.SendTraffic(x.listener, 20); err != nil {
			x.t.Fatal(err)
		}
		x.awaitDue()
	}
	x.t.Fatalf("%s: not done after an hour of emulated time; apps %+v", what, x.agent.Applications())
}

func (x *ecsE2E) rollout(revision string) *reconcile.Rollout {
	r, err := x.journal.Current(shopApp, "production")
	if err != nil || r.Revision != revision {
		return nil
	}
	return r
}

func (x *ecsE2E) ended(revision string) func() bool {
	return func() bool { r := x.rollout(revision); return r != nil && r.State.Final() }
}

// An ECS canary whose target group's 5xx rate in CloudWatch exceeds the
// analysis threshold is rolled back: traffic returns to the stable
// version, and the failure status quotes the check and the value. The
// analysis's datapoints and verdict are in the journal.
func TestE2EECSCanaryRolledBackByCloudWatchAnalysis(t *testing.T) {
	x := newECSE2E(t)
	v1 := x.push(x.files("registry.example.com/shop/web:1.0.0"))
	x.settle("v1 rolled out", x.ended(v1))
	if r := x.rollout(v1); r.State != reconcile.RolloutSucceeded {
		t.Fatalf("v1: %s (%s)", r.State, r.Reason)
	}

	broken := "registry.example.com/shop/web:1.1.0"
	x.env.Emu.SetImageErrorRate(broken, 0.5)
	v2 := x.push(x.files(broken))
	x.settle("v2 analysed", x.ended(v2))

	r := x.rollout(v2)
	if r.State != reconcile.RolloutRolledBack || !strings.Contains(r.Reason, "canary 5xx rate") {
		t.Fatalf("v2: %s (%s)", r.State, r.Reason)
	}
	s := x.statuses(v2)["jibe/shop/production"]
	if s.State != "failure" || !strings.Contains(s.Description, "canary 5xx rate failed") || !strings.Contains(s.Description, "above max 5") {
		t.Errorf("production status = %s %q", s.State, s.Description)
	}
	var analysis *reconcile.StepOutcome
	for i := range r.Outcomes {
		if r.Outcomes[i].Kind == reconcile.StepVerify {
			analysis = &r.Outcomes[i]
		}
	}
	if analysis == nil || !strings.Contains(analysis.Error, "above max 5") || len(analysis.Measurements) == 0 {
		t.Fatalf("the analysis is not journaled with its verdict: %+v", r.Outcomes)
	}
	if m := analysis.Measurements[len(analysis.Measurements)-1]; m.Passed || m.Value <= 5 || len(m.Datapoints) == 0 {
		t.Errorf("last measurement %+v; want a failed value above 5 with its datapoints", m)
	}

	res, err := x.env.Emu.SendTraffic(x.listener, 100)
	if err != nil {
		t.Fatal(err)
	}
	if res.Target5xx != 0 || res.ByTargetGroup[x.green].Requests != 0 {
		t.Errorf("after the rollback: %s; want every request served by the stable version", res)
	}
}

// A pull request's plan preview runs the ECS prechecks against the
// account: a task definition naming an execution role that does not
// exist fails the plan status on the head and is listed in the comment,
// before anything is merged or applied.
func TestE2EPlanPreviewPrechecksECSReferences(t *testing.T) {
	x := newECSE2E(t)
	v1 := x.push(x.files("registry.example.com/shop/web:1.0.0"))
	x.settle("v1 rolled out", x.ended(v1))

	files := x.files("registry.example.com/shop/web:1.1.0")
	files["apps/shop/taskdef.yaml"] = strings.Replace(files["apps/shop/taskdef.yaml"], "role/exec", "role/missing-exec", 1)
	n, _, head := x.openPull(files)
	s := x.statuses(head)["jibe/shop/plan"]
	if s.State != "failure" || !strings.HasPrefix(s.Description, "precheck failed: production: web: ") {
		t.Errorf("plan status = %s %q", s.State, s.Description)
	}
	comments := x.emu.Comments("acme/shop", n)
	t.Logf("plan status: %q", s.Description)
	if len(comments) != 1 || !strings.Contains(comments[0].Body, "role/missing-exec") || !strings.Contains(comments[0].Body, "Fix before merging") {
		t.Fatalf("comments: %+v", comments)
	}
	if r := x.rollout(v1); r == nil || r.State != reconcile.RolloutSucceeded {
		t.Errorf("production's latest rollout is not v1 any more: %+v", r)
	}
}

package agent

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/jibe-dev/jibe/internal/awsemu"
	"github.com/jibe-dev/jibe/internal/awsemu/awsemutest"
	"github.com/jibe-dev/jibe/internal/githubemu"
	"github.com/jibe-dev/jibe/providers/aws/asg"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// asgE2E is the real agent with the real Auto Scaling group platform on
// the AWS emulator, whose clock the agent's follows: one ALB with a
// listener and an instance target group per environment, traffic sent
// through both at every step of time. Production is behind one approving
// review from team acme/sre.
type asgE2E struct {
	*harness
	env       *awsemutest.Env
	clock     *clocktesting.FakeClock
	listeners map[string]string // by environment
	tgs       map[string]string
	sent      map[string]int
	errors    map[string]int
}

func newASGE2E(t *testing.T) *asgE2E {
	t.Helper()
	env := awsemutest.Start(t, awsemu.Options{})
	x := &asgE2E{env: env, clock: clocktesting.NewFakeClock(env.Emu.Now()), listeners: map[string]string{}, tgs: map[string]string{},
		sent: map[string]int{}, errors: map[string]int{}}
	cfg := aws.Config{Region: env.Region, BaseEndpoint: aws.String(env.URL),
		Credentials: credentials.NewStaticCredentialsProvider(env.AccessKey, env.SecretKey, ""), Retryer: awsemutest.Retryer(10)}
	platform := asg.New(asg.NewClients(cfg), asg.Options{Clock: env.Emu, RequeueAfter: 5 * time.Second})
	x.harness = newHarnessWith(t, strings.NewReplacer("ACCOUNT", awsemutest.Account, "REGION", env.Region).Replace(ecsConfig), func(h *harness, o *Options) {
		withReviews(h, o)
		o.Clock = x.clock
		o.Platforms = map[spec.Platform]reconcile.Platform{spec.PlatformAutoScalingGroup: platform}
	})
	x.emu.AddOrg("acme")
	if err := x.emu.SetPermission("acme/shop", "dana", githubemu.PermissionWrite); err != nil {
		t.Fatal(err)
	}
	x.emu.AddTeamMember("acme", "sre", "sam", githubemu.TeamMember)
	x.loadBalancer(env.ELBv2())
	env.AddImages(t, "ami-0000000000000aaa1", "ami-0000000000000bbb2")
	return x
}

// loadBalancer creates the ALB and, per environment, a target group of
// instances and a listener forwarding to it.
func (x *asgE2E) loadBalancer(c *elbv2.Client) {
	ctx := x.t.Context()
	lb, err := c.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("web"), Subnets: []string{"subnet-a", "subnet-b"}})
	if err != nil {
		x.t.Fatal(err)
	}
	for i, name := range []string{"staging", "production"} {
		tg, err := c.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String(name), Protocol: elbtypes.ProtocolEnumHttp,
			Port: aws.Int32(8080), VpcId: aws.String("vpc-1"), TargetType: elbtypes.TargetTypeEnumInstance,
			HealthCheckIntervalSeconds: aws.Int32(5), HealthCheckTimeoutSeconds: aws.Int32(2), HealthyThresholdCount: aws.Int32(2)})
		if err != nil {
			x.t.Fatal(err)
		}
		x.tgs[name] = *tg.TargetGroups[0].TargetGroupArn
		ls, err := c.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: lb.LoadBalancers[0].LoadBalancerArn, Port: aws.Int32(int32(80 + i)),
			Protocol: elbtypes.ProtocolEnumHttp, DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(x.tgs[name])}}})
		if err != nil {
			x.t.Fatal(err)
		}
		x.listeners[name] = *ls.Listeners[0].ListenerArn
	}
}

// files is the application at ami: a group per environment behind its
// target group, staging rolling by instance refresh, production red/black
// behind an approval.
func (x *asgE2E) files(ami string) map[string]string {
	r := strings.NewReplacer("AMI", ami, "REGION", x.env.Region, "STAGINGTG", x.tgs["staging"], "PRODTG", x.tgs["production"])
	return map[string]string{
		"apps/shop/jibe.yaml": r.Replace(`apiVersion: jibe.dev/v1alpha1
kind: Application
metadata: {name: shop}
spec:
  artifacts:
    ami: {ami: AMI}
  targets:
    - name: web
      autoScalingGroup:
        name: web-${env.name}
        launchTemplate: {imageId: "${artifacts.ami}", instanceType: t3.small, userData: user-data.sh}
        minSize: 2
        maxSize: 4
        subnets: [subnet-a]
        targetGroupArns: ["${vars.tg}"]
        healthCheckGracePeriod: 60s
        instanceRefresh: {minHealthyPercentage: 50}
  environments:
    - name: staging
      aws: {account: main, region: REGION}
      variables: {tg: STAGINGTG}
    - name: production
      aws: {account: main, region: REGION}
      variables: {tg: PRODTG}
      strategy:
        blueGreen: {rollbackWindow: 5m}
      approval:
        reviews: 1
        from: {teams: [acme/sre]}
`),
		"apps/shop/user-data.sh": "#!/bin/sh\nexec /opt/shop/web --env ${env.name}\n",
	}
}

// settle reconciles until done, moving the emulated time (the agent's and
// the emulator's together) 5s at a time and sending 20 requests through
// each listener at each step, counting 5xx per environment.
func (x *asgE2E) settle(what string, done func() bool) {
	x.t.Helper()
	for range 720 { // an hour of emulated time
		x.drain()
		if done() {
			return
		}
		x.clock.Step(5 * time.Second)
		x.env.Emu.Advance(5 * time.Second)
		for name, l := range x.listeners {
			res, err := x.env.Emu.SendTraffic(l, 20)
			if err != nil {
				x.t.Fatal(err)
			}
			x.sent[name] += res.Requests
			x.errors[name] += res.Errors()
		}
		x.awaitDue()
	}
	x.t.Fatalf("%s: not done after an hour of emulated time; apps %+v", what, x.agent.Applications())
}

// current is env's current rollout if it is of revision.
func (x *asgE2E) current(env, revision string) *reconcile.Rollout {
	r, err := x.journal.Current(shopApp, env)
	if err != nil || r.Revision != revision {
		return nil
	}
	return r
}

func (x *asgE2E) ended(env, revision string) func() bool {
	return func() bool { r := x.current(env, revision); return r != nil && r.State.Final() }
}

func (x *asgE2E) atGate(revision string) func() bool {
	return func() bool {
		r := x.current("production", revision)
		return r != nil && r.State == reconcile.RolloutRunning && r.Plan.Steps[r.Next].Kind == reconcile.StepAwaitApproval
	}
}

// group describes a group; nil when it does not exist.
func (x *asgE2E) group(name string) *autoscaling.DescribeAutoScalingGroupsOutput {
	out, err := x.env.AutoScaling().DescribeAutoScalingGroups(x.t.Context(), &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{name}})
	if err != nil {
		x.t.Fatal(err)
	}
	return out
}

// An AMI bump pushed through a reviewed pull request: staging rolls by
// instance refresh, production waits for the review, then completes a
// red/black rollout (a new group at the old one's capacity, the old one
// retired and, after the rollback window, deleted). The commit statuses
// say so, and production served no 5xx throughout.
func TestE2EASGAMIBumpRollsStagingAndRedBlacksProduction(t *testing.T) {
	x := newASGE2E(t)
	v1files := x.files("ami-0000000000000aaa1")
	n, _, head := x.openPull(v1files)
	x.review(n, "sam", githubemu.ReviewApproved, head)
	v1 := x.merge(n, v1files)
	x.settle("v1 in production", x.ended("production", v1))
	for _, env := range []string{"staging", "production"} {
		if r := x.current(env, v1); r.State != reconcile.RolloutSucceeded {
			t.Fatalf("v1 in %s: %s (%s)", env, r.State, r.Reason)
		}
	}

	v2files := x.files("ami-0000000000000bbb2")
	n, _, head = x.openPull(v2files)
	v2 := x.merge(n, v2files)
	x.settle("v2 at production's gate", x.atGate(v2))
	if r := x.current("staging", v2); r == nil || r.State != reconcile.RolloutSucceeded {
		t.Fatalf("staging: %+v", r)
	}
	if s := x.statuses(v2)["jibe/shop/staging"]; s.State != "success" {
		t.Errorf("staging status = %s %q", s.State, s.Description)
	}
	if s := x.statuses(v2)["jibe/shop/production"]; s.State != "pending" || !strings.Contains(s.Description, "acme/sre") {
		t.Errorf("production status at the gate = %s %q", s.State, s.Description)
	}
	if g := x.group("web-staging").AutoScalingGroups[0]; aws.ToString(g.LaunchTemplate.Version) != "2" {
		t.Errorf("staging's group launches version %s, want 2", aws.ToString(g.LaunchTemplate.Version))
	}

	x.errors["production"] = 0
	x.review(n, "sam", githubemu.ReviewApproved, head)
	x.settle("v2 in production", x.ended("production", v2))
	r := x.current("production", v2)
	if r.State != reconcile.RolloutSucceeded || r.Plan.Mode != spec.StrategyBlueGreen {
		t.Fatalf("production: %s in %s (%s)", r.State, r.Plan.Mode, r.Reason)
	}
	if s := x.statuses(v2)["jibe/shop/production"]; s.State != "success" {
		t.Errorf("production status = %s %q", s.State, s.Description)
	}
	next := "web-production-" + v2[:12]
	if g := x.group(next).AutoScalingGroups; len(g) != 1 || aws.ToInt32(g[0].DesiredCapacity) != 2 || len(g[0].TargetGroupARNs) != 1 {
		t.Fatalf("the new production group %s: %+v", next, g)
	}
	x.settle("the old group cleaned up", func() bool { return len(x.group("web-production").AutoScalingGroups) == 0 })
	if x.errors["production"] != 0 || x.sent["production"] == 0 {
		t.Errorf("production: %d of %d requests failed during the red/black rollout", x.errors["production"], x.sent["production"])
	}
}

// An AMI bump of a staging environment whose rolling strategy has steps:
// the plan stops the instance refresh at the 50 % checkpoint, the pause
// runs there with half the instances replaced (the refresh holding), then
// the refresh replaces the rest, with no 5xx.
func TestE2EASGRollingCheckpointsRunTheSteps(t *testing.T) {
	x := newASGE2E(t)
	files := func(ami string) map[string]string {
		fs := x.files(ami)
		fs["apps/shop/jibe.yaml"] = strings.Replace(fs["apps/shop/jibe.yaml"], "      variables: {tg: "+x.tgs["staging"]+"}\n",
			"      variables: {tg: "+x.tgs["staging"]+"}\n      strategy:\n        rolling:\n          steps: [{setWeight: 50}, {pause: {duration: 2m}}]\n", 1)
		return fs
	}
	n, _, _ := x.openPull(files("ami-0000000000000aaa1"))
	v1 := x.merge(n, files("ami-0000000000000aaa1"))
	x.settle("v1 in staging", x.ended("staging", v1))
	if r := x.current("staging", v1); r.State != reconcile.RolloutSucceeded || len(r.Plan.Steps) != 3 {
		t.Fatalf("v1 in staging (a first deploy, without steps): %s %+v", r.State, r.Plan.Steps)
	}
	n, _, _ = x.openPull(files("ami-0000000000000bbb2"))
	v2 := x.merge(n, files("ami-0000000000000bbb2"))
	x.errors["staging"] = 0
	x.settle("v2 at the checkpoint's pause", func() bool {
		r := x.current("staging", v2)
		return r != nil && r.State == reconcile.RolloutRunning && r.Plan.Steps[r.Next].Kind == reconcile.StepPause
	})
	r := x.current("staging", v2)
	if s := r.Plan.Steps[r.Next-1]; s.Kind != reconcile.StepShiftTraffic || !s.Checkpoint || s.Weight != 50 {
		t.Fatalf("the step before the pause: %+v (plan %+v)", s, r.Plan.Steps)
	}
	onV2 := func() int {
		c := 0
		for _, in := range x.group("web-staging").AutoScalingGroups[0].Instances {
			if aws.ToString(in.LaunchTemplate.Version) == "2" && aws.ToString(in.HealthStatus) == "Healthy" {
				c++
			}
		}
		return c
	}
	if c := onV2(); c != 1 {
		t.Errorf("at the 50%% checkpoint %d of 2 instances run version 2, want 1", c)
	}
	x.settle("v2 in staging", x.ended("staging", v2))
	if r := x.current("staging", v2); r.State != reconcile.RolloutSucceeded {
		t.Fatalf("v2 in staging: %s (%s)", r.State, r.Reason)
	}
	if c := onV2(); c != 2 {
		t.Errorf("after the refresh %d of 2 instances run version 2", c)
	}
	if x.errors["staging"] != 0 || x.sent["staging"] == 0 {
		t.Errorf("staging: %d of %d requests failed during the checkpointed refresh", x.errors["staging"], x.sent["staging"])
	}
}

package ecs

import (
	"sync"

	"context"
	"testing"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/jibe-dev/jibe/internal/awsemu"
	"github.com/jibe-dev/jibe/internal/awsemu/awsemutest"
	awselbv2 "github.com/jibe-dev/jibe/internal/awsemu/elbv2"
	"github.com/jibe-dev/jibe/providers/aws/albtraffic"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// rig is an emulator with a cluster "prod", an ALB listener forwarding
// 100% to a blue target group (and 0% to green), the platform under test
// and clients to check what it did.
type rig struct {
	// ops counts the operations the platform's clients issue, by name:
	// once per call, however many attempts retries make.
	ops                   opCounter
	t                     testing.TB
	ctx                   context.Context
	env                   *awsemutest.Env
	p                     *Platform
	ecs                   *awsecs.Client
	elb                   *elbv2.Client
	scaling               *aas.Client
	listener, blue, green string
	sending               bool
	sent                  int
	errors                int
	byTG                  map[string]int
	errorsByTG            map[string]int

	// path is the path of the requests send sends; "/" when empty.
	path string
}

func newRig(t testing.TB) *rig {
	t.Helper()
	env := awsemutest.Start(t, awsemu.Options{})
	r := &rig{t: t, ctx: context.Background(), env: env, ecs: env.ECS(), elb: env.ELBv2(), scaling: env.AppAutoScaling(),
		byTG: map[string]int{}, errorsByTG: map[string]int{}}
	r.p = New(NewClients(r.config()), Options{Clock: env.Emu, RequeueAfter: 5 * time.Second})
	must(t)(r.ecs.CreateCluster(r.ctx, &awsecs.CreateClusterInput{ClusterName: aws.String("prod")}))
	r.newLoadBalancer()
	env.Emu.ResetRequests()
	return r
}

// config is the aws.Config the platform is built from: explicit endpoint,
// static credentials, and a retryer that retries at once.
func (r *rig) config() aws.Config {
	return aws.Config{Region: r.env.Region, BaseEndpoint: aws.String(r.env.URL),
		Credentials: credentials.NewStaticCredentialsProvider(r.env.AccessKey, r.env.SecretKey, ""),
		Retryer:     awsemutest.Retryer(10), APIOptions: []func(*middleware.Stack) error{r.ops.count}}
}

// opCounter counts SDK operations by name.
type opCounter struct {
	mu sync.Mutex
	n  map[string]int
}

// count adds a middleware to the Initialize step, which runs once per
// operation call (retries happen later, in Finalize).
func (c *opCounter) count(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("jibeCountOps",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			c.mu.Lock()
			if c.n == nil {
				c.n = map[string]int{}
			}
			c.n[awsmiddleware.GetOperationName(ctx)]++
			c.mu.Unlock()
			return next.HandleInitialize(ctx, in)
		}), middleware.After)
}

func (c *opCounter) get(op string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[op]
}

func (c *opCounter) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n = nil
}

// must fails the test when a setup call fails.
func must(t testing.TB) func(any, error) {
	return func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("setup: %v", err)
		}
	}
}

func (r *rig) newLoadBalancer() {
	c, ctx := r.elb, r.ctx
	lb, err := c.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("web"), Subnets: []string{"subnet-a", "subnet-b"}})
	if err != nil {
		r.t.Fatal(err)
	}
	for _, name := range []string{"blue", "green"} {
		tg, err := c.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String(name), Protocol: elbtypes.ProtocolEnumHttp,
			Port: aws.Int32(8080), VpcId: aws.String("vpc-1"), TargetType: elbtypes.TargetTypeEnumIp,
			HealthCheckIntervalSeconds: aws.Int32(5), HealthCheckTimeoutSeconds: aws.Int32(2), HealthyThresholdCount: aws.Int32(2), UnhealthyThresholdCount: aws.Int32(2)})
		if err != nil {
			r.t.Fatal(err)
		}
		arn := *tg.TargetGroups[0].TargetGroupArn
		must(r.t)(c.ModifyTargetGroupAttributes(ctx, &elbv2.ModifyTargetGroupAttributesInput{TargetGroupArn: aws.String(arn),
			Attributes: []elbtypes.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String("30")}}}))
		if name == "blue" {
			r.blue = arn
		} else {
			r.green = arn
		}
	}
	ls, err := c.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: lb.LoadBalancers[0].LoadBalancerArn, Port: aws.Int32(80),
		Protocol: elbtypes.ProtocolEnumHttp, DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward,
			ForwardConfig: &elbtypes.ForwardActionConfig{TargetGroups: []elbtypes.TargetGroupTuple{
				{TargetGroupArn: aws.String(r.blue), Weight: aws.Int32(100)}, {TargetGroupArn: aws.String(r.green), Weight: aws.Int32(0)}}}}}})
	if err != nil {
		r.t.Fatal(err)
	}
	r.listener = *ls.Listeners[0].ListenerArn
}

// taskDef is a Fargate task definition of one container "web".
func taskDef(image string) *spec.ECSTaskDefinition {
	return &spec.ECSTaskDefinition{Family: "web", NetworkMode: "awsvpc", CPU: "256", Memory: "512",
		RequiresCompatibilities: []string{"FARGATE"}, ExecutionRoleArn: "arn:aws:iam::111111111111:role/exec",
		ContainerDefinitions: []spec.ContainerDefinition{{Name: "web", Image: image,
			PortMappings: []spec.PortMapping{{ContainerPort: aws.Int32(8080)}},
			Environment:  []spec.KeyValuePair{{Name: "MODE", Value: "prod"}}}}}
}

// service is a Fargate service of two tasks behind the blue target group,
// with the circuit breaker on.
func (r *rig) service() *spec.ECSService {
	return &spec.ECSService{ServiceName: "web", Cluster: "prod", DesiredCount: aws.Int32(2), LaunchType: "FARGATE",
		NetworkConfiguration: &spec.NetworkConfiguration{AwsvpcConfiguration: &spec.AwsVpcConfiguration{Subnets: []string{"subnet-b", "subnet-a"}}},
		LoadBalancers:        []spec.ServiceLoadBalancer{{TargetGroupArn: r.blue, ContainerName: "web", ContainerPort: 8080}},
		DeploymentConfiguration: &spec.DeploymentConfiguration{
			DeploymentCircuitBreaker: &spec.CircuitBreaker{Enable: true, Rollback: true}},
		HealthCheckGracePeriodSeconds: aws.Int32(30),
		Tags:                          []spec.Tag{{Key: "team", Value: "core"}}}
}

// deployment deploys image at revision with the strategy (rolling when nil).
func (r *rig) deployment(revision, image string, strategy *spec.Strategy) *reconcile.Deployment {
	if strategy == nil {
		strategy = &spec.Strategy{Rolling: &spec.Rolling{}}
	}
	target := &spec.Target{Name: "web", ECS: &spec.ECSTarget{TaskDefinition: "taskdef.json", Service: "service.json",
		Traffic: &spec.ALBTraffic{ListenerArn: r.listener, StableTargetGroupArn: r.blue, CanaryTargetGroupArn: r.green}}}
	return &reconcile.Deployment{App: "shop", Env: "prod", Revision: revision, Account: "main", Region: r.env.Region,
		Environment: &spec.Environment{Name: "prod", Strategy: strategy}, Mode: strategy.Kind(),
		Target: &spec.RenderedTarget{Target: target, TaskDefinition: taskDef(image), Service: r.service()}}
}

// next returns d's successor at revision with image, remembering d as the
// previous revision.
func (r *rig) next(d *reconcile.Deployment, revision, image string) *reconcile.Deployment {
	n := r.deployment(revision, image, d.Environment.Strategy)
	n.Target.ECS.AutoScaling = d.Target.ECS.AutoScaling
	n.Previous, n.PreviousRevision = d.Target, d.Revision
	return n
}

// advance moves emulated time by d in 5s steps, sending traffic at each
// step while r.sending.
func (r *rig) advance(d time.Duration) {
	for left := d; left > 0; left -= 5 * time.Second {
		r.env.Emu.Advance(min(left, 5*time.Second))
		if r.sending {
			r.send(20)
		}
	}
}

// send sends n requests through the listener and counts 5xx.
func (r *rig) send(n int) {
	res, err := r.env.Emu.SendTraffic(r.listener, n)
	if r.path != "" {
		res, err = r.env.Emu.SendRequests(r.listener, awselbv2.Request{Path: r.path}, n)
	}
	if err != nil {
		r.t.Fatal(err)
	}
	r.sent += res.Requests
	r.errors += res.Errors()
	for tg, g := range res.ByTargetGroup {
		r.byTG[tg] += g.Requests
		r.errorsByTG[tg] += g.Errors()
	}
}

// resetTraffic forgets the traffic counted so far.
func (r *rig) resetTraffic() {
	r.sent, r.errors = 0, 0
	r.byTG, r.errorsByTG = map[string]int{}, map[string]int{}
}

// waitHealth polls Health, advancing 5s between polls, until it is not
// progressing, for at most ten emulated minutes.
func (r *rig) waitHealth(d *reconcile.Deployment) reconcile.Health {
	r.t.Helper()
	for range 120 {
		h, err := r.p.Health(r.ctx, d)
		if err != nil {
			r.t.Fatalf("health: %v", err)
		}
		if h.State != reconcile.HealthProgressing {
			return h
		}
		r.advance(5 * time.Second)
	}
	r.t.Fatalf("still progressing after 10 minutes")
	return reconcile.Health{}
}

// until runs step until it succeeds, advancing time after each Waiting
// error, as the executor does; any other error fails the test.
func (r *rig) until(name string, step func() error) {
	r.t.Helper()
	for range 120 {
		err := step()
		switch reconcile.PolicyOf(err) {
		case reconcile.PolicyNone:
			return
		case reconcile.PolicyRequeue:
			r.advance(5 * time.Second)
		default:
			r.t.Fatalf("%s: %v", name, err)
		}
	}
	r.t.Fatalf("%s: still waiting after 10 minutes", name)
}

// rollout runs d's strategy to the end as the executor would.
func (r *rig) rollout(d *reconcile.Deployment) {
	r.t.Helper()
	r.until("apply", func() error { return r.p.Apply(r.ctx, d) })
	if h := r.waitHealth(d); h.State != reconcile.HealthHealthy {
		r.t.Fatalf("rollout of %s: %s: %s", d.Revision, h.State, h.Reason)
	}
	switch d.Mode {
	case spec.StrategyBlueGreen:
		r.until("shift", func() error { return r.p.ShiftTraffic(r.ctx, d, 100) })
		r.until("promote", func() error { return r.p.Promote(r.ctx, d) })
		r.until("cleanup", func() error { return r.p.Cleanup(r.ctx, d) })
	case spec.StrategyCanary:
		for _, w := range []spec.Percent{10, 50} {
			r.until("shift", func() error { return r.p.ShiftTraffic(r.ctx, d, w) })
			r.advance(30 * time.Second)
		}
		r.until("promote", func() error { return r.p.Promote(r.ctx, d) })
	}
	r.advance(time.Minute)
}

// live describes a service of cluster prod; nil when not ACTIVE.
func (r *rig) live(name string) *ecstypes.Service {
	r.t.Helper()
	out, err := r.ecs.DescribeServices(r.ctx, &awsecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{name},
		Include: []ecstypes.ServiceField{ecstypes.ServiceFieldTags}})
	if err != nil {
		r.t.Fatal(err)
	}
	if len(out.Services) == 0 || aws.ToString(out.Services[0].Status) != "ACTIVE" {
		return nil
	}
	return &out.Services[0]
}

// image returns the first image of the task definition a service runs.
func (r *rig) image(s *ecstypes.Service) string {
	r.t.Helper()
	out, err := r.ecs.DescribeTaskDefinition(r.ctx, &awsecs.DescribeTaskDefinitionInput{TaskDefinition: s.TaskDefinition})
	if err != nil {
		r.t.Fatal(err)
	}
	return aws.ToString(out.TaskDefinition.ContainerDefinitions[0].Image)
}

// weights reads the listener's forward weights.
func (r *rig) weights() map[string]int32 {
	r.t.Helper()
	w, err := albtraffic.Read(r.ctx, r.p.c.ELB, &spec.ALBTraffic{ListenerArn: r.listener})
	if err != nil {
		r.t.Fatal(err)
	}
	return w
}

// writes returns the write calls since the last reset.
func (r *rig) writes() []awsemu.Request { return r.env.Emu.WriteCalls() }

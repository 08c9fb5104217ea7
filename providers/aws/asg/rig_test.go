package asg

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/jibe-dev/jibe/internal/awsemu"
	"github.com/jibe-dev/jibe/internal/awsemu/awsemutest"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// rig is an emulator with an ALB listener forwarding to one target group
// of instances, the platform under test and clients to check what it did.
type rig struct {
	t        testing.TB
	ctx      context.Context
	env      *awsemutest.Env
	p        *Platform
	as       *autoscaling.Client
	elb      *elbv2.Client
	listener string
	lb       string
	tg       string
	sending  bool
	sent     int
	errors   int
}

func newRig(t testing.TB) *rig {
	t.Helper()
	env := awsemutest.Start(t, awsemu.Options{})
	r := &rig{t: t, ctx: context.Background(), env: env, as: env.AutoScaling(), elb: env.ELBv2()}
	cfg := aws.Config{Region: env.Region, BaseEndpoint: aws.String(env.URL),
		Credentials: credentials.NewStaticCredentialsProvider(env.AccessKey, env.SecretKey, ""), Retryer: awsemutest.Retryer(10)}
	r.p = New(NewClients(cfg), Options{Clock: env.Emu, RequeueAfter: 5 * time.Second})
	r.newLoadBalancer()
	env.AddImages(t, "ami-00000001", "ami-00000002", "ami-00000bad")
	env.Emu.ResetRequests()
	return r
}

func (r *rig) newLoadBalancer() {
	c, ctx := r.elb, r.ctx
	lb, err := c.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("web"), Subnets: []string{"subnet-a", "subnet-b"}})
	if err != nil {
		r.t.Fatal(err)
	}
	tg, err := c.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("web"), Protocol: elbtypes.ProtocolEnumHttp,
		Port: aws.Int32(8080), VpcId: aws.String("vpc-1"), TargetType: elbtypes.TargetTypeEnumInstance,
		HealthCheckIntervalSeconds: aws.Int32(5), HealthCheckTimeoutSeconds: aws.Int32(2), HealthyThresholdCount: aws.Int32(2), UnhealthyThresholdCount: aws.Int32(2)})
	if err != nil {
		r.t.Fatal(err)
	}
	r.tg = *tg.TargetGroups[0].TargetGroupArn
	if _, err := c.ModifyTargetGroupAttributes(ctx, &elbv2.ModifyTargetGroupAttributesInput{TargetGroupArn: aws.String(r.tg),
		Attributes: []elbtypes.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String("30")}}}); err != nil {
		r.t.Fatal(err)
	}
	r.lb = *lb.LoadBalancers[0].LoadBalancerArn
	ls, err := c.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: lb.LoadBalancers[0].LoadBalancerArn, Port: aws.Int32(80),
		Protocol: elbtypes.ProtocolEnumHttp, DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(r.tg)}}})
	if err != nil {
		r.t.Fatal(err)
	}
	r.listener = *ls.Listeners[0].ListenerArn
}

// group is a group "web" of 2 to 6 instances of ami behind the target
// group, ELB health checks after 60s.
func (r *rig) group(ami string) *spec.AutoScalingGroupTarget {
	return &spec.AutoScalingGroupTarget{Name: "web", MinSize: 2, MaxSize: 6, DesiredCapacity: aws.Int32(2),
		LaunchTemplate: spec.LaunchTemplate{ImageID: ami, InstanceType: "t3.small", SecurityGroupIDs: []string{"sg-2", "sg-1"}, IAMInstanceProfile: "web"},
		Subnets:        []string{"subnet-b", "subnet-a"}, TargetGroupArns: []string{r.tg}, HealthCheckType: "ELB",
		HealthCheckGracePeriod: &spec.Duration{Duration: time.Minute}, Tags: map[string]string{"team": "core"},
		InstanceRefresh: &spec.InstanceRefresh{MinHealthyPercentage: ptr(spec.Percent(50))}}
}

func ptr[T any](v T) *T { return &v }

// deployment deploys ami at revision with the strategy (rolling when nil).
func (r *rig) deployment(revision, ami string, strategy *spec.Strategy) *reconcile.Deployment {
	if strategy == nil {
		strategy = &spec.Strategy{Rolling: &spec.Rolling{}}
	}
	target := &spec.Target{Name: "web", AutoScalingGroup: r.group(ami)}
	return &reconcile.Deployment{App: "shop", Env: "prod", Revision: revision, Account: "main", Region: r.env.Region,
		Environment: &spec.Environment{Name: "prod", Strategy: strategy}, Mode: strategy.Kind(),
		Target: &spec.RenderedTarget{Target: target, UserData: "#!/bin/sh\necho " + ami + "\n"}}
}

// next returns d's successor at revision with ami in mode, remembering d
// as the previous revision.
func (r *rig) next(d *reconcile.Deployment, revision, ami string, mode spec.StrategyKind) *reconcile.Deployment {
	n := r.deployment(revision, ami, d.Environment.Strategy)
	n.Target.AutoScalingGroup.ScalingPolicies = d.Target.AutoScalingGroup.ScalingPolicies
	n.Mode = mode
	n.Previous, n.PreviousRevision = d.Target, d.Revision
	return n
}

// advance moves emulated time by d in 5s steps, sending traffic at each
// step while r.sending.
func (r *rig) advance(d time.Duration) {
	for left := d; left > 0; left -= 5 * time.Second {
		r.env.Emu.Advance(min(left, 5*time.Second))
		if r.sending {
			res, err := r.env.Emu.SendTraffic(r.listener, 20)
			if err != nil {
				r.t.Fatal(err)
			}
			r.sent += res.Requests
			r.errors += res.Errors()
		}
	}
}

// waitHealth polls Health, advancing 5s between polls, until it is not
// progressing, for at most 15 emulated minutes; it returns the reasons
// seen on the way too.
func (r *rig) waitHealth(d *reconcile.Deployment) (reconcile.Health, []string) {
	r.t.Helper()
	var seen []string
	for range 180 {
		h, err := r.p.Health(r.ctx, d)
		if err != nil {
			r.t.Fatalf("health: %v", err)
		}
		seen = append(seen, h.Reason)
		if h.State != reconcile.HealthProgressing {
			return h, seen
		}
		r.advance(5 * time.Second)
	}
	r.t.Fatalf("still progressing after 15 minutes: %s", seen[len(seen)-1])
	return reconcile.Health{}, nil
}

// until runs step until it succeeds, advancing time after each Waiting
// error, as the executor does; any other error fails the test.
func (r *rig) until(name string, step func() error) {
	r.t.Helper()
	for range 180 {
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
	r.t.Fatalf("%s: still waiting after 15 minutes", name)
}

// rollout runs d's mode to the end as the executor would.
func (r *rig) rollout(d *reconcile.Deployment) {
	r.t.Helper()
	r.until("apply", func() error { return r.p.Apply(r.ctx, d) })
	if h, _ := r.waitHealth(d); h.State != reconcile.HealthHealthy {
		r.t.Fatalf("rollout of %s: %s: %s", d.Revision, h.State, h.Reason)
	}
	if d.Mode == spec.StrategyBlueGreen {
		r.until("shift", func() error { return r.p.ShiftTraffic(r.ctx, d, 100) })
		r.until("promote", func() error { return r.p.Promote(r.ctx, d) })
	}
}

// live describes a group; nil when it does not exist.
func (r *rig) live(name string) *astypes.AutoScalingGroup {
	r.t.Helper()
	out, err := r.as.DescribeAutoScalingGroups(r.ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{name}})
	if err != nil {
		r.t.Fatal(err)
	}
	if len(out.AutoScalingGroups) == 0 || out.AutoScalingGroups[0].Status != nil {
		return nil
	}
	return &out.AutoScalingGroups[0]
}

// writes returns the write calls since the last reset.
func (r *rig) writes() []awsemu.Request { return r.env.Emu.WriteCalls() }

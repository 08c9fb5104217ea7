// Package awsemu is an in-memory AWS emulator that speaks the real wire
// protocols of the services Jibe deploys to, so the unmodified
// aws-sdk-go-v2 clients (and their waiters) can be pointed at it.
//
// State is partitioned by account and region, taken from the SigV4
// credential scope of each request. Time is emulated (see package clock):
// transitions such as tasks starting or targets becoming healthy happen
// when the clock is advanced, deterministically, with no background
// goroutines.
package awsemu

import (
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"

	"github.com/jibe-dev/jibe/internal/awsemu/appautoscaling"
	"github.com/jibe-dev/jibe/internal/awsemu/artifact"
	"github.com/jibe-dev/jibe/internal/awsemu/autoscaling"
	"github.com/jibe-dev/jibe/internal/awsemu/clock"
	"github.com/jibe-dev/jibe/internal/awsemu/cloudwatch"
	"github.com/jibe-dev/jibe/internal/awsemu/ec2"
	"github.com/jibe-dev/jibe/internal/awsemu/ecr"
	"github.com/jibe-dev/jibe/internal/awsemu/ecs"
	"github.com/jibe-dev/jibe/internal/awsemu/eks"
	"github.com/jibe-dev/jibe/internal/awsemu/elbv2"
	"github.com/jibe-dev/jibe/internal/awsemu/iam"
	"github.com/jibe-dev/jibe/internal/awsemu/lambda"
	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
	"github.com/jibe-dev/jibe/internal/awsemu/s3"
	"github.com/jibe-dev/jibe/internal/awsemu/secretsmanager"
	"github.com/jibe-dev/jibe/internal/awsemu/servicediscovery"
	"github.com/jibe-dev/jibe/internal/awsemu/sns"
	"github.com/jibe-dev/jibe/internal/awsemu/sqs"
	"github.com/jibe-dev/jibe/internal/awsemu/ssm"
	"github.com/jibe-dev/jibe/internal/awsemu/sts"
)

// DefaultAccount is the account of access keys not listed in
// Options.Accounts.
const DefaultAccount = "000000000000"

// Options configure an Emulator. The zero value is usable.
type Options struct {
	// Clock is the emulated time source. When nil: a real-time clock
	// starting now if Speed is positive, else a Manual clock at
	// clock.Epoch.
	Clock clock.Clock
	// Speed runs the default real-time clock this many times faster than
	// the wall clock (the demo mode of `jibe emulator aws`).
	Speed float64
	// Accounts maps static access key ids to twelve-digit account ids.
	// Keys not listed belong to DefaultAccount.
	Accounts map[string]string
	// Tick is the granularity at which emulated time is simulated; 1s when
	// zero.
	Tick time.Duration
	// Logger receives one debug record per call; discarded when nil.
	Logger *slog.Logger
}

// service is one emulated AWS service, as the router sees it.
type service interface {
	// Name is the SigV4 signing name.
	Name() string
	// Kind is the wire protocol.
	Kind() protocol.Kind
	// Codec writes results and errors.
	Codec() protocol.Codec
	// Handle serves a call whose Operation is resolved.
	Handle(c *protocol.Call) (any, error)
}

// router is implemented by restJson1 services, which resolve the
// operation from the method and path.
type router interface {
	Route(c *protocol.Call) bool
}

// rawServer is implemented by services that write their own responses
// (S3, served by gofakes3).
type rawServer interface {
	ServeRaw(w http.ResponseWriter, c *protocol.Call)
}

// stepper is implemented by services with time-dependent state.
type stepper interface {
	Step(now time.Time)
}

// backends are the emulated services. They are only used under the
// Emulator's lock.
type backends struct {
	ecs            *ecs.Service
	elbv2          *elbv2.Service
	cloudwatch     *cloudwatch.Service
	lambda         *lambda.Service
	sts            *sts.Service
	appAutoScaling *appautoscaling.Service
	cloudMap       *servicediscovery.Service
	s3             *s3.Service
	ec2            *ec2.Service
	autoScaling    *autoscaling.Service
	ecr            *ecr.Service
	iam            *iam.Service
	eks            *eks.Service
	secrets        *secretsmanager.Service
	ssm            *ssm.Service
	sqs            *sqs.Service
	sns            *sns.Service
}

// Emulator is an http.Handler serving the emulated AWS APIs. It is safe for
// concurrent use: calls are served one at a time against shared state.
type Emulator struct {
	mu        sync.Mutex
	clock     clock.Clock
	tick      time.Duration
	settledAt time.Time
	log       *slog.Logger
	services  map[string]service
	targets   map[string]service // X-Amz-Target prefix → service
	rpcv2     map[string]service // rpcv2 service name → service
	steppers  []stepper
	faults    []Fault
	requests  []Request
	nextID    uint64
	server    *http.Server

	artifacts *artifact.Set
	keys      *sts.Keyring

	b backends
}

// New returns an Emulator serving ECS, ELBv2, STS, CloudWatch, Lambda,
// Application Auto Scaling, Cloud Map, S3, EC2 launch templates, EC2 Auto
// Scaling, ECR, IAM, EKS, Secrets Manager and SSM Parameter Store.
func New(opts Options) *Emulator {
	e := &Emulator{
		clock:     opts.Clock,
		tick:      opts.Tick,
		log:       opts.Logger,
		services:  map[string]service{},
		targets:   map[string]service{},
		rpcv2:     map[string]service{},
		artifacts: artifact.NewSet(),
		keys:      sts.NewKeyring(DefaultAccount, opts.Accounts),
	}
	switch {
	case e.clock != nil:
	case opts.Speed > 0:
		e.clock = clock.NewScaled(time.Now().UTC().Truncate(time.Second), opts.Speed)
	default:
		e.clock = clock.NewManual(clock.Epoch)
	}
	if e.tick <= 0 {
		e.tick = time.Second
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	e.settledAt = e.clock.Now()
	e.wire()
	return e
}

// wire constructs the services and routes requests to them.
func (e *Emulator) wire() {
	e.b = newBackends(e.clock, e.artifacts, e.keys)
	for _, r := range e.b.routes() {
		e.register(r.svc, r.targetPrefix, r.rpcName)
	}
	e.steppers = e.b.steppers()
}

// newBackends constructs the services and connects the ones that depend on
// each other: ECS and Auto Scaling register targets in ELBv2, ELBv2
// publishes metrics to CloudWatch and invokes Lambda targets, ECS
// registers tasks in Cloud Map.
func newBackends(clk clock.Clock, arts *artifact.Set, keys *sts.Keyring) backends {
	var b backends
	b.cloudwatch = cloudwatch.New()
	b.iam = iam.New()
	b.lambda = lambda.New(lambda.Config{Artifacts: arts, Metrics: b.cloudwatch})
	b.elbv2 = elbv2.New(elbv2.Config{Metrics: b.cloudwatch, Functions: b.lambda})
	b.cloudMap = servicediscovery.New()
	b.ecr = ecr.New()
	b.ecs = ecs.New(ecs.Config{Targets: b.elbv2, Artifacts: arts, Registry: b.cloudMap, Alarms: b.cloudwatch, Images: b.ecr})
	b.ec2 = ec2.New()
	b.autoScaling = autoscaling.New(autoscaling.Config{Templates: b.ec2, Targets: b.elbv2, Artifacts: arts, Images: b.ec2})
	b.appAutoScaling = appautoscaling.New(appautoscaling.Config{Metrics: b.cloudwatch, Alarms: b.cloudwatch,
		Scalables: map[aastypes.ServiceNamespace]appautoscaling.Scalable{aastypes.ServiceNamespaceEcs: b.ecs}})
	b.sts, b.s3 = sts.New(keys, b.iam), s3.New(clk)
	b.eks = eks.New()
	b.secrets, b.ssm = secretsmanager.New(), ssm.New()
	b.sqs, b.sns = sqs.New(), sns.New()
	return b
}

// route says how requests reach a service besides its signing name.
type route struct {
	svc          service
	targetPrefix string // X-Amz-Target prefix (awsJson)
	rpcName      string // /service/<name>/ (rpcv2Cbor)
}

func (b *backends) routes() []route {
	return []route{
		{svc: b.ecs, targetPrefix: "AmazonEC2ContainerServiceV20141113."},
		{svc: b.appAutoScaling, targetPrefix: "AnyScaleFrontendService."},
		{svc: b.cloudMap, targetPrefix: "Route53AutoNaming_v20170314."},
		{svc: b.ecr, targetPrefix: "AmazonEC2ContainerRegistry_V20150921."},
		{svc: b.secrets, targetPrefix: "secretsmanager."},
		{svc: b.ssm, targetPrefix: "AmazonSSM."},
		{svc: b.sqs, targetPrefix: "AmazonSQS."}, {svc: b.sns},
		{svc: b.cloudwatch, rpcName: "GraniteServiceVersion20100801"},
		{svc: b.elbv2}, {svc: b.sts}, {svc: b.lambda}, {svc: b.s3},
		{svc: b.ec2}, {svc: b.autoScaling}, {svc: b.iam}, {svc: b.eks},
	}
}

// steppers returns the time-dependent services in step order: ECS and
// Auto Scaling react to target health ELBv2 computed on the previous
// tick; CloudWatch evaluates alarms and Application Auto Scaling tracks
// targets over the metrics of the tick.
func (b *backends) steppers() []stepper {
	return []stepper{b.ecs, b.autoScaling, b.elbv2, b.lambda, b.cloudMap, b.eks, b.cloudwatch, b.appAutoScaling}
}

func (e *Emulator) register(s service, targetPrefix, rpcName string) {
	e.services[s.Name()] = s
	if targetPrefix != "" {
		e.targets[targetPrefix] = s
	}
	if rpcName != "" {
		e.rpcv2[rpcName] = s
	}
}

// Now returns the current emulated time.
func (e *Emulator) Now() time.Time { return e.clock.Now() }

// Since returns the emulated time elapsed since t. With Now, it makes the
// emulator a k8s.io/utils/clock.PassiveClock for code under test.
func (e *Emulator) Since(t time.Time) time.Duration { return e.Now().Sub(t) }

// Advance moves emulated time forward by d, running every transition that
// falls due, tick by tick, before it returns.
func (e *Emulator) Advance(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.clock.Advance(d)
	e.settle()
}

// settle simulates every tick between the last settled time and now.
// The caller holds e.mu.
func (e *Emulator) settle() {
	now := e.clock.Now()
	for e.settledAt.Before(now) {
		next := e.settledAt.Add(e.tick)
		if next.After(now) {
			next = now
		}
		e.settledAt = next
		for _, s := range e.steppers {
			s.Step(next)
		}
	}
}

// Inject adds a fault; faults are matched in the order they were added.
func (e *Emulator) Inject(f Fault) {
	e.mu.Lock()
	e.faults = append(e.faults, f)
	e.mu.Unlock()
}

// ClearFaults removes every injected fault.
func (e *Emulator) ClearFaults() {
	e.mu.Lock()
	e.faults = nil
	e.mu.Unlock()
}

// MarkImageBroken makes ECS tasks running the container image, and Auto
// Scaling instances launched from the AMI, fail their health checks, so
// deployments of it fail (and roll back with the circuit breaker).
func (e *Emulator) MarkImageBroken(image string) {
	e.mu.Lock()
	e.artifacts.MarkImageBroken(image)
	e.mu.Unlock()
}

// Image is a machine image AddImage seeds.
type Image = ec2.Image

// AddImage seeds a machine image (an AMI baked elsewhere) with its ID in
// an account and region, available unless img.State says otherwise.
// Auto Scaling launches instances only of AMIs that exist and are
// available there, as EC2 does; RegisterImage makes one with a new ID.
// It fails for an ID not of the form ami-<8 to 17 hex digits>.
func (e *Emulator) AddImage(account, region string, img Image) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if img.Created.IsZero() {
		img.Created = e.clock.Now()
	}
	return e.b.ec2.AddImage(protocol.Scope{Account: account, Region: region}, img)
}

// SetImageErrorRate makes ECS tasks running the container image (and
// Auto Scaling instances of the AMI) pass their health checks but answer
// rate (0..1) of the requests the traffic model sends them with a 5xx.
func (e *Emulator) SetImageErrorRate(image string, rate float64) {
	e.mu.Lock()
	e.artifacts.SetImageErrorRate(image, rate)
	e.mu.Unlock()
}

// SetFunctionVersionErrorRate makes rate (0..1) of a Lambda version's
// invocations fail, directly or through load balancer targets.
func (e *Emulator) SetFunctionVersionErrorRate(function, version string, rate float64) {
	e.mu.Lock()
	e.artifacts.SetFunctionVersionErrorRate(function, version, rate)
	e.mu.Unlock()
}

// MarkFunctionVersionBroken makes invocations of a published Lambda
// version fail, and its ELB targets unhealthy.
func (e *Emulator) MarkFunctionVersionBroken(function, version string) {
	e.mu.Lock()
	e.artifacts.MarkFunctionVersionBroken(function, version)
	e.mu.Unlock()
}

// SetFunctionResponse makes Invoke of the Lambda function named name
// return payload; nil restores the default, which echoes the request.
func (e *Emulator) SetFunctionResponse(name string, payload []byte) {
	e.mu.Lock()
	e.b.lambda.SetResponse(name, payload)
	e.mu.Unlock()
}

// SendTraffic sends n requests through the default action of a listener,
// split by its weighted forward action, and returns what each target group
// received. Requests are spread evenly over the current tick.
func (e *Emulator) SendTraffic(listenerArn string, n int) (elbv2.TrafficResult, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.settle()
	res, err := e.b.elbv2.SendTraffic(listenerArn, n, e.clock.Now())
	if err != nil {
		return res, fmt.Errorf("send traffic: %w", err)
	}
	return res, nil
}

// SendRequests sends n requests like req (host, path, headers) through
// the listener's rules: the highest-priority rule whose host-header,
// path-pattern and http-header conditions match forwards them, else the
// default action. Counting and metrics are as for SendTraffic.
func (e *Emulator) SendRequests(listenerArn string, req elbv2.Request, n int) (elbv2.TrafficResult, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.settle()
	res, err := e.b.elbv2.SendRequests(listenerArn, req, n, e.clock.Now())
	if err != nil {
		return res, fmt.Errorf("send requests: %w", err)
	}
	return res, nil
}

// requestID returns a unique, deterministic request id. The caller holds e.mu.
func (e *Emulator) requestID() string {
	e.nextID++
	return fmt.Sprintf("00000000-0000-4000-8000-%012d", e.nextID)
}

var _ http.Handler = (*Emulator)(nil)

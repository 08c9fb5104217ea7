// Package lambda deploys Lambda targets: it creates and updates functions
// (code, then configuration, waiting for Lambda between the two),
// publishes one version per revision and moves the target's alias to it:
// all at once, by weighted alias routing (canary) or in one switch after
// verification (blue/green). An ALB target group of type lambda can invoke
// the alias. Platform implements reconcile.Platform, reconcile.Remover and
// reconcile.Prechecker.
package lambda

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"k8s.io/utils/clock"

	"github.com/jibe-dev/jibe/internal/backoff"
	"github.com/jibe-dev/jibe/providers/aws/account"
	"github.com/jibe-dev/jibe/providers/aws/precheck"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

var _ interface {
	reconcile.Platform
	reconcile.Remover
	reconcile.Prechecker
} = (*Platform)(nil)

// API is the part of Lambda the platform calls.
type API interface {
	CreateFunction(ctx context.Context, in *awslambda.CreateFunctionInput, optFns ...func(*awslambda.Options)) (*awslambda.CreateFunctionOutput, error)
	GetFunction(ctx context.Context, in *awslambda.GetFunctionInput, optFns ...func(*awslambda.Options)) (*awslambda.GetFunctionOutput, error)
	GetFunctionConfiguration(ctx context.Context, in *awslambda.GetFunctionConfigurationInput, optFns ...func(*awslambda.Options)) (*awslambda.GetFunctionConfigurationOutput, error)
	UpdateFunctionCode(ctx context.Context, in *awslambda.UpdateFunctionCodeInput, optFns ...func(*awslambda.Options)) (*awslambda.UpdateFunctionCodeOutput, error)
	UpdateFunctionConfiguration(ctx context.Context, in *awslambda.UpdateFunctionConfigurationInput, optFns ...func(*awslambda.Options)) (*awslambda.UpdateFunctionConfigurationOutput, error)
	DeleteFunction(ctx context.Context, in *awslambda.DeleteFunctionInput, optFns ...func(*awslambda.Options)) (*awslambda.DeleteFunctionOutput, error)
	PutFunctionConcurrency(ctx context.Context, in *awslambda.PutFunctionConcurrencyInput, optFns ...func(*awslambda.Options)) (*awslambda.PutFunctionConcurrencyOutput, error)
	DeleteFunctionConcurrency(ctx context.Context, in *awslambda.DeleteFunctionConcurrencyInput, optFns ...func(*awslambda.Options)) (*awslambda.DeleteFunctionConcurrencyOutput, error)
	PublishVersion(ctx context.Context, in *awslambda.PublishVersionInput, optFns ...func(*awslambda.Options)) (*awslambda.PublishVersionOutput, error)
	ListVersionsByFunction(ctx context.Context, in *awslambda.ListVersionsByFunctionInput, optFns ...func(*awslambda.Options)) (*awslambda.ListVersionsByFunctionOutput, error)
	CreateAlias(ctx context.Context, in *awslambda.CreateAliasInput, optFns ...func(*awslambda.Options)) (*awslambda.CreateAliasOutput, error)
	GetAlias(ctx context.Context, in *awslambda.GetAliasInput, optFns ...func(*awslambda.Options)) (*awslambda.GetAliasOutput, error)
	UpdateAlias(ctx context.Context, in *awslambda.UpdateAliasInput, optFns ...func(*awslambda.Options)) (*awslambda.UpdateAliasOutput, error)
	ListAliases(ctx context.Context, in *awslambda.ListAliasesInput, optFns ...func(*awslambda.Options)) (*awslambda.ListAliasesOutput, error)
	TagResource(ctx context.Context, in *awslambda.TagResourceInput, optFns ...func(*awslambda.Options)) (*awslambda.TagResourceOutput, error)
	UntagResource(ctx context.Context, in *awslambda.UntagResourceInput, optFns ...func(*awslambda.Options)) (*awslambda.UntagResourceOutput, error)
	AddPermission(ctx context.Context, in *awslambda.AddPermissionInput, optFns ...func(*awslambda.Options)) (*awslambda.AddPermissionOutput, error)
	PutProvisionedConcurrencyConfig(ctx context.Context, in *awslambda.PutProvisionedConcurrencyConfigInput, optFns ...func(*awslambda.Options)) (*awslambda.PutProvisionedConcurrencyConfigOutput, error)
	GetProvisionedConcurrencyConfig(ctx context.Context, in *awslambda.GetProvisionedConcurrencyConfigInput, optFns ...func(*awslambda.Options)) (*awslambda.GetProvisionedConcurrencyConfigOutput, error)
	DeleteProvisionedConcurrencyConfig(ctx context.Context, in *awslambda.DeleteProvisionedConcurrencyConfigInput, optFns ...func(*awslambda.Options)) (*awslambda.DeleteProvisionedConcurrencyConfigOutput, error)
	ListProvisionedConcurrencyConfigs(ctx context.Context, in *awslambda.ListProvisionedConcurrencyConfigsInput, optFns ...func(*awslambda.Options)) (*awslambda.ListProvisionedConcurrencyConfigsOutput, error)
	GetPolicy(ctx context.Context, in *awslambda.GetPolicyInput, optFns ...func(*awslambda.Options)) (*awslambda.GetPolicyOutput, error)
	ListEventSourceMappings(ctx context.Context, in *awslambda.ListEventSourceMappingsInput, optFns ...func(*awslambda.Options)) (*awslambda.ListEventSourceMappingsOutput, error)
	RemovePermission(ctx context.Context, in *awslambda.RemovePermissionInput, optFns ...func(*awslambda.Options)) (*awslambda.RemovePermissionOutput, error)
	DeleteAlias(ctx context.Context, in *awslambda.DeleteAliasInput, optFns ...func(*awslambda.Options)) (*awslambda.DeleteAliasOutput, error)
	precheck.LayerAPI
}

// ELBAPI is the part of Elastic Load Balancing v2 the platform calls to
// put the alias in its target group.
type ELBAPI interface {
	precheck.LoadBalancerAPI
	RegisterTargets(ctx context.Context, in *elbv2.RegisterTargetsInput, optFns ...func(*elbv2.Options)) (*elbv2.RegisterTargetsOutput, error)
	DescribeTargetHealth(ctx context.Context, in *elbv2.DescribeTargetHealthInput, optFns ...func(*elbv2.Options)) (*elbv2.DescribeTargetHealthOutput, error)
	DeregisterTargets(ctx context.Context, in *elbv2.DeregisterTargetsInput, optFns ...func(*elbv2.Options)) (*elbv2.DeregisterTargetsOutput, error)
}

// Clients are the AWS clients of one account and region.
type Clients struct {
	// Lambda deploys the functions.
	Lambda API
	// ELB registers aliases in target groups.
	ELB ELBAPI
	// The clients below are only read by Precheck.
	IAM precheck.RoleAPI
	EC2 precheck.NetworkAPI
	ECR precheck.ImageAPI
	S3  precheck.ObjectAPI
	STS precheck.IdentityAPI
	SQS precheck.QueueAPI
	SNS precheck.TopicAPI
}

// NewClients builds the clients of cfg (no shared configuration or
// environment is read). With no Retryer in cfg it uses account.Retryer,
// the SDK's standard retryer with more attempts, so that throttling never
// fails a rollout on its own.
func NewClients(cfg aws.Config) *Clients {
	if cfg.Retryer == nil {
		cfg.Retryer = account.Retryer
	}
	return &Clients{
		Lambda: awslambda.NewFromConfig(cfg),
		ELB:    elbv2.NewFromConfig(cfg),
		IAM:    iam.NewFromConfig(cfg),
		EC2:    ec2.NewFromConfig(cfg),
		ECR:    ecr.NewFromConfig(cfg),
		S3:     s3.NewFromConfig(cfg, pathStyle(cfg)),
		STS:    sts.NewFromConfig(cfg),
		SQS:    sqs.NewFromConfig(cfg),
		SNS:    sns.NewFromConfig(cfg),
	}
}

// pathStyle addresses S3 by path when cfg has a custom endpoint (an
// emulator or a VPC endpoint), which cannot take bucket subdomains.
func pathStyle(cfg aws.Config) func(*s3.Options) {
	return func(o *s3.Options) { o.UsePathStyle = cfg.BaseEndpoint != nil }
}

// Options configure a Platform. The zero value is usable.
type Options struct {
	// Clock is the time source of log records; the wall clock when nil.
	Clock clock.PassiveClock
	// Logger receives progress records; discarded when nil.
	Logger *slog.Logger
	// RequeueAfter is how soon a Waiting error asks to be retried while
	// Lambda creates or updates a function; 5s when zero.
	RequeueAfter time.Duration
	// KeepVersions is how many published versions Promote keeps besides
	// those an alias points to; DefaultKeepVersions when zero.
	KeepVersions int
	// ConflictRetries is how many times in a row a write answered with
	// ResourceConflictException is retried (spaced by ConflictBackoff)
	// before the step fails; DefaultConflictRetries when zero.
	ConflictRetries int
	// ConflictBackoff spaces those retries; DefaultConflictBackoff when
	// zero.
	ConflictBackoff backoff.Backoff
	// AccountID is the twelve-digit account the clients act in, which
	// Precheck compares references with; asked of STS when empty.
	AccountID string
}

// Defaults of Options.
const (
	DefaultKeepVersions    = 5
	DefaultConflictRetries = 6
)

// DefaultConflictBackoff spaces retries of conflicting writes: 2s, 4s,
// 8s... up to 30s, about a minute and a half in all with the default
// retry count: longer than any Lambda update takes.
var DefaultConflictBackoff = backoff.Backoff{Base: 2 * time.Second, Max: 30 * time.Second, Jitter: 0.2}

// Platform deploys Lambda targets of one account and region. It keeps no
// state between calls but the count of conflicting writes in a row per
// function: everything else is read back from Lambda, so every method can
// be re-run after a crash.
type Platform struct {
	c         *Clients
	clock     clock.PassiveClock
	log       *slog.Logger
	requeue   time.Duration
	keep      int
	retries   int
	conflicts *backoff.PerItem[string]

	// account is the account the clients act in, for prechecks.
	account *precheck.Account
}

// New returns a Platform using c.
func New(c *Clients, opts Options) *Platform {
	p := &Platform{c: c, clock: opts.Clock, log: opts.Logger, requeue: opts.RequeueAfter, keep: opts.KeepVersions,
		retries: opts.ConflictRetries, account: precheck.NewAccount(c.STS, opts.AccountID, hints)}
	if p.clock == nil {
		p.clock = clock.RealClock{}
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.requeue <= 0 {
		p.requeue = 5 * time.Second
	}
	if p.keep <= 0 {
		p.keep = DefaultKeepVersions
	}
	if p.retries <= 0 {
		p.retries = DefaultConflictRetries
	}
	b := opts.ConflictBackoff
	if b == (backoff.Backoff{}) {
		b = DefaultConflictBackoff
	}
	p.conflicts = backoff.NewPerItem[string](b)
	return p
}

// Capabilities is what the Lambda platform deploys, in one place: rolling
// is all at once (the alias moves to the new version in one update),
// canary shifts the alias's weighted routing, blue/green switches the
// alias after verification. Neither needs a load balancer: the weights
// live on the alias (an ALB target group, when set, invokes the alias and
// so follows them). It needs no client: validation and planning ask it.
var Capabilities = spec.Capabilities{
	Platform:      spec.PlatformLambda,
	Noun:          "a Lambda function",
	ShiftsTraffic: []spec.StrategyKind{spec.StrategyBlueGreen, spec.StrategyCanary},
}

// mode returns the mode d's rollout runs in, as its plan says. It is the
// one place that reads it.
func mode(d *reconcile.Deployment) spec.StrategyKind { return d.Mode }

// logger returns the logger with the deployment's attributes.
func (p *Platform) logger(d *reconcile.Deployment, step string) *slog.Logger {
	return p.log.With("source", d.Source, "app", d.App, "env", d.Env, "revision", d.Revision, "target", d.Target.Name, "step", step)
}

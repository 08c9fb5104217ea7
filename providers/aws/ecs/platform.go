// Package ecs deploys ECS targets: it registers task definitions, creates
// and updates services, and rolls new versions out with ECS rolling
// updates, blue/green switches or weighted canaries behind an Application
// Load Balancer. Platform implements reconcile.Platform, and
// reconcile.Prechecker for plan previews.
package ecs

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"k8s.io/utils/clock"

	"github.com/jibe-dev/jibe/providers/aws/account"
	"github.com/jibe-dev/jibe/providers/aws/albtraffic"
	"github.com/jibe-dev/jibe/providers/aws/precheck"
	"github.com/jibe-dev/jibe/reconcile"
)

var _ interface {
	reconcile.Platform
	reconcile.Remover
} = (*Platform)(nil)

// ECSAPI is the part of ECS the platform calls.
type ECSAPI interface {
	RegisterTaskDefinition(ctx context.Context, in *awsecs.RegisterTaskDefinitionInput, optFns ...func(*awsecs.Options)) (*awsecs.RegisterTaskDefinitionOutput, error)
	DescribeTaskDefinition(ctx context.Context, in *awsecs.DescribeTaskDefinitionInput, optFns ...func(*awsecs.Options)) (*awsecs.DescribeTaskDefinitionOutput, error)
	ListTaskDefinitions(ctx context.Context, in *awsecs.ListTaskDefinitionsInput, optFns ...func(*awsecs.Options)) (*awsecs.ListTaskDefinitionsOutput, error)
	DeregisterTaskDefinition(ctx context.Context, in *awsecs.DeregisterTaskDefinitionInput, optFns ...func(*awsecs.Options)) (*awsecs.DeregisterTaskDefinitionOutput, error)
	CreateService(ctx context.Context, in *awsecs.CreateServiceInput, optFns ...func(*awsecs.Options)) (*awsecs.CreateServiceOutput, error)
	UpdateService(ctx context.Context, in *awsecs.UpdateServiceInput, optFns ...func(*awsecs.Options)) (*awsecs.UpdateServiceOutput, error)
	DeleteService(ctx context.Context, in *awsecs.DeleteServiceInput, optFns ...func(*awsecs.Options)) (*awsecs.DeleteServiceOutput, error)
	DescribeServices(ctx context.Context, in *awsecs.DescribeServicesInput, optFns ...func(*awsecs.Options)) (*awsecs.DescribeServicesOutput, error)
	TagResource(ctx context.Context, in *awsecs.TagResourceInput, optFns ...func(*awsecs.Options)) (*awsecs.TagResourceOutput, error)
}

// ELBAPI is the part of Elastic Load Balancing v2 the platform calls to
// shift traffic and watch target health: albtraffic's, and the target
// groups its prechecks and canaries read.
type ELBAPI interface {
	albtraffic.API
	DescribeTargetGroups(ctx context.Context, in *elbv2.DescribeTargetGroupsInput, optFns ...func(*elbv2.Options)) (*elbv2.DescribeTargetGroupsOutput, error)
	// AddTags, DescribeTags and RemoveTags keep, on a listener or rule a
	// rolling deploy took over, what it forwarded to before (see handBack).
	AddTags(ctx context.Context, in *elbv2.AddTagsInput, optFns ...func(*elbv2.Options)) (*elbv2.AddTagsOutput, error)
	DescribeTags(ctx context.Context, in *elbv2.DescribeTagsInput, optFns ...func(*elbv2.Options)) (*elbv2.DescribeTagsOutput, error)
	RemoveTags(ctx context.Context, in *elbv2.RemoveTagsInput, optFns ...func(*elbv2.Options)) (*elbv2.RemoveTagsOutput, error)
}

// ScalingAPI is the part of Application Auto Scaling the platform calls.
type ScalingAPI interface {
	RegisterScalableTarget(ctx context.Context, in *aas.RegisterScalableTargetInput, optFns ...func(*aas.Options)) (*aas.RegisterScalableTargetOutput, error)
	DescribeScalableTargets(ctx context.Context, in *aas.DescribeScalableTargetsInput, optFns ...func(*aas.Options)) (*aas.DescribeScalableTargetsOutput, error)
	DeregisterScalableTarget(ctx context.Context, in *aas.DeregisterScalableTargetInput, optFns ...func(*aas.Options)) (*aas.DeregisterScalableTargetOutput, error)
	PutScalingPolicy(ctx context.Context, in *aas.PutScalingPolicyInput, optFns ...func(*aas.Options)) (*aas.PutScalingPolicyOutput, error)
	DescribeScalingPolicies(ctx context.Context, in *aas.DescribeScalingPoliciesInput, optFns ...func(*aas.Options)) (*aas.DescribeScalingPoliciesOutput, error)
	DeleteScalingPolicy(ctx context.Context, in *aas.DeleteScalingPolicyInput, optFns ...func(*aas.Options)) (*aas.DeleteScalingPolicyOutput, error)
	PutScheduledAction(ctx context.Context, in *aas.PutScheduledActionInput, optFns ...func(*aas.Options)) (*aas.PutScheduledActionOutput, error)
	DescribeScheduledActions(ctx context.Context, in *aas.DescribeScheduledActionsInput, optFns ...func(*aas.Options)) (*aas.DescribeScheduledActionsOutput, error)
	DeleteScheduledAction(ctx context.Context, in *aas.DeleteScheduledActionInput, optFns ...func(*aas.Options)) (*aas.DeleteScheduledActionOutput, error)
}

// Clients are the AWS clients of one account and region.
type Clients struct {
	// ECS registers task definitions and runs services.
	ECS ECSAPI
	// ELB shifts listener weights and reports target health.
	ELB ELBAPI
	// Scaling manages the services' Application Auto Scaling.
	Scaling ScalingAPI
	// The clients below are only read by Precheck.
	IAM     precheck.RoleAPI
	EC2     precheck.NetworkAPI
	ECR     precheck.ImageAPI
	Secrets precheck.SecretAPI
	SSM     precheck.ParameterAPI
	STS     precheck.IdentityAPI
}

// NewClients builds the ECS, ELBv2 and Application Auto Scaling clients of
// cfg, and the IAM, EC2, ECR, Secrets Manager, SSM and STS clients
// Precheck reads with. It reads no shared configuration or environment: cfg carries the
// region, credentials and (for tests) BaseEndpoint. When cfg.Retryer is
// nil, account.Retryer is used, which retries throttling errors.
func NewClients(cfg aws.Config) *Clients {
	if cfg.Retryer == nil {
		cfg.Retryer = account.Retryer
	}
	return &Clients{
		ECS:     awsecs.NewFromConfig(cfg),
		ELB:     elbv2.NewFromConfig(cfg),
		Scaling: aas.NewFromConfig(cfg),
		IAM:     iam.NewFromConfig(cfg),
		EC2:     ec2.NewFromConfig(cfg),
		ECR:     ecr.NewFromConfig(cfg),
		Secrets: secretsmanager.NewFromConfig(cfg),
		SSM:     ssm.NewFromConfig(cfg),
		STS:     sts.NewFromConfig(cfg),
	}
}

// Options configure a Platform. The zero value is usable.
type Options struct {
	// Clock decides when draining is over (the emulator's or a test's
	// clock in tests); the wall clock when nil.
	Clock clock.PassiveClock
	// Logger receives progress records; discarded when nil.
	Logger *slog.Logger
	// RequeueAfter is how soon a Waiting error asks to be retried; 15s
	// when zero.
	RequeueAfter time.Duration
	// AccountID is the twelve-digit account the clients act in, which
	// Precheck compares references with; asked of STS when empty.
	AccountID string
}

// Platform deploys ECS targets of one account and region. It keeps no
// state between calls: everything it needs is read back from AWS, so every
// method can be re-run after a crash.
type Platform struct {
	c       *Clients
	clock   clock.PassiveClock
	log     *slog.Logger
	requeue time.Duration
	tds     taskDefCache

	// account is the account the clients act in, for prechecks.
	account *precheck.Account
}

// New returns a Platform using c.
func New(c *Clients, opts Options) *Platform {
	p := &Platform{c: c, clock: opts.Clock, log: opts.Logger, requeue: opts.RequeueAfter, account: precheck.NewAccount(c.STS, opts.AccountID, hints)}
	if p.clock == nil {
		p.clock = clock.RealClock{}
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.requeue <= 0 {
		p.requeue = 15 * time.Second
	}
	return p
}

// logger returns the logger with the deployment's attributes.
func (p *Platform) logger(d *reconcile.Deployment, step string) *slog.Logger {
	return p.log.With("source", d.Source, "app", d.App, "env", d.Env, "revision", d.Revision, "target", d.Target.Name, "step", step)
}

// Package asg deploys EC2 Auto Scaling group targets: a launch template
// version per revision (only when its data changed), the group created or
// updated from the spec, and new versions rolled out by instance refresh
// (rolling) or by a new group beside the old one behind the same target
// groups (red/black, the blueGreen strategy). Platform implements
// reconcile.Platform and reconcile.Remover.
package asg

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
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

// AutoScalingAPI is the part of EC2 Auto Scaling the platform calls.
type AutoScalingAPI interface {
	CreateAutoScalingGroup(ctx context.Context, in *autoscaling.CreateAutoScalingGroupInput, optFns ...func(*autoscaling.Options)) (*autoscaling.CreateAutoScalingGroupOutput, error)
	UpdateAutoScalingGroup(ctx context.Context, in *autoscaling.UpdateAutoScalingGroupInput, optFns ...func(*autoscaling.Options)) (*autoscaling.UpdateAutoScalingGroupOutput, error)
	DescribeAutoScalingGroups(ctx context.Context, in *autoscaling.DescribeAutoScalingGroupsInput, optFns ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error)
	DeleteAutoScalingGroup(ctx context.Context, in *autoscaling.DeleteAutoScalingGroupInput, optFns ...func(*autoscaling.Options)) (*autoscaling.DeleteAutoScalingGroupOutput, error)
	StartInstanceRefresh(ctx context.Context, in *autoscaling.StartInstanceRefreshInput, optFns ...func(*autoscaling.Options)) (*autoscaling.StartInstanceRefreshOutput, error)
	DescribeInstanceRefreshes(ctx context.Context, in *autoscaling.DescribeInstanceRefreshesInput, optFns ...func(*autoscaling.Options)) (*autoscaling.DescribeInstanceRefreshesOutput, error)
	CancelInstanceRefresh(ctx context.Context, in *autoscaling.CancelInstanceRefreshInput, optFns ...func(*autoscaling.Options)) (*autoscaling.CancelInstanceRefreshOutput, error)
	RollbackInstanceRefresh(ctx context.Context, in *autoscaling.RollbackInstanceRefreshInput, optFns ...func(*autoscaling.Options)) (*autoscaling.RollbackInstanceRefreshOutput, error)
	AttachLoadBalancerTargetGroups(ctx context.Context, in *autoscaling.AttachLoadBalancerTargetGroupsInput, optFns ...func(*autoscaling.Options)) (*autoscaling.AttachLoadBalancerTargetGroupsOutput, error)
	DetachLoadBalancerTargetGroups(ctx context.Context, in *autoscaling.DetachLoadBalancerTargetGroupsInput, optFns ...func(*autoscaling.Options)) (*autoscaling.DetachLoadBalancerTargetGroupsOutput, error)
	SuspendProcesses(ctx context.Context, in *autoscaling.SuspendProcessesInput, optFns ...func(*autoscaling.Options)) (*autoscaling.SuspendProcessesOutput, error)
	ResumeProcesses(ctx context.Context, in *autoscaling.ResumeProcessesInput, optFns ...func(*autoscaling.Options)) (*autoscaling.ResumeProcessesOutput, error)
	CreateOrUpdateTags(ctx context.Context, in *autoscaling.CreateOrUpdateTagsInput, optFns ...func(*autoscaling.Options)) (*autoscaling.CreateOrUpdateTagsOutput, error)
	DeleteTags(ctx context.Context, in *autoscaling.DeleteTagsInput, optFns ...func(*autoscaling.Options)) (*autoscaling.DeleteTagsOutput, error)
	PutScalingPolicy(ctx context.Context, in *autoscaling.PutScalingPolicyInput, optFns ...func(*autoscaling.Options)) (*autoscaling.PutScalingPolicyOutput, error)
	DescribePolicies(ctx context.Context, in *autoscaling.DescribePoliciesInput, optFns ...func(*autoscaling.Options)) (*autoscaling.DescribePoliciesOutput, error)
	DescribeScheduledActions(ctx context.Context, in *autoscaling.DescribeScheduledActionsInput, optFns ...func(*autoscaling.Options)) (*autoscaling.DescribeScheduledActionsOutput, error)
	PutScheduledUpdateGroupAction(ctx context.Context, in *autoscaling.PutScheduledUpdateGroupActionInput, optFns ...func(*autoscaling.Options)) (*autoscaling.PutScheduledUpdateGroupActionOutput, error)
	DeleteScheduledAction(ctx context.Context, in *autoscaling.DeleteScheduledActionInput, optFns ...func(*autoscaling.Options)) (*autoscaling.DeleteScheduledActionOutput, error)
	DescribeLifecycleHooks(ctx context.Context, in *autoscaling.DescribeLifecycleHooksInput, optFns ...func(*autoscaling.Options)) (*autoscaling.DescribeLifecycleHooksOutput, error)
	PutLifecycleHook(ctx context.Context, in *autoscaling.PutLifecycleHookInput, optFns ...func(*autoscaling.Options)) (*autoscaling.PutLifecycleHookOutput, error)
	DeleteLifecycleHook(ctx context.Context, in *autoscaling.DeleteLifecycleHookInput, optFns ...func(*autoscaling.Options)) (*autoscaling.DeleteLifecycleHookOutput, error)
	PutWarmPool(ctx context.Context, in *autoscaling.PutWarmPoolInput, optFns ...func(*autoscaling.Options)) (*autoscaling.PutWarmPoolOutput, error)
	DeleteWarmPool(ctx context.Context, in *autoscaling.DeleteWarmPoolInput, optFns ...func(*autoscaling.Options)) (*autoscaling.DeleteWarmPoolOutput, error)
	DeletePolicy(ctx context.Context, in *autoscaling.DeletePolicyInput, optFns ...func(*autoscaling.Options)) (*autoscaling.DeletePolicyOutput, error)
}

// EC2API is the part of EC2 the platform calls: launch templates, and
// the subnets, security groups and AMIs Precheck reads.
type EC2API interface {
	CreateLaunchTemplate(ctx context.Context, in *ec2.CreateLaunchTemplateInput, optFns ...func(*ec2.Options)) (*ec2.CreateLaunchTemplateOutput, error)
	CreateLaunchTemplateVersion(ctx context.Context, in *ec2.CreateLaunchTemplateVersionInput, optFns ...func(*ec2.Options)) (*ec2.CreateLaunchTemplateVersionOutput, error)
	DescribeLaunchTemplates(ctx context.Context, in *ec2.DescribeLaunchTemplatesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplatesOutput, error)
	DescribeLaunchTemplateVersions(ctx context.Context, in *ec2.DescribeLaunchTemplateVersionsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplateVersionsOutput, error)
	DeleteLaunchTemplate(ctx context.Context, in *ec2.DeleteLaunchTemplateInput, optFns ...func(*ec2.Options)) (*ec2.DeleteLaunchTemplateOutput, error)
	precheck.NetworkAPI
	precheck.MachineImageAPI
}

// ELBAPI is the part of Elastic Load Balancing v2 the platform calls:
// target health and deregistration delays (albtraffic's), and the target
// groups Precheck reads.
type ELBAPI interface {
	albtraffic.API
	precheck.LoadBalancerAPI
}

// Clients are the AWS clients of one account and region.
type Clients struct {
	// AutoScaling manages the groups, their refreshes and policies.
	AutoScaling AutoScalingAPI
	// EC2 manages the launch templates.
	EC2 EC2API
	// ELB reports target health and deregistration delays.
	ELB ELBAPI
	// STS tells Precheck the account, when Options.AccountID is empty.
	STS precheck.IdentityAPI
	// IAM reads the instance profiles Precheck checks.
	IAM precheck.InstanceProfileAPI
}

// NewClients builds the Auto Scaling, EC2, ELBv2, STS and IAM clients of cfg. It
// reads no shared configuration or environment. When cfg.Retryer is nil,
// ECS's DefaultRetryer is used (it retries throttling).
func NewClients(cfg aws.Config) *Clients {
	if cfg.Retryer == nil {
		cfg.Retryer = account.Retryer
	}
	return &Clients{AutoScaling: autoscaling.NewFromConfig(cfg), EC2: ec2.NewFromConfig(cfg), ELB: elbv2.NewFromConfig(cfg), STS: sts.NewFromConfig(cfg),
		IAM: iam.NewFromConfig(cfg)}
}

// Options configure a Platform. The zero value is usable.
type Options struct {
	// Clock decides when draining is over; the wall clock when nil.
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

// Platform deploys Auto Scaling group targets of one account and region.
// It keeps no state between calls: everything is read back from AWS
// (groups and their tags, launch template versions, refreshes).
type Platform struct {
	c       *Clients
	clock   clock.PassiveClock
	log     *slog.Logger
	requeue time.Duration

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

// Package precheck checks, before anything is deployed, that the AWS
// resources a deployment refers to exist and that the agent's role may
// read them: IAM roles (and whom they trust), ECR images, S3 objects,
// Lambda layer versions, Secrets Manager secrets, SSM
// parameters, load balancer target groups, listeners and rules, subnets,
// security groups, SQS queues and SNS topics (dead-letter targets), AMIs
// (available) and EC2 instance profiles (holding a role EC2 may assume).
// Platforms collect their references into Refs;
// Check looks them up in batches where the APIs allow.
package precheck

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/jibe-dev/jibe/providers/aws/awserr"
	"github.com/jibe-dev/jibe/reconcile"
)

// RoleAPI is the part of IAM Check calls.
type RoleAPI interface {
	GetRole(ctx context.Context, in *iam.GetRoleInput, optFns ...func(*iam.Options)) (*iam.GetRoleOutput, error)
}

// NetworkAPI is the part of EC2 Check calls.
type NetworkAPI interface {
	DescribeSubnets(ctx context.Context, in *ec2.DescribeSubnetsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeSubnetsOutput, error)
	DescribeSecurityGroups(ctx context.Context, in *ec2.DescribeSecurityGroupsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error)
}

// ImageAPI is the part of ECR Check calls.
type ImageAPI interface {
	DescribeImages(ctx context.Context, in *ecr.DescribeImagesInput, optFns ...func(*ecr.Options)) (*ecr.DescribeImagesOutput, error)
}

// SecretAPI is the part of Secrets Manager Check calls. It never
// reads a secret's value.
type SecretAPI interface {
	DescribeSecret(ctx context.Context, in *secretsmanager.DescribeSecretInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error)
}

// ParameterAPI is the part of SSM Parameter Store Check calls. It is
// called without decryption, so SecureString values are never read.
type ParameterAPI interface {
	GetParameters(ctx context.Context, in *ssm.GetParametersInput, optFns ...func(*ssm.Options)) (*ssm.GetParametersOutput, error)
}

// IdentityAPI tells which account the platform's credentials act in.
type IdentityAPI interface {
	GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, optFns ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

// LoadBalancerAPI is the part of Elastic Load Balancing v2 Check calls.
type LoadBalancerAPI interface {
	DescribeTargetGroups(ctx context.Context, in *elbv2.DescribeTargetGroupsInput, optFns ...func(*elbv2.Options)) (*elbv2.DescribeTargetGroupsOutput, error)
	DescribeListeners(ctx context.Context, in *elbv2.DescribeListenersInput, optFns ...func(*elbv2.Options)) (*elbv2.DescribeListenersOutput, error)
	DescribeRules(ctx context.Context, in *elbv2.DescribeRulesInput, optFns ...func(*elbv2.Options)) (*elbv2.DescribeRulesOutput, error)
}

// Clients are the clients Check reads with, of one account and region.
type Clients struct {
	IAM     RoleAPI
	ECR     ImageAPI
	Secrets SecretAPI
	SSM     ParameterAPI
	ELB     LoadBalancerAPI
	EC2     NetworkAPI
	S3      ObjectAPI
	Layers  LayerAPI
	SQS     QueueAPI
	SNS     TopicAPI
	// AMIs describes machine images (EC2).
	AMIs MachineImageAPI
	// Profiles gets instance profiles (IAM).
	Profiles InstanceProfileAPI
}

// Check looks up every reference of rs: roles (in sc's account), ECR
// images, secrets, parameters, target groups, listeners, rules, subnets,
// security groups, queues and topics (in sc's account and region). It makes no write
// call and reads no secret value.
//
// It returns one problem per reference that is missing or that the
// agent's role may not read (naming the permission to grant), with Field
// and Message set. An error means a lookup failed for another reason
// (throttling, network), classified by awserr.
func Check(ctx context.Context, c Clients, sc Scope, rs *Refs) ([]reconcile.Problem, error) {
	var problems []reconcile.Problem
	for _, lookup := range lookups {
		found, err := lookup(c, ctx, sc, rs)
		if err != nil {
			return nil, err
		}
		problems = append(problems, found...)
	}
	return problems, nil
}

// lookups are Check's lookups, one per kind of reference, in the order
// their problems are reported.
var lookups = []func(c Clients, ctx context.Context, sc Scope, rs *Refs) ([]reconcile.Problem, error){
	Clients.checkRoles,
	Clients.checkImages,
	Clients.checkSecrets,
	Clients.checkParameters,
	Clients.checkTargetGroups,
	Clients.checkListeners,
	Clients.checkSubnets,
	Clients.checkSecurityGroups,
	Clients.checkObjects,
	Clients.checkLayers,
	Clients.checkQueues,
	Clients.checkTopics,
	Clients.checkMachineImages,
	Clients.checkInstanceProfiles,
}

// answer is what a lookup says about one reference.
type answer int

const (
	exists answer = iota
	missing
	denied
	// deleting: a secret scheduled for deletion, which ECS cannot read.
	deleting
)

// kind is a kind of reference: its name, the permission that reads it,
// the error codes meaning it does not exist, and what to do when it does
// not.
type kind struct {
	noun, perm string
	missing    []string
	fix        string
	// global kinds (IAM) exist in the account, not in a region.
	global bool
}

var (
	roleKind = kind{noun: "role", perm: "iam:GetRole", missing: []string{"NoSuchEntity"},
		fix: "create it or fix the ARN", global: true}
	imageKind = kind{noun: "image", perm: "ecr:DescribeImages", missing: []string{"RepositoryNotFoundException", "ImageNotFoundException"},
		fix: "push it or fix the image reference"}
	secretKind = kind{noun: "secret", perm: "secretsmanager:DescribeSecret", missing: []string{"ResourceNotFoundException"},
		fix: "create it or fix the ARN"}
	parameterKind = kind{noun: "SSM parameter", perm: "ssm:GetParameters", missing: []string{"ParameterNotFound"},
		fix: "create it or fix the name"}
	targetGroupKind = kind{noun: "target group", perm: "elasticloadbalancing:DescribeTargetGroups", missing: []string{"TargetGroupNotFound"},
		fix: "create it or fix the ARN"}
	listenerKind = kind{noun: "listener", perm: "elasticloadbalancing:DescribeListeners", missing: []string{"ListenerNotFound"},
		fix: "create it or fix traffic.listenerArn"}
	ruleKind = kind{noun: "listener rule", perm: "elasticloadbalancing:DescribeRules", missing: []string{"RuleNotFound"},
		fix: "create it or fix traffic.listenerRuleArn"}
	subnetKind = kind{noun: "subnet", perm: "ec2:DescribeSubnets", missing: []string{"InvalidSubnetID.NotFound"},
		fix: "fix the subnet ID"}
	groupKind = kind{noun: "security group", perm: "ec2:DescribeSecurityGroups", missing: []string{"InvalidGroup.NotFound"},
		fix: "fix the security group ID"}
)

// answer reads a lookup's error: none means the reference exists. Errors
// other than "missing" and "denied" are returned, classified.
func (k kind) answer(err error) (answer, error) {
	switch {
	case err == nil:
		return exists, nil
	case awserr.Code(err) == "":
		return 0, err
	case awserr.Is(err, k.missing...):
		return missing, nil
	case awserr.ClassOf(err) == awserr.AccessDenied:
		return denied, nil
	}
	return 0, awserr.Classify(fmt.Errorf("check %s: %w", k.noun, err), nil)
}

// problems returns one problem per reference whose answer is not exists.
func (k kind) problems(sc Scope, rs []Ref, answers map[string]answer) []reconcile.Problem {
	where := "account " + sc.Account
	if !k.global {
		where += ", region " + sc.Region
	}
	var out []reconcile.Problem
	for _, r := range rs {
		var msg string
		switch answers[r.ID] {
		case exists:
			continue
		case missing:
			msg = fmt.Sprintf("%s %s does not exist in %s: %s", k.noun, r.ID, where, k.fix)
		case denied:
			msg = fmt.Sprintf("the agent's role cannot read %s %s: grant it %s", k.noun, r.ID, k.perm)
		case deleting:
			msg = fmt.Sprintf("%s %s is scheduled for deletion: restore it or %s", k.noun, r.ID, k.fix)
		}
		out = append(out, reconcile.Problem{Field: r.Field, Message: msg})
	}
	return out
}

// eachID answers for every id with one call each.
func eachID(ids []string, lookup func(id string) (answer, error)) (map[string]answer, error) {
	out := map[string]answer{}
	for _, id := range ids {
		a, err := lookup(id)
		if err != nil {
			return nil, err
		}
		out[id] = a
	}
	return out, nil
}

// batchThenEach answers for ids with one call for all of them; when that
// call says one is missing without saying which, it asks again one id at
// a time.
func batchThenEach(k kind, ids []string, lookup func(ids []string) error) (map[string]answer, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	a, err := k.answer(lookup(ids))
	if err != nil {
		return nil, err
	}
	if a != missing || len(ids) == 1 {
		out := map[string]answer{}
		for _, id := range ids {
			out[id] = a
		}
		return out, nil
	}
	return eachID(ids, func(id string) (answer, error) { return k.answer(lookup([]string{id})) })
}

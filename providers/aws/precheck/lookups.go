package precheck

import (
	"context"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/jibe-dev/jibe/reconcile"
)

// maxGetParameters is how many names one GetParameters call takes.
const maxGetParameters = 10

// checkRoles gets each role by name (IAM has no batch read), and checks
// the trust policies of those in rs.Trusts.
func (c Clients) checkRoles(ctx context.Context, sc Scope, rs *Refs) ([]reconcile.Problem, error) {
	docs := map[string]string{}
	answers, err := eachID(ids(rs.Roles), func(arn string) (answer, error) {
		out, err := c.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(roleName(arn))})
		if err == nil && out.Role != nil {
			docs[arn] = aws.ToString(out.Role.AssumeRolePolicyDocument)
		}
		return roleKind.answer(err)
	})
	if err != nil {
		return nil, err
	}
	return append(roleKind.problems(sc, rs.Roles, answers), trustProblems(rs.Trusts, docs)...), nil
}

// checkImages describes the images of each repository in one call.
func (c Clients) checkImages(ctx context.Context, sc Scope, rs *Refs) ([]reconcile.Problem, error) {
	byRepo := map[string][]ImageRef{}
	var repos []string
	for _, img := range rs.Images {
		if _, ok := byRepo[img.Repo]; !ok {
			repos = append(repos, img.Repo)
		}
		byRepo[img.Repo] = append(byRepo[img.Repo], img)
	}
	answers := map[string]answer{}
	var all []Ref
	for _, repo := range repos {
		found, err := c.lookupImages(ctx, sc, repo, byRepo[repo])
		if err != nil {
			return nil, err
		}
		for _, img := range byRepo[repo] {
			answers[img.ID] = found[img.ID]
			all = append(all, img.Ref)
		}
	}
	return imageKind.problems(sc, all, answers), nil
}

func (c Clients) lookupImages(ctx context.Context, sc Scope, repo string, imgs []ImageRef) (map[string]answer, error) {
	byID := map[string]ecrtypes.ImageIdentifier{}
	var refs []Ref
	for _, img := range imgs {
		id := ecrtypes.ImageIdentifier{ImageTag: aws.String(img.Tag)}
		if img.Digest != "" {
			id = ecrtypes.ImageIdentifier{ImageDigest: aws.String(img.Digest)}
		}
		byID[img.ID] = id
		refs = append(refs, img.Ref)
	}
	return batchThenEach(imageKind, ids(refs), func(images []string) error {
		in := &ecr.DescribeImagesInput{RegistryId: aws.String(sc.Account), RepositoryName: aws.String(repo)}
		for _, image := range images {
			in.ImageIds = append(in.ImageIds, byID[image])
		}
		_, err := c.ECR.DescribeImages(ctx, in)
		return err
	})
}

// checkSecrets describes each secret (Secrets Manager has no batch
// describe by id); the value is never read.
func (c Clients) checkSecrets(ctx context.Context, sc Scope, rs *Refs) ([]reconcile.Problem, error) {
	answers, err := eachID(ids(rs.Secrets), func(id string) (answer, error) {
		out, err := c.Secrets.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(id)})
		if err == nil && out.DeletedDate != nil {
			return deleting, nil
		}
		return secretKind.answer(err)
	})
	if err != nil {
		return nil, err
	}
	return secretKind.problems(sc, rs.Secrets, answers), nil
}

// checkParameters gets parameters ten at a time, without decryption:
// GetParameters lists the names it does not know instead of failing.
func (c Clients) checkParameters(ctx context.Context, sc Scope, rs *Refs) ([]reconcile.Problem, error) {
	answers := map[string]answer{}
	for chunk := range slices.Chunk(ids(rs.Parameters), maxGetParameters) {
		out, err := c.SSM.GetParameters(ctx, &ssm.GetParametersInput{Names: chunk, WithDecryption: aws.Bool(false)})
		a, err := parameterKind.answer(err)
		if err != nil {
			return nil, err
		}
		for _, name := range chunk {
			answers[name] = a
		}
		if a == exists {
			for _, name := range out.InvalidParameters {
				answers[name] = missing
			}
		}
	}
	return parameterKind.problems(sc, rs.Parameters, answers), nil
}

// checkTargetGroups describes every target group in one call.
func (c Clients) checkTargetGroups(ctx context.Context, sc Scope, rs *Refs) ([]reconcile.Problem, error) {
	answers, err := batchThenEach(targetGroupKind, ids(rs.TargetGroups), func(arns []string) error {
		_, err := c.ELB.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{TargetGroupArns: arns})
		return err
	})
	if err != nil {
		return nil, err
	}
	return targetGroupKind.problems(sc, rs.TargetGroups, answers), nil
}

// checkListeners describes the traffic listener and rule.
func (c Clients) checkListeners(ctx context.Context, sc Scope, rs *Refs) ([]reconcile.Problem, error) {
	listeners, err := batchThenEach(listenerKind, ids(rs.Listeners), func(arns []string) error {
		_, err := c.ELB.DescribeListeners(ctx, &elbv2.DescribeListenersInput{ListenerArns: arns})
		return err
	})
	if err != nil {
		return nil, err
	}
	rules, err := batchThenEach(ruleKind, ids(rs.Rules), func(arns []string) error {
		_, err := c.ELB.DescribeRules(ctx, &elbv2.DescribeRulesInput{RuleArns: arns})
		return err
	})
	if err != nil {
		return nil, err
	}
	return append(listenerKind.problems(sc, rs.Listeners, listeners), ruleKind.problems(sc, rs.Rules, rules)...), nil
}

// checkSubnets describes the subnets in one call, filtering by id so
// that missing ones are left out instead of failing the call.
func (c Clients) checkSubnets(ctx context.Context, sc Scope, rs *Refs) ([]reconcile.Problem, error) {
	answers, err := foundAmong(subnetKind, ids(rs.Subnets), func(want []string, token *string) ([]string, *string, error) {
		out, err := c.EC2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{NextToken: token,
			Filters: []ec2types.Filter{{Name: aws.String("subnet-id"), Values: want}}})
		if err != nil {
			return nil, nil, err
		}
		var found []string
		for _, s := range out.Subnets {
			found = append(found, aws.ToString(s.SubnetId))
		}
		return found, out.NextToken, nil
	})
	if err != nil {
		return nil, err
	}
	return subnetKind.problems(sc, rs.Subnets, answers), nil
}

// checkSecurityGroups describes the security groups in one call,
// filtering by id.
func (c Clients) checkSecurityGroups(ctx context.Context, sc Scope, rs *Refs) ([]reconcile.Problem, error) {
	answers, err := foundAmong(groupKind, ids(rs.Groups), func(want []string, token *string) ([]string, *string, error) {
		out, err := c.EC2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{NextToken: token,
			Filters: []ec2types.Filter{{Name: aws.String("group-id"), Values: want}}})
		if err != nil {
			return nil, nil, err
		}
		var found []string
		for _, g := range out.SecurityGroups {
			found = append(found, aws.ToString(g.GroupId))
		}
		return found, out.NextToken, nil
	})
	if err != nil {
		return nil, err
	}
	return groupKind.problems(sc, rs.Groups, answers), nil
}

// foundAmong answers for ids from a filtered, paginated describe call:
// ids it does not return are missing.
func foundAmong(k kind, ids []string, page func(want []string, token *string) ([]string, *string, error)) (map[string]answer, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	answers := map[string]answer{}
	for _, id := range ids {
		answers[id] = missing
	}
	var token *string
	for {
		found, next, err := page(ids, token)
		a, err := k.answer(err)
		if err != nil {
			return nil, err
		}
		if a != exists {
			for _, id := range ids {
				answers[id] = a
			}
			return answers, nil
		}
		for _, id := range found {
			answers[id] = exists
		}
		if token = next; aws.ToString(token) == "" {
			return answers, nil
		}
	}
}

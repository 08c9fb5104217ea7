package lambda

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/jibe-dev/jibe/providers/aws/awserr"
	"github.com/jibe-dev/jibe/reconcile"
)

var _ reconcile.Deleter = (*Platform)(nil)

// Delete deletes what the target runs because its application left Git,
// when Jibe created the function for the deployment's application and
// environment (its tags say so): the alias is taken out of the target's
// ALB target group and the invoke permission Jibe added for that target
// group is removed, then every alias of the function, then the function
// with its versions (and their provisioned concurrency). The target group
// itself is the spec's, not Jibe's, and stays. A function of the same name
// that Jibe did not create for this environment is left alone. Deleting
// what is gone is nil.
func (p *Platform) Delete(ctx context.Context, rd *reconcile.Deployment) error {
	d, ok, err := p.owned(ctx, rd, "delete")
	if err != nil || !ok {
		return err
	}
	if err := p.deregisterAlias(ctx, d); err != nil {
		return err
	}
	if err := p.removePermission(ctx, d); err != nil {
		return err
	}
	if err := p.deleteAliases(ctx, d); err != nil {
		return err
	}
	return p.deleteFunction(ctx, d, "delete", "deleted the function of an application removed from Git")
}

// deregisterAlias takes d's alias out of the target's target group: the
// registered target whose ARN is the function's alias.
func (p *Platform) deregisterAlias(ctx context.Context, d deployment) error {
	tg := d.Target.Lambda.TargetGroupArn
	if tg == "" {
		return nil
	}
	out, err := p.c.ELB.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(tg)})
	if awserr.Is(err, "TargetGroupNotFound") {
		return nil
	}
	if err != nil {
		return classify(fmt.Errorf("describe targets of %s: %w", tg, err))
	}
	suffix := ":function:" + d.name() + ":" + d.alias
	for _, t := range out.TargetHealthDescriptions {
		if t.Target == nil || !strings.HasSuffix(aws.ToString(t.Target.Id), suffix) {
			continue
		}
		id := aws.ToString(t.Target.Id)
		_, err := p.c.ELB.DeregisterTargets(ctx, &elbv2.DeregisterTargetsInput{TargetGroupArn: aws.String(tg), Targets: []elbtypes.TargetDescription{{Id: aws.String(id)}}})
		if err != nil {
			return classify(fmt.Errorf("deregister %s from target group %s: %w", id, tg, err))
		}
		p.logger(d.Deployment, "delete").Info("deregistered the alias from the target group", "alias", id, "targetGroup", tg)
	}
	return nil
}

// removePermission removes the invoke permission Jibe added on d's alias
// for the target's target group.
func (p *Platform) removePermission(ctx context.Context, d deployment) error {
	tg := d.Target.Lambda.TargetGroupArn
	if tg == "" {
		return nil
	}
	return p.write(d, "remove permission", func() error {
		_, err := p.c.Lambda.RemovePermission(ctx, &awslambda.RemovePermissionInput{FunctionName: aws.String(d.name()),
			Qualifier: aws.String(d.alias), StatementId: aws.String(statementID(tg))})
		if awserr.Is(err, "ResourceNotFoundException") {
			return nil
		}
		return err
	})
}

// deleteAliases deletes every alias of d's function.
func (p *Platform) deleteAliases(ctx context.Context, d deployment) error {
	pages := awslambda.NewListAliasesPaginator(p.c.Lambda, &awslambda.ListAliasesInput{FunctionName: aws.String(d.name())})
	var names []string
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if awserr.Is(err, "ResourceNotFoundException") {
			return nil
		}
		if err != nil {
			return classify(fmt.Errorf("list aliases of %s: %w", d.name(), err))
		}
		for _, a := range page.Aliases {
			names = append(names, aws.ToString(a.Name))
		}
	}
	for _, name := range names {
		err := p.write(d, "delete alias", func() error {
			_, err := p.c.Lambda.DeleteAlias(ctx, &awslambda.DeleteAliasInput{FunctionName: aws.String(d.name()), Name: aws.String(name)})
			if awserr.Is(err, "ResourceNotFoundException") {
				return nil
			}
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

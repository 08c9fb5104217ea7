package lambda

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/jibe-dev/jibe/providers/aws/awserr"
	"github.com/jibe-dev/jibe/providers/aws/precheck"
)

// elbPrincipal is the service that invokes a function from a target
// group.
const elbPrincipal = "elasticloadbalancing.amazonaws.com"

// ensureTarget puts the alias in the target's ALB target group (of type
// lambda): it grants Elastic Load Balancing permission to invoke the
// alias from that target group, on the alias's qualified ARN (AWS checks
// the policy of the ARN it invokes), then registers the alias ARN. Each
// is written once: the policy and the target group's targets are read
// first.
func (p *Platform) ensureTarget(ctx context.Context, d deployment, l *live, _ string) error {
	tg := d.Target.Lambda.TargetGroupArn
	if tg == "" || l.alias == nil {
		return nil
	}
	aliasArn := aws.ToString(l.alias.AliasArn)
	if err := p.ensurePermission(ctx, d, tg, aliasArn); err != nil {
		return err
	}
	return p.ensureRegistered(ctx, d, tg, aliasArn)
}

// ensurePermission adds the invoke permission for tg on the alias unless
// the alias's policy has it.
func (p *Platform) ensurePermission(ctx context.Context, d deployment, tg, aliasArn string) error {
	out, err := p.c.Lambda.GetPolicy(ctx, &awslambda.GetPolicyInput{FunctionName: aws.String(d.name()), Qualifier: aws.String(d.alias)})
	switch {
	case awserr.Is(err, "ResourceNotFoundException"):
	case err != nil:
		return classify(fmt.Errorf("get policy of %s: %w", aliasArn, err))
	case allows(aws.ToString(out.Policy), aliasArn, tg):
		return nil
	}
	in := &awslambda.AddPermissionInput{FunctionName: aws.String(d.name()), Qualifier: aws.String(d.alias), StatementId: aws.String(statementID(tg)),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String(elbPrincipal), SourceArn: aws.String(tg)}
	err = p.write(d, "add permission", func() error { _, err := p.c.Lambda.AddPermission(ctx, in); return err })
	if err == nil {
		p.logger(d.Deployment, "apply").Info("allowed the target group to invoke the alias", "alias", aliasArn, "targetGroup", tg)
	}
	return err
}

// statementID names the permission of one target group.
func statementID(tg string) string {
	sum := sha256.Sum256([]byte(tg))
	return "jibe-alb-" + hex.EncodeToString(sum[:8])
}

// policyStatement is the part of a resource-policy statement allows reads.
type policyStatement struct {
	Effect    string
	Principal json.RawMessage
	Resource  any
	Condition map[string]map[string]any
}

// allows reports whether a resource policy lets Elastic Load Balancing
// invoke resource from target group tg.
func allows(policy, resource, tg string) bool {
	var doc struct{ Statement []policyStatement }
	if json.Unmarshal([]byte(policy), &doc) != nil {
		return false
	}
	for _, st := range doc.Statement {
		var pr struct{ Service any }
		_ = json.Unmarshal(st.Principal, &pr)
		src, hasSrc := st.Condition["ArnLike"]["AWS:SourceArn"]
		if st.Effect == "Allow" && precheck.PolicyHolds(pr.Service, elbPrincipal) && precheck.PolicyHolds(st.Resource, resource) && (!hasSrc || precheck.PolicyHolds(src, tg)) {
			return true
		}
	}
	return false
}

// ensureRegistered registers the alias in tg unless it is registered.
func (p *Platform) ensureRegistered(ctx context.Context, d deployment, tg, aliasArn string) error {
	out, err := p.c.ELB.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(tg)})
	if err != nil {
		return classify(fmt.Errorf("describe targets of %s: %w", tg, err))
	}
	for _, t := range out.TargetHealthDescriptions {
		if t.Target != nil && aws.ToString(t.Target.Id) == aliasArn {
			return nil
		}
	}
	_, err = p.c.ELB.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: aws.String(tg), Targets: []elbtypes.TargetDescription{{Id: aws.String(aliasArn)}}})
	if err != nil {
		return classify(fmt.Errorf("register %s in target group %s: %w", aliasArn, tg, err))
	}
	p.logger(d.Deployment, "apply").Info("registered the alias in the target group", "alias", aliasArn, "targetGroup", tg)
	return nil
}

package ecs

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/jibe-dev/jibe/providers/aws/precheck"
	"github.com/jibe-dev/jibe/reconcile"
)

var _ reconcile.Prechecker = (*Platform)(nil)

// Precheck checks that what d refers to exists, as far as the platform's
// account and region can see: the task definition's IAM roles (in the
// account), the ECR images of the account's registry in the region, the
// secrets and parameters of the containers, the service's target groups,
// subnets and security groups, and the traffic listener, rule and target
// groups. References to other accounts, regions or registries are not
// checked. It makes no write call and reads no secret value.
//
// It returns one problem per reference that is missing or that the
// agent's role may not read (naming the permission to grant). An error
// means a lookup failed for another reason (throttling, network).
func (p *Platform) Precheck(ctx context.Context, d *reconcile.Deployment) ([]reconcile.Problem, error) {
	if err := check(d); err != nil {
		return nil, err
	}
	account, err := p.accountID(ctx)
	if err != nil {
		return nil, err
	}
	sc := precheck.Scope{Account: account, Region: d.Region}
	c := precheck.Clients{IAM: p.c.IAM, ECR: p.c.ECR, Secrets: p.c.Secrets, SSM: p.c.SSM, ELB: p.c.ELB, EC2: p.c.EC2}
	problems, err := precheck.Check(ctx, c, sc, collectRefs(d, sc))
	if err != nil {
		return nil, err
	}
	for i := range problems {
		problems[i].Target = d.Target.Name
	}
	return problems, nil
}

// accountID returns the account the platform acts in: Options.AccountID,
// else what STS answers (once).
func (p *Platform) accountID(ctx context.Context) (string, error) {
	p.accountMu.Lock()
	defer p.accountMu.Unlock()
	if p.account != "" {
		return p.account, nil
	}
	out, err := p.c.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", classify(fmt.Errorf("get caller identity: %w", err))
	}
	p.account = aws.ToString(out.Account)
	return p.account, nil
}

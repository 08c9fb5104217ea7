package ecs

import (
	"context"

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
	c := precheck.Clients{IAM: p.c.IAM, ECR: p.c.ECR, Secrets: p.c.Secrets, SSM: p.c.SSM, ELB: p.c.ELB, EC2: p.c.EC2}
	return p.account.Target(ctx, c, d.Region, d.Target.Name, func(sc precheck.Scope) *precheck.Refs { return collectRefs(d, sc) })
}

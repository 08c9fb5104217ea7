package asg

import (
	"context"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/jibe-dev/jibe/providers/aws/precheck"
	"github.com/jibe-dev/jibe/reconcile"
)

var _ reconcile.Prechecker = (*Platform)(nil)

// Precheck checks that what d refers to exists, as far as the platform's
// account and region can see: the group's subnets, the launch template's
// security groups, its AMI (available in the region), its instance
// profile (holding a role that trusts EC2) and the target groups, which
// must be of type instance (a group registers instances). It makes no
// write call.
//
// It returns one problem per reference that is missing, that the agent's
// role may not read (naming the permission to grant) or that cannot take
// instances. An error means a lookup failed for another reason.
func (p *Platform) Precheck(ctx context.Context, d *reconcile.Deployment) ([]reconcile.Problem, error) {
	if err := check(d); err != nil {
		return nil, err
	}
	var refs *precheck.Refs
	problems, err := p.account.Target(ctx, precheck.Clients{ELB: p.c.ELB, EC2: p.c.EC2, AMIs: p.c.EC2, Profiles: p.c.IAM}, d.Region, d.Target.Name,
		func(sc precheck.Scope) *precheck.Refs { refs = collectRefs(d, sc); return refs })
	if err != nil || len(problems) > 0 {
		return problems, err
	}
	typed, err := p.instanceTargetGroups(ctx, refs.TargetGroups)
	for i := range typed {
		typed[i].Target = d.Target.Name
	}
	return typed, err
}

// collectRefs lists the references of d that sc can see.
func collectRefs(d *reconcile.Deployment, sc precheck.Scope) *precheck.Refs {
	g := d.Target.AutoScalingGroup
	rs := &precheck.Refs{}
	for i, s := range g.Subnets {
		rs.Subnets = append(rs.Subnets, precheck.Ref{Field: "autoScalingGroup.subnets[" + strconv.Itoa(i) + "]", ID: s})
	}
	for i, s := range g.LaunchTemplate.SecurityGroupIDs {
		rs.Groups = append(rs.Groups, precheck.Ref{Field: "autoScalingGroup.launchTemplate.securityGroupIds[" + strconv.Itoa(i) + "]", ID: s})
	}
	if id := g.LaunchTemplate.ImageID; id != "" {
		rs.MachineImages = append(rs.MachineImages, precheck.Ref{Field: "autoScalingGroup.launchTemplate.imageId", ID: id})
	}
	if ip := g.LaunchTemplate.IAMInstanceProfile; ip != "" && ownProfile(ip, sc) {
		rs.InstanceProfiles = append(rs.InstanceProfiles, precheck.Ref{Field: "autoScalingGroup.launchTemplate.iamInstanceProfile", ID: ip})
	}
	for i, tg := range g.TargetGroupArns {
		sc.AddELB(&rs.TargetGroups, "autoScalingGroup.targetGroupArns["+strconv.Itoa(i)+"]", tg)
	}
	return rs
}

// ownProfile reports whether an instance profile (name or ARN) is of
// sc's account: a name always is.
func ownProfile(nameOrARN string, sc precheck.Scope) bool {
	a, ok := precheck.ParseARN(nameOrARN)
	return !ok || a.Account == sc.Account
}

// instanceTargetGroups returns a problem per target group (all existing)
// that is not of type instance.
func (p *Platform) instanceTargetGroups(ctx context.Context, refs []precheck.Ref) ([]reconcile.Problem, error) {
	if len(refs) == 0 {
		return nil, nil
	}
	in := &elbv2.DescribeTargetGroupsInput{}
	for _, r := range refs {
		in.TargetGroupArns = append(in.TargetGroupArns, r.ID)
	}
	out, err := p.c.ELB.DescribeTargetGroups(ctx, in)
	if err != nil {
		return nil, classify(fmt.Errorf("describe target groups: %w", err))
	}
	types := map[string]elbtypes.TargetTypeEnum{}
	for _, tg := range out.TargetGroups {
		types[aws.ToString(tg.TargetGroupArn)] = tg.TargetType
	}
	var problems []reconcile.Problem
	for _, r := range refs {
		if t, ok := types[r.ID]; ok && t != elbtypes.TargetTypeEnumInstance && t != "" {
			problems = append(problems, reconcile.Problem{Field: r.Field, Message: fmt.Sprintf(
				"target group %s has target type %s, but an Auto Scaling group registers instances: use a target group of type instance", r.ID, t)})
		}
	}
	return problems, nil
}

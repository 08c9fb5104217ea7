package lambda

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/jibe-dev/jibe/providers/aws/precheck"
	"github.com/jibe-dev/jibe/reconcile"
)

// Precheck checks that what the function file refers to exists, as far
// as the platform's account and region can see: the execution role (and
// that it trusts lambda.amazonaws.com), the S3 package of a Zip function,
// the image of an Image function (in this account's ECR), the layer
// versions of this account and region, the VPC's subnets and security
// groups and the ALB target group. It makes no write
// call and never reads the package's content.
func (p *Platform) Precheck(ctx context.Context, rd *reconcile.Deployment) ([]reconcile.Problem, error) {
	d, err := target(rd)
	if err != nil {
		return nil, err
	}
	account, err := p.accountID(ctx)
	if err != nil {
		return nil, err
	}
	sc := precheck.Scope{Account: account, Region: d.Region}
	c := precheck.Clients{IAM: p.c.IAM, ECR: p.c.ECR, ELB: p.c.ELB, EC2: p.c.EC2, S3: p.c.S3, Layers: p.c.Lambda}
	problems, err := precheck.Check(ctx, c, sc, collectRefs(d, sc))
	if err != nil {
		return nil, err
	}
	for i := range problems {
		problems[i].Target = d.Target.Name
	}
	return problems, nil
}

// collectRefs lists the references of d that sc can see. It is pure.
func collectRefs(d deployment, sc precheck.Scope) *precheck.Refs {
	rs := &precheck.Refs{}
	fn := d.fn
	if a, ok := precheck.ParseARN(fn.Role); ok && a.Service == "iam" && a.Account == sc.Account && strings.HasPrefix(a.Resource, "role/") {
		ref := precheck.Ref{Field: "function.Role", ID: fn.Role}
		rs.Roles = append(rs.Roles, ref)
		rs.Trusts = append(rs.Trusts, precheck.TrustRef{Ref: ref, Service: "lambda.amazonaws.com"})
	}
	if c := fn.Code; c.ImageUri == "" && c.S3Bucket != "" && c.S3Key != "" {
		rs.Objects = append(rs.Objects, precheck.ObjectRef{Ref: precheck.Ref{Field: "function.Code.S3Key", ID: codeLocation(c)},
			Bucket: c.S3Bucket, Key: c.S3Key, Version: c.S3ObjectVersion})
	}
	if img, ok := precheck.ParseECRImage(fn.Code.ImageUri, sc); ok {
		img.Field = "function.Code.ImageUri"
		rs.Images = append(rs.Images, img)
	}
	if v := fn.VpcConfig; v != nil {
		for i, s := range v.SubnetIds {
			rs.Subnets = append(rs.Subnets, precheck.Ref{Field: fmt.Sprintf("function.VpcConfig.SubnetIds[%d]", i), ID: s})
		}
		for i, g := range v.SecurityGroupIds {
			rs.Groups = append(rs.Groups, precheck.Ref{Field: fmt.Sprintf("function.VpcConfig.SecurityGroupIds[%d]", i), ID: g})
		}
	}
	for i, l := range fn.Layers {
		if a, ok := precheck.ParseARN(l); ok && a.Service == "lambda" && a.Account == sc.Account && a.Region == sc.Region {
			rs.Layers = append(rs.Layers, precheck.Ref{Field: fmt.Sprintf("function.Layers[%d]", i), ID: l})
		}
	}
	sc.AddELB(&rs.TargetGroups, "lambda.targetGroupArn", d.Target.Lambda.TargetGroupArn)
	return rs
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

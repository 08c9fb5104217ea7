package lambda

import (
	"context"
	"fmt"
	"strings"

	"github.com/jibe-dev/jibe/providers/aws/precheck"
	"github.com/jibe-dev/jibe/reconcile"
)

// Precheck checks that what the function file refers to exists, as far
// as the platform's account and region can see: the execution role (and
// that it trusts lambda.amazonaws.com), the S3 package of a Zip function,
// the image of an Image function (in this account's ECR), the layer
// versions of this account and region, the VPC's subnets and security
// groups, the dead-letter SQS queue or SNS topic (of this account and
// region) and the ALB target group. It makes no write call and never
// reads the package's content.
func (p *Platform) Precheck(ctx context.Context, rd *reconcile.Deployment) ([]reconcile.Problem, error) {
	d, err := target(rd)
	if err != nil {
		return nil, err
	}
	c := precheck.Clients{IAM: p.c.IAM, ECR: p.c.ECR, ELB: p.c.ELB, EC2: p.c.EC2, S3: p.c.S3, Layers: p.c.Lambda, SQS: p.c.SQS, SNS: p.c.SNS}
	return p.account.Target(ctx, c, d.Region, d.Target.Name, func(sc precheck.Scope) *precheck.Refs { return collectRefs(d, sc) })
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
	if dl := fn.DeadLetterConfig; dl != nil {
		sc.AddDeadLetter(rs, "function.DeadLetterConfig.TargetArn", dl.TargetArn)
	}
	sc.AddELB(&rs.TargetGroups, "lambda.targetGroupArn", d.Target.Lambda.TargetGroupArn)
	return rs
}

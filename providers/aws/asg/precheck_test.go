package asg

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/jibe-dev/jibe/internal/awsemu"
	"github.com/jibe-dev/jibe/reconcile"
)

// TestPrecheckSubnetsSecurityGroupsAndInstanceTargetGroups: existing
// references give no problem and no write; a missing subnet and security
// group and a target group of type ip are each one problem naming the
// field.
func TestPrecheckSubnetsSecurityGroupsAndInstanceTargetGroups(t *testing.T) {
	r := newRig(t)
	c := r.env.EC2()
	sn, err := c.CreateSubnet(r.ctx, &ec2.CreateSubnetInput{VpcId: aws.String("vpc-1"), CidrBlock: aws.String("10.0.1.0/24")})
	if err != nil {
		t.Fatal(err)
	}
	sg, err := c.CreateSecurityGroup(r.ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("web"), Description: aws.String("web"), VpcId: aws.String("vpc-1")})
	if err != nil {
		t.Fatal(err)
	}
	r.instanceProfile("web", ec2Trust)
	d := r.deployment("rev1", "ami-00000001", nil)
	g := d.Target.AutoScalingGroup
	g.Subnets, g.LaunchTemplate.SecurityGroupIDs = []string{aws.ToString(sn.Subnet.SubnetId)}, []string{aws.ToString(sg.GroupId)}
	r.env.Emu.ResetRequests()
	problems, err := r.p.Precheck(r.ctx, d)
	if err != nil || len(problems) != 0 || len(r.writes()) != 0 {
		t.Fatalf("everything exists: %v %v, %d writes", err, problems, len(r.writes()))
	}

	ip, err := r.elb.CreateTargetGroup(r.ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("ip"), Protocol: elbtypes.ProtocolEnumHttp,
		Port: aws.Int32(80), VpcId: aws.String("vpc-1"), TargetType: elbtypes.TargetTypeEnumIp})
	if err != nil {
		t.Fatal(err)
	}
	g.TargetGroupArns = append(g.TargetGroupArns, aws.ToString(ip.TargetGroups[0].TargetGroupArn))
	problems, err = r.p.Precheck(r.ctx, d)
	if err != nil || len(problems) != 1 || problems[0].Field != "autoScalingGroup.targetGroupArns[1]" || !strings.Contains(problems[0].Message, "type instance") {
		t.Fatalf("an ip target group: %v %+v", err, problems)
	}

	g.TargetGroupArns = g.TargetGroupArns[:1]
	g.Subnets = append(g.Subnets, "subnet-0404")
	g.LaunchTemplate.SecurityGroupIDs[0] = "sg-0404"
	problems, err = r.p.Precheck(r.ctx, d)
	fields := map[string]reconcile.Problem{}
	for _, p := range problems {
		fields[p.Field] = p
	}
	if err != nil || len(problems) != 2 || fields["autoScalingGroup.subnets[1]"].Target != "web" || !strings.Contains(fields["autoScalingGroup.launchTemplate.securityGroupIds[0]"].Message, "sg-0404") {
		t.Fatalf("missing subnet and security group: %v %+v", err, problems)
	}
}

const (
	ec2Trust    = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	lambdaTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
)

// instanceProfile creates an instance profile holding a role of that
// name with the trust policy (no role when trust is empty).
func (r *rig) instanceProfile(name, trust string) {
	r.t.Helper()
	c := r.env.IAM()
	if _, err := c.CreateInstanceProfile(r.ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String(name)}); err != nil {
		r.t.Fatal(err)
	}
	if trust == "" {
		return
	}
	if _, err := c.CreateRole(r.ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		r.t.Fatal(err)
	}
	if _, err := c.AddRoleToInstanceProfile(r.ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String(name), RoleName: aws.String(name)}); err != nil {
		r.t.Fatal(err)
	}
}

// TestPrecheckAMIAndInstanceProfile: an AMI that does not exist or is not
// available, an instance profile that does not exist, holds no role or a
// role EC2 may not assume, are each a problem at their field saying what
// to do; an unreadable AMI names ec2:DescribeImages; a profile of
// another account is not looked up.
func TestPrecheckAMIAndInstanceProfile(t *testing.T) {
	r := newRig(t)
	r.instanceProfile("web", ec2Trust)
	r.instanceProfile("empty", "")
	r.instanceProfile("fn", lambdaTrust)
	check := func(ami, profile string) []reconcile.Problem {
		t.Helper()
		d := r.deployment("rev1", ami, nil)
		d.Target.AutoScalingGroup.Subnets, d.Target.AutoScalingGroup.TargetGroupArns = nil, nil
		d.Target.AutoScalingGroup.LaunchTemplate.SecurityGroupIDs = nil
		d.Target.AutoScalingGroup.LaunchTemplate.IAMInstanceProfile = profile
		problems, err := r.p.Precheck(r.ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		return problems
	}
	if p := check("ami-00000001", "arn:aws:iam::111111111111:instance-profile/web"); len(p) != 0 {
		t.Errorf("everything exists: %+v", p)
	}
	if err := r.env.Emu.AddImage("111111111111", r.env.Region, awsemu.Image{ID: "ami-0000000f", Name: "baking", State: "pending"}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ ami, profile, field, want string }{
		{"ami-0000dead", "web", "autoScalingGroup.launchTemplate.imageId", "AMI ami-0000dead does not exist in account 111111111111, region us-east-1: bake it"},
		{"ami-0000000f", "web", "autoScalingGroup.launchTemplate.imageId", "AMI ami-0000000f is pending in region us-east-1, and instances launch only from available AMIs: wait"},
		{"ami-00000001", "nope", "autoScalingGroup.launchTemplate.iamInstanceProfile", "instance profile nope does not exist in account 111111111111: create it"},
		{"ami-00000001", "empty", "autoScalingGroup.launchTemplate.iamInstanceProfile", "instance profile empty holds no role"},
		{"ami-00000001", "fn", "autoScalingGroup.launchTemplate.iamInstanceProfile", "does not trust ec2.amazonaws.com"},
	} {
		p := check(c.ami, c.profile)
		if len(p) != 1 || p[0].Field != c.field || !strings.Contains(p[0].Message, c.want) || p[0].Target != "web" {
			t.Errorf("%s %s: %+v, want one problem at %s: %q", c.ami, c.profile, p, c.field, c.want)
		}
	}
	if p := check("ami-00000001", "arn:aws:iam::222222222222:instance-profile/web"); len(p) != 0 {
		t.Errorf("a profile of another account: %+v", p)
	}
	r.env.Emu.Inject(awsemu.Fault{Service: "ec2", Operation: "DescribeImages", Kind: awsemu.Deny})
	if p := check("ami-00000001", "web"); len(p) != 1 || !strings.Contains(p[0].Message, "grant it ec2:DescribeImages") {
		t.Errorf("denied: %+v", p)
	}
}

// TestRemoveDeletesWhatJibeCreatedOnly: Remove deletes the target's
// groups and launch template and leaves another application's group.
func TestRemoveDeletesWhatJibeCreatedOnly(t *testing.T) {
	r := newRig(t)
	d := r.deployment("rev1", "ami-00000001", nil)
	r.rollout(d)
	other := r.deployment("rev1", "ami-00000001", nil)
	other.App = "other"
	other.Target.AutoScalingGroup.Name = "other"
	r.rollout(other)
	r.until("remove", func() error { return r.p.Remove(r.ctx, d) })
	r.until("remove again", func() error { return r.p.Remove(r.ctx, d) })
	r.advance(2 * 60e9)
	if r.live("web") != nil || r.live("other") == nil {
		t.Errorf("after remove: web %v, other %v", r.live("web") != nil, r.live("other") != nil)
	}
	if _, err := r.env.EC2().DescribeLaunchTemplates(r.ctx, &ec2.DescribeLaunchTemplatesInput{LaunchTemplateNames: []string{"web"}}); err == nil {
		t.Errorf("the launch template is still there")
	}
}

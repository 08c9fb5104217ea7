package asg

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

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

package demo

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/jibe-dev/jibe/internal/awsemu"
	"github.com/jibe-dev/jibe/internal/githubemu"
	"github.com/jibe-dev/jibe/internal/testenv/gitserver"
)

// fleet is the demo's EC2 application: an Auto Scaling group of staging
// behind its own listener, deployed red/black (blueGreen): each AMI bump
// starts a new group beside the old one, moves the target group over,
// keeps the old group scaled to zero for a 20-second rollback window and
// then deletes it.
const (
	fleetName   = "fleet"
	fleetStatus = "jibe/fleet/staging"
	// fleetDeadline bounds a red/black rollout in real time: instances
	// start in 30s, turn healthy in 10s, drain for 1s, and the old group
	// is kept 20s.
	fleetDeadline = 150 * time.Second
)

// fleetAMIs are the machine images of fleet's releases, by version.
var fleetAMIs = map[string]string{"1.0": "ami-0f1ee7000000000a1", "1.1": "ami-0f1ee7000000000b2"}

// fleetSpec is fleet's jibe.yaml at a release.
func fleetSpec(version string, vars map[string]string) string {
	return fmt.Sprintf(`apiVersion: jibe.dev/v1alpha1
kind: Application
metadata:
  name: fleet
  description: EC2 instances from a baked AMI (the jibe demo)
spec:
  artifacts:
    ami: {ami: %s}
  targets:
    - name: web
      autoScalingGroup:
        name: fleet-${env.name}
        launchTemplate:
          imageId: ${artifacts.ami}
          instanceType: t3.micro
          userData: user-data.sh
          metadataOptions: {httpTokens: required}
        minSize: 1
        maxSize: 3
        desiredCapacity: 2
        subnets:
          - ${vars.subnets}
        targetGroupArns:
          - ${vars.fleetTargetGroupArn}
        healthCheckGracePeriod: 30s
  environments:
    - name: staging
      aws: {account: staging, region: %s}
      variables:
        subnets: %s
        fleetTargetGroupArn: %s
      strategy:
        blueGreen: {rollbackWindow: 20s}
`, fleetAMIs[version], region, vars["subnets"], vars["fleetTargetGroupArn"])
}

const fleetUserData = "#!/bin/sh\nexec /opt/fleet/serve --port 8080\n"

// setupFleet seeds fleet's AMIs in the account and gives it an instance
// target group (healthy in 10s, drained in 1s) behind its own listener.
func (a *account) setupFleet(ctx context.Context, emu *awsemu.Emulator, url string) error {
	for _, id := range fleetAMIs {
		if err := emu.AddImage(a.ID, region, awsemu.Image{ID: id, Name: "fleet-" + id}); err != nil {
			return err
		}
	}
	c := a.clients(url).ELBv2()
	lbs, err := c.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{a.Name}})
	if err != nil || len(lbs.LoadBalancers) == 0 {
		return fmt.Errorf("%s: no load balancer for fleet: %v", a.Name, err)
	}
	tg, err := c.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("fleet"), Protocol: elbtypes.ProtocolEnumHttp,
		Port: aws.Int32(8080), VpcId: aws.String("vpc-demo"), TargetType: elbtypes.TargetTypeEnumInstance,
		HealthCheckIntervalSeconds: aws.Int32(5), HealthCheckTimeoutSeconds: aws.Int32(2), HealthyThresholdCount: aws.Int32(2), UnhealthyThresholdCount: aws.Int32(2)})
	if err != nil {
		return fmt.Errorf("%s: creating fleet's target group: %w", a.Name, err)
	}
	arn := aws.ToString(tg.TargetGroups[0].TargetGroupArn)
	if _, err := c.ModifyTargetGroupAttributes(ctx, &elbv2.ModifyTargetGroupAttributesInput{TargetGroupArn: aws.String(arn),
		Attributes: []elbtypes.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String("1")}}}); err != nil {
		return fmt.Errorf("%s: %w", a.Name, err)
	}
	if _, err := c.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: lbs.LoadBalancers[0].LoadBalancerArn, Port: aws.Int32(8081),
		Protocol: elbtypes.ProtocolEnumHttp, DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(arn)}}}); err != nil {
		return fmt.Errorf("%s: creating fleet's listener: %w", a.Name, err)
	}
	a.Vars["fleetTargetGroupArn"] = arn
	return nil
}

// fleetSteps are fleet's part of the story, in staging.
func (s *story) fleetSteps() []Step {
	return []Step{
		{Title: "dana adds fleet, an EC2 application (AMI 1.0): staging creates its Auto Scaling group from a launch template",
			Do:       func(ctx context.Context) error { return s.pushFleet(ctx, "fleet1", "1.0", "Add fleet, AMI 1.0") },
			Deadline: fleetDeadline,
			Expect:   []Expectation{s.status("fleet1", fleetStatus, githubemu.StatusSuccess, ""), s.fleetGroups("fleet-staging on AMI 1.0")}},
		{Title: "dana bumps fleet to AMI 1.1: red/black starts fleet-staging-<commit> beside fleet-staging and moves the target group to it",
			Do:       func(ctx context.Context) error { return s.pushFleet(ctx, "fleet2", "1.1", "Bake fleet AMI 1.1") },
			Deadline: fleetDeadline,
			Expect:   []Expectation{s.fleetGroups("fleet-staging retired (kept for rollback), fleet-staging-%s on AMI 1.1")}},
		{Title: "after the 20-second rollback window, the old group is deleted",
			Deadline: fleetDeadline,
			Expect:   []Expectation{s.status("fleet2", fleetStatus, githubemu.StatusSuccess, ""), s.fleetGroups("fleet-staging-%s on AMI 1.1")}},
	}
}

// pushFleet commits fleet at version to main as dana.
func (s *story) pushFleet(ctx context.Context, name, version, message string) error {
	return s.push(ctx, name, "dana", gitserver.Commit{Message: message, Files: map[string]string{
		fleetName + "/jibe.yaml": fleetSpec(version, s.vars["staging"]), fleetName + "/user-data.sh": fleetUserData}})
}

// fleetGroups expects staging's fleet groups to read want, with %s
// standing for the first 12 characters of the AMI bump's commit.
func (s *story) fleetGroups(want string) Expectation {
	return Expectation{What: "staging: " + strings.ReplaceAll(want, "%s", "<commit>"),
		Check: func(ctx context.Context) (bool, string) {
			seen, err := s.env.Accounts[0].fleetGroups(ctx, s.env.AWSURL)
			if err != nil {
				return false, err.Error()
			}
			w := want
			if sha := s.commits["fleet2"]; strings.Contains(w, "%s") && len(sha) >= 12 {
				w = fmt.Sprintf(want, sha[:12])
			}
			return seen == w, seen
		}}
}

// fleetGroups describes the account's fleet groups, by name: "name on
// AMI <version>" for a group with every desired instance in service,
// "name retired (kept for rollback)" for one scaled to zero, else how
// many of its instances are in service.
func (a *account) fleetGroups(ctx context.Context, url string) (string, error) {
	c := a.clients(url)
	out, err := c.AutoScaling().DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{
		Filters: []astypes.Filter{{Name: aws.String("tag:jibe.dev/app"), Values: []string{fleetName}}}})
	if err != nil {
		return "", err
	}
	var parts []string
	for _, g := range out.AutoScalingGroups {
		if g.Status != nil {
			continue
		}
		d, err := describeFleetGroup(ctx, c.EC2(), g)
		if err != nil {
			return "", err
		}
		parts = append(parts, d)
	}
	if len(parts) == 0 {
		return "no fleet group yet", nil
	}
	return strings.Join(parts, ", "), nil
}

func describeFleetGroup(ctx context.Context, c *ec2.Client, g astypes.AutoScalingGroup) (string, error) {
	name, desired := aws.ToString(g.AutoScalingGroupName), aws.ToInt32(g.DesiredCapacity)
	if desired == 0 {
		return name + " retired (kept for rollback)", nil
	}
	serving := 0
	for _, in := range g.Instances {
		if in.LifecycleState == astypes.LifecycleStateInService {
			serving++
		}
	}
	if serving < int(desired) || g.LaunchTemplate == nil {
		return fmt.Sprintf("%s starting (%d of %d instances in service)", name, serving, desired), nil
	}
	vs, err := c.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: g.LaunchTemplate.LaunchTemplateId,
		Versions: []string{aws.ToString(g.LaunchTemplate.Version)}})
	if err != nil || len(vs.LaunchTemplateVersions) == 0 {
		return "", fmt.Errorf("launch template of %s: %v", name, err)
	}
	ami := aws.ToString(vs.LaunchTemplateVersions[0].LaunchTemplateData.ImageId)
	for v, id := range fleetAMIs {
		if id == ami {
			return fmt.Sprintf("%s on AMI %s", name, v), nil
		}
	}
	return fmt.Sprintf("%s on %s", name, ami), nil
}

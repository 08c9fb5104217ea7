package awsemu_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
)

// TestEC2ImagesDescribeRegisterAndDeregister: DescribeImages by id fails
// for a malformed or unknown id as EC2 does, filters leave out what does
// not match, a registered image is pending for 30s, a deregistered one
// is gone.
func TestEC2ImagesDescribeRegisterAndDeregister(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	env.AddImages(t, "ami-0000000000000aaa1")
	c := env.EC2()
	got := need(c.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{"ami-0000000000000aaa1"}})).on(t).Images
	if len(got) != 1 || got[0].State != ec2types.ImageStateAvailable || aws.ToString(got[0].OwnerId) != "111111111111" {
		t.Fatalf("seeded image: %+v", got)
	}
	for id, code := range map[string]string{"ami-1": "InvalidAMIID.Malformed", "ami-0000000000000fff9": "InvalidAMIID.NotFound"} {
		_, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{"ami-0000000000000aaa1", id}})
		if apiCode(err) != code || !strings.Contains(err.Error(), id) {
			t.Errorf("describe %s: %v, want %s", id, err, code)
		}
	}
	filtered := need(c.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"},
		Filters: []ec2types.Filter{{Name: aws.String("image-id"), Values: []string{"ami-0000000000000aaa1", "ami-0000000000000fff9"}}}})).on(t).Images
	if len(filtered) != 1 {
		t.Errorf("filter on image-id: %d images, want the one that exists", len(filtered))
	}
	id := aws.ToString(need(c.RegisterImage(ctx, &ec2.RegisterImageInput{Name: aws.String("web-2")})).on(t).ImageId)
	if st := need(c.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}})).on(t).Images[0].State; st != ec2types.ImageStatePending {
		t.Errorf("registered image is %s, want pending", st)
	}
	env.Emu.Advance(30 * time.Second)
	avail := need(c.DescribeImages(ctx, &ec2.DescribeImagesInput{Filters: []ec2types.Filter{{Name: aws.String("state"), Values: []string{"available"}}}})).on(t).Images
	if len(avail) != 2 {
		t.Errorf("available images after 30s: %d, want 2", len(avail))
	}
	if _, err := c.RegisterImage(ctx, &ec2.RegisterImageInput{Name: aws.String("web-2")}); apiCode(err) != "InvalidAMIName.Duplicate" {
		t.Errorf("duplicate name: %v", err)
	}
	need(c.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(id)})).on(t)
	if _, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}}); apiCode(err) != "InvalidAMIID.NotFound" {
		t.Errorf("deregistered image: %v", err)
	}
}

// TestAutoScalingLaunchOfUnknownAMIFails: a launch template naming an AMI
// that does not exist is created with EC2's validation warning; the
// group launches nothing and records a failed scaling activity naming
// the image, until the image exists.
func TestAutoScalingLaunchOfUnknownAMIFails(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	ec, as := env.EC2(), env.AutoScaling()
	out := need(ec.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("web"),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String("ami-0000000000000aaa1")}})).on(t)
	if out.Warning == nil || len(out.Warning.Errors) != 1 || aws.ToString(out.Warning.Errors[0].Code) != "InvalidAMIID.NotFound" {
		t.Fatalf("warning: %+v", out.Warning)
	}
	need(as.CreateAutoScalingGroup(ctx, &autoscaling.CreateAutoScalingGroupInput{AutoScalingGroupName: aws.String("web"), MinSize: aws.Int32(1), MaxSize: aws.Int32(2),
		LaunchTemplate: &astypes.LaunchTemplateSpecification{LaunchTemplateName: aws.String("web"), Version: aws.String("1")}})).on(t)
	env.Emu.Advance(30 * time.Second)
	g := need(as.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{"web"}})).on(t).AutoScalingGroups[0]
	acts := need(as.DescribeScalingActivities(ctx, &autoscaling.DescribeScalingActivitiesInput{AutoScalingGroupName: aws.String("web")})).on(t).Activities
	if len(g.Instances) != 0 || len(acts) == 0 || acts[0].StatusCode != astypes.ScalingActivityStatusCodeFailed ||
		!strings.Contains(aws.ToString(acts[0].StatusMessage), "ami-0000000000000aaa1") {
		t.Fatalf("instances %d, activities %+v", len(g.Instances), acts)
	}
	if len(acts) > 4 {
		t.Errorf("%d failed launches in 30s: launches must back off", len(acts))
	}
	env.AddImages(t, "ami-0000000000000aaa1")
	env.Emu.Advance(15 * time.Second)
	g = need(as.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{"web"}})).on(t).AutoScalingGroups[0]
	if len(g.Instances) != 1 {
		t.Errorf("instances once the image exists: %d, want 1", len(g.Instances))
	}
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

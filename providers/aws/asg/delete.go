package asg

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/jibe-dev/jibe/reconcile"
)

var _ reconcile.Deleter = (*Platform)(nil)

// Delete deletes what the target runs because its application left Git:
// every group Jibe tagged for the target, application and environment
// (the group, and red/black groups kept for rollback), force-deleted
// with their instances (their scaling policies go with them), then, once
// no group is left being deleted, the launch template. It returns
// Waiting while groups are being deleted. A group of the same name that
// Jibe did not create for this environment is left alone. Deleting what
// is gone is nil.
func (p *Platform) Delete(ctx context.Context, d *reconcile.Deployment) error {
	if err := check(d); err != nil {
		return err
	}
	gs, err := p.tagged(ctx, d, true)
	if err != nil {
		return err
	}
	var deleting []string
	for i := range gs {
		g := &gs[i]
		if aws.ToString(g.Status) == "" {
			if err := p.deleteGroup(ctx, d, g, "delete"); err != nil {
				return err
			}
		}
		deleting = append(deleting, aws.ToString(g.AutoScalingGroupName))
	}
	if len(deleting) > 0 {
		return reconcile.Waiting(p.requeue, "waiting for Auto Scaling group(s) %s to be deleted", strings.Join(deleting, ", "))
	}
	name := templateName(d)
	_, err = p.c.EC2.DeleteLaunchTemplate(ctx, &ec2.DeleteLaunchTemplateInput{LaunchTemplateName: aws.String(name)})
	if err != nil && !isCode(err, "InvalidLaunchTemplateName.NotFoundException", "InvalidLaunchTemplateId.NotFound") {
		return classify(fmt.Errorf("delete launch template %s: %w", name, err))
	}
	return nil
}

package asg

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/jibe-dev/jibe/reconcile"
)

// Remove deletes what a failed first deploy created, as there is no
// earlier version to return to: every group Jibe tagged for the target,
// application and environment (with its instances and policies), then the
// launch template. A group of the same name that Jibe did not create for
// this environment is left alone.
func (p *Platform) Remove(ctx context.Context, d *reconcile.Deployment) error {
	if err := check(d); err != nil {
		return err
	}
	gs, err := p.groups(ctx, d)
	if err != nil {
		return err
	}
	for i := range gs {
		if err := p.deleteGroup(ctx, d, &gs[i], "remove"); err != nil {
			return err
		}
	}
	name := templateName(d)
	_, err = p.c.EC2.DeleteLaunchTemplate(ctx, &ec2.DeleteLaunchTemplateInput{LaunchTemplateName: aws.String(name)})
	if err != nil && !isCode(err, "InvalidLaunchTemplateName.NotFoundException", "InvalidLaunchTemplateId.NotFound") {
		return classify(fmt.Errorf("delete launch template %s: %w", name, err))
	}
	return nil
}

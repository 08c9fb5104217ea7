package lambda

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/jibe-dev/jibe/providers/aws/awserr"
	"github.com/jibe-dev/jibe/reconcile"
)

// Remove deletes the function, with its versions and aliases, when Jibe
// created it for the deployment's application and environment (its tags
// say so): what a failed first deploy leaves. A function of the same name
// that Jibe did not create for this environment is left alone. Removing a
// function that does not exist is nil.
func (p *Platform) Remove(ctx context.Context, rd *reconcile.Deployment) error {
	d, err := target(rd)
	if err != nil {
		return err
	}
	l, err := p.read(ctx, d)
	if err != nil || l == nil {
		return err
	}
	log := p.logger(rd, "rollback")
	if l.tags[TagApp] != d.App || l.tags[TagEnvironment] != d.Env {
		log.Warn("not removing a function that Jibe did not create for this environment", "function", d.name())
		return nil
	}
	err = p.write(d, "delete", func() error {
		_, err := p.c.Lambda.DeleteFunction(ctx, &awslambda.DeleteFunctionInput{FunctionName: aws.String(d.name())})
		if awserr.Is(err, "ResourceNotFoundException") {
			return nil
		}
		return err
	})
	if err == nil {
		log.Info("deleted function", "function", d.name())
	}
	return err
}

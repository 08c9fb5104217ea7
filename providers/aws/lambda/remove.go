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
	d, ok, err := p.owned(ctx, rd, "rollback")
	if err != nil || !ok {
		return err
	}
	return p.deleteFunction(ctx, d, "rollback", "deleted function")
}

// owned returns rd's function when it exists and Jibe created it for rd's
// application and environment (its tags say so); a function of the same
// name that Jibe did not create for this environment is logged and left
// alone (ok false).
func (p *Platform) owned(ctx context.Context, rd *reconcile.Deployment, op string) (deployment, bool, error) {
	d, err := target(rd)
	if err != nil {
		return d, false, err
	}
	l, err := p.read(ctx, d)
	if err != nil || l == nil {
		return d, false, err
	}
	if l.tags[TagApp] != d.App || l.tags[TagEnvironment] != d.Env {
		p.logger(rd, op).Warn("not deleting a function that Jibe did not create for this environment", "function", d.name())
		return d, false, nil
	}
	return d, true, nil
}

// deleteFunction deletes d's function with its versions; one already gone
// is nil. done is logged once it is deleted.
func (p *Platform) deleteFunction(ctx context.Context, d deployment, op, done string) error {
	err := p.write(d, "delete", func() error {
		_, err := p.c.Lambda.DeleteFunction(ctx, &awslambda.DeleteFunctionInput{FunctionName: aws.String(d.name())})
		if awserr.Is(err, "ResourceNotFoundException") {
			return nil
		}
		return err
	})
	if err == nil {
		p.logger(d.Deployment, op).Info(done, "function", d.name())
	}
	return err
}

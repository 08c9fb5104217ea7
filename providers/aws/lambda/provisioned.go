package lambda

import (
	"context"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/jibe-dev/jibe/providers/aws/awserr"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// provisioned is the provisioned concurrency the target asks of each new
// version, 0 for none.
func (d deployment) provisioned() int32 {
	return aws.ToInt32(d.Target.Lambda.ProvisionedConcurrency)
}

// provisionedConfig is the provisioned concurrency configuration of a
// qualifier as Lambda reports it.
type provisionedConfig = awslambda.GetProvisionedConcurrencyConfigOutput

// getProvisioned returns version v's provisioned concurrency
// configuration, nil when it has none.
func (p *Platform) getProvisioned(ctx context.Context, d deployment, v string) (*provisionedConfig, error) {
	out, err := p.c.Lambda.GetProvisionedConcurrencyConfig(ctx, &awslambda.GetProvisionedConcurrencyConfigInput{FunctionName: aws.String(d.name()), Qualifier: aws.String(v)})
	if awserr.Is(err, "ProvisionedConcurrencyConfigNotFoundException") {
		return nil, nil
	}
	if err != nil {
		return nil, classify(fmt.Errorf("get provisioned concurrency of %s:%s: %w", d.name(), v, err))
	}
	return out, nil
}

// provisionedHealth is whether version v can get traffic as far as
// provisioned concurrency goes: healthy when the target asks for none or
// when Lambda reports it READY with the executions asked; progressing
// while it is IN_PROGRESS ("provisioned concurrency 3 of 5 ready"); failed
// with Lambda's reason when it FAILED.
func provisionedHealth(d deployment, v string, c *provisionedConfig) reconcile.Health {
	want := d.provisioned()
	switch {
	case want == 0:
		return reconcile.Health{State: reconcile.HealthHealthy}
	case c == nil || aws.ToInt32(c.RequestedProvisionedConcurrentExecutions) != want:
		return reconcile.Health{State: reconcile.HealthProgressing, Reason: fmt.Sprintf("provisioned concurrency of %d on version %s is not requested yet", want, v)}
	case c.Status == types.ProvisionedConcurrencyStatusEnumFailed:
		return reconcile.Health{State: reconcile.HealthFailed, Reason: fmt.Sprintf("provisioned concurrency on version %s failed: %s: fix the function (its initialisation) or lower lambda.provisionedConcurrency",
			v, aws.ToString(c.StatusReason))}
	case c.Status != types.ProvisionedConcurrencyStatusEnumReady:
		return reconcile.Health{State: reconcile.HealthProgressing, Reason: fmt.Sprintf("provisioned concurrency %d of %d ready on version %s",
			aws.ToInt32(c.AvailableProvisionedConcurrentExecutions), want, v)}
	}
	return reconcile.Health{State: reconcile.HealthHealthy}
}

// checkProvisioned reads version v's provisioned concurrency and returns
// its health.
func (p *Platform) checkProvisioned(ctx context.Context, d deployment, v string) (reconcile.Health, error) {
	if d.provisioned() == 0 {
		return reconcile.Health{State: reconcile.HealthHealthy}, nil
	}
	c, err := p.getProvisioned(ctx, d, v)
	if err != nil {
		return reconcile.Health{}, err
	}
	return provisionedHealth(d, v, c), nil
}

// syncProvisioned gives version v the target's provisioned concurrency
// (or removes it when the target asks for none). When Apply is about to
// send v traffic (a first deploy creates the alias on it; rolling moves
// the alias) it returns Waiting until the configuration is READY, and
// stalls with Lambda's reason when it FAILED; otherwise Health and
// ShiftTraffic wait for it.
func (p *Platform) syncProvisioned(ctx context.Context, d deployment, l *live, v string) error {
	c, err := p.getProvisioned(ctx, d, v)
	if err != nil {
		return err
	}
	want := d.provisioned()
	switch {
	case want == 0 && c != nil:
		return p.deleteProvisioned(ctx, d, v)
	case want == 0:
		return nil
	case c == nil || aws.ToInt32(c.RequestedProvisionedConcurrentExecutions) != want:
		if err := p.putProvisioned(ctx, d, v, want); err != nil {
			return err
		}
		if c, err = p.getProvisioned(ctx, d, v); err != nil {
			return err
		}
	}
	if l.alias != nil && mode(d.Deployment) != spec.StrategyRolling {
		return nil
	}
	switch h := provisionedHealth(d, v, c); h.State {
	case reconcile.HealthFailed:
		return reconcile.Stalled(fmt.Errorf("function %s: %s", d.name(), h.Reason))
	case reconcile.HealthProgressing:
		return reconcile.Waiting(p.requeue, "function %s: %s", d.name(), h.Reason)
	}
	return nil
}

// putProvisioned asks Lambda for n provisioned executions on version v.
func (p *Platform) putProvisioned(ctx context.Context, d deployment, v string, n int32) error {
	err := p.write(d, "put provisioned concurrency", func() error {
		_, err := p.c.Lambda.PutProvisionedConcurrencyConfig(ctx, &awslambda.PutProvisionedConcurrencyConfigInput{FunctionName: aws.String(d.name()),
			Qualifier: aws.String(v), ProvisionedConcurrentExecutions: aws.Int32(n)})
		return err
	})
	if err == nil {
		p.logger(d.Deployment, "apply").Info("requested provisioned concurrency", "function", d.name(), "version", v, "executions", n)
	}
	return err
}

// deleteProvisioned removes version v's provisioned concurrency.
func (p *Platform) deleteProvisioned(ctx context.Context, d deployment, v string) error {
	err := p.write(d, "delete provisioned concurrency", func() error {
		_, err := p.c.Lambda.DeleteProvisionedConcurrencyConfig(ctx, &awslambda.DeleteProvisionedConcurrencyConfigInput{FunctionName: aws.String(d.name()), Qualifier: aws.String(v)})
		if awserr.Is(err, "ProvisionedConcurrencyConfigNotFoundException") || awserr.Is(err, "ResourceNotFoundException") {
			return nil
		}
		return err
	})
	if err == nil {
		p.logger(d.Deployment, "cleanup").Info("removed provisioned concurrency", "function", d.name(), "version", v)
	}
	return err
}

// releaseProvisioned removes the provisioned concurrency of every
// published version no alias uses (as its version or with a weight), so
// that versions traffic left stop costing: after promotion, the old
// version's; after a rollback, the new one's. Configurations on aliases
// are left alone.
func (p *Platform) releaseProvisioned(ctx context.Context, d deployment) error {
	var held []string
	pages := awslambda.NewListProvisionedConcurrencyConfigsPaginator(p.c.Lambda, &awslambda.ListProvisionedConcurrencyConfigsInput{FunctionName: aws.String(d.name())})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return classify(fmt.Errorf("list provisioned concurrency of %s: %w", d.name(), err))
		}
		for _, c := range page.ProvisionedConcurrencyConfigs {
			if q := qualifierOf(aws.ToString(c.FunctionArn)); versionNumber(q) > 0 {
				held = append(held, q)
			}
		}
	}
	if len(held) == 0 {
		return nil
	}
	used, err := p.aliasedVersions(ctx, d)
	if err != nil {
		return err
	}
	for _, v := range held {
		if !used[v] {
			if err := p.deleteProvisioned(ctx, d, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// qualifierOf returns the qualifier of a qualified function ARN.
func qualifierOf(arn string) string {
	for i := len(arn) - 1; i >= 0; i-- {
		if arn[i] == ':' {
			if _, err := strconv.Atoi(arn[i+1:]); err == nil {
				return arn[i+1:]
			}
			return ""
		}
	}
	return ""
}

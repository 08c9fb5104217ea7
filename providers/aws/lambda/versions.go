package lambda

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
)

// pruneVersions deletes the published versions older than the newest
// KeepVersions, except those an alias points to (as its version or with a
// weight) and those an event source mapping invokes (its FunctionArn
// qualified with the version; a mapping on an alias invokes the alias's
// versions, kept already, and an unqualified one invokes $LATEST).
func (p *Platform) pruneVersions(ctx context.Context, r *rollout) error {
	if len(r.vs) <= p.keep {
		return nil
	}
	used, err := p.aliasedVersions(ctx, r.d)
	if err != nil {
		return err
	}
	for _, v := range r.vs[:len(r.vs)-p.keep] {
		n := aws.ToString(v.Version)
		if used[n] {
			continue
		}
		if err := p.pruneVersion(ctx, r.d, n); err != nil {
			return fmt.Errorf("prune versions: %w", err)
		}
	}
	return nil
}

// pruneVersion deletes version v unless an event source mapping invokes
// it.
func (p *Platform) pruneVersion(ctx context.Context, d deployment, v string) error {
	mapped, err := p.mapped(ctx, d, v)
	if err != nil {
		return err
	}
	if mapped {
		p.logger(d.Deployment, "promote").Info("kept old version: an event source mapping invokes it", "function", d.name(), "version", v)
		return nil
	}
	err = p.write(d, "delete version "+v, func() error {
		_, err := p.c.Lambda.DeleteFunction(ctx, &awslambda.DeleteFunctionInput{FunctionName: aws.String(d.name()), Qualifier: aws.String(v)})
		return err
	})
	if err == nil {
		p.logger(d.Deployment, "promote").Info("deleted old version", "function", d.name(), "version", v)
	}
	return err
}

// mapped reports whether an event source mapping invokes version v of
// d's function: one ListEventSourceMappings call, qualified with v, which
// lists exactly the mappings of that version.
func (p *Platform) mapped(ctx context.Context, d deployment, v string) (bool, error) {
	out, err := p.c.Lambda.ListEventSourceMappings(ctx, &awslambda.ListEventSourceMappingsInput{FunctionName: aws.String(d.name() + ":" + v), MaxItems: aws.Int32(1)})
	if err != nil {
		return false, classify(fmt.Errorf("list event source mappings of %s:%s: %w", d.name(), v, err))
	}
	return len(out.EventSourceMappings) > 0, nil
}

// aliasedVersions returns the versions an alias of d's function points
// to, as its version or with a weight.
func (p *Platform) aliasedVersions(ctx context.Context, d deployment) (map[string]bool, error) {
	as, err := p.aliases(ctx, d)
	if err != nil {
		return nil, err
	}
	used := map[string]bool{}
	for _, a := range as {
		used[aws.ToString(a.FunctionVersion)] = true
		for v := range weights(&a) {
			used[v] = true
		}
	}
	return used, nil
}

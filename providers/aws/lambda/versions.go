package lambda

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
)

// pruneVersions deletes the published versions older than the newest
// KeepVersions, except those an alias points to (as its version or with a
// weight). Event source mappings are not read: a mapping on a numbered
// version is rare, and Lambda refuses to delete a version in use.
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
		err := p.write(r.d, "delete version "+n, func() error {
			_, err := p.c.Lambda.DeleteFunction(ctx, &awslambda.DeleteFunctionInput{FunctionName: aws.String(r.d.name()), Qualifier: aws.String(n)})
			return err
		})
		if err != nil {
			return fmt.Errorf("prune versions: %w", err)
		}
		p.logger(r.d.Deployment, "promote").Info("deleted old version", "function", r.d.name(), "version", n)
	}
	return nil
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

package lambda

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/jibe-dev/jibe/providers/aws/awserr"
)

// live is a function as Lambda reports it.
type live struct {
	// cfg is $LATEST's configuration.
	cfg *types.FunctionConfiguration
	// tags are the function's tags.
	tags map[string]string
	// reserved is the reserved concurrency, nil when none.
	reserved *int32
	// alias is the deployment's alias, nil when it does not exist.
	alias *types.AliasConfiguration
}

// read returns d's function and alias; nil when the function does not
// exist.
func (p *Platform) read(ctx context.Context, d deployment) (*live, error) {
	out, err := p.c.Lambda.GetFunction(ctx, &awslambda.GetFunctionInput{FunctionName: aws.String(d.name())})
	if awserr.Is(err, "ResourceNotFoundException") {
		return nil, nil
	}
	if err != nil {
		return nil, classify(fmt.Errorf("get function %s: %w", d.name(), err))
	}
	l := &live{cfg: out.Configuration, tags: out.Tags}
	if out.Concurrency != nil {
		l.reserved = out.Concurrency.ReservedConcurrentExecutions
	}
	if l.alias, err = p.readAlias(ctx, d); err != nil {
		return nil, err
	}
	return l, nil
}

// readAlias returns d's alias, nil when it does not exist.
func (p *Platform) readAlias(ctx context.Context, d deployment) (*types.AliasConfiguration, error) {
	out, err := p.c.Lambda.GetAlias(ctx, &awslambda.GetAliasInput{FunctionName: aws.String(d.name()), Name: aws.String(d.alias)})
	if awserr.Is(err, "ResourceNotFoundException") {
		return nil, nil
	}
	if err != nil {
		return nil, classify(fmt.Errorf("get alias %s:%s: %w", d.name(), d.alias, err))
	}
	return &types.AliasConfiguration{AliasArn: out.AliasArn, Name: out.Name, FunctionVersion: out.FunctionVersion,
		RoutingConfig: out.RoutingConfig, RevisionId: out.RevisionId, Description: out.Description}, nil
}

// busy returns why Lambda cannot take another update of the function
// yet, "" when it can.
func busy(c *types.FunctionConfiguration) string {
	switch {
	case c.State == types.StatePending:
		return "is being created"
	case c.LastUpdateStatus == types.LastUpdateStatusInProgress:
		return "is being updated"
	}
	return ""
}

// versions returns the function's published versions, oldest first.
func (p *Platform) versions(ctx context.Context, d deployment) ([]types.FunctionConfiguration, error) {
	var out []types.FunctionConfiguration
	pages := awslambda.NewListVersionsByFunctionPaginator(p.c.Lambda, &awslambda.ListVersionsByFunctionInput{FunctionName: aws.String(d.name())})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, classify(fmt.Errorf("list versions of %s: %w", d.name(), err))
		}
		for _, v := range page.Versions {
			if aws.ToString(v.Version) != "$LATEST" {
				out = append(out, v)
			}
		}
	}
	return out, nil
}

// aliases returns the function's aliases.
func (p *Platform) aliases(ctx context.Context, d deployment) ([]types.AliasConfiguration, error) {
	var out []types.AliasConfiguration
	pages := awslambda.NewListAliasesPaginator(p.c.Lambda, &awslambda.ListAliasesInput{FunctionName: aws.String(d.name())})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, classify(fmt.Errorf("list aliases of %s: %w", d.name(), err))
		}
		out = append(out, page.Aliases...)
	}
	return out, nil
}

// versionDescription is the description of the version published for a
// revision: it carries the commit and the package's codeID.
func versionDescription(revision, code string) string {
	return "jibe revision=" + revision + " code=" + code
}

// describedAs returns the revision and codeID a version's description
// carries; empty when Jibe did not publish it.
func describedAs(v *types.FunctionConfiguration) (revision, code string) {
	desc := aws.ToString(v.Description)
	if !strings.HasPrefix(desc, "jibe ") {
		return "", ""
	}
	for _, f := range strings.Fields(desc) {
		if r, ok := strings.CutPrefix(f, "revision="); ok {
			revision = r
		}
		if c, ok := strings.CutPrefix(f, "code="); ok {
			code = c
		}
	}
	return revision, code
}

// newest returns the newest version for which ok is true, nil when none.
func newest(vs []types.FunctionConfiguration, ok func(*types.FunctionConfiguration) bool) *types.FunctionConfiguration {
	for i := len(vs) - 1; i >= 0; i-- {
		if ok(&vs[i]) {
			return &vs[i]
		}
	}
	return nil
}

// versionNumber returns a version's number, 0 for $LATEST.
func versionNumber(v string) int {
	n, _ := strconv.Atoi(v)
	return n
}

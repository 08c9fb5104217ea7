package lambda

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// Apply writes the new version, one Lambda update per call: it creates
// the function, or updates its code and then (once Lambda reports the
// update Successful) its configuration, each with the RevisionId read;
// then publishes one version (its description carries the revision and
// the package), unless a published version already has the file's code
// and configuration. It sets reserved concurrency, tags and the version's
// provisioned concurrency (waiting until it is ready when the alias is
// about to send the version traffic here), creates the
// alias on a first deploy and, for rolling deployments, moves it to the
// new version at once; canary and blue/green leave the alias to
// ShiftTraffic. With a target group it grants Elastic Load Balancing
// permission to invoke the alias and registers it. While Lambda is busy
// it returns Waiting. It writes nothing that already matches.
func (p *Platform) Apply(ctx context.Context, rd *reconcile.Deployment) error {
	d, err := target(rd)
	if err != nil {
		return err
	}
	l, err := p.read(ctx, d)
	if err != nil {
		return err
	}
	if l == nil {
		return p.create(ctx, d)
	}
	v, err := p.ensureVersion(ctx, d, l)
	if err != nil {
		return err
	}
	for _, step := range []func(context.Context, deployment, *live, string) error{p.syncConcurrency, p.syncTags, p.syncProvisioned, p.ensureAlias, p.ensureTarget} {
		if err := step(ctx, d, l, v); err != nil {
			return err
		}
	}
	return nil
}

// create creates the function (unpublished) and returns Waiting while
// Lambda makes it Active.
func (p *Platform) create(ctx context.Context, d deployment) error {
	in, err := createInput(d)
	if err != nil {
		return reconcile.Stalled(err)
	}
	if err := p.write(d, "create", func() error { _, err := p.c.Lambda.CreateFunction(ctx, in); return err }); err != nil {
		return err
	}
	p.logger(d.Deployment, "apply").Info("created function", "function", d.name())
	return reconcile.Waiting(p.requeue, "function %s is being created", d.name())
}

// ensureVersion returns the published version that has the file's code
// and configuration, bringing $LATEST there and publishing it first when
// none does. It returns Waiting while Lambda is busy.
func (p *Platform) ensureVersion(ctx context.Context, d deployment, l *live) (string, error) {
	vs, err := p.versions(ctx, d)
	if err != nil {
		return "", err
	}
	v := newVersion(d, vs)
	if why := busy(l.cfg); why != "" && (v == nil || len(descriptionField(d.fn, l.cfg)) > 0) {
		return "", reconcile.Waiting(p.requeue, "function %s %s", d.name(), why)
	}
	if desc := descriptionField(d.fn, l.cfg); v != nil && len(desc) > 0 {
		return "", p.updateConfig(ctx, d, l, desc)
	}
	if v != nil {
		return aws.ToString(v.Version), nil
	}
	if l.tags[TagCode] != codeID(d.fn.Code) || !slices.Equal(normalize(liveFunction(l.cfg, nil)).Architectures, normalize(*d.fn).Architectures) {
		return "", p.updateCode(ctx, d, l) // Lambda changes the architecture with the code
	}
	fields, err := configFields(d.fn, l.cfg)
	if err != nil {
		return "", reconcile.Stalled(err)
	}
	if fields = append(fields, descriptionField(d.fn, l.cfg)...); len(fields) > 0 {
		return "", p.updateConfig(ctx, d, l, fields)
	}
	if l.cfg.LastUpdateStatus == types.LastUpdateStatusFailed {
		return "", reconcile.Stalled(fmt.Errorf("function %s: the last update failed (%s: %s): fix the function file or its package",
			d.name(), l.cfg.LastUpdateStatusReasonCode, aws.ToString(l.cfg.LastUpdateStatusReason)))
	}
	return p.publish(ctx, d, l)
}

// updateCode sends the file's package, records it in TagCode and returns
// Waiting while Lambda updates the function.
func (p *Platform) updateCode(ctx context.Context, d deployment, l *live) error {
	err := p.write(d, "update code", func() error {
		_, err := p.c.Lambda.UpdateFunctionCode(ctx, codeInput(d, l.cfg.RevisionId))
		return err
	})
	if err != nil {
		return err
	}
	if err := p.tag(ctx, d, l, map[string]string{TagCode: codeID(d.fn.Code)}); err != nil {
		return err
	}
	p.logger(d.Deployment, "apply").Info("updated function code", "function", d.name(), "code", codeLocation(d.fn.Code))
	return reconcile.Waiting(p.requeue, "function %s: code is being updated", d.name())
}

// updateConfig sends the file's configuration and returns Waiting while
// Lambda updates the function.
func (p *Platform) updateConfig(ctx context.Context, d deployment, l *live, fields []reconcile.FieldChange) error {
	in, err := updateInput(d, l.cfg.RevisionId)
	if err != nil {
		return reconcile.Stalled(err)
	}
	if err := p.write(d, "update configuration", func() error { _, err := p.c.Lambda.UpdateFunctionConfiguration(ctx, in); return err }); err != nil {
		return err
	}
	p.logger(d.Deployment, "apply").Info("updated function configuration", "function", d.name(), "fields", len(fields))
	return reconcile.Waiting(p.requeue, "function %s: configuration is being updated", d.name())
}

// publish publishes $LATEST as the revision's version, guarded by its
// CodeSha256 and RevisionId.
func (p *Platform) publish(ctx context.Context, d deployment, l *live) (string, error) {
	var out *awslambda.PublishVersionOutput
	in := &awslambda.PublishVersionInput{FunctionName: aws.String(d.name()), CodeSha256: l.cfg.CodeSha256, RevisionId: l.cfg.RevisionId,
		Description: aws.String(versionDescription(d.Revision, codeID(d.fn.Code)))}
	err := p.write(d, "publish version", func() (err error) { out, err = p.c.Lambda.PublishVersion(ctx, in); return err })
	if err != nil {
		return "", err
	}
	v := aws.ToString(out.Version)
	p.logger(d.Deployment, "apply").Info("published version", "function", d.name(), "version", v)
	return v, nil
}

// syncConcurrency sets or removes the function's reserved concurrency.
func (p *Platform) syncConcurrency(ctx context.Context, d deployment, l *live, _ string) error {
	want := d.fn.ReservedConcurrentExecutions
	switch {
	case want == nil && l.reserved == nil, want != nil && l.reserved != nil && *want == *l.reserved:
		return nil
	case want == nil:
		return p.write(d, "delete reserved concurrency", func() error {
			_, err := p.c.Lambda.DeleteFunctionConcurrency(ctx, &awslambda.DeleteFunctionConcurrencyInput{FunctionName: aws.String(d.name())})
			return err
		})
	}
	return p.write(d, "put reserved concurrency", func() error {
		_, err := p.c.Lambda.PutFunctionConcurrency(ctx, &awslambda.PutFunctionConcurrencyInput{FunctionName: aws.String(d.name()), ReservedConcurrentExecutions: want})
		return err
	})
}

// syncTags makes the function's tags the file's and Jibe's.
func (p *Platform) syncTags(ctx context.Context, d deployment, l *live, _ string) error {
	set, remove := tagsToSet(l.tags, desiredTags(d))
	if len(remove) > 0 {
		err := p.write(d, "untag", func() error {
			_, err := p.c.Lambda.UntagResource(ctx, &awslambda.UntagResourceInput{Resource: l.cfg.FunctionArn, TagKeys: remove})
			return err
		})
		if err != nil {
			return err
		}
	}
	return p.tag(ctx, d, l, set)
}

// tag adds or changes tags of the function.
func (p *Platform) tag(ctx context.Context, d deployment, l *live, tags map[string]string) error {
	if len(tags) == 0 {
		return nil
	}
	return p.write(d, "tag", func() error {
		_, err := p.c.Lambda.TagResource(ctx, &awslambda.TagResourceInput{Resource: l.cfg.FunctionArn, Tags: tags})
		return err
	})
}

// ensureAlias creates the alias at version v on a first deploy; for
// rolling deployments it moves the alias to v, all at once.
func (p *Platform) ensureAlias(ctx context.Context, d deployment, l *live, v string) error {
	if l.alias == nil {
		err := p.write(d, "create alias", func() error {
			out, err := p.c.Lambda.CreateAlias(ctx, &awslambda.CreateAliasInput{FunctionName: aws.String(d.name()), Name: aws.String(d.alias), FunctionVersion: aws.String(v)})
			if err == nil {
				l.alias = &types.AliasConfiguration{AliasArn: out.AliasArn, Name: out.Name, FunctionVersion: out.FunctionVersion, RevisionId: out.RevisionId}
			}
			return err
		})
		if err == nil {
			p.logger(d.Deployment, "apply").Info("created alias", "alias", d.alias, "version", v)
		}
		return err
	}
	if mode(d.Deployment) != spec.StrategyRolling {
		return nil
	}
	return p.route(ctx, d, l.alias, v, "", 0)
}

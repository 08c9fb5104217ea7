package main

import (
	"context"
	"log/slog"

	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/providers/aws/asg"
	"github.com/jibe-dev/jibe/providers/aws/ecs"
	"github.com/jibe-dev/jibe/providers/aws/lambda"
	"github.com/jibe-dev/jibe/providers/kubernetes"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// builtin is one platform this Jibe deploys to: what it declares it
// supports, and how the agent builds it from its configuration.
type builtin struct {
	caps spec.Capabilities
	// build returns the platform, or nil when the configuration gives it
	// nothing to deploy to (no AWS account, no cluster).
	build func(w *wiring, ctx context.Context, cfg *config.Config, log *slog.Logger) reconcile.Platform
}

// builtins are the platforms this Jibe deploys to. Adding a platform is
// one line here: its provider's Capabilities and its constructor.
var builtins = []builtin{
	{ecs.Capabilities, onAWS(ecsPlatform)},
	{lambda.Capabilities, onAWS(lambdaPlatform)},
	{kubernetes.Capabilities, (*wiring).kubernetes},
	{asg.Capabilities, onAWS(asgPlatform)},
}

// builtinPlatforms declares the platforms this Jibe deploys to: the one
// list that `jibe validate`, `jibe plan` and the agent load specs against.
func builtinPlatforms() spec.Platforms {
	out := make(spec.Platforms, len(builtins))
	for i, b := range builtins {
		out[i] = b.caps
	}
	return out
}

// platforms builds every platform the configuration gives something to
// deploy to.
func (w *wiring) platforms(ctx context.Context, cfg *config.Config, log *slog.Logger) map[spec.Platform]reconcile.Platform {
	out := map[spec.Platform]reconcile.Platform{}
	for _, b := range builtins {
		if p := b.build(w, ctx, cfg, log); p != nil {
			out[b.caps.Platform] = p
		}
	}
	return out
}

// onAWS builds an AWS platform when the configuration has AWS accounts.
func onAWS(build func(*config.Config, *slog.Logger) reconcile.Platform) func(*wiring, context.Context, *config.Config, *slog.Logger) reconcile.Platform {
	return func(_ *wiring, _ context.Context, cfg *config.Config, log *slog.Logger) reconcile.Platform {
		if len(cfg.AWS.Accounts) == 0 {
			return nil
		}
		return build(cfg, log)
	}
}

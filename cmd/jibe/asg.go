package main

import (
	"context"
	"log/slog"

	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/providers/aws/asg"
	"github.com/jibe-dev/jibe/reconcile"
)

// asgPlatform deploys Auto Scaling group targets through one asg.Platform
// per account and region, each built on first use after its credentials
// are checked against the account ID.
func asgPlatform(cfg *config.Config, log *slog.Logger) reconcile.Platform {
	return &reconcile.Partitioned{
		Key: func(d *reconcile.Deployment) string { return d.Account + "/" + d.Region },
		Build: func(ctx context.Context, d *reconcile.Deployment) (reconcile.Platform, error) {
			awsCfg, err := accountConfig(ctx, cfg, d.Account, d.Region)
			if err != nil {
				return nil, err
			}
			return asg.New(asg.NewClients(awsCfg), asg.Options{Logger: log, AccountID: cfg.Account(d.Account).AccountID}), nil
		},
	}
}

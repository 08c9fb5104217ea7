package main

import (
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/providers/aws/asg"
	"github.com/jibe-dev/jibe/reconcile"
)

// asgPlatform deploys Auto Scaling group targets through one asg.Platform
// per account and region.
func asgPlatform(cfg *config.Config, log *slog.Logger) reconcile.Platform {
	return perAccount(cfg, func(c aws.Config, accountID string) reconcile.Platform {
		return asg.New(asg.NewClients(c), asg.Options{Logger: log, AccountID: accountID})
	})
}

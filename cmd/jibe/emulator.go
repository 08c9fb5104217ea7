package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/spf13/cobra"

	"github.com/jibe-dev/jibe/internal/awsemu"
	"github.com/jibe-dev/jibe/internal/awsemu/clock"
)

func newEmulatorCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "emulator",
		Short: "Run Jibe's emulators standalone, for local demos and experiments",
	}
	cmd.AddCommand(newAWSEmulatorCommand())
	return cmd
}

func newAWSEmulatorCommand() *cobra.Command {
	var (
		listen string
		speed  float64
		debug  bool
	)
	cmd := &cobra.Command{
		Use:   "aws",
		Short: "Serve the AWS emulator (ECS, ELBv2, Lambda, CloudWatch, ...) on loopback",
		Long: `Serve Jibe's AWS emulator: an in-memory AWS that speaks each service's real wire
protocol, so the AWS CLI, the SDKs and Jibe itself can deploy to it without an
account. State lives in memory and is lost when the command stops.

Point a client at it with an endpoint override and any static credentials:
  AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=eu-west-1 AWS_DEFAULT_REGION=eu-west-1 \
    aws --endpoint-url http://127.0.0.1:4566 ecs list-clusters

--speed runs emulated time faster than real time (deployments converge,
targets turn healthy, draining completes sooner).

Control endpoints (under /_jibe/, plain JSON, no signature; they answer
loopback clients only) do from the outside what Jibe's tests do in Go.

Make an artifact misbehave, e.g. a Lambda version whose invocations half fail,
or an image (container image or AMI) whose tasks or instances never get healthy:
  curl -X POST http://127.0.0.1:4566/_jibe/lambda/behavior \
    -d '{"function": "orders", "version": "2", "errorRate": 0.5}'
  curl -X POST http://127.0.0.1:4566/_jibe/image/behavior \
    -d '{"image": "registry.example.com/shop/web:1.1.0", "broken": true}'

Inject faults per service (SigV4 signing name) and operation; kind is Throttle,
ServerError, Latency (with "delay": "2s"), Deny or Conflict; count 0 lasts until
cleared:
  curl -X POST http://127.0.0.1:4566/_jibe/faults \
    -d '{"service": "ecs", "operation": "UpdateService", "kind": "Throttle", "count": 3}'
  curl -X DELETE http://127.0.0.1:4566/_jibe/faults

Move emulated time forward (deployments, health checks, alarms catch up), or
read it:
  curl -X POST http://127.0.0.1:4566/_jibe/time/advance -d '{"duration": "5m"}'
  curl http://127.0.0.1:4566/_jibe/time`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if speed <= 0 {
				return fmt.Errorf("--speed must be above 0, got %g", speed)
			}
			opts := awsemu.Options{Clock: clock.NewScaled(time.Now(), speed)}
			if debug {
				opts.Logger = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelDebug}))
			}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return fmt.Errorf("cannot listen on %s (%w): stop what uses the port, or choose another address with --listen", listen, err)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "AWS emulator listening on http://%s (time x%g); Ctrl-C stops it\n", ln.Addr(), speed)
			err = awsemu.Serve(cmd.Context(), ln, opts)
			if errors.Is(err, context.Canceled) {
				return nil
			}
			return err
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:4566", "address to listen on")
	cmd.Flags().Float64Var(&speed, "speed", 1, "how many times faster than real time emulated time runs")
	cmd.Flags().BoolVar(&debug, "debug", false, "log every call")
	return cmd
}

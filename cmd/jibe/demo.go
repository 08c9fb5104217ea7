package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/jibe-dev/jibe/internal/demo"
)

func newDemoCommand() *cobra.Command {
	opts := demo.Options{Agent: demoAgent}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Play a reviewed, staged rollout on the bundled emulators",
		Long: `Play Jibe's promotion story in one process, on loopback: the AWS emulator,
the GitHub emulator, a Git server holding acme/shop (the application of
examples/demo) and the real agent, configured as ` + "`jibe agent`" + ` would be.

dana first adds quote, a Lambda function zipped from its folder and
answering /api/quote behind production's load balancer, then releases it
through a Lambda canary: 20% of the alias on the new version, analysed by
that version's own CloudWatch error rate, then the alias moves to it.

dana ships checkout 1.1.0 through a pull request: the agent previews the plan,
staging rolls out and is verified over HTTP, production waits for a review
from acme/sre, then runs a canary that CloudWatch analysis promotes. Release
1.2.0 answers half of its requests with 5xx: staging's health check passes,
production's canary analysis catches it and rolls it back. Every commit
status, plan preview and Slack notification is printed as the agent posts it.

Then everything keeps running until Ctrl-C, with instructions to clone, edit
and push the demo repository. With --script the demo runs unattended and
exits 0 only if every step saw its expected outcome in time (1 otherwise).
It needs git (for the Git server).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Out = cmd.OutOrStdout()
			err := demo.Run(cmd.Context(), opts)
			var step *demo.StepError
			if errors.As(err, &step) && step.Err == nil {
				fmt.Fprintln(cmd.ErrOrStderr(), "jibe demo: "+step.Error())
				return problemsError{len(step.Missing)}
			}
			return err
		},
	}
	cmd.Flags().BoolVar(&opts.Script, "script", false, "run unattended and exit when the story is over")
	cmd.Flags().StringVar(&opts.StateDir, "state-dir", "", "directory for the repositories, agent configuration, journal and log (default: a temporary one)")
	cmd.Flags().BoolVar(&opts.Keep, "keep", false, "keep the temporary state directory")
	return cmd
}

// demoAgent runs the agent as `jibe agent --config path` does.
func demoAgent(ctx context.Context, path string, log io.Writer) error {
	return runAgent(ctx, path, log)
}

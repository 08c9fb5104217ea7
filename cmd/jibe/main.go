// Command jibe is the Jibe GitOps agent and its tools.
//
// Run `jibe --help` for the commands.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// Exit codes.
const (
	exitOK       = 0
	exitProblems = 1 // the input has problems (e.g. an invalid spec)
	exitUsage    = 2 // the command line is wrong or the command failed
)

func main() {
	setUpProcess()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// problemsError means the command ran and found problems in its input; it
// exits with exitProblems instead of exitUsage.
type problemsError struct{ n int }

func (e problemsError) Error() string {
	if e.n == 1 {
		return "1 problem found"
	}
	return fmt.Sprintf("%d problems found", e.n)
}

// run executes the command line args and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRootCommand(stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	var pe problemsError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &pe):
		fmt.Fprintln(stderr, pe.Error())
		return exitProblems
	}
	fmt.Fprintln(stderr, "jibe: "+err.Error())
	return exitUsage
}

func newRootCommand(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "jibe",
		Short: "Jibe converges AWS and Kubernetes to what Git says, stage by stage",
		Long: `Jibe is a GitOps agent: it watches Git for application specs (jibe.yaml),
diffs them against AWS (ECS, Lambda, Auto Scaling groups) and Kubernetes, and
rolls changes out environment by environment with canary and blue/green
strategies, verification, approval by pull-request review and automatic
rollback. Results are reported as GitHub commit statuses.

Documentation: https://github.com/jibe-dev/jibe#readme`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newDemoCommand(), newValidateCommand(), newSchemaCommand(), newPlanCommand(), newEmulatorCommand(), newAgentCommand(), newVersionCommand(),
		newStatusCommand(), newHistoryCommand(), newJournalCommand())
	root.AddCommand(actionCommands()...)
	return root
}

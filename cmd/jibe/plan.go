package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/jibe-dev/jibe/agent"
	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
	"github.com/jibe-dev/jibe/spec/kubecheck"
)

func newPlanCommand() *cobra.Command {
	var (
		path, source, revision, format string
		envs                           []string
	)
	cmd := &cobra.Command{
		Use:   "plan APP_FOLDER",
		Short: "Show what an application's files would change, environment by environment",
		Long: `Show the plan of the application in APP_FOLDER against the live state of its
environments: the resources it would create, update, replace or delete, the
fields that differ, and the steps of each environment's strategy. Nothing is
changed. The agent configuration (--config or $JIBE_CONFIG) says where the
environments' accounts and clusters are; with --source, the plan also checks
that source's tenancy.`,
		Example: `  jibe plan apps/checkout --config agent.yaml --env staging
  jibe plan apps/checkout --config agent.yaml --format json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if path == "" {
				return errors.New("--config is required (or set JIBE_CONFIG): it says where the environments' accounts and clusters are")
			}
			if format != "text" && format != "json" {
				return fmt.Errorf("unknown --format %q; use text or json", format)
			}
			return runPlan(cmd, path, args[0], source, revision, format, envs)
		},
	}
	cmd.Flags().StringVarP(&path, "config", "c", os.Getenv("JIBE_CONFIG"), "agent configuration file")
	cmd.Flags().StringSliceVarP(&envs, "env", "e", nil, "environments to plan (default: all)")
	cmd.Flags().StringVar(&source, "source", "", "check the tenancy of this configured source")
	cmd.Flags().StringVar(&revision, "revision", "working-tree", "revision to name in the plan")
	cmd.Flags().StringVarP(&format, "format", "o", "text", "output format: text or json")
	return cmd
}

func runPlan(cmd *cobra.Command, cfgPath, dir, source, revision, format string, envs []string) error {
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return fmt.Errorf("the agent configuration is invalid:\n%w", err)
	}
	app, err := spec.Load(dir, spec.WithLimits(cfg.Limits.Spec()), spec.WithPlatforms(builtinPlatforms()...), spec.WithManifestCheck(kubecheck.Check))
	if err != nil {
		fmt.Fprintln(cmd.OutOrStdout(), err)
		return problemsError{n: 1}
	}
	w := &wiring{}
	platforms := w.platforms(cmd.Context(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if w.kube != nil {
		defer w.kube.Close()
	}
	p, err := agent.Plan(cmd.Context(), cfg, source, app, platforms, revision, envs...)
	var partial *agent.PlanError
	if err != nil && !errors.As(err, &partial) {
		return err
	}
	if format == "json" {
		return writePlanJSON(cmd.OutOrStdout(), p, partial)
	}
	p.Format(cmd.OutOrStdout())
	if partial == nil {
		return nil
	}
	for _, f := range partial.Envs {
		fmt.Fprintf(cmd.OutOrStdout(), "\n%s: could not be planned: %v\n", f.Env, f.Err)
	}
	return problemsError{n: len(partial.Envs)}
}

// planJSON is `jibe plan -o json`'s output: the plan, and the environments
// that could not be planned.
type planJSON struct {
	*reconcile.Plan
	Errors []planEnvError `json:"errors,omitempty"`
}

type planEnvError struct {
	Environment string `json:"environment"`
	Error       string `json:"error"`
}

// writePlanJSON writes p and the environments of partial, failing (after
// writing) when some environment could not be planned.
func writePlanJSON(w io.Writer, p *reconcile.Plan, partial *agent.PlanError) error {
	out := planJSON{Plan: p}
	if partial != nil {
		for _, f := range partial.Envs {
			out.Errors = append(out.Errors, planEnvError{Environment: f.Env, Error: f.Err.Error()})
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	if len(out.Errors) > 0 {
		return problemsError{n: len(out.Errors)}
	}
	return nil
}

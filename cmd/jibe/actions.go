package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/spf13/cobra"
)

// actionAnswer is the agent's answer to an action (docs/api.md,
// agent.ActionResult).
type actionAnswer struct {
	Action      string    `json:"action"`
	Application string    `json:"application"`
	Source      string    `json:"source"`
	Environment string    `json:"environment"`
	By          string    `json:"by"`
	At          time.Time `json:"at"`
	Reason      string    `json:"reason"`
	Message     string    `json:"message"`
}

// actionCommands returns the commands that act on a running agent:
// abort, retry, promote, approve, rollback, pause, resume, refresh.
func actionCommands() []*cobra.Command {
	return []*cobra.Command{
		envActionCommand("abort", "Roll an environment's running rollout back now", nil),
		envActionCommand("retry", "Roll a failed or rolled-back revision out to an environment again", nil),
		envActionCommand("promote", "Skip the pauses left in an environment's rollout (--force: verify steps and approval gates too, by break-glass)", func(cmd *cobra.Command) {
			cmd.Flags().Bool("force", false, "also skip verify steps and approval gates (break-glass: the agent configuration must allow it; needs --reason)")
			cmd.Flags().String("reason", "", "why (required with --force)")
		}),
		envActionCommand("approve", "Open an environment's approval gate by break-glass, without reviews", func(cmd *cobra.Command) {
			cmd.Flags().String("reason", "", "why (required; recorded in the journal, the history, the commit status and notifications)")
		}),
		envActionCommand("rollback", "Deploy an earlier good revision to an environment now, held there until a new commit", func(cmd *cobra.Command) {
			cmd.Flags().String("to", "", "the revision to go back to: a commit that succeeded in the environment (jibe history APP lists them)")
			cmd.Flags().String("reason", "", "why")
		}),
		appActionCommand("pause", "Freeze deploys of an application or a whole source: no rollout starts, running ones stop before their next step"),
		appActionCommand("resume", "Lift the pause of an application or a whole source"),
		appActionCommand("refresh", "Poll an application's source now and compare it with live state"),
	}
}

// envActionCommand is `jibe ACTION APP ENV`; flags adds its flags.
func envActionCommand(action, short string, flags func(*cobra.Command)) *cobra.Command {
	var api apiFlags
	cmd := &cobra.Command{
		Use:   action + " APP ENV",
		Short: short,
		Long: short + `.

APP is SOURCE/NAME, or a NAME that only one source has. The command talks to
the agent's API (--server, token from ` + envToken + `, scope write) and prints
what the agent does now.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			body, err := actionBody(cmd, action)
			if err != nil {
				return err
			}
			return act(cmd, &api, args[0], func(app appRef) string {
				return app.path() + "/environments/" + url.PathEscape(args[1]) + "/" + action
			}, body)
		},
	}
	api.register(cmd)
	if flags != nil {
		flags(cmd)
	}
	return cmd
}

// appActionCommand is `jibe ACTION (APP | --source S)`.
func appActionCommand(action, short string) *cobra.Command {
	var (
		api    apiFlags
		source string
	)
	cmd := &cobra.Command{
		Use:   action + " (APP | --source SOURCE)",
		Short: short,
		Long: short + `.

APP is SOURCE/NAME, or a NAME that only one source has; --source acts on every
application of a source. The command talks to the agent's API (--server, token
from ` + envToken + `, scope write) and prints what the agent does now.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if (source == "") == (len(args) == 0) {
				return errors.New("name an application (APP) or a source (--source SOURCE), not both")
			}
			body, err := actionBody(cmd, action)
			if err != nil {
				return err
			}
			if source != "" {
				c, err := api.client()
				if err != nil {
					return err
				}
				return post(cmd, c, "/api/v1/sources/"+url.PathEscape(source)+"/"+action, body)
			}
			return act(cmd, &api, args[0], func(app appRef) string { return app.path() + "/" + action }, body)
		},
	}
	api.register(cmd)
	cmd.Flags().StringVar(&source, "source", "", "act on every application of this source")
	if action == "pause" {
		cmd.Flags().String("reason", "", "why (shown with every rollout the pause holds)")
	}
	return cmd
}

// actionBody builds the action's JSON body from its flags.
func actionBody(cmd *cobra.Command, action string) (map[string]any, error) {
	body := map[string]any{}
	if f := cmd.Flags().Lookup("reason"); f != nil && f.Value.String() != "" {
		body["reason"] = f.Value.String()
	}
	if f := cmd.Flags().Lookup("force"); f != nil && f.Value.String() == "true" {
		body["force"] = true
	}
	if f := cmd.Flags().Lookup("to"); f != nil {
		if f.Value.String() == "" {
			return nil, errors.New("rollback needs --to REVISION: a commit that succeeded in the environment (jibe history APP lists them)")
		}
		body["to"] = f.Value.String()
	}
	if action == "approve" && body["reason"] == nil {
		return nil, errors.New("approve needs --reason: break-glass approvals are recorded with why")
	}
	if body["force"] == true && body["reason"] == nil {
		return nil, errors.New("promote --force needs --reason: break-glass is recorded with why")
	}
	return body, nil
}

// act resolves the application arg names and posts the action to the
// path pathOf gives.
func act(cmd *cobra.Command, api *apiFlags, arg string, pathOf func(appRef) string, body map[string]any) error {
	c, err := api.client()
	if err != nil {
		return err
	}
	app, err := c.resolveApp(cmd.Context(), arg)
	if err != nil {
		return err
	}
	return post(cmd, c, pathOf(app), body)
}

// post sends the action and prints the agent's answer.
func post(cmd *cobra.Command, c *apiClient, path string, body map[string]any) error {
	ctx, cancel := context.WithTimeout(cmd.Context(), time.Minute)
	defer cancel()
	var ans actionAnswer
	if err := c.post(ctx, path, body, &ans); err != nil {
		return err
	}
	what := ans.Application
	if what == "" {
		what = "source " + ans.Source
	}
	if ans.Environment != "" {
		what += " " + ans.Environment
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s %s by %s at %s\n%s\n", ans.Action, what, ans.By, ans.At.UTC().Format(time.RFC3339), ans.Message)
	return nil
}

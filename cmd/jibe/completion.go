package main

import (
	"context"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/jibe-dev/jibe/agent"
)

// completionTimeout bounds how long a shell's completion waits for the
// agent: an unreachable agent completes nothing, quickly.
const completionTimeout = 2 * time.Second

// completeApps completes a command's arguments from the agent's API: the
// first with the applications' names (SOURCE/NAME where two sources have
// one, or once the word typed has a slash), the second, when the command
// takes one (args == 2), with that application's environments. It
// offers nothing, quietly, when the agent cannot be asked.
func completeApps(api *apiFlags, args int) cobra.CompletionFunc {
	return func(cmd *cobra.Command, done []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		none := cobra.ShellCompDirectiveNoFileComp
		if len(done) >= args {
			return nil, none
		}
		c, err := api.client()
		if err != nil {
			return nil, none
		}
		ctx, cancel := context.WithTimeout(cmd.Context(), completionTimeout)
		defer cancel()
		if len(done) == 0 {
			return completeAppNames(ctx, c, toComplete), none
		}
		ref, err := c.resolveApp(ctx, done[0])
		if err != nil {
			return nil, none
		}
		envs, err := c.environments(ctx, ref)
		if err != nil {
			return nil, none
		}
		return withPrefix(envs, toComplete), none
	}
}

// completeAppNames lists the applications whose name (or ID) starts with
// toComplete.
func completeAppNames(ctx context.Context, c *apiClient, toComplete string) []string {
	var apps []agent.AppView
	if err := c.get(ctx, "/api/v1/applications", &apps); err != nil {
		return nil
	}
	names := appNames(apps)
	var out []string
	for _, a := range apps {
		name := names[a.ID]
		if strings.Contains(toComplete, "/") {
			name = a.ID
		}
		if strings.HasPrefix(name, toComplete) {
			out = append(out, name)
		}
	}
	return out
}

// withPrefix keeps the words that start with prefix.
func withPrefix(words []string, prefix string) []string {
	var out []string
	for _, w := range words {
		if strings.HasPrefix(w, prefix) {
			out = append(out, w)
		}
	}
	return out
}

// completeOutput completes -o with formats.
func completeOutput(cmd *cobra.Command, formats ...string) {
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(formats, cobra.ShellCompDirectiveNoFileComp))
}

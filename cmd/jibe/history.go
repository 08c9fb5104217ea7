package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/jibe-dev/jibe/agent"
)

// historyPage is the largest page the agent serves (GET .../history).
const historyPage = 100

// historyOptions are the flags of `jibe history`.
type historyOptions struct {
	api    apiFlags
	output string
	limit  int
}

func newHistoryCommand() *cobra.Command {
	var o historyOptions
	cmd := &cobra.Command{
		Use:   "history APP [ENV]",
		Short: "List an application's past rollouts, newest first",
		Long: `List the rollouts of an application (NAME, or SOURCE/NAME when two sources have
one) in one environment or in each, newest first, drift corrections included:
revision, outcome, strategy, when and how long, and why a rollout failed or who
approved it. -o json prints the agent's history entries as it serves them.`,
		Example: `  jibe history checkout production
  jibe history shop/checkout --limit 50 -o json`,
		Args:              cobra.RangeArgs(1, 2),
		ValidArgsFunction: completeApps(&o.api, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(o.output, outputTable, outputJSON); err != nil {
				return err
			}
			if o.limit < 1 {
				return fmt.Errorf("--limit %d: give how many rollouts to list, 1 or more", o.limit)
			}
			return runHistory(cmd.Context(), cmd.OutOrStdout(), args, &o)
		},
	}
	o.api.register(cmd)
	cmd.Flags().StringVarP(&o.output, "output", "o", outputTable, "output format: table or json")
	cmd.Flags().IntVar(&o.limit, "limit", 20, "how many rollouts to list per environment")
	completeOutput(cmd, outputTable, outputJSON)
	return cmd
}

// envHistory is one environment's history as the agent serves it, its
// entries kept as they came for -o json.
type envHistory struct {
	App      string            `json:"app"`
	Env      string            `json:"env"`
	Rollouts []json.RawMessage `json:"rollouts"`
	Next     string            `json:"next,omitempty"`
}

func runHistory(ctx context.Context, out io.Writer, args []string, o *historyOptions) error {
	c, err := o.api.client()
	if err != nil {
		return err
	}
	ref, err := c.resolveApp(ctx, args[0])
	if err != nil {
		return err
	}
	envs, err := c.environments(ctx, ref)
	if err != nil {
		return err
	}
	if len(args) == 2 {
		if !slices.Contains(envs, args[1]) {
			return fmt.Errorf("%s has no environment %s: it has %s", ref, args[1], strings.Join(envs, ", "))
		}
		envs = args[1:]
	}
	histories := make([]envHistory, len(envs))
	for i, env := range envs {
		if histories[i], err = c.history(ctx, ref, env, o.limit); err != nil {
			return err
		}
	}
	if o.output == outputJSON {
		var v any = histories
		if len(args) == 2 {
			v = histories[0]
		}
		return json.NewEncoder(out).Encode(v)
	}
	return writeHistory(out, histories, terminalOf(out))
}

// environments lists an application's environments in promotion order.
func (c *apiClient) environments(ctx context.Context, ref appRef) ([]string, error) {
	var app agent.AppView
	if err := c.get(ctx, ref.path(), &app); err != nil {
		return nil, err
	}
	names := make([]string, len(app.Environments))
	for i, e := range app.Environments {
		names[i] = e.Name
	}
	return names, nil
}

// history reads up to limit of env's rollouts, newest first, page by
// page.
func (c *apiClient) history(ctx context.Context, ref appRef, env string, limit int) (envHistory, error) {
	h := envHistory{App: ref.String(), Env: env, Rollouts: []json.RawMessage{}}
	before := ""
	for len(h.Rollouts) < limit {
		q := url.Values{"limit": {strconv.Itoa(min(limit-len(h.Rollouts), historyPage))}}
		if before != "" {
			q.Set("before", before)
		}
		var page envHistory
		if err := c.get(ctx, ref.path()+"/environments/"+url.PathEscape(env)+"/history?"+q.Encode(), &page); err != nil {
			return h, err
		}
		h.Rollouts = append(h.Rollouts, page.Rollouts...)
		h.Next = page.Next
		if page.Next == "" || len(page.Rollouts) == 0 {
			break
		}
		before = page.Next
	}
	return h, nil
}

// writeHistory draws the histories as one table.
func writeHistory(out io.Writer, histories []envHistory, t terminal) error {
	tb := &table{header: []string{"ENVIRONMENT", "REVISION", "STATE", "MODE", "STARTED", "DURATION", "NOTE"}, shrink: []int{6}, minimum: 12}
	more := false
	for _, h := range histories {
		for _, raw := range h.Rollouts {
			var e agent.HistoryEntry
			if err := json.Unmarshal(raw, &e); err != nil {
				return fmt.Errorf("reading the agent's history of %s in %s: %w", h.App, h.Env, err)
			}
			tb.add(cell{text: h.Env}, cell{text: short(e.Revision)}, cell{text: e.State, color: stateColor(e.State)},
				cell{text: mode(e)}, cell{text: when(e.Started)}, cell{text: duration(e)}, cell{text: historyNote(e)})
		}
		more = more || h.Next != ""
	}
	if len(tb.rows) == 0 {
		_, err := fmt.Fprintln(out, "No rollouts yet.")
		return err
	}
	s := tb.render(t, t.width)
	if more {
		s += "(older rollouts: raise --limit)\n"
	}
	_, err := io.WriteString(out, s)
	return err
}

// mode is the mode a rollout ran in, and the environment's strategy
// when it differs (a first deploy of a canary runs rolling).
func mode(e agent.HistoryEntry) string {
	if e.Strategy != "" && e.Strategy != e.Mode {
		return e.Mode + " (" + e.Strategy + ")"
	}
	return e.Mode
}

// duration is how long a rollout took, "" while it runs.
func duration(e agent.HistoryEntry) string {
	if e.Finished.IsZero() {
		return ""
	}
	return time.Duration(e.Duration * float64(time.Second)).Round(time.Second).String()
}

// historyNote says what else is known of a rollout: a drift correction,
// its pull request, who approved it, why it failed.
func historyNote(e agent.HistoryEntry) string {
	var parts []string
	if e.Correction {
		parts = append(parts, "drift correction")
	}
	if e.PullRequest != 0 {
		parts = append(parts, "#"+strconv.Itoa(e.PullRequest))
	}
	for _, s := range []string{e.ApprovedBy, e.Reason} {
		if s != "" {
			parts = append(parts, oneLine(s))
		}
	}
	return strings.Join(parts, "; ")
}

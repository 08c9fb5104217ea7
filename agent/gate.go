package agent

import (
	"context"
	"fmt"
	"strings"

	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/providers/github"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/sources"
	"github.com/jibe-dev/jibe/spec"
)

// Approver evaluates approval rules against the reviews of the pull
// request that brought a revision: github.Approvals.
type Approver interface {
	Evaluate(ctx context.Context, owner, repo, revision string, rule *spec.Approval) (reconcile.Verdict, error)
}

// reviewGate opens approval gates from pull-request reviews on the
// repository of the application's source.
type reviewGate struct{ a *Agent }

var _ reconcile.Gate = reviewGate{}

// Approved implements reconcile.Gate.
func (g reviewGate) Approved(ctx context.Context, app reconcile.AppID, env, revision string, rule *spec.Approval) (reconcile.Verdict, error) {
	g.a.mu.Lock()
	st := g.a.byID[app]
	g.a.mu.Unlock()
	if st == nil || st.repo == "" {
		return reconcile.Verdict{}, reconcile.Stalled(fmt.Errorf(
			"environment %s needs approval, but source %s of %s names no GitHub repository to read reviews from: set git.repository on the source", env, app.Source, app.Name))
	}
	v, err := g.a.opts.Approvals.Evaluate(ctx, st.owner, st.repo, revision, rule)
	if err == nil && !v.Approved {
		v.Reason += g.a.howToApprove(app, env, revision, rule, strings.HasPrefix(v.Reason, "waiting: no approved pull request"))
	}
	return v, err
}

// howToApprove says how the gate of env may open, after a verdict's
// reason: with no approved pull request, which pull requests and
// reviewers count; and break-glass where the configuration enables it.
func (a *Agent) howToApprove(app reconcile.AppID, env, revision string, rule *spec.Approval, noPull bool) string {
	src := a.config().Source(app.Source)
	if src == nil {
		return ""
	}
	var s string
	if noPull {
		branch := config.DefaultBranch
		if src.Git != nil && src.Git.Branch != "" {
			branch = src.Git.Branch
		}
		reviews := fmt.Sprintf("%d approving review(s) from %s (not the author's, none before its last push)", max(rule.Reviews, 1), github.Required(rule))
		if rule.AllowLaterApproval {
			s = fmt.Sprintf(": open a pull request with %s into %s; %s count", reconcile.ShortRevision(revision), branch, reviews)
		} else {
			s = fmt.Sprintf(": it reached %s without one; only a pull request merged into %s with %s counts (approval.allowLaterApproval lets one opened afterwards count)", branch, branch, reviews)
		}
	}
	if bg := src.BreakGlass; bg != nil {
		token := ""
		if len(bg.Tokens) > 0 {
			token = bg.Tokens[0]
		}
		if src.BreakGlassAllows(env, token) == nil {
			s += fmt.Sprintf("; or break-glass: jibe approve %s %s --reason ...", app, env)
		}
	}
	return s
}

// reviewSource returns src when approvals are read from reviews on its
// GitHub repository (the review gate), so that a source naming none is
// refused before its rollout waits on an approval it can never get; nil
// with another gate.
func (a *Agent) reviewSource(src *config.Source) *config.Source {
	if _, ok := a.executor.Gate.(reviewGate); ok {
		return src
	}
	return nil
}

// Hint acts on a pull request event from a webhook: a review re-evaluates
// at once the gates of every application of the repository (polling
// covers deliveries that never arrive), and an opened or updated pull
// request gets its plan preview.
func (a *Agent) Hint(h sources.Hint) {
	switch h.Kind {
	case sources.HintPullRequestReview:
		for _, key := range a.keysOfRepo(h.Repository) {
			a.queue.Add(key)
		}
	case sources.HintPullRequest:
		a.hintPull(h)
	}
}

// keysOfRepo returns the keys of the applications whose source is the
// GitHub repository "owner/name".
func (a *Agent) keysOfRepo(repository string) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var keys []string
	for key, st := range a.apps {
		if st.repo != "" && strings.EqualFold(st.owner+"/"+st.repo, repository) {
			keys = append(keys, key)
		}
	}
	return keys
}

package agent

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jibe-dev/jibe/internal/strictyaml"
	"github.com/jibe-dev/jibe/providers/github"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/sources"
	"github.com/jibe-dev/jibe/spec"
)

// PullRequestHost lists open pull requests and keeps one comment up to
// date on each: github.PullRequests.
type PullRequestHost interface {
	OpenPullRequests(ctx context.Context, owner, repo, base string) ([]github.PullRequest, error)
	// UpsertComment edits the comment holding marker in place, or
	// creates it.
	UpsertComment(ctx context.Context, owner, repo string, number int, marker, body string) error
}

// PullRequestFetcher reads what a pull request would deploy: sources.Git.
type PullRequestFetcher interface {
	PullRequest(ctx context.Context, source string, number int) (sources.Update, error)
}

// previewMarker marks the plan preview comment, so that it is found and
// edited instead of posted again.
const previewMarker = "<!-- jibe:plan-preview -->"

// pullPrefix starts the queue keys of pull request previews; application
// keys start with a source name, which cannot hold a colon.
const pullPrefix = "pull:"

// pullState is what the agent knows of one open pull request.
type pullState struct {
	source, owner, repo string
	number              int
	// head is the latest known head commit; previewed the head whose
	// preview was posted.
	head, previewed string
}

func pullKey(source string, number int) string {
	return pullPrefix + source + "#" + strconv.Itoa(number)
}

// hintPull notes a pull request event: opened or updated pull requests
// are previewed, closed ones forgotten.
func (a *Agent) hintPull(h sources.Hint) {
	for _, src := range a.config().Sources {
		owner, repo := github.Repository(&src)
		if src.Git == nil || repo == "" || !strings.EqualFold(owner+"/"+repo, h.Repository) || src.Git.Branch != h.BaseRef {
			continue
		}
		if h.Action == "closed" {
			a.forgetPull(pullKey(src.Name, h.Number))
			continue
		}
		a.notePull(src.Name, owner, repo, h.Number, h.HeadSHA)
	}
}

// notePull records a pull request's head and queues its preview when the
// head was not previewed yet.
func (a *Agent) notePull(source, owner, repo string, number int, head string) {
	key := pullKey(source, number)
	a.mu.Lock()
	ps := a.pulls[key]
	if ps == nil {
		ps = &pullState{source: source, owner: owner, repo: repo, number: number}
		a.pulls[key] = ps
	}
	ps.head = head
	due := ps.head != ps.previewed
	a.mu.Unlock()
	if due {
		a.queue.Add(key)
	}
}

func (a *Agent) forgetPull(key string) {
	a.mu.Lock()
	delete(a.pulls, key)
	a.mu.Unlock()
}

// pollPulls lists the open pull requests of every Git source on GitHub,
// for the previews of pull requests whose webhooks never arrived.
func (a *Agent) pollPulls(ctx context.Context) {
	if a.opts.PullRequests == nil || a.opts.Fetcher == nil {
		return
	}
	for _, src := range a.config().Sources {
		owner, repo := github.Repository(&src)
		if repo == "" {
			continue
		}
		prs, err := a.opts.PullRequests.OpenPullRequests(ctx, owner, repo, src.Git.Branch)
		if err != nil {
			a.log.Warn("listing open pull requests failed; previews wait for the next poll", "source", src.Name, "err", err)
			continue
		}
		open := map[string]bool{}
		for _, pr := range prs {
			open[pullKey(src.Name, pr.Number)] = true
			a.notePull(src.Name, owner, repo, pr.Number, pr.HeadSHA)
		}
		a.forgetClosed(src.Name, open)
	}
}

// forgetClosed forgets the pull requests of source that are not open.
func (a *Agent) forgetClosed(source string, open map[string]bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for key, ps := range a.pulls {
		if ps.source == source && !open[key] {
			delete(a.pulls, key)
		}
	}
}

// preview posts the plan preview of a pull request: one comment, edited in
// place on every new head, and a plan event per application on the head
// (the plan status "jibe/<app>/plan").
// Nothing is applied from a pull request.
func (a *Agent) preview(ctx context.Context, key string) error {
	a.mu.Lock()
	ps, ok := a.pulls[key]
	var p pullState
	if ok {
		p = *ps
	}
	a.mu.Unlock()
	if !ok || p.head == p.previewed || a.opts.Fetcher == nil || a.opts.PullRequests == nil {
		return nil
	}
	u, err := a.opts.Fetcher.PullRequest(ctx, p.source, p.number)
	if err != nil {
		return err
	}
	head := u.Commit.SHA
	var sections []previewSection
	for _, au := range u.Changed() {
		s, err := a.previewApp(ctx, p.source, au.Revision, head)
		if err != nil {
			return err
		}
		sections = append(sections, s)
	}
	if len(sections) > 0 {
		if err := a.opts.PullRequests.UpsertComment(ctx, p.owner, p.repo, p.number, previewMarker, previewBody(head, sections)); err != nil {
			return fmt.Errorf("posting the plan preview on pull request #%d: %w", p.number, err)
		}
	}
	for _, s := range sections {
		a.events.Emit(reconcile.Event{Kind: s.kind, App: reconcile.AppID{Source: p.source, Name: s.app}, Env: "plan", Revision: head, Message: s.summary})
	}
	a.mu.Lock()
	if ps := a.pulls[key]; ps != nil {
		ps.previewed = head
	}
	a.mu.Unlock()
	return nil
}

// previewSection is the preview of one application.
type previewSection struct {
	app string
	// kind (planned or plan-failed) and summary make the plan event.
	kind    reconcile.EventKind
	summary string
	// plan is the formatted plan; problems what must be fixed first.
	plan     string
	problems []string
}

// previewApp plans one application of a pull request against live state
// and runs the platforms' prechecks. Problems of the spec, of tenancy and
// of references are part of the preview; an error means planning must be
// retried (e.g. a platform was unreachable).
func (a *Agent) previewApp(ctx context.Context, source string, rev *sources.Revision, head string) (previewSection, error) {
	s := previewSection{app: appName(rev.App)}
	app, err := spec.LoadFS(rev.Files, rev.App, a.specOptions()...)
	if err != nil {
		s.problems = problemLines(err)
		return s.fail("invalid spec: "), nil
	}
	s.app = app.Metadata.Name
	p, deps, failed, err := plan(ctx, a.config(), source, app, a.opts.Platforms, head)
	if err == nil && len(failed) > 0 {
		err = failed[0].Err
	}
	if reconcile.PolicyOf(err) == reconcile.PolicyStall {
		s.problems = []string{stalledMessage(err)}
		return s.fail("cannot deploy: "), nil
	}
	if err != nil {
		return s, err
	}
	var b strings.Builder
	p.Format(&b)
	s.plan = b.String()
	if s.problems, err = a.precheck(ctx, deps); err != nil {
		return s, err
	}
	if len(s.problems) > 0 {
		return s.fail("precheck failed: "), nil
	}
	s.kind, s.summary = reconcile.EventPlanned, planSummary(p)
	return s, nil
}

func (s previewSection) fail(prefix string) previewSection {
	s.kind, s.summary = reconcile.EventPlanFailed, prefix+s.problems[0]
	if n := len(s.problems); n > 1 {
		s.summary += fmt.Sprintf(" (and %d more; see the pull request comment)", n-1)
	}
	return s
}

// problemLines lists the problems of an invalid spec, each with its file,
// line and field.
func problemLines(err error) []string {
	list := strictyaml.AsList(err)
	if len(list) == 0 {
		return []string{err.Error()}
	}
	out := make([]string, len(list))
	for i, p := range list {
		out[i] = p.Error()
	}
	return out
}

// precheck asks the platforms whether what the deployments refer to
// exists.
func (a *Agent) precheck(ctx context.Context, envs [][]*reconcile.Deployment) ([]string, error) {
	var out []string
	for _, deps := range envs {
		for _, d := range deps {
			pc, ok := a.opts.Platforms[d.Target.Platform()].(reconcile.Prechecker)
			if !ok {
				continue
			}
			problems, err := pc.Precheck(ctx, d)
			if err != nil {
				return nil, fmt.Errorf("prechecking %s in %s: %w", d.Target.Name, d.Env, err)
			}
			for _, p := range problems {
				out = append(out, d.Env+": "+p.String())
			}
		}
	}
	return out, nil
}

// planSummary says in one line what a plan will do, environment by
// environment.
func planSummary(p *reconcile.Plan) string {
	parts := make([]string, 0, len(p.Environments))
	for i := range p.Environments {
		e := &p.Environments[i]
		if e.InSync() {
			parts = append(parts, e.Name+": in sync")
			continue
		}
		part := fmt.Sprintf("%s: %d change(s), %s", e.Name, len(e.Changes), e.Strategy)
		for _, s := range e.Steps {
			if s.Kind == reconcile.StepAwaitApproval {
				part += ", approval"
				break
			}
		}
		parts = append(parts, part)
	}
	return strings.Join(parts, "; ")
}

// mdCode returns s as a markdown code span, on one line, delimited by
// more backticks than any run of them in s: whatever a pull request's
// author wrote in it (a folder name, a value) shows as text, never as a
// mention, link, image or HTML.
func mdCode(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	ticks := strings.Repeat("`", longestRun(s, '`')+1)
	return ticks + " " + s + " " + ticks
}

// mdFence returns a code fence longer than any run of backticks in s,
// which therefore cannot close it early.
func mdFence(s string) string {
	return strings.Repeat("`", max(3, longestRun(s, '`')+1))
}

// longestRun returns the length of the longest run of c in s.
func longestRun(s string, c byte) int {
	longest, run := 0, 0
	for i := range len(s) {
		if s[i] != c {
			run = 0
			continue
		}
		run++
		longest = max(longest, run)
	}
	return longest
}

// previewBody is the preview comment: each application's plan or what
// must be fixed first.
func previewBody(head string, sections []previewSection) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n### Jibe plan preview for %s\n\n", previewMarker, reconcile.ShortRevision(head))
	for _, s := range sections {
		mark := "✅"
		if s.kind != reconcile.EventPlanned {
			mark = "❌"
		}
		fmt.Fprintf(&b, "#### %s %s: %s\n\n", mark, mdCode(s.app), mdCode(s.summary))
		if len(s.problems) > 0 {
			b.WriteString("Fix before merging:\n\n")
			for _, p := range s.problems {
				fmt.Fprintf(&b, "- %s\n", mdCode(p))
			}
			b.WriteString("\n")
		}
		if s.plan != "" {
			fence := mdFence(s.plan)
			fmt.Fprintf(&b, "%s\n%s%s\n\n", fence, s.plan, fence)
		}
	}
	b.WriteString("Nothing is applied from a pull request: Jibe rolls the plan out once it is merged, and updates this comment on every push.\n")
	return b.String()
}

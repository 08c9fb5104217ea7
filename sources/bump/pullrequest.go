package bump

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/google/go-github/v60/github"

	"github.com/jibe-dev/jibe/reconcile"
)

// marker starts the hidden record of a bump pull request's changes in its
// body, so that a later proposal knows what it proposes.
const marker = "<!-- jibe:bump "

// bumpPull is an open pull request from a bump branch.
type bumpPull struct {
	number  int
	branch  string
	title   string
	body    string
	changes []Change
}

// openBumps lists the open pull requests from bump branches into the
// source's branch, by branch, with the changes their bodies record.
func (p *Proposer) openBumps(ctx context.Context) (map[string]*bumpPull, error) {
	opts := &github.PullRequestListOptions{State: "open", Base: p.opts.Credentials.Branch, ListOptions: github.ListOptions{PerPage: 100}}
	out := map[string]*bumpPull{}
	for {
		prs, resp, err := p.opts.GitHub.PullRequests.List(ctx, p.owner, p.repo, opts)
		if err != nil {
			return nil, p.apiError(err, "listing the open pull requests")
		}
		for _, pr := range prs {
			if b := asBump(pr); b != nil && pr.GetHead().GetRepo().GetFullName() == pr.GetBase().GetRepo().GetFullName() {
				out[b.branch] = b
			}
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

// asBump returns the pull request as a bump pull request, nil when it is
// not one Jibe opened.
func asBump(pr *github.PullRequest) *bumpPull {
	branch := pr.GetHead().GetRef()
	changes, ok := decodeRecord(pr.GetBody())
	if !strings.HasPrefix(branch, BranchPrefix) || !ok {
		return nil
	}
	return &bumpPull{number: pr.GetNumber(), branch: branch, title: pr.GetTitle(), body: pr.GetBody(), changes: changes}
}

// record is a change as the pull request body records it.
type record struct {
	App          string   `json:"app"`
	Folder       string   `json:"folder,omitempty"`
	Artifact     string   `json:"artifact"`
	Path         string   `json:"path"`
	From         string   `json:"from"`
	To           string   `json:"to"`
	Environments []string `json:"environments,omitempty"`
}

// encodeRecord writes the hidden record of changes. encoding/json escapes
// '<' and '>', so the record cannot end the HTML comment early.
func encodeRecord(changes []Change) string {
	recs := make([]record, len(changes))
	for i, c := range changes {
		recs[i] = record(c)
	}
	b, _ := json.Marshal(recs)
	return marker + string(b) + " -->"
}

// decodeRecord reads the hidden record of a body.
func decodeRecord(body string) ([]Change, bool) {
	_, rest, ok := strings.Cut(body, marker)
	if !ok {
		return nil, false
	}
	js, _, ok := strings.Cut(rest, " -->")
	var recs []record
	if !ok || json.Unmarshal([]byte(js), &recs) != nil {
		return nil, false
	}
	out := make([]Change, len(recs))
	for i, r := range recs {
		out[i] = Change(r)
	}
	return out, true
}

// sameChanges reports whether two lists propose the same values.
func sameChanges(a, b []Change) bool {
	return slices.EqualFunc(a, b, func(x, y Change) bool {
		return x.key() == y.key() && x.From == y.From && x.To == y.To && x.App == y.App && slices.Equal(x.Environments, y.Environments)
	})
}

// upsertPull updates the open pull request of branch, or opens one.
func (p *Proposer) upsertPull(ctx context.Context, branch string, pr *bumpPull, changes []Change) error {
	t, body := title(changes), pullBody(changes)
	if pr == nil {
		n, err := p.createPull(ctx, branch, t, body)
		if err != nil {
			return err
		}
		p.opts.Logger.Info("artifact bump pull request opened", "source", p.opts.Source, "branch", branch, "pull", n, "changes", len(changes))
		return nil
	}
	edit := &github.PullRequest{Title: &t, Body: &body}
	if _, _, err := p.opts.GitHub.PullRequests.Edit(ctx, p.owner, p.repo, pr.number, edit); err != nil {
		return p.apiError(err, fmt.Sprintf("updating pull request #%d", pr.number))
	}
	p.opts.Logger.Info("artifact bump pull request updated", "source", p.opts.Source, "branch", branch, "pull", pr.number, "changes", len(changes))
	return nil
}

// createPull opens the pull request of branch and returns its number.
// When one was opened meanwhile (GitHub answers 422), it is updated
// instead, so that a branch never has two.
func (p *Proposer) createPull(ctx context.Context, branch, t, body string) (int, error) {
	head, base := p.owner+":"+branch, p.opts.Credentials.Branch
	pr, _, err := p.opts.GitHub.PullRequests.Create(ctx, p.owner, p.repo, &github.NewPullRequest{Title: &t, Head: &head, Base: &base, Body: &body})
	if err == nil {
		return pr.GetNumber(), nil
	}
	if !isStatus(err, http.StatusUnprocessableEntity) {
		return 0, p.apiError(err, "opening a pull request from "+branch)
	}
	open, lerr := p.openBumps(ctx)
	if lerr != nil || open[branch] == nil {
		return 0, p.apiError(err, "opening a pull request from "+branch)
	}
	n := open[branch].number
	_, _, err = p.opts.GitHub.PullRequests.Edit(ctx, p.owner, p.repo, n, &github.PullRequest{Title: &t, Body: &body})
	return n, p.apiError(err, fmt.Sprintf("updating pull request #%d", n))
}

// closeSuperseded comments on the pull request why its changes no longer
// apply, then closes it.
func (p *Proposer) closeSuperseded(ctx context.Context, pr *bumpPull, gone []*SupersededError) error {
	text := closeComment(gone)
	if _, _, err := p.opts.GitHub.Issues.CreateComment(ctx, p.owner, p.repo, pr.number, &github.IssueComment{Body: &text}); err != nil {
		return p.apiError(err, fmt.Sprintf("commenting on pull request #%d", pr.number))
	}
	closed := "closed"
	if _, _, err := p.opts.GitHub.PullRequests.Edit(ctx, p.owner, p.repo, pr.number, &github.PullRequest{State: &closed}); err != nil {
		return p.apiError(err, fmt.Sprintf("closing pull request #%d", pr.number))
	}
	p.opts.Logger.Info("artifact bump pull request closed", "source", p.opts.Source, "branch", pr.branch, "pull", pr.number, "reason", text)
	return nil
}

// closeComment says why a bump pull request is closed.
func closeComment(gone []*SupersededError) string {
	var b strings.Builder
	b.WriteString("Jibe closes this pull request: its changes no longer apply to the branch.\n\n")
	for _, g := range gone {
		b.WriteString("- " + g.Error() + ".\n")
	}
	b.WriteString("\nA newer version found by the artifact watch opens a new pull request.\n")
	return b.String()
}

// title is the pull request's (and commit's) title.
func title(changes []Change) string {
	apps := map[string]bool{}
	for _, c := range changes {
		apps[c.App] = true
	}
	switch {
	case len(changes) == 1:
		c := changes[0]
		return fmt.Sprintf("Bump %s: %s to %s", c.App, c.Artifact, c.To)
	case len(apps) == 1:
		return fmt.Sprintf("Bump %s: %d artifacts", changes[0].App, len(changes))
	}
	return fmt.Sprintf("Bump %d artifacts of %d applications", len(changes), len(apps))
}

// pullBody lists each change: application, artifact, old and new value,
// and the environments it will reach in promotion order.
func pullBody(changes []Change) string {
	var b strings.Builder
	b.WriteString("Jibe's artifact watch found newer versions:\n\n")
	b.WriteString("| Application | Artifact | Old | New | Environments |\n|---|---|---|---|---|\n")
	for _, c := range changes {
		fmt.Fprintf(&b, "| %s | %s (`%s`) | `%s` | `%s` | %s |\n", cell(c.App), cell(c.Artifact), c.Path,
			cell(c.From), cell(c.To), cell(strings.Join(c.Environments, " → ")))
	}
	b.WriteString("\nMerging rolls the new versions out environment by environment, as any change. ")
	b.WriteString("Jibe updates this pull request when a newer version appears and closes it if the file is changed by hand.\n\n")
	b.WriteString(encodeRecord(changes) + "\n")
	return b.String()
}

// cell makes s safe in a Markdown table cell.
func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "`", "'", "\n", " ").Replace(s)
}

// apiError explains a GitHub API error: refused or hidden repositories
// need the token's pull request permission, and retrying does not help.
func (p *Proposer) apiError(err error, what string) error {
	if err == nil {
		return nil
	}
	full := p.owner + "/" + p.repo
	switch {
	case isStatus(err, http.StatusNotFound):
		return reconcile.Stalled(fmt.Errorf("bump: %s in %s: the GitHub token or app cannot see the repository; check github.token (or app) has access to it: %w", what, full, err))
	case isStatus(err, http.StatusUnauthorized), isStatus(err, http.StatusForbidden):
		return reconcile.Stalled(fmt.Errorf("bump: %s in %s: GitHub refused the request; the token needs pull requests: write (and issues: write to comment): %w", what, full, err))
	}
	return fmt.Errorf("bump: %s in %s: %w", what, full, err)
}

// isStatus reports whether err is GitHub's error answer with status code.
func isStatus(err error, code int) bool {
	var resp *github.ErrorResponse
	return errors.As(err, &resp) && resp.Response != nil && resp.Response.StatusCode == code
}

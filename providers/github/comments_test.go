package github

import (
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-github/v60/github"

	"github.com/jibe-dev/jibe/internal/githubemu"
)

const planMarker = "<!-- jibe:plan -->"

func TestUpsertComment(t *testing.T) {
	f := newReviewFixture(t)
	n := openPR(t, f)
	c := NewComments(f.client)
	upsert := func(c *Comments, body string) (int64, bool) {
		t.Helper()
		id, created, err := c.Upsert(t.Context(), "acme", "app", n, planMarker, body)
		if err != nil {
			t.Fatal(err)
		}
		return id, created
	}
	writes := func() int {
		return f.emu.CountRequests("POST", "/repos/acme/app/issues/*/comments") +
			f.emu.CountRequests("PATCH", "/repos/acme/app/issues/comments/*")
	}

	id, created := upsert(c, "plan v1")
	if !created {
		t.Fatal("first upsert did not create a comment")
	}
	if again, created := upsert(c, "plan v2"); again != id || created {
		t.Fatalf("second upsert = comment %d created %v, want %d edited", again, created, id)
	}
	assertComments(t, f, n, planMarker+"\nplan v2")

	f.emu.ResetRequests()
	if again, created := upsert(c, "plan v2"); again != id || created || len(f.emu.Requests()) != 0 {
		t.Fatalf("identical upsert = %d %v with %d requests, want no request", again, created, len(f.emu.Requests()))
	}

	fresh := NewComments(f.client) // a restarted agent: finds the comment by its marker
	if again, created := upsert(fresh, "plan v2"); again != id || created || writes() != 0 {
		t.Fatalf("restarted identical upsert = %d %v with %d writes, want the same comment untouched", again, created, writes())
	}
	f.emu.InjectFault(githubemu.Fault{Method: "PATCH", Path: "/repos/acme/app/issues/comments/*", Status: http.StatusNotFound})
	if again, created := upsert(fresh, "plan v3"); again != id || created {
		t.Fatalf("upsert after a 404 edit = %d %v, want %d found again by listing", again, created, id)
	}
	assertComments(t, f, n, planMarker+"\nplan v3")
}

func TestUpsertCommentPaginates(t *testing.T) {
	f := newReviewFixture(t)
	n := openPR(t, f)
	for range pageSize + 5 {
		body := "looks good"
		if _, _, err := f.client.Issues.CreateComment(t.Context(), "acme", "app", n, &github.IssueComment{Body: &body}); err != nil {
			t.Fatal(err)
		}
	}
	body := "plan " + planMarker
	if _, _, err := f.client.Issues.CreateComment(t.Context(), "acme", "app", n, &github.IssueComment{Body: &body}); err != nil {
		t.Fatal(err)
	}
	_, created, err := NewComments(f.client).Upsert(t.Context(), "acme", "app", n, planMarker, "plan "+planMarker)
	if err != nil || created {
		t.Fatalf("upsert = created %v, %v; want the comment on page 2 found", created, err)
	}
}

func assertComments(t *testing.T, f *reviewFixture, n int, want ...string) {
	t.Helper()
	var got []string
	for _, c := range f.emu.Comments(repoFull, n) {
		got = append(got, c.Body)
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("comments = %q, want %q", got, want)
	}
}

func TestOpenPullRequests(t *testing.T) {
	f := newReviewFixture(t)
	one, two := openPR(t, f), openPR(t, f)
	if _, err := f.emu.CreatePullRequest(t.Context(), repoFull, githubemu.NewPullRequest{
		Author: "dev", Head: "hotfix", HeadSHA: f.sha(), Base: "release",
	}); err != nil {
		t.Fatal(err)
	}
	if err := f.emu.MergePullRequest(t.Context(), repoFull, two, "bob", f.sha()); err != nil {
		t.Fatal(err)
	}
	three := openPR(t, f)
	prs, err := OpenPullRequests(t.Context(), f.client, "acme", "app", "main")
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for _, p := range prs {
		got = append(got, p.Number)
	}
	if len(got) != 2 || got[0] != three || got[1] != one {
		t.Fatalf("open PRs against main = %v, want [%d %d]", got, three, one)
	}
	want, _ := f.emu.PullRequest(repoFull, three)
	if p := prs[0]; p.HeadSHA != want.HeadSHA || p.HeadRef != want.Head || p.BaseRef != "main" || p.Author != "dev" || p.Title != want.Title {
		t.Fatalf("PR = %+v, want %+v", p, want)
	}

	f.emu.ResetRequests()
	if _, err := OpenPullRequests(t.Context(), f.client, "acme", "app", "main"); err != nil {
		t.Fatal(err)
	}
	if r := f.emu.Requests(); len(r) != 1 || r[0].Status != http.StatusNotModified {
		t.Fatalf("second listing = %+v, want one 304", r)
	}
	_, err = OpenPullRequests(t.Context(), f.client, "acme", "ghost", "main")
	if !strings.Contains(err.Error(), "cannot see repository acme/ghost") {
		t.Fatalf("listing a missing repository: %v", err)
	}
}

// A plan preview longer than GitHub's 65,536-character comment limit is cut
// to fit with a note saying so, instead of being refused with a 422; the
// marker survives so the comment is still found and edited in place.
func TestUpsertCommentTruncatesToGitHubsLimit(t *testing.T) {
	f := newReviewFixture(t)
	n := openPR(t, f)
	c := NewComments(f.client)
	huge := strings.Repeat("ü", MaxCommentBody+10)
	id, created, err := c.Upsert(t.Context(), "acme", "app", n, planMarker, huge)
	if err != nil || !created {
		t.Fatalf("upsert of a %d-character body: created %v, %v", MaxCommentBody+10, created, err)
	}
	got := f.emu.Comments(repoFull, n)
	if len(got) != 1 || utf8.RuneCountInString(got[0].Body) > MaxCommentBody ||
		!strings.HasPrefix(got[0].Body, planMarker+"\n") || !strings.HasSuffix(got[0].Body, truncatedNote) {
		t.Fatalf("stored comment: %d comments, first of %d characters; want one of at most %d starting with the marker and ending with the note",
			len(got), utf8.RuneCountInString(got[0].Body), MaxCommentBody)
	}
	if again, created, err := NewComments(f.client).Upsert(t.Context(), "acme", "app", n, planMarker, huge); err != nil || again != id || created {
		t.Fatalf("restarted upsert of the same body = %d %v %v, want comment %d untouched", again, created, err, id)
	}
	if writes := f.emu.CountRequests("PATCH", "/repos/acme/app/issues/comments/*"); writes != 0 {
		t.Fatalf("%d edits of an unchanged truncated comment, want none", writes)
	}
}

package githubemu_test

import (
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"

	"github.com/jibe-dev/jibe/internal/githubemu"
)

func TestCreateStatusValidation(t *testing.T) {
	e := setup(t, githubemu.Options{})
	c := client(t, e, botToken)
	ctx := t.Context()

	tests := []struct {
		name, state, desc, targetURL string
		field, message               string
	}{
		{"141 characters", "success", strings.Repeat("é", 141), "", "description", "description is too long (maximum is 140 characters)"},
		{"bad state", "cancelled", "", "", "state", "state is not included in the list"},
		{"non-http target", "success", "", "ftp://ci.example.com/1", "target_url", "target_url must use http(s) scheme"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &github.RepoStatus{State: &tt.state, Description: &tt.desc, Context: github.String("jibe")}
			if tt.targetURL != "" {
				st.TargetURL = &tt.targetURL
			}
			_, _, err := c.Repositories.CreateStatus(ctx, owner, repoName, shaA, st)
			er := errorResponse(t, err, 422)
			if er.Message != "Validation Failed" || len(er.Errors) != 1 {
				t.Fatalf("error body = %+v, want one Validation Failed error", er)
			}
			if got := er.Errors[0]; got.Resource != "Status" || got.Field != tt.field || got.Message != tt.message {
				t.Fatalf("error = %+v, want field %q message %q", got, tt.field, tt.message)
			}
		})
	}
	if got := e.Statuses(fullName, shaA); len(got) != 0 {
		t.Fatalf("rejected statuses were stored: %+v", got)
	}

	st, resp, err := createStatus(ctx, c, shaA, "pending", "jibe/prod", strings.Repeat("x", 140))
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("140-character description: resp %v err %v, want 201", resp, err)
	}
	if st.GetCreator().GetLogin() != "jibe-bot" || st.GetID() == 0 || st.GetCreatedAt().IsZero() {
		t.Fatalf("created status = %v, want creator jibe-bot with id and created_at", st)
	}
}

func TestCombinedStatusIsLatestPerContextCaseInsensitive(t *testing.T) {
	e := setup(t, githubemu.Options{})
	c := client(t, e, botToken)
	ctx := t.Context()

	combined := func() *github.CombinedStatus {
		t.Helper()
		cs, _, err := c.Repositories.GetCombinedStatus(ctx, owner, repoName, shaA, nil)
		if err != nil {
			t.Fatalf("combined status: %v", err)
		}
		return cs
	}
	if got := combined(); got.GetState() != "pending" || got.GetTotalCount() != 0 {
		t.Fatalf("no statuses: state %q total %d, want pending 0", got.GetState(), got.GetTotalCount())
	}
	mustCreateStatus(t, c, shaA, "success", "ci/build")
	mustCreateStatus(t, c, shaA, "pending", "jibe/prod")
	if got := combined().GetState(); got != "pending" {
		t.Fatalf("success+pending = %q, want pending", got)
	}
	mustCreateStatus(t, c, shaA, "success", "Jibe/Prod")
	cs := combined()
	if cs.GetState() != "success" || cs.GetTotalCount() != 2 {
		t.Fatalf("after Jibe/Prod success: state %q total %d, want success over 2 contexts", cs.GetState(), cs.GetTotalCount())
	}
	mustCreateStatus(t, c, shaA, "error", "CI/BUILD")
	if got := combined().GetState(); got != "failure" {
		t.Fatalf("error in one context = %q, want failure", got)
	}

	all, _, err := c.Repositories.ListStatuses(ctx, owner, repoName, shaA, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 4 || all[0].GetContext() != "CI/BUILD" || all[3].GetContext() != "ci/build" {
		t.Fatalf("list = %d statuses starting %q, want 4 newest first", len(all), all[0].GetContext())
	}
}

func TestStatusesByBranchName(t *testing.T) {
	e := setup(t, githubemu.Options{})
	c := client(t, e, botToken)
	if err := e.SetBranch(fullName, "release/v1", shaB); err != nil {
		t.Fatal(err)
	}
	mustCreateStatus(t, c, shaB, "success", "jibe")
	cs, _, err := c.Repositories.GetCombinedStatus(t.Context(), owner, repoName, "release/v1", nil)
	if err != nil || cs.GetSHA() != shaB || cs.GetState() != "success" {
		t.Fatalf("combined status of release/v1 = %v, %v; want success at %s", cs, err, shaB)
	}
	_, _, err = c.Repositories.GetCombinedStatus(t.Context(), owner, repoName, "no-such-branch", nil)
	errorResponse(t, err, 422)
}

func TestStatusCapPerSHAAndContext(t *testing.T) {
	e := setup(t, githubemu.Options{})
	c := client(t, e, botToken)
	for range 1000 {
		mustCreateStatus(t, c, shaA, "pending", "jibe/prod")
	}
	_, _, err := createStatus(t.Context(), c, shaA, "success", "JIBE/prod", "")
	er := errorResponse(t, err, 422)
	if len(er.Errors) != 1 || er.Errors[0].Message != "This SHA and context has reached the maximum number of statuses." {
		t.Fatalf("1001st status error = %+v, want GitHub's cap message", er.Errors)
	}
	mustCreateStatus(t, c, shaA, "success", "other")
	mustCreateStatus(t, c, shaB, "success", "jibe/prod")
}

func TestListStatusesPaginates(t *testing.T) {
	e := setup(t, githubemu.Options{})
	c := client(t, e, botToken)
	for range 35 {
		mustCreateStatus(t, c, shaA, "pending", "jibe")
	}
	page, resp, err := c.Repositories.ListStatuses(t.Context(), owner, repoName, shaA, nil)
	if err != nil || len(page) != 30 || resp.NextPage != 2 || resp.LastPage != 2 {
		t.Fatalf("first page: %d items next %d last %d err %v; want 30, 2, 2", len(page), resp.NextPage, resp.LastPage, err)
	}
	page, resp, err = c.Repositories.ListStatuses(t.Context(), owner, repoName, shaA, &github.ListOptions{Page: 2})
	if err != nil || len(page) != 5 || resp.NextPage != 0 {
		t.Fatalf("second page: %d items next %d err %v; want 5 and no next", len(page), resp.NextPage, err)
	}
}

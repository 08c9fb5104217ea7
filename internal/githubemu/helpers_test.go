package githubemu_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/jibe-dev/jibe/internal/githubemu"
)

const (
	owner    = "acme"
	repoName = "app"
	fullName = owner + "/" + repoName
	botToken = "ghp_jibe"
	shaA     = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	shaB     = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	shaM     = "cccccccccccccccccccccccccccccccccccccccc"
)

// newFakeClock returns a clock tests step by hand.
func newFakeClock() *clocktesting.FakeClock {
	return clocktesting.NewFakeClock(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC))
}

// setup starts an emulator with acme/app and a personal access token for
// the user "jibe-bot".
func setup(t *testing.T, opts githubemu.Options) *githubemu.Emulator {
	t.Helper()
	e := githubemu.Start(t, opts)
	if err := e.AddRepo(fullName); err != nil {
		t.Fatal(err)
	}
	e.AddToken(botToken, "jibe-bot")
	return e
}

// client returns a go-github client for the emulator using token.
func client(t *testing.T, e *githubemu.Emulator, token string) *github.Client {
	t.Helper()
	c := github.NewClient(nil).WithAuthToken(token)
	u, err := url.Parse(e.URL() + "/")
	if err != nil {
		t.Fatal(err)
	}
	c.BaseURL = u
	return c
}

// errorResponse asserts err is a *github.ErrorResponse with status.
func errorResponse(t *testing.T, err error, status int) *github.ErrorResponse {
	t.Helper()
	var er *github.ErrorResponse
	if !errors.As(err, &er) || er.Response.StatusCode != status {
		t.Fatalf("err = %v, want *github.ErrorResponse with status %d", err, status)
	}
	return er
}

// createStatus posts a status with go-github.
func createStatus(ctx context.Context, c *github.Client, sha, state, statusContext, desc string) (*github.RepoStatus, *github.Response, error) {
	return c.Repositories.CreateStatus(ctx, owner, repoName, sha, &github.RepoStatus{
		State: &state, Context: &statusContext, Description: &desc,
	})
}

func mustCreateStatus(t *testing.T, c *github.Client, sha, state, statusContext string) {
	t.Helper()
	if _, _, err := createStatus(t.Context(), c, sha, state, statusContext, ""); err != nil {
		t.Fatalf("create %s status %s: %v", statusContext, state, err)
	}
}

// rawGet performs a GET with the given Authorization header value.
func rawGet(t *testing.T, e *githubemu.Emulator, path, authorization string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, e.URL()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

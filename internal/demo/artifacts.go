package demo

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/jibe-dev/jibe/internal/githubemu"
	"github.com/jibe-dev/jibe/internal/testenv/gitserver"
	"github.com/jibe-dev/jibe/sources/bump"
)

// followPolicy is the update policy the story gives checkout's image.
const followPolicy = `update: {semver: "^1"}   # a newer 1.x image becomes a pull request`

// artifactSteps are the artifact watch's part of the story: a new image
// pushed to ECR becomes a pull request, reviewed like any change.
func (s *story) artifactSteps() []Step {
	return []Step{
		{Title: "dana lets Jibe follow checkout's 1.x releases: an update policy on its image in jibe.yaml",
			Do:     s.follow,
			Expect: []Expectation{s.status("follow", stagingStatus, githubemu.StatusSuccess, "")}},
		{Title: "CI pushes checkout 1.3.0 to ECR and calls POST /hooks/artifact: Jibe opens a pull request bumping jibe.yaml, and previews its plan",
			Do:     func(ctx context.Context) error { return s.env.pushRelease(ctx, "1.3.0") },
			Expect: []Expectation{s.env.bumpPullSeen()}},
	}
}

// follow adds the update policy under checkout's image, as dana.
func (s *story) follow(ctx context.Context) error {
	at := strings.Index(s.spec, "      image: "+repository)
	if at < 0 {
		return fmt.Errorf("checkout's jibe.yaml has no image line of %s", repository)
	}
	end := at + strings.IndexByte(s.spec[at:], '\n') + 1
	spec := s.spec[:end] + "      " + followPolicy + "\n" + s.spec[end:]
	return s.push(ctx, "follow", "dana", gitserver.Commit{Message: "Follow checkout's 1.x releases",
		Files: map[string]string{specPath: spec}})
}

// pushRelease pushes checkout's image of version to ECR and tells the
// agent, as a CI job would.
func (e *Env) pushRelease(ctx context.Context, version string) error {
	if _, err := e.AWS.PushImage(image(version), ""); err != nil {
		return err
	}
	body := `{"image": "` + image(version) + `"}`
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+e.agentAddr+"/hooks/artifact", strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("X-Jibe-Token", hookSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("POST /hooks/artifact: %s", resp.Status)
	}
	return nil
}

// bumpPullSeen expects checkout's bump pull request, opened by the agent,
// with its plan preview.
func (e *Env) bumpPullSeen() Expectation {
	branch := bump.BranchPrefix + appName
	return Expectation{
		What: "a pull request from " + branch + " with a plan preview by " + botLogin,
		Check: func(ctx context.Context) (bool, string) {
			for n := 1; ; n++ {
				pr, err := e.GitHub.PullRequest(repoName, n)
				if err != nil {
					return false, "no pull request from " + branch + " yet"
				}
				if pr.Head == branch {
					return e.commentSeen(n, appName).Check(ctx)
				}
			}
		},
	}
}

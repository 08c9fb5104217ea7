package agent

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	gh "github.com/google/go-github/v60/github"

	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/internal/awsemu/awsemutest"
	"github.com/jibe-dev/jibe/internal/githubemu"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/sources"
	"github.com/jibe-dev/jibe/sources/bump"
)

// bumpConfig is ecsConfig with the artifact watch on: the registry is
// read through the account main, on the emulator.
const bumpConfig = `apiVersion: jibe.dev/v1alpha1
kind: AgentConfig
sources:
  - name: shop
    git: {url: URL, repository: acme/shop, pollInterval: 5s}
    allow: {accounts: [main], checkHosts: ["127.0.0.1"]}
    artifactUpdates: {interval: 5m}
aws:
  accounts:
    - name: main
      accountID: "ACCOUNT"
      region: REGION
      endpoint: ENDPOINT
      credentials: {accessKeyID: {env: JIBE_BUMP_KEY}, secretAccessKey: {env: JIBE_BUMP_SECRET}}
github:
  token: {env: GITHUB_TOKEN}
`

// bumpE2E is the ECS rig with the artifact watch proposing through a real
// bump.Proposer (pushing to the Git server, opening pull requests on the
// GitHub emulator linked to it) and the real /hooks/artifact handler.
type bumpE2E struct {
	*ecsE2E
	gh     *gh.Client
	hook   *httptest.Server
	secret string
	image  string // the registry's repository, without a tag
	logs   lockedBuffer
}

func newBumpE2E(t *testing.T) *bumpE2E {
	t.Helper()
	x := newUnlinkedBumpE2E(t)
	if err := x.emu.LinkGit("acme/shop", x.repo); err != nil {
		t.Fatal(err)
	}
	return x
}

// newUnlinkedBumpE2E is newBumpE2E before the GitHub emulator is linked
// to the Git server: it knows no branch pushed over Git.
func newUnlinkedBumpE2E(t *testing.T) *bumpE2E {
	t.Helper()
	t.Setenv("JIBE_BUMP_KEY", awsemutest.AccessKey)
	t.Setenv("JIBE_BUMP_SECRET", "secret")
	x := &bumpE2E{secret: "artifact-hook-secret"}
	x.ecsE2E = newECSE2EWith(t, bumpConfig, func(h *harness, o *Options) {
		o.Logger = slog.New(slog.NewTextHandler(&x.logs, nil))
		creds, err := h.git.Credentials("shop")
		if err != nil {
			t.Fatal(err)
		}
		p, err := bump.New(bump.Options{Source: "shop", Credentials: creds, GitHub: githubClient(h.emu), Logger: o.Logger})
		if err != nil {
			t.Fatal(err)
		}
		o.Proposer = bump.BySource{"shop": p}
	})
	x.gh = githubClient(x.emu)
	for _, user := range []string{"jibe-bot", "alice"} {
		if err := x.emu.SetPermission("acme/shop", user, githubemu.PermissionWrite); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("JIBE_BUMP_HOOK_SECRET", x.secret)
	secret, err := config.SecretRef{Env: "JIBE_BUMP_HOOK_SECRET"}.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	hook, err := sources.NewWebhook(sources.WebhookOptions{Secret: secret, Trigger: x.git,
		OnArtifact: x.agent.ArtifactPushed, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	x.hook = httptest.NewServer(hook.Artifact())
	t.Cleanup(x.hook.Close)
	x.image = awsemutest.Account + ".dkr.ecr." + x.env.Region + ".amazonaws.com/shop/web"
	return x
}

// bumpSpec is the shop's jibe.yaml following semver ^1 for its image,
// with comments and a layout the bump must keep.
func (x *bumpE2E) files(tag string) map[string]string {
	files := x.ecsE2E.files(x.image + ":" + tag)
	files["apps/shop/jibe.yaml"] = strings.Replace(files["apps/shop/jibe.yaml"], "  artifacts:\n    web: {image: "+x.image+":"+tag+"}\n",
		"  # Bumped by Jibe's artifact watch.\n  artifacts:\n    web:   {image: '"+x.image+":"+tag+"',  update: {semver: \"^1\"}}   # the front end\n\n", 1)
	return files
}

// pushed pushes tag to the emulated ECR, tells the agent through POST
// /hooks/artifact, and runs the pass the hook wakes the watch for.
func (x *bumpE2E) pushed(tag string) {
	x.t.Helper()
	if _, err := x.env.Emu.PushImage(x.image+":"+tag, ""); err != nil {
		x.t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, x.hook.URL, strings.NewReader(`{"image": "`+x.image+":"+tag+`"}`))
	if err != nil {
		x.t.Fatal(err)
	}
	req.Header.Set("X-Jibe-Token", x.secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		x.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		x.t.Fatalf("POST /hooks/artifact: %s, want 202", resp.Status)
	}
	select {
	case <-x.agent.watch.now:
	default:
		x.t.Fatal("POST /hooks/artifact did not wake the artifact watch")
	}
	x.agent.artifactRound(x.t.Context())
}

// bumpPulls returns the open pull requests.
func (x *bumpE2E) openPulls() []*gh.PullRequest {
	x.t.Helper()
	prs, _, err := x.gh.PullRequests.List(x.t.Context(), "acme", "shop", &gh.PullRequestListOptions{State: "open"})
	if err != nil {
		x.t.Fatal(err)
	}
	return prs
}

// preview lets the agent find the open pull requests, as its poll does,
// and post their plan previews.
func (x *bumpE2E) preview() {
	x.agent.pollPulls(x.t.Context())
	x.drain()
}

// file returns path at rev in the Git server's repository.
func (x *bumpE2E) file(rev, path string) string {
	x.t.Helper()
	r, err := git.PlainOpen(x.repo.Dir())
	if err != nil {
		x.t.Fatal(err)
	}
	h, err := r.ResolveRevision(plumbing.Revision(rev))
	if err != nil {
		x.t.Fatal(err)
	}
	c, err := r.CommitObject(*h)
	if err != nil {
		x.t.Fatal(err)
	}
	f, err := c.File(path)
	if err != nil {
		x.t.Fatal(err)
	}
	s, err := f.Contents()
	if err != nil {
		x.t.Fatal(err)
	}
	return s
}

// serviceImage returns the image the ECS service web runs.
func (x *bumpE2E) serviceImage(ctx context.Context) string {
	x.t.Helper()
	svc, err := x.env.ECS().DescribeServices(ctx, &awsecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"web"}})
	if err != nil || len(svc.Services) != 1 {
		x.t.Fatalf("describing the service: %v", err)
	}
	td, err := x.env.ECS().DescribeTaskDefinition(ctx, &awsecs.DescribeTaskDefinitionInput{TaskDefinition: svc.Services[0].TaskDefinition})
	if err != nil {
		x.t.Fatal(err)
	}
	return aws.ToString(td.TaskDefinition.ContainerDefinitions[0].Image)
}

// Issue 19 end to end: a new image pushed to ECR, announced on POST
// /hooks/artifact, becomes a pull request editing only the image's value
// in jibe.yaml, whose plan preview appears; a newer image updates the
// same pull request; merging it (once approved: the branch is protected)
// makes a real merge commit that rolls out to ECS.
func TestE2EArtifactPushBecomesAReviewedPullRequest(t *testing.T) {
	x := newBumpE2E(t)
	ctx := t.Context()
	if _, err := x.env.Emu.PushImage(x.image+":1.0.0", ""); err != nil {
		t.Fatal(err)
	}
	v1 := x.push(x.files("1.0.0"))
	x.settle("v1 rolled out", x.ended(v1))
	if err := x.emu.SyncGit(ctx, "acme/shop"); err != nil {
		t.Fatal(err)
	}
	if err := x.emu.ProtectBranch("acme/shop", "main", githubemu.BranchProtection{RequiredApprovals: 1}); err != nil {
		t.Fatal(err)
	}
	original := x.file("main", "apps/shop/jibe.yaml")

	x.pushed("1.1.0")
	prs := x.openPulls()
	if len(prs) != 1 || prs[0].GetHead().GetRef() != bump.BranchPrefix+"shop" || prs[0].GetBase().GetRef() != "main" {
		t.Fatalf("open pull requests %+v, want one from %sshop into main", prs, bump.BranchPrefix)
	}
	n := prs[0].GetNumber()
	if body := prs[0].GetBody(); !strings.Contains(body, "1.0.0") || !strings.Contains(body, "1.1.0") || !strings.Contains(body, "production") {
		t.Errorf("pull request body lacks the versions or the environments:\n%s", body)
	}
	x.preview()
	comments := x.emu.Comments("acme/shop", n)
	if len(comments) != 1 || !strings.Contains(comments[0].Body, previewMarker) || !strings.Contains(comments[0].Body, reconcile.ShortRevision(prs[0].GetHead().GetSHA())) {
		t.Fatalf("no plan preview of the bump's head %s: %+v", prs[0].GetHead().GetSHA(), comments)
	}

	// A second image: the same pull request now proposes it.
	x.pushed("1.2.0")
	prs = x.openPulls()
	if len(prs) != 1 || prs[0].GetNumber() != n {
		t.Fatalf("after a second image: open pull requests %+v, want #%d only", prs, n)
	}
	head := prs[0].GetHead().GetSHA()
	want := strings.Replace(original, x.image+":1.0.0", x.image+":1.2.0", 1)
	if got := x.file(head, "apps/shop/jibe.yaml"); got != want {
		t.Fatalf("jibe.yaml on the bump branch:\n%s\nwant, byte for byte:\n%s", got, want)
	}
	x.preview()
	if comments := x.emu.Comments("acme/shop", n); len(comments) != 1 || !strings.Contains(comments[0].Body, reconcile.ShortRevision(head)) {
		t.Fatalf("the preview is not updated to the new head %s: %+v", head, comments)
	}

	// Review is the gate: the merge is refused until alice approves.
	if _, _, err := x.gh.PullRequests.Merge(ctx, "acme", "shop", n, "", nil); err == nil {
		t.Fatal("an unreviewed bump was merged into a protected branch")
	}
	x.review(n, "alice", githubemu.ReviewApproved, head)
	res, _, err := x.gh.PullRequests.Merge(ctx, "acme", "shop", n, "", nil)
	if err != nil || !res.GetMerged() {
		t.Fatalf("merging the approved bump: %+v, %v", res, err)
	}
	merged := x.repo.Head("main")
	if merged != res.GetSHA() {
		t.Fatalf("main is at %s, want the merge commit %s", merged, res.GetSHA())
	}
	if got := x.file(merged, "apps/shop/jibe.yaml"); got != want {
		t.Fatalf("jibe.yaml on main after the merge:\n%s\nwant:\n%s", got, want)
	}
	x.poll()
	x.settle("the bump rolled out", x.ended(merged))
	if r := x.rollout(merged); r.State != reconcile.RolloutSucceeded {
		t.Fatalf("the bump's rollout: %s (%s)", r.State, r.Reason)
	}
	if img := x.serviceImage(ctx); img != x.image+":1.2.0" {
		t.Errorf("the service runs %s, want %s:1.2.0", img, x.image)
	}

	// Merged: the watch has nothing more to propose.
	x.agent.artifactRound(ctx)
	if prs := x.openPulls(); len(prs) != 0 {
		t.Errorf("after the merge: open pull requests %+v, want none", prs)
	}
}

// A proposal that fails (here GitHub does not know the bump branch yet)
// is retried at every pass but logged once while its error lasts, with
// the error; once it succeeds, it is logged as proposed.
func TestE2EArtifactProposalFailureLoggedOnce(t *testing.T) {
	x := newUnlinkedBumpE2E(t)
	if _, err := x.env.Emu.PushImage(x.image+":1.0.0", ""); err != nil {
		t.Fatal(err)
	}
	x.push(x.files("1.0.0"))
	x.pushed("1.1.0")
	x.agent.artifactRound(t.Context())
	x.agent.artifactRound(t.Context())
	if n := strings.Count(x.logs.String(), "artifact updates not proposed"); n != 1 {
		t.Fatalf("%d warnings over three failed passes, want 1:\n%s", n, x.logs.String())
	}
	if err := x.emu.LinkGit("acme/shop", x.repo); err != nil {
		t.Fatal(err)
	}
	x.agent.artifactRound(t.Context())
	if prs := x.openPulls(); len(prs) != 1 || !strings.Contains(x.logs.String(), "artifact updates proposed") {
		t.Fatalf("after the fix: open pull requests %+v; log:\n%s", prs, x.logs.String())
	}
}

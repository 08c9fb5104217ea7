package demo

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/jibe-dev/jibe/internal/githubemu"
	"github.com/jibe-dev/jibe/internal/testenv/gitserver"
	"github.com/jibe-dev/jibe/reconcile"
)

// canaryDeadline bounds the production steps: a canary starts new tasks,
// analyses them for 20 seconds, then rolls the stable service.
const canaryDeadline = 150 * time.Second

// Status contexts of checkout.
const (
	stagingStatus    = "jibe/checkout/staging"
	productionStatus = "jibe/checkout/production"
	planStatus       = "jibe/checkout/plan"
)

// story plays the people of acme: dana ships releases, alice reviews,
// sam (acme/sre) approves production.
type story struct {
	env *Env
	obs *observer
	out *printer

	orig  string // checkout/jibe.yaml as in examples/demo
	files map[string]string
	spec  string // checkout/jibe.yaml on main
	vars  map[string]map[string]string
	// commits of the story, by name: bootstrap, gate, pr1, merge1, ...
	commits map[string]string
	slack   int // Slack messages before the current step
}

func newStory(env *Env, obs *observer, out *printer) (*story, error) {
	files, err := appFiles()
	if err != nil {
		return nil, err
	}
	s := &story{env: env, obs: obs, out: out, files: files, orig: files[specPath], commits: map[string]string{},
		vars: map[string]map[string]string{}}
	for _, a := range env.Accounts {
		s.vars[a.Name] = a.Vars
	}
	s.vars["staging"]["healthURL"] = env.HealthURL
	return s, nil
}

// steps returns the story.
func (s *story) steps() []Step {
	e := s.env
	return append([]Step{
		{Title: "dana adds checkout 1.0.0 to acme/shop: the agent deploys it to staging, then production",
			Do: s.bootstrap,
			Expect: []Expectation{
				s.status("bootstrap", stagingStatus, githubemu.StatusSuccess, ""),
				s.status("bootstrap", productionStatus, githubemu.StatusSuccess, ""),
			}},
		{Title: "sam gates production: an approval from acme/sre, and a canary that CloudWatch analysis can roll back",
			Do: s.gate,
			Expect: []Expectation{
				s.status("gate", productionStatus, githubemu.StatusSuccess, ""),
			}},
		{Title: "dana opens PR #1, checkout 1.1.0: the agent previews the plan on it",
			Do: func(ctx context.Context) error { return s.openPull(ctx, 1, "1.1.0") },
			Expect: []Expectation{
				e.commentSeen(1, appName),
				s.status("pr1", planStatus, githubemu.StatusSuccess, ""),
			}},
		{Title: "alice approves PR #1 and merges it: staging rolls out 1.1.0 and verifies it over HTTP",
			Do: func(ctx context.Context) error {
				return s.approveAndMerge(ctx, 1, "1.1.0", "alice")
			},
			Expect: []Expectation{
				s.status("merge1", stagingStatus, githubemu.StatusPending, ""),
				s.status("merge1", stagingStatus, githubemu.StatusSuccess, ""),
			}},
		{Title: "production waits for an approving review from acme/sre (alice's does not count)",
			Expect: []Expectation{s.status("merge1", productionStatus, githubemu.StatusPending, "acme/sre")}},
		{Title: "sam (acme/sre) approves PR #1: production runs the canary, CloudWatch analysis passes, 1.1.0 is promoted",
			Do:       func(ctx context.Context) error { return s.approve(ctx, 1, "sam") },
			Deadline: canaryDeadline,
			Expect: []Expectation{
				s.status("merge1", productionStatus, githubemu.StatusSuccess, ""),
				s.serving("production", "1.1.0"),
			}},
		{Title: "dana opens PR #2, checkout 1.2.0, a build that answers half of its requests with 5xx while passing health checks",
			Do: func(ctx context.Context) error {
				e.AWS.SetImageErrorRate(image("1.2.0"), 0.5)
				return s.openPull(ctx, 2, "1.2.0")
			},
			Expect: []Expectation{
				e.commentSeen(2, appName),
				s.status("pr2", planStatus, githubemu.StatusSuccess, ""),
			}},
		{Title: "alice and sam approve PR #2; alice merges it: staging passes its HTTP check",
			Do: func(ctx context.Context) error {
				if err := s.approve(ctx, 2, "sam"); err != nil {
					return err
				}
				return s.approveAndMerge(ctx, 2, "1.2.0", "alice")
			},
			Expect: []Expectation{s.status("merge2", stagingStatus, githubemu.StatusSuccess, "")}},
		{Title: "production's canary analysis sees the 5xx rate and rolls 1.2.0 back; 1.1.0 keeps serving",
			Do:       func(context.Context) error { s.slack = len(e.Slack.Messages()); return nil },
			Deadline: canaryDeadline,
			Expect: []Expectation{
				s.status("merge2", productionStatus, githubemu.StatusFailure, "rolled back"),
				e.slackSeen("of the rollback", func() int { return s.slack }, "rolled back", "rollback", "rolledBack"),
				s.serving("production", "1.1.0"),
			}},
	}, append(s.fleetSteps(), s.artifactSteps()...)...)
}

// status expects a status on the commit the story names name, once it
// exists.
func (s *story) status(name, statusContext string, state githubemu.StatusState, text string) Expectation {
	exp := Expectation{What: fmt.Sprintf("%s %s", statusContext, state)}
	if text != "" {
		exp.What += fmt.Sprintf(" naming %q", text)
	}
	exp.What += " on the " + commitLabels[name]
	exp.Check = func(ctx context.Context) (bool, string) {
		sha := s.commits[name]
		if sha == "" {
			return false, "no " + commitLabels[name] + " yet"
		}
		return s.env.statusSeen(sha, statusContext, state, text).Check(ctx)
	}
	return exp
}

// commitLabels describe the commits of the story.
var commitLabels = map[string]string{
	"bootstrap": "first commit", "gate": "gating commit",
	"pr1": "head of PR #1", "merge1": "merge of PR #1", "pr2": "head of PR #2", "merge2": "merge of PR #2",
	"fleet1": "commit adding fleet", "fleet2": "AMI bump of fleet", "follow": "commit following checkout's releases",
}

// serving expects the environment's stable service to run version with
// all of the listener's traffic.
func (s *story) serving(envName, version string) Expectation {
	var acct *account
	for _, a := range s.env.Accounts {
		if a.Name == envName {
			acct = a
		}
	}
	return Expectation{
		What: fmt.Sprintf("%s: service checkout runs %s on the blue target group with 100%% of the traffic", envName, version),
		Check: func(ctx context.Context) (bool, string) {
			seen, err := acct.serving(ctx, s.env.AWSURL)
			if err != nil {
				return false, err.Error()
			}
			return seen == fmt.Sprintf("%s, blue 100%%", image(version)), seen
		},
	}
}

// serving describes what the stable service runs and the blue target
// group's share of traffic, e.g. "…/checkout:1.1.0, blue 100%".
func (a *account) serving(ctx context.Context, url string) (string, error) {
	c := a.clients(url)
	svcs, err := c.ECS().DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(a.Name), Services: []string{appName}})
	if err != nil || len(svcs.Services) == 0 {
		return "", fmt.Errorf("no service checkout in %s: %v", a.Name, err)
	}
	td, err := c.ECS().DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: svcs.Services[0].TaskDefinition})
	if err != nil {
		return "", err
	}
	ls, err := c.ELBv2().DescribeListeners(ctx, &elbv2.DescribeListenersInput{ListenerArns: []string{a.Listener}})
	if err != nil || len(ls.Listeners) == 0 || len(ls.Listeners[0].DefaultActions) == 0 {
		return "", fmt.Errorf("no listener %s: %v", a.Listener, err)
	}
	blue := int32(0)
	if fc := ls.Listeners[0].DefaultActions[0].ForwardConfig; fc != nil {
		var total int32
		for _, tg := range fc.TargetGroups {
			total += aws.ToInt32(tg.Weight)
			if aws.ToString(tg.TargetGroupArn) == a.Blue {
				blue = aws.ToInt32(tg.Weight)
			}
		}
		if total > 0 {
			blue = blue * 100 / total
		}
	}
	return fmt.Sprintf("%s, blue %d%%", aws.ToString(td.TaskDefinition.ContainerDefinitions[0].Image), blue), nil
}

// bootstrap commits checkout 1.0.0 without production's gate, as the
// team did before SRE asked for one.
func (s *story) bootstrap(ctx context.Context) error {
	spec, err := editSpec(s.orig, specEdit{Vars: s.vars, Ungated: true})
	if err != nil {
		return err
	}
	files := map[string]string{}
	for p, c := range s.files {
		files[p] = c
	}
	files[specPath] = spec
	return s.push(ctx, "bootstrap", "dana", gitserver.Commit{Message: "Add checkout 1.0.0", Files: files})
}

// gate commits jibe.yaml as examples/demo has it: production needs
// acme/sre's approval and runs a canary.
func (s *story) gate(ctx context.Context) error {
	spec, err := editSpec(s.orig, specEdit{Vars: s.vars})
	if err != nil {
		return err
	}
	return s.push(ctx, "gate", "sam", gitserver.Commit{Message: "Gate production: acme/sre approval, canary with CloudWatch analysis",
		Files: map[string]string{specPath: spec}})
}

// push commits c to main as login and tells GitHub, whose webhook tells
// the agent.
func (s *story) push(ctx context.Context, name, login string, c gitserver.Commit) error {
	c.Author = person(login)
	sha, err := s.commit(c)
	if err != nil {
		return err
	}
	if spec, ok := c.Files[specPath]; ok {
		s.spec = spec
	}
	s.track(name, sha)
	s.out.printf("  %s pushes %s to main: %q", login, reconcile.ShortRevision(sha), c.Message)
	return s.env.GitHub.Push(ctx, repoName, githubemu.Push{Branch: gitserver.DefaultBranch, After: sha, Pusher: login,
		Commits: []githubemu.PushCommit{{SHA: sha, Message: c.Message, Author: login, Modified: slices.Sorted(maps.Keys(c.Files))}}})
}

func (s *story) track(name, sha string) {
	s.commits[name] = sha
	s.obs.track(sha)
}

func (s *story) commit(c gitserver.Commit) (string, error) {
	var sha string
	err := s.env.owner.Do(func() { sha = s.env.Repo.Commit(c) })
	return sha, err
}

func person(login string) string { return fmt.Sprintf("%s <%s@acme.example>", login, login) }

// openPull pushes a branch bumping checkout to version and opens pull
// request n from it, as dana.
func (s *story) openPull(ctx context.Context, n int, version string) error {
	spec, err := editSpec(s.spec, specEdit{Version: version})
	if err != nil {
		return err
	}
	branch := releaseBranch(version)
	title := "Bump checkout to " + version
	head, err := s.commit(gitserver.Commit{Branch: branch, Parent: s.env.Repo.Head(gitserver.DefaultBranch),
		Message: title, Author: person("dana"), Files: map[string]string{specPath: spec}})
	if err == nil {
		err = s.env.owner.Do(func() { s.env.Repo.UpdateRef(fmt.Sprintf("refs/pull/%d/head", n), head) })
	}
	if err != nil {
		return err
	}
	s.track(fmt.Sprintf("pr%d", n), head)
	s.obs.trackPull(n)
	s.out.printf("  dana pushes %s to %s and opens PR #%d %q", reconcile.ShortRevision(head), branch, n, title)
	got, err := s.env.GitHub.CreatePullRequest(ctx, repoName, githubemu.NewPullRequest{Title: title, Author: "dana",
		Head: branch, HeadSHA: head, Body: "Release " + version + " of checkout."})
	if err == nil && got != n {
		err = fmt.Errorf("GitHub numbered the pull request #%d, not #%d", got, n)
	}
	return err
}

// approve submits an approving review of pull request n by each login.
func (s *story) approve(ctx context.Context, n int, logins ...string) error {
	for _, login := range logins {
		s.out.printf("  %s approves PR #%d", login, n)
		if _, err := s.env.GitHub.SubmitReview(ctx, repoName, n, githubemu.Review{User: login,
			State: githubemu.ReviewApproved, Body: "LGTM"}); err != nil {
			return err
		}
	}
	return nil
}

// approveAndMerge approves pull request n as login, then merges it with a
// merge commit on main, as GitHub's merge button does.
func (s *story) approveAndMerge(ctx context.Context, n int, version, login string) error {
	if err := s.approve(ctx, n, login); err != nil {
		return err
	}
	pr, err := s.env.GitHub.PullRequest(repoName, n)
	if err != nil {
		return err
	}
	spec, err := editSpec(s.spec, specEdit{Version: version})
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("Merge pull request #%d from acme/%s\n\n%s", n, pr.Head, pr.Title)
	sha, err := s.commit(gitserver.Commit{Message: msg, Author: person(login), Merge: []string{pr.HeadSHA},
		Files: map[string]string{specPath: spec}})
	if err != nil {
		return err
	}
	s.spec = spec
	s.track(fmt.Sprintf("merge%d", n), sha)
	s.out.printf("  %s merges PR #%d: %s %q", login, n, reconcile.ShortRevision(sha), fmt.Sprintf("Merge pull request #%d from acme/%s", n, pr.Head))
	if err := s.env.GitHub.MergePullRequest(ctx, repoName, n, login, sha); err != nil {
		return err
	}
	return s.env.GitHub.Push(ctx, repoName, githubemu.Push{Branch: gitserver.DefaultBranch, After: sha, Pusher: login,
		Commits: []githubemu.PushCommit{{SHA: sha, Message: msg, Author: login, Modified: []string{specPath}}}})
}

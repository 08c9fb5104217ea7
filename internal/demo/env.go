package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"github.com/jibe-dev/jibe/internal/awsemu"
	"github.com/jibe-dev/jibe/internal/githubemu"
	"github.com/jibe-dev/jibe/internal/testenv/gitserver"
)

// The people and credentials of the demo.
const (
	repoName    = "acme/shop"
	botLogin    = "jibe-bot"
	githubToken = "ghp_jibedemo0000000000000000000000000000"
	gitToken    = "demo-git-token"
	hookSecret  = "demo-webhook-secret"
	sreTeam     = "sre"
)

// Env is everything the agent talks to, on loopback: the AWS emulator
// (real time), the GitHub emulator, a Git server holding acme/shop, the
// application's health endpoint and a Slack-compatible webhook receiver.
type Env struct {
	// Dir is the state directory: Git repositories, the agent's
	// configuration, secrets, journal and log.
	Dir string
	// AWS is the AWS emulator and AWSURL its endpoint.
	AWS    *awsemu.Emulator
	AWSURL string
	// GitHub is the GitHub emulator.
	GitHub *githubemu.Emulator
	// Git is the Git server and Repo the acme/shop repository on it.
	Git  *gitserver.Server
	Repo *gitserver.Repo
	// Accounts are the staging and production accounts, set up.
	Accounts []*account
	// HealthURL is the staging health endpoint the HTTP check requests.
	HealthURL string
	// Slack receives the agent's notifications.
	Slack *slackReceiver

	// quoteVars are the variables of quote-service's production,
	// pointing at what setupQuote created.
	quoteVars map[string]string
	// quoteTraffic counts what /api/quote answered.
	quoteTraffic trafficCount

	owner     *owner
	agentAddr string
	servers   []*http.Server
}

// checkTools reports what is missing to run the Git server.
func checkTools() error {
	if _, err := exec.LookPath("git"); err != nil {
		return errors.New("the demo runs a real Git server and needs the git command: install git (e.g. `sudo apt-get install git`) and run it again")
	}
	if _, err := gitserver.HTTPBackend(); err != nil {
		return fmt.Errorf("the demo's %w, then run it again", err)
	}
	return nil
}

// StartEnv starts the environment in dir. Close stops it.
func StartEnv(ctx context.Context, dir string) (*Env, error) {
	if err := checkTools(); err != nil {
		return nil, err
	}
	e := &Env{Dir: dir, owner: &owner{dir: dir}, Slack: newSlackReceiver()}
	steps := []func(context.Context) error{e.startAWS, e.startGitHub, e.startGit, e.linkGit, e.startHTTP}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			e.Close()
			return nil, err
		}
	}
	return e, nil
}

// Close stops every server of the environment.
func (e *Env) Close() {
	for _, s := range e.servers {
		_ = s.Close()
	}
	e.owner.close()
	if e.AWS != nil {
		_ = e.AWS.Close()
	}
}

// startAWS starts the AWS emulator in real time (so that CloudWatch
// timestamps agree with the agent's clock) and sets up both accounts.
func (e *Env) startAWS(ctx context.Context) error {
	e.Accounts = accounts()
	keys := map[string]string{}
	for _, a := range e.Accounts {
		keys[a.AccessKey] = a.ID
	}
	e.AWS = awsemu.New(awsemu.Options{Speed: 1, Accounts: keys})
	url, err := e.AWS.Start()
	if err != nil {
		return fmt.Errorf("starting the AWS emulator: %w", err)
	}
	e.AWSURL = url
	for _, a := range e.Accounts {
		if err := a.setup(ctx, url); err != nil {
			return err
		}
	}
	if err := e.setupQuote(ctx); err != nil {
		return err
	}
	if err := e.Accounts[0].setupFleet(ctx, e.AWS, url); err != nil {
		return err
	}
	registry := e.Accounts[0].clients(url).ECR()
	if err := pushImages(ctx, registry, appName, "1.0.0", "1.1.0", "1.2.0"); err != nil {
		return err
	}
	return pushImages(ctx, registry, quoteServiceRepo, quoteServiceVersion)
}

// startGitHub starts the GitHub emulator with acme/shop, its people and
// the agent's token: dana and alice may write, sam is in acme/sre.
func (e *Env) startGitHub(context.Context) error {
	ln, err := listen()
	if err != nil {
		return err
	}
	e.GitHub = githubemu.New(githubemu.Options{BaseURL: "http://" + ln.Addr().String()})
	e.serve(ln, e.GitHub)
	gh := e.GitHub
	gh.AddOrg("acme")
	if err := gh.AddRepo(repoName); err != nil {
		return err
	}
	gh.AddToken(githubToken, botLogin)
	for _, login := range []string{"dana", "alice", "sam", botLogin} {
		if err := gh.SetPermission(repoName, login, githubemu.PermissionWrite); err != nil {
			return err
		}
	}
	gh.AddTeamMember("acme", sreTeam, "sam", githubemu.TeamMember)
	return nil
}

// startGit starts the Git server with an empty acme/shop repository.
func (e *Env) startGit(context.Context) error {
	return e.owner.Do(func() {
		e.Git = gitserver.New(e.owner, gitserver.WithToken(gitToken))
		e.Git.CreateRepo(repoName)
		e.Repo = e.Git.Repo(repoName)
	})
}

// linkGit links acme/shop on GitHub to the Git repository, so that the
// branches the agent pushes (artifact bumps) can be pull requests.
func (e *Env) linkGit(context.Context) error {
	return e.GitHub.LinkGit(repoName, e.Repo)
}

// startHTTP starts the health endpoint and the Slack receiver.
func (e *Env) startHTTP(context.Context) error {
	ln, err := listen()
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	mux.Handle("POST /slack", e.Slack)
	e.serve(ln, mux)
	e.HealthURL = "http://" + ln.Addr().String() + "/healthz"
	e.Slack.URL = "http://" + ln.Addr().String() + "/slack"
	return nil
}

func listen() (net.Listener, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listening on loopback: %w", err)
	}
	return ln, nil
}

func (e *Env) serve(ln net.Listener, h http.Handler) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	e.servers = append(e.servers, srv)
	go func() { _ = srv.Serve(ln) }()
}

// RepoURL returns the clone URL of acme/shop, with the token when
// withToken.
func (e *Env) RepoURL(withToken bool) string {
	u := e.Repo.URL()
	if withToken {
		u = "http://x-access-token:" + gitToken + "@" + u[len("http://"):]
	}
	return u
}

// SecretsDir is where the agent's secrets are written, one file each.
func (e *Env) SecretsDir() string { return filepath.Join(e.Dir, "secrets") }

// slackReceiver is a Slack-compatible incoming webhook that keeps the
// messages it receives.
type slackReceiver struct {
	// URL is where to post.
	URL string

	mu   sync.Mutex
	msgs []string
}

func newSlackReceiver() *slackReceiver { return &slackReceiver{} }

// ServeHTTP accepts a Slack message: its text, or the text of its blocks.
func (s *slackReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var msg slackMessage
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&msg); err != nil {
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.msgs = append(s.msgs, msg.String())
	s.mu.Unlock()
	io.WriteString(w, "ok")
}

// Messages returns the messages received so far, oldest first.
func (s *slackReceiver) Messages() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.msgs...)
}

// slackMessage is the part of a Slack incoming-webhook payload the demo
// prints.
type slackMessage struct {
	Text   string `json:"text"`
	Blocks []struct {
		Text *struct {
			Text string `json:"text"`
		} `json:"text"`
		Fields []struct {
			Text string `json:"text"`
		} `json:"fields"`
	} `json:"blocks"`
	Attachments []struct {
		Text     string `json:"text"`
		Fallback string `json:"fallback"`
	} `json:"attachments"`
}

// String returns the message's text, or the text of its blocks and
// attachments when it has none.
func (m slackMessage) String() string {
	if m.Text != "" {
		return m.Text
	}
	var parts []string
	for _, b := range m.Blocks {
		if b.Text != nil {
			parts = append(parts, b.Text.Text)
		}
		for _, f := range b.Fields {
			parts = append(parts, f.Text)
		}
	}
	for _, a := range m.Attachments {
		parts = append(parts, a.Text+a.Fallback)
	}
	return joinNonEmpty(parts, " | ")
}

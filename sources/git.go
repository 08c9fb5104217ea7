package sources

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing/transport"
	"k8s.io/utils/clock"

	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/spec"
)

// Defaults of GitOptions.
const (
	DefaultPollInterval         = time.Minute
	DefaultMaxConcurrentFetches = 4
	DefaultMaxConcurrentPolls   = 32
	DefaultMaxBackoff           = 15 * time.Minute
	DefaultJitter               = 0.1
	DefaultAncestryDepth        = 1000
	DefaultPollTimeout          = 5 * time.Minute
	defaultBranch               = "main"
)

// GitOptions configures Git. Only StateDir is required.
type GitOptions struct {
	// StateDir is the agent's state directory; clones live in its "git"
	// folder, one per repository and branch.
	StateDir string
	// MaxConcurrentFetches bounds fetches running at once (polls that
	// find nothing new are not fetches). Default DefaultMaxConcurrentFetches.
	MaxConcurrentFetches int
	// MaxConcurrentPolls bounds polls running at once (each one request
	// when nothing changed), so that starting hundreds of pollers does not
	// open hundreds of connections at once. Default DefaultMaxConcurrentPolls.
	MaxConcurrentPolls int
	// MaxBackoff bounds the delay between polls of a failing repository.
	// Default DefaultMaxBackoff.
	MaxBackoff time.Duration
	// Jitter spreads poll intervals by up to ±Jitter (a fraction). Default
	// DefaultJitter; negative for none.
	Jitter float64
	// AncestryDepth is how many commits of history a poll may fetch to
	// tell a fast-forward from a force push. Default DefaultAncestryDepth.
	AncestryDepth int
	// PollTimeout bounds one poll, fetch included. Default DefaultPollTimeout.
	PollTimeout time.Duration
	// MaxFileBytes bounds each file of a revision: a larger file is
	// refused without reading its blob (config.Limits.BytesPerFile).
	// Default spec.DefaultBytesPerFile.
	MaxFileBytes int64
	// GitHubAPIURL is the GitHub API root used to mint GitHub App
	// installation tokens (config.GitHub.APIURL). Default
	// DefaultGitHubAPIURL.
	GitHubAPIURL string
	// HTTPClient calls the GitHub API. Default http.DefaultClient.
	HTTPClient *http.Client
	// Clock drives intervals and backoff. Default the wall clock.
	Clock clock.Clock
	// Logger receives poll results and errors. Default slog.Default().
	Logger *slog.Logger
}

func (o GitOptions) withDefaults() GitOptions {
	o.MaxConcurrentFetches = positive(o.MaxConcurrentFetches, DefaultMaxConcurrentFetches)
	o.MaxConcurrentPolls = positive(o.MaxConcurrentPolls, DefaultMaxConcurrentPolls)
	o.MaxBackoff = positive(o.MaxBackoff, DefaultMaxBackoff)
	o.AncestryDepth = positive(o.AncestryDepth, DefaultAncestryDepth)
	o.PollTimeout = positive(o.PollTimeout, DefaultPollTimeout)
	o.MaxFileBytes = positive(o.MaxFileBytes, spec.DefaultBytesPerFile)
	if o.Jitter == 0 {
		o.Jitter = DefaultJitter
	}
	o.GitHubAPIURL = orDefault(o.GitHubAPIURL, DefaultGitHubAPIURL)
	if o.HTTPClient == nil {
		o.HTTPClient = http.DefaultClient
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

func positive[T int | int64 | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// Git polls Git sources: one poller per repository and branch, shared by
// every source configured on it. Add the sources, then call Run (or
// PollOnce). Trigger, Status and PollOnce are safe for concurrent use.
type Git struct {
	opts    GitOptions
	env     *pollEnv
	mu      sync.Mutex
	pollers []*poller
	byKey   map[string]*poller
	tokens  map[string]*appTokens
}

// NewGit returns a Git with no sources.
func NewGit(opts GitOptions) *Git {
	opts = opts.withDefaults()
	env := &pollEnv{
		clock:         opts.Clock,
		log:           opts.Logger,
		polls:         make(chan struct{}, opts.MaxConcurrentPolls),
		fetches:       make(chan struct{}, opts.MaxConcurrentFetches),
		ancestryDepth: opts.AncestryDepth,
		pollTimeout:   opts.PollTimeout,
		maxBackoff:    opts.MaxBackoff,
		jitter:        opts.Jitter,
		maxPacks:      defaultMaxPacks,
		maxFileBytes:  opts.MaxFileBytes,
	}
	return &Git{opts: opts, env: env, byKey: map[string]*poller{}, tokens: map[string]*appTokens{}}
}

// Add registers a Git source. Sources naming the same repository URL
// (give or take a ".git" suffix) and branch share one poller, and must then use the same credentials and poll
// interval. Add must not be called once Run has started.
func (g *Git) Add(src config.Source) error {
	if src.Git == nil {
		return &ConfigError{Source: src.Name, Field: "git", Err: errors.New("not a Git source")}
	}
	filter, err := newAppFilter(src.Applications)
	if err != nil {
		err.(*ConfigError).Source = src.Name
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	p, err := g.pollerFor(src)
	if err != nil {
		return err
	}
	p.sources = append(p.sources, gitSource{name: src.Name, filter: filter})
	p.status.Sources = append(p.status.Sources, src.Name)
	return nil
}

// pollerFor returns the poller of the source's repository and branch,
// creating it if needed.
func (g *Git) pollerFor(src config.Source) (*poller, error) {
	gs := src.Git
	branch := orDefault(gs.Branch, defaultBranch)
	key := strings.TrimSuffix(strings.TrimRight(gs.URL, "/"), ".git") + "#" + branch
	interval := DefaultPollInterval
	if gs.PollInterval != nil && gs.PollInterval.Duration > 0 {
		interval = gs.PollInterval.Duration
	}
	if p := g.byKey[key]; p != nil {
		if !reflect.DeepEqual(p.creds.auth, gs.Auth) || p.interval != interval {
			return nil, &ConfigError{Source: src.Name, Field: "git", Err: fmt.Errorf("polls the same repository and branch as source %q with different credentials or poll interval", p.sources[0].name)}
		}
		return p, nil
	}
	p := g.newPoller(src.Name, gs, branch, interval)
	g.byKey[key] = p
	g.pollers = append(g.pollers, p)
	return p, nil
}

func (g *Git) newPoller(source string, gs *config.GitSource, branch string, interval time.Duration) *poller {
	dir := filepath.Join(g.opts.StateDir, "git", storeName(gs.URL, branch))
	creds := &credentials{source: source, url: gs.URL, auth: gs.Auth, knownHostsDir: dir + ".ssh"}
	if gs.Auth != nil && gs.Auth.GitHubApp != nil {
		creds.app = g.appTokens(source, *gs.Auth.GitHubApp)
	}
	return &poller{
		url: gs.URL, branch: branch, repoName: githubName(gs), store: gitStore{dir: dir, lock: new(sync.RWMutex)},
		creds: creds, interval: interval, env: g.env, trigger: make(chan struct{}, 1),
		status: Status{URL: redactURL(gs.URL), Branch: branch},
	}
}

// appTokens returns the token source of a GitHub App installation, shared
// by every repository using it.
func (g *Git) appTokens(source string, app config.GitHubApp) *appTokens {
	key := fmt.Sprintf("%d/%d", app.AppID, app.InstallationID)
	if t := g.tokens[key]; t != nil {
		return t
	}
	t := newAppTokens(source, g.opts.GitHubAPIURL, app, g.opts.HTTPClient, g.opts.Clock)
	g.tokens[key] = t
	return t
}

// storeName names a clone's folder: a hash of URL and branch.
func storeName(url, branch string) string {
	sum := sha256.Sum256([]byte(url + "\n" + branch))
	return hex.EncodeToString(sum[:12])
}

// Run polls every repository until ctx is done, sending Updates to out.
// Each repository is polled at its interval (jittered), backing off after
// failures, and at once when triggered. Run returns nil when ctx is done.
func (g *Git) Run(ctx context.Context, out chan<- Update) error {
	var wg sync.WaitGroup
	for _, p := range g.snapshot() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.run(ctx, out)
		}()
	}
	wg.Wait()
	return nil
}

// PollOnce polls every repository once, now, and returns the Updates
// found. Errors are recorded in Status, as for Run, and returned joined.
func (g *Git) PollOnce(ctx context.Context) ([]Update, error) {
	pollers := g.snapshot()
	results := make([][]Update, len(pollers))
	errs := make([]error, len(pollers))
	var wg sync.WaitGroup
	for i, p := range pollers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = p.pollAndRecord(ctx, false)
		}()
	}
	wg.Wait()
	var out []Update
	for _, r := range results {
		out = append(out, r...)
	}
	return out, errors.Join(errs...)
}

// Trigger asks for an immediate poll of the repository repo, given as a
// clone URL (https, ssh or scp-like) or a GitHub "owner/name", on branch
// (every branch when ""). Triggers arriving while a poll is pending are
// merged into it. It returns how many pollers were triggered.
func (g *Git) Trigger(repo, branch string) int {
	n := 0
	for _, p := range g.snapshot() {
		if (branch == "" || branch == p.branch) && p.matches(repo) {
			select {
			case p.trigger <- struct{}{}:
			default: // a poll is already pending
			}
			n++
		}
	}
	return n
}

// OnStatus makes f receive the status of a repository and branch after
// each of its polls, successful or not, on the polling goroutine: f must
// not block. It replaces the previous f.
func (g *Git) OnStatus(f func(Status)) { g.env.onStatus.Store(&f) }

// Status returns the status of every repository and branch polled.
func (g *Git) Status() []Status {
	pollers := g.snapshot()
	out := make([]Status, 0, len(pollers))
	for _, p := range pollers {
		out = append(out, p.currentStatus())
	}
	return out
}

func (g *Git) snapshot() []*poller {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]*poller(nil), g.pollers...)
}

// matches reports whether repo names the poller's repository.
func (p *poller) matches(repo string) bool {
	if p.repoName != "" && strings.EqualFold(repo, p.repoName) {
		return true
	}
	return repoKey(repo) == repoKey(p.url)
}

// repoKey normalizes a repository URL to "host/path" in lower case,
// without scheme, user, port, ".git" or trailing slash, so that the https
// and ssh URLs of a repository compare equal.
func repoKey(url string) string {
	ep, err := transport.NewEndpoint(url)
	if err != nil || ep.Host == "" {
		return strings.ToLower(strings.TrimSuffix(strings.Trim(url, "/"), ".git"))
	}
	p := strings.TrimSuffix(strings.Trim(ep.Path, "/"), ".git")
	return strings.ToLower(ep.Host + "/" + p)
}

// githubName returns the repository's GitHub "owner/name" in lower case:
// the configured one, or the last two segments of the URL's path.
func githubName(gs *config.GitSource) string {
	if gs.Repository != "" {
		return strings.ToLower(gs.Repository)
	}
	k := repoKey(gs.URL)
	parts := strings.Split(k, "/")
	if len(parts) < 3 {
		return ""
	}
	return strings.Join(parts[len(parts)-2:], "/")
}

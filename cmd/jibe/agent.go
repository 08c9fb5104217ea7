package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	gh "github.com/google/go-github/v60/github"
	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"

	"github.com/jibe-dev/jibe/agent"
	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/dashboard"
	"github.com/jibe-dev/jibe/internal/apimetrics"
	"github.com/jibe-dev/jibe/providers/aws/account"
	"github.com/jibe-dev/jibe/providers/aws/ecs"
	"github.com/jibe-dev/jibe/providers/aws/lambda"
	"github.com/jibe-dev/jibe/providers/checks"
	"github.com/jibe-dev/jibe/providers/github"
	"github.com/jibe-dev/jibe/providers/kubernetes"
	"github.com/jibe-dev/jibe/providers/slack"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/sources"
	"github.com/jibe-dev/jibe/spec/kubecheck"
)

// shutdownGrace bounds how long a stopping agent waits for in-flight steps
// and queued statuses.
const shutdownGrace = 30 * time.Second

func newAgentCommand() *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Run the agent: watch the sources and roll revisions out",
		Long: `Run the agent with the configuration file given by --config (or $JIBE_CONFIG).

The agent polls its Git sources (webhooks make it instant), reconciles each
application environment by environment, and reports commit statuses. It
serves /healthz, /metrics, /api/v1/applications and webhooks (/hooks/github,
/hooks/generic, /hooks/artifact) on server.listen. SIGINT or SIGTERM stops
it gracefully:
running steps finish and are journaled, queued statuses are posted, and the
next start resumes every rollout where it stopped.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if path == "" {
				return errors.New("--config is required (or set JIBE_CONFIG)")
			}
			return runAgent(cmd.Context(), path, cmd.ErrOrStderr())
		},
	}
	cmd.Flags().StringVarP(&path, "config", "c", os.Getenv("JIBE_CONFIG"), "agent configuration file")
	return cmd
}

// runAgent runs the agent until ctx is done.
func runAgent(ctx context.Context, path string, stderr io.Writer) error {
	cfg, err := config.Load(path)
	if err != nil {
		return fmt.Errorf("the agent configuration is invalid:\n%w", err)
	}
	log := newLogger(cfg.Log, stderr)
	routeLibraryLogs(log)
	if err := cfg.CheckSecrets(); err != nil {
		return fmt.Errorf("secrets the configuration names cannot be read:\n%w", err)
	}
	w, err := wire(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer w.close()
	return w.run(ctx, cfg, path, log)
}

// wiring is the agent and what runs beside it.
type wiring struct {
	agent    *agent.Agent
	journal  *reconcile.Journal
	git      *sources.Git
	reporter *github.Reporter
	notifier *slack.Notifier
	// client reads reviews and pull requests with conditional requests.
	client   *gh.Client
	kube     *kubernetes.Platform
	webhooks http.Handler
	// hookSecret signs webhook deliveries, and the marker of those relayed
	// to other agents.
	hookSecret config.Secret
	// ha is the coordination of state.kubernetes; nil without it.
	ha *highAvailability
}

func (w *wiring) close() {
	w.journal.Close()
	if w.kube != nil {
		w.kube.Close()
	}
}

// wire builds the agent from the configuration.
func wire(ctx context.Context, cfg *config.Config, log *slog.Logger) (*wiring, error) {
	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating the state directory: %w", err)
	}
	journal, ha, err := openJournal(ctx, cfg)
	if err != nil {
		return nil, err
	}
	w := &wiring{journal: journal, ha: ha}
	srcs, err := w.sources(cfg, log)
	if err == nil {
		err = w.github(cfg, log)
	}
	if err != nil {
		journal.Close()
		return nil, err
	}
	measure := checks.New(checks.Options{Prometheus: cfg.Prometheus,
		AWS: func(ctx context.Context, account, region string) (aws.Config, error) {
			return accountConfig(ctx, cfg, account, region)
		}})
	opts := agent.Options{Config: cfg, Journal: journal, Platforms: w.platforms(ctx, cfg, log), Capabilities: builtinPlatforms(), ManifestCheck: kubecheck.Check, Checks: measure,
		Sources: srcs, History: w.git, Applications: w.git, WebhookSecret: w.hookSecret, Logger: log}
	if w.git != nil {
		opts.Refresher = w.git
	}
	if ha != nil {
		ha.options(&opts)
	}
	if cfg.Notifications != nil && len(cfg.Notifications.Slack) > 0 {
		if w.notifier, err = slack.New(cfg.Notifications.Slack, slack.Options{Logger: log, Link: appLink(cfg)}); err != nil {
			journal.Close()
			return nil, err
		}
	}
	proposers, err := w.proposers(cfg, log)
	if err != nil {
		journal.Close()
		return nil, err
	}
	if proposers != nil {
		opts.Proposer = proposers
	}
	if w.reporter != nil {
		opts.Approvals = github.NewApprovals(w.client)
		opts.PullRequests = github.NewPullRequests(w.client)
		opts.Fetcher = w.git
	}
	w.agent = agent.New(opts)
	w.subscribe()
	if ha != nil {
		_ = w.agent.Register(ha.collectors(w.agent)...) // a new agent's registry: never registered twice
	}
	if err := w.agent.MigrateJournal(); err != nil {
		journal.Close()
		return nil, err
	}
	return w, nil
}

// subscribe gives the agent's events to the commit status reporter, which
// reads where statuses go from the configuration in force, and to the
// Slack notifier, and the reporter's metrics to the agent's registry. The
// agent's metrics, API and logs subscribe themselves.
func (w *wiring) subscribe() {
	if w.reporter != nil {
		w.agent.Subscribe(github.NewEventStatuses(w.reporter, github.ConfigTargets(w.agent.Config, agent.AppURL)))
		_ = w.agent.Register(w.reporter.Collectors()...) // a fresh reporter's metrics: never registered twice
	}
	if w.notifier != nil {
		w.agent.Subscribe(reconcile.SubscriberFunc(w.notifier.Notify))
	}
}

// sources builds the Git poller, the dir watchers and the webhooks.
func (w *wiring) sources(cfg *config.Config, log *slog.Logger) ([]agent.Source, error) {
	apiURL := config.DefaultGitHubAPIURL
	if cfg.GitHub != nil {
		apiURL = cfg.GitHub.APIURL
	}
	w.git = sources.NewGit(sources.GitOptions{StateDir: cfg.StateDir, GitHubAPIURL: apiURL, Logger: log, MaxFileBytes: cfg.Limits.Spec().BytesPerFile})
	srcs := []agent.Source{w.git}
	for _, s := range cfg.Sources {
		if s.Git != nil {
			if err := w.git.Add(s); err != nil {
				return nil, err
			}
			continue
		}
		d, err := sources.NewDir(s, sources.DirOptions{Logger: log})
		if err != nil {
			return nil, err
		}
		srcs = append(srcs, d)
	}
	return srcs, w.webhook(cfg, log)
}

func (w *wiring) webhook(cfg *config.Config, log *slog.Logger) error {
	if cfg.Server.WebhookSecret == nil {
		log.Info("no server.webhookSecret: webhooks are refused and changes are found by polling")
		return nil
	}
	secret, err := cfg.Server.WebhookSecret.Resolve()
	if err != nil {
		return err
	}
	w.hookSecret = secret
	// Pull request and review events reach the agent, built next; the
	// server that receives them starts after it.
	onHint := func(h sources.Hint) { w.agent.Hint(h) }
	onArtifact := func(ref string) bool { return w.agent.ArtifactPushed(ref) }
	hook, err := sources.NewWebhook(sources.WebhookOptions{Secret: secret, Trigger: w.git, OnHint: onHint, OnArtifact: onArtifact,
		MaxBodyBytes: cfg.Server.MaxWebhookBodyBytes, Logger: log})
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/hooks/github", hook.GitHub())
	mux.Handle("/hooks/generic", hook.Generic())
	mux.Handle("/hooks/artifact", hook.Artifact())
	w.webhooks = mux
	return nil
}

// github builds the status reporter and the client of approval gates and
// plan previews, authenticated with a token or as a GitHub App
// installation.
func (w *wiring) github(cfg *config.Config, log *slog.Logger) error {
	if cfg.GitHub == nil {
		log.Info("no github configuration: commit statuses are not reported, approval gates cannot open and pull requests get no plan preview")
		return nil
	}
	client, err := githubClient(cfg.GitHub)
	if err != nil {
		return err
	}
	w.client = client
	w.reporter = github.NewReporter(client, github.ReporterOptions{Logger: log})
	return nil
}

// githubClient returns a client whose GET requests are conditional, so
// that polling reviews and pull requests costs no rate limit while
// nothing changes, and whose responses' rate limits are recorded for
// /metrics (apimetrics.GitHubRate, under the cache: a 304 reports the
// limit too).
func githubClient(c *config.GitHub) (*gh.Client, error) {
	conditional := github.NewConditionalTransport(apimetrics.GitHubRate(nil), github.DefaultConditionalEntries)
	var client *gh.Client
	if c.App != nil {
		tokens := github.NewAppTokens(*c.App, c.APIURL, nil, nil)
		client = gh.NewClient(&http.Client{Transport: tokens.Transport(conditional)})
	} else {
		token, err := c.Token.Resolve()
		if err != nil {
			return nil, err
		}
		client = gh.NewClient(&http.Client{Transport: conditional}).WithAuthToken(token.Reveal())
	}
	if c.APIURL != config.DefaultGitHubAPIURL {
		base := strings.TrimSuffix(c.APIURL, "/") + "/"
		var err error
		if client, err = client.WithEnterpriseURLs(base, base); err != nil {
			return nil, fmt.Errorf("github.apiURL: %w", err)
		}
	}
	return client, nil
}

// kubernetes builds the Kubernetes platform over the configured clusters,
// or nil when there are none. A cluster whose configuration is unusable is
// logged and left out: deployments to it fail until it is fixed.
func (w *wiring) kubernetes(ctx context.Context, cfg *config.Config, log *slog.Logger) reconcile.Platform {
	if len(cfg.Kubernetes.Clusters) == 0 {
		return nil
	}
	configs := map[string]*rest.Config{}
	for _, c := range cfg.Kubernetes.Clusters {
		rc, err := kubernetes.RESTConfig(ctx, c, eksClients(cfg))
		if err != nil {
			log.Error("a cluster is unusable; deployments to it will fail until the configuration is fixed", "cluster", c.Name, "err", err)
			continue
		}
		configs[c.Name] = rc
	}
	w.kube = kubernetes.New(configs)
	w.kube.Logger = log
	return w.kube
}

// ecsPlatform deploys ECS targets through one ecs.Platform per account and
// region.
func ecsPlatform(cfg *config.Config, log *slog.Logger) reconcile.Platform {
	return perAccount(cfg, func(c aws.Config, accountID string) reconcile.Platform {
		return ecs.New(ecs.NewClients(c), ecs.Options{Logger: log, AccountID: accountID})
	})
}

// lambdaPlatform deploys Lambda targets through one lambda.Platform per
// account and region.
func lambdaPlatform(cfg *config.Config, log *slog.Logger) reconcile.Platform {
	return perAccount(cfg, func(c aws.Config, accountID string) reconcile.Platform {
		return lambda.New(lambda.NewClients(c), lambda.Options{Logger: log, AccountID: accountID})
	})
}

// perAccount routes an AWS platform's deployments to one platform per
// account and region, each built by build on first use, after the
// account's credentials are checked against its ID.
func perAccount(cfg *config.Config, build func(c aws.Config, accountID string) reconcile.Platform) reconcile.Platform {
	return &reconcile.Partitioned{
		Key: func(d *reconcile.Deployment) string { return d.Account + "/" + d.Region },
		Build: func(ctx context.Context, d *reconcile.Deployment) (reconcile.Platform, error) {
			awsCfg, err := accountConfig(ctx, cfg, d.Account, d.Region)
			if err != nil {
				return nil, err
			}
			return build(awsCfg, cfg.Account(d.Account).AccountID), nil
		},
	}
}

// accountConfig returns the checked SDK configuration of a named account.
func accountConfig(ctx context.Context, cfg *config.Config, name, region string) (aws.Config, error) {
	acct := cfg.Account(name)
	if acct == nil {
		return aws.Config{}, reconcile.Stalled(fmt.Errorf("AWS account %q is not in the agent configuration", name))
	}
	awsCfg, err := account.Config(ctx, *acct, region)
	if err != nil {
		return aws.Config{}, err
	}
	return awsCfg, account.Verify(ctx, awsCfg, *acct)
}

// appLink returns the address of an application's page, when the agent
// has an external URL.
func appLink(cfg *config.Config) func(app reconcile.AppID) string {
	return func(app reconcile.AppID) string { return agent.AppURL(cfg.Server.ExternalURL, app) }
}

// repoLinks gives the dashboard the addresses of each source's GitHub
// repository: its pages on the site of github.apiURL, and its statuses
// in the API. None without github or a repository.
func repoLinks(cfg func() *config.Config) func(source string) dashboard.RepoLinks {
	return func(source string) dashboard.RepoLinks {
		c := cfg()
		if c == nil || c.GitHub == nil {
			return dashboard.RepoLinks{}
		}
		owner, repo := github.Repository(c.Source(source))
		if repo == "" {
			return dashboard.RepoLinks{}
		}
		api := cmp.Or(c.GitHub.APIURL, "https://api.github.com/")
		api = strings.TrimSuffix(api, "/") + "/"
		site := strings.TrimSuffix(strings.TrimSuffix(api, "/"), "/api/v3")
		if site == "https://api.github.com" {
			site = "https://github.com"
		}
		return dashboard.RepoLinks{Web: site + "/" + owner + "/" + repo, Statuses: func(sha string) string {
			return api + "repos/" + owner + "/" + repo + "/commits/" + sha + "/statuses"
		}}
	}
}

// eksClients gives the Kubernetes platform the AWS clients of EKS clusters.
func eksClients(cfg *config.Config) kubernetes.AWSClients {
	return func(ctx context.Context, name, region string) (kubernetes.EKSDescriber, kubernetes.STSPresigner, error) {
		awsCfg, err := accountConfig(ctx, cfg, name, region)
		if err != nil {
			return nil, nil, err
		}
		return eks.NewFromConfig(awsCfg), sts.NewPresignClient(sts.NewFromConfig(awsCfg)), nil
	}
}

// run serves HTTP and runs the agent, the reporter and the configuration
// watch until ctx is done, then shuts down in order.
func (w *wiring) run(ctx context.Context, cfg *config.Config, path string, log *slog.Logger) error {
	pages := dashboard.New(w.agent, w.agent.Handler(w.webhooks), dashboard.Options{Logger: log, Links: repoLinks(w.agent.Config),
		Require:      func(h http.Handler) http.Handler { return w.agent.Require(agent.ScopeRead, h) },
		Write:        func(h http.Handler) http.Handler { return w.agent.Require(agent.ScopeWrite, h) },
		ViewsFor:     func(r *http.Request) dashboard.Views { return w.agent.ViewsFor(r) },
		SecureCookie: strings.HasPrefix(cfg.Server.ExternalURL, "https://")})
	srv, err := agent.NewServer(cfg.Server.Listen, pages, agent.LimitsOf(cfg.Server))
	if err != nil {
		return err
	}
	// A lost leader lease stops everything below as ctx's end does.
	ctx, lost := context.WithCancelCause(ctx)
	defer lost(nil)
	go func() {
		if err := srv.Serve(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("the HTTP server stopped", "err", err)
		}
	}()
	reporterDone := make(chan struct{})
	go func() {
		defer close(reporterDone)
		if w.reporter != nil {
			_ = w.reporter.Run(ctx)
		}
	}()
	notifierDone := make(chan struct{})
	go func() {
		defer close(notifierDone)
		if w.notifier != nil {
			_ = w.notifier.Run(ctx)
		}
	}()
	go w.watchConfig(ctx, path, log)
	coordDone := w.runCoordinator(ctx, lost, log)
	w.logStart(cfg, srv, log)
	err = w.agent.Run(ctx)
	<-coordDone
	<-notifierDone
	w.shutdown(srv, reporterDone, log)
	if cause := context.Cause(ctx); err == nil && cause != nil && !errors.Is(cause, context.Canceled) {
		err = cause
	}
	return err
}

// runCoordinator runs the coordinator of state.kubernetes, if any, until
// ctx is done; lost stops the agent when it fails (in leader mode, when
// the lease is lost). The channel is closed once it has returned, having
// released what it held.
func (w *wiring) runCoordinator(ctx context.Context, lost context.CancelCauseFunc, log *slog.Logger) <-chan struct{} {
	done := make(chan struct{})
	if w.ha == nil {
		close(done)
		return done
	}
	go func() {
		defer close(done)
		_ = w.ha.run(ctx, func(err error) { lost(err) }, log)
	}()
	return done
}

// logStart logs the agent's start: where it listens, its sources and
// where its journal is (with state.kubernetes: the mode, identity and
// namespace).
func (w *wiring) logStart(cfg *config.Config, srv *agent.Server, log *slog.Logger) {
	attrs := []any{"listen", srv.Addr().String(), "sources", len(cfg.Sources), "state_dir", cfg.StateDir}
	if k := cfg.State.Kubernetes; k != nil {
		attrs = append(attrs, "mode", w.ha.mode(), "identity", k.Identity, "namespace", k.Namespace, "lease_name", k.Name,
			"advertise_url", k.AdvertiseURL)
	}
	log.Info("agent started", attrs...)
}

// shutdown stops the server, then posts the statuses still queued.
func (w *wiring) shutdown(srv *agent.Server, reporterDone <-chan struct{}, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	_ = srv.Shutdown(ctx)
	<-reporterDone
	if w.reporter != nil {
		if err := w.reporter.Flush(ctx); err != nil {
			log.Warn("some commit statuses could not be posted before shutdown", "pending", w.reporter.Pending(), "err", err)
		}
	}
	if w.notifier != nil {
		if err := w.notifier.Flush(ctx); err != nil {
			log.Warn("some notifications could not be sent before shutdown", "err", err)
		}
	}
	log.Info("agent stopped")
}

// watchConfig puts a changed configuration in force (see
// agent.SetConfig); changes to sources, clusters and credentials wait for a
// restart, which the log says.
func (w *wiring) watchConfig(ctx context.Context, path string, log *slog.Logger) {
	err := config.Watch(ctx, path, config.WatchOptions{
		OnChange: func(c *config.Config) {
			w.agent.SetConfig(c)
			log.Info("the changed agent configuration is in force; changes to sources, clusters and credentials apply at the next start")
		},
		OnError: func(err error) {
			log.Error("the changed agent configuration is invalid; keeping the running one", "err", err)
		},
	})
	if err != nil {
		log.Error("cannot watch the agent configuration", "err", err)
	}
}

// newLogger returns the agent's logger as the configuration sets it.
func newLogger(c config.Log, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

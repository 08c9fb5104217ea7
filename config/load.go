package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/jibe-dev/jibe/internal/credential"
	"github.com/jibe-dev/jibe/internal/strictyaml"
	"github.com/jibe-dev/jibe/spec"
)

// Duration is a length of time such as "30s" or "5m".
type Duration = spec.Duration

// The defaults, in one place.
const (
	DefaultStateDir              = "/var/lib/jibe"
	DefaultListen                = ":8080"
	DefaultBranch                = "main"
	DefaultPollInterval          = time.Minute
	MinPollInterval              = 5 * time.Second
	DefaultGitHubAPIURL          = "https://api.github.com/"
	DefaultStatusContext         = "jibe/{app}/{env}"
	DefaultDriftInterval         = 5 * time.Minute
	DefaultMaxConcurrentRollouts = 4
	DefaultLogLevel              = "info"
	DefaultLogFormat             = "json"
	DefaultTokenUsername         = "x-access-token"
	// DefaultArtifactInterval and MinArtifactInterval bound
	// sources[].artifactUpdates.interval.
	DefaultArtifactInterval = 5 * time.Minute
	MinArtifactInterval     = time.Minute
)

// The defaults of the HTTP server's limits (Server).
const (
	DefaultReadHeaderTimeout     = 5 * time.Second
	DefaultReadTimeout           = 10 * time.Second
	DefaultWriteTimeout          = 30 * time.Second
	DefaultIdleTimeout           = time.Minute
	DefaultMaxConnections        = 4096
	DefaultMaxConcurrentWebhooks = 4
	DefaultMaxWebhookBodyBytes   = 25 << 20
)

// Load reads, defaults and validates the configuration file at path.
// Relative paths in it are made absolute against the file's folder. The
// error, when not nil, is a strictyaml.ErrorList with every problem.
// Secrets are not read; CheckSecrets does that.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, strictyaml.ErrorList{{File: path, Message: fmt.Sprintf("cannot read the agent configuration: %v", strictyaml.PathCause(err))}}
	}
	return Parse(path, data)
}

// Parse is Load for a file already read. path names the file in messages
// and anchors relative paths. No message quotes a value written in the
// file, which may be a secret written by mistake: problems name the field
// and its position instead.
func Parse(path string, data []byte) (*Config, error) {
	root, perr := strictyaml.Parse(path, data)
	if perr != nil {
		return nil, strictyaml.ErrorList{perr}
	}
	var c Config
	doc, errs := strictyaml.DecodeNodeWith(path, root, &c, strictyaml.Options{HideValues: true})
	if len(errs) == 0 {
		SetDefaults(&c)
		errs = validate(doc, &c)
	}
	if len(errs) > 0 {
		return nil, withoutValues(errs, root).Err()
	}
	dir, _ := filepath.Abs(filepath.Dir(path))
	c.makeAbsolute(dir)
	return &c, nil
}

// withoutValues replaces the values of the document that could be secrets
// (long ones, or ones that look like credentials) by "the value" where a
// message quotes them: a safety net under messages that already name
// fields rather than quote values. Short values are left alone, as they
// may also be words of the messages, such as field names.
func withoutValues(errs strictyaml.ErrorList, root *yaml.Node) strictyaml.ErrorList {
	values, keys := scalars(root)
	var quoted []string
	for v := range values {
		if !keys[v] && (len(v) >= minHiddenLen || credential.Looks(v)) {
			quoted = append(quoted, strconv.Quote(v))
		}
	}
	// The longest first, so that no value is replaced inside a longer one.
	slices.SortFunc(quoted, func(a, b string) int { return len(b) - len(a) })
	for _, e := range errs {
		for _, q := range quoted {
			e.Message = strings.ReplaceAll(e.Message, q, "the value")
		}
	}
	return errs
}

// minHiddenLen is the length from which withoutValues hides any value.
const minHiddenLen = 16

// scalars returns the values and the keys of the mappings under n.
func scalars(n *yaml.Node) (values, keys map[string]bool) {
	values, keys = map[string]bool{}, map[string]bool{}
	var walk func(n *yaml.Node, isKey bool)
	walk = func(n *yaml.Node, isKey bool) {
		switch {
		case n.Kind == yaml.ScalarNode && isKey:
			keys[n.Value] = true
		case n.Kind == yaml.ScalarNode && n.Value != "":
			values[n.Value] = true
		}
		for i, c := range n.Content {
			walk(c, n.Kind == yaml.MappingNode && i%2 == 0)
		}
	}
	walk(n, false)
	return values, keys
}

// SetDefaults fills every unset field that has a default.
func SetDefaults(c *Config) {
	if c.StateDir == "" {
		c.StateDir = DefaultStateDir
	}
	defaultServer(&c.Server)
	defaultKubernetesState(c.State.Kubernetes, c.Server.Listen)
	for i := range c.Sources {
		if g := c.Sources[i].Git; g != nil {
			defaultGit(g)
		}
		defaultArtifactUpdates(c.Sources[i].ArtifactUpdates)
	}
	if gh := c.GitHub; gh != nil {
		if gh.APIURL == "" {
			gh.APIURL = DefaultGitHubAPIURL
		}
		if gh.StatusContext == "" {
			gh.StatusContext = DefaultStatusContext
		}
	}
	if c.Notifications != nil {
		for i := range c.Notifications.Slack {
			if len(c.Notifications.Slack[i].Events) == 0 {
				c.Notifications.Slack[i].Events = Events
			}
		}
	}
	defaultReconcile(&c.Reconcile)
	if c.Log.Level == "" {
		c.Log.Level = DefaultLogLevel
	}
	if c.Log.Format == "" {
		c.Log.Format = DefaultLogFormat
	}
	c.protectSources()
}

func defaultServer(s *Server) {
	if s.Listen == "" {
		s.Listen = DefaultListen
	}
	defaultDuration(&s.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	defaultDuration(&s.ReadTimeout, DefaultReadTimeout)
	defaultDuration(&s.WriteTimeout, DefaultWriteTimeout)
	defaultDuration(&s.IdleTimeout, DefaultIdleTimeout)
	if s.MaxConnections == 0 {
		s.MaxConnections = DefaultMaxConnections
	}
	if s.MaxConcurrentWebhooks == 0 {
		s.MaxConcurrentWebhooks = DefaultMaxConcurrentWebhooks
	}
	if s.MaxWebhookBodyBytes == 0 {
		s.MaxWebhookBodyBytes = DefaultMaxWebhookBodyBytes
	}
}

// defaultDuration sets *d to def when it is unset.
func defaultDuration(d **Duration, def time.Duration) {
	if *d == nil {
		*d = &Duration{Duration: def}
	}
}

func defaultGit(g *GitSource) {
	if g.Branch == "" {
		g.Branch = DefaultBranch
	}
	if g.PollInterval == nil {
		g.PollInterval = &Duration{Duration: DefaultPollInterval}
	}
	if a := g.Auth; a != nil && a.Token != nil && a.Username == "" {
		a.Username = DefaultTokenUsername
	}
}

func defaultArtifactUpdates(u *ArtifactUpdates) {
	if u == nil {
		return
	}
	defaultDuration(&u.Interval, DefaultArtifactInterval)
	if u.Mode == "" {
		u.Mode = UpdatePullRequest
	}
	if u.Group == "" {
		u.Group = GroupApplication
	}
}

func defaultReconcile(r *Reconcile) {
	if r.DriftInterval == nil {
		r.DriftInterval = &Duration{Duration: DefaultDriftInterval}
	}
	if r.MaxConcurrentRollouts == 0 {
		r.MaxConcurrentRollouts = DefaultMaxConcurrentRollouts
	}
}

// makeAbsolute anchors relative paths at dir, the configuration file's
// folder, so that the agent's working directory does not matter.
func (c *Config) makeAbsolute(dir string) {
	abs := func(p *string) {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	abs(&c.StateDir)
	for _, r := range c.secretRefs() {
		r.ref.resolvePath(dir)
	}
	for i := range c.Sources {
		if d := c.Sources[i].Dir; d != nil {
			abs(&d.Path)
		}
	}
	for i := range c.Kubernetes.Clusters {
		if k := c.Kubernetes.Clusters[i].Kubeconfig; k != nil {
			abs(&k.Path)
		}
	}
}

// namedRef is a secret reference with the field that holds it.
type namedRef struct {
	field string
	ref   *SecretRef
}

// secretRefs returns every secret reference of the configuration.
func (c *Config) secretRefs() []namedRef {
	var out []namedRef
	add := func(field string, r *SecretRef) {
		if r != nil {
			out = append(out, namedRef{field, r})
		}
	}
	add("server.webhookSecret", c.Server.WebhookSecret)
	for i := range c.Server.Tokens {
		add(fmt.Sprintf("server.tokens[%d].secret", i), &c.Server.Tokens[i].Secret)
	}
	for i := range c.Sources {
		if g := c.Sources[i].Git; g != nil && g.Auth != nil {
			a, f := g.Auth, fmt.Sprintf("sources[%d].git.auth", i)
			add(f+".token", a.Token)
			add(f+".password", a.Password)
			add(f+".sshKey", a.SSHKey)
			add(f+".knownHosts", a.KnownHosts)
			if a.GitHubApp != nil {
				add(f+".githubApp.privateKey", &a.GitHubApp.PrivateKey)
			}
		}
	}
	for i := range c.AWS.Accounts {
		if cr := c.AWS.Accounts[i].Credentials; cr != nil {
			f := fmt.Sprintf("aws.accounts[%d].credentials", i)
			add(f+".accessKeyID", &cr.AccessKeyID)
			add(f+".secretAccessKey", &cr.SecretAccessKey)
			add(f+".sessionToken", cr.SessionToken)
		}
	}
	if gh := c.GitHub; gh != nil {
		add("github.token", gh.Token)
		if gh.App != nil {
			add("github.app.privateKey", &gh.App.PrivateKey)
		}
	}
	if n := c.Notifications; n != nil {
		for i := range n.Slack {
			add(fmt.Sprintf("notifications.slack[%d].url", i), &n.Slack[i].URL)
		}
	}
	for i := range c.Prometheus {
		add(fmt.Sprintf("prometheus[%d].bearerToken", i), c.Prometheus[i].BearerToken)
	}
	return out
}

// CheckSecrets reads every secret the configuration names and reports each
// one that cannot be read, by field and reference, never by value. The
// agent calls it at start-up so that a missing secret is found at once,
// not at the first deploy.
func (c *Config) CheckSecrets() error {
	var errs []error
	for _, r := range c.secretRefs() {
		if _, err := r.ref.Resolve(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", r.field, err))
		}
	}
	return errors.Join(errs...)
}

// Source returns the source named name, or nil.
func (c *Config) Source(name string) *Source {
	for i := range c.Sources {
		if c.Sources[i].Name == name {
			return &c.Sources[i]
		}
	}
	return nil
}

// Account returns the AWS account named name, or nil.
func (c *Config) Account(name string) *AWSAccount {
	for i := range c.AWS.Accounts {
		if c.AWS.Accounts[i].Name == name {
			return &c.AWS.Accounts[i]
		}
	}
	return nil
}

// Cluster returns the Kubernetes cluster named name, or nil.
func (c *Config) Cluster(name string) *Cluster {
	for i := range c.Kubernetes.Clusters {
		if c.Kubernetes.Clusters[i].Name == name {
			return &c.Kubernetes.Clusters[i]
		}
	}
	return nil
}

package config

import (
	"fmt"
	"net"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/jibe-dev/jibe/internal/strictyaml"
)

var (
	nameRE      = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	envVarRE    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	accountRE   = regexp.MustCompile(`^[0-9]{12}$`)
	regionRE    = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
	roleARNRE   = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@/-]+$`)
	scpLikeRE   = regexp.MustCompile(`^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^/].*$`)
	repoRE      = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$`)
	branchBadRE = regexp.MustCompile(`(^/|/$|\.\.|[\s~^:?*\[\\]|^refs/)`)
	// kindRE is a Kubernetes kind (a DNS-1035 label once lowercased).
	kindRE = regexp.MustCompile(`^[A-Za-z]([-A-Za-z0-9]*[A-Za-z0-9])?$`)
	// versionRE is an API version, which allow.clusterScoped does not take.
	versionRE = regexp.MustCompile(`^v[0-9]+((alpha|beta)[0-9]+)?$`)
)

type validator struct {
	doc  *strictyaml.Document
	errs strictyaml.ErrorList
}

func (v *validator) errorf(field, format string, args ...any) {
	v.errs = append(v.errs, v.doc.Errorf(field, format, args...))
}

// validate checks what the decoder cannot. c has its defaults set.
// Messages name the field (the Error carries its path and position) and
// never quote its value, which may be a secret written by mistake.
func validate(doc *strictyaml.Document, c *Config) strictyaml.ErrorList {
	v := &validator{doc: doc}
	v.server(&c.Server)
	accounts := v.accounts(c.AWS.Accounts)
	clusters := v.clusters(c.Kubernetes.Clusters, accounts)
	v.kubernetesState(c.State.Kubernetes, clusters)
	v.sources(c.Sources, accounts, clusters)
	v.freezeWindows(c.FreezeWindows, c.Sources)
	for i := range c.Sources {
		v.artifactUpdates(fmt.Sprintf("sources[%d]", i), &c.Sources[i], c.GitHub != nil)
		if bg := c.Sources[i].BreakGlass; bg != nil {
			v.breakGlass(fmt.Sprintf("sources[%d].breakGlass", i), bg, c.Server.Tokens)
		}
	}
	if c.GitHub != nil {
		v.github(c.GitHub)
	}
	if c.Notifications != nil {
		v.notifications(c.Notifications)
	}
	v.prometheus(c.Prometheus)
	v.limits(&c.Limits)
	if c.Reconcile.MaxConcurrentRollouts < 1 {
		v.errorf("reconcile.maxConcurrentRollouts", "must be at least 1")
	}
	if d := c.Reconcile.DriftInterval.Duration; d < MinPollInterval {
		v.errorf("reconcile.driftInterval", "the value is too short; use at least %s", MinPollInterval)
	}
	for _, r := range c.secretRefs() {
		v.secretRef(r.field, r.ref)
	}
	return v.errs
}

func (v *validator) name(field, name string) {
	if name != "" && !nameRE.MatchString(name) {
		v.errorf(field, "the value is not a valid name: use lowercase letters, digits and '-', starting and ending with a letter or digit")
	}
}

// unique reports a name already in seen, and adds it.
func (v *validator) unique(field, what, name string, seen map[string]bool) {
	if seen[name] {
		v.errorf(field, "another %s has the same name; give each %s its own", what, what)
	}
	seen[name] = true
}

func (v *validator) httpURL(field, raw string) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.errorf(field, "the value is not an http:// or https:// URL")
	}
}

func (v *validator) server(s *Server) {
	if _, _, err := net.SplitHostPort(s.Listen); err != nil {
		v.errorf("server.listen", "the value is not a listen address such as :8080 or 127.0.0.1:8080")
	}
	if s.ExternalURL != "" {
		v.httpURL("server.externalURL", s.ExternalURL)
	}
	for field, d := range map[string]*Duration{"readHeaderTimeout": s.ReadHeaderTimeout, "readTimeout": s.ReadTimeout,
		"writeTimeout": s.WriteTimeout, "idleTimeout": s.IdleTimeout} {
		if d.Duration <= 0 {
			v.errorf("server."+field, "must be more than 0: without a bound, a slow client holds its connection for ever")
		}
	}
	for field, n := range map[string]int64{"maxConnections": int64(s.MaxConnections),
		"maxConcurrentWebhooks": int64(s.MaxConcurrentWebhooks), "maxWebhookBodyBytes": s.MaxWebhookBodyBytes} {
		if n < 1 {
			v.errorf("server."+field, "must be at least 1")
		}
	}
	seen := map[string]bool{}
	for i, t := range s.Tokens {
		v.unique(fmt.Sprintf("server.tokens[%d].name", i), "token", t.Name, seen)
	}
}

func (v *validator) accounts(accounts []AWSAccount) map[string]bool {
	seen := map[string]bool{}
	for i, a := range accounts {
		f := fmt.Sprintf("aws.accounts[%d]", i)
		v.name(f+".name", a.Name)
		v.unique(f+".name", "account", a.Name, seen)
		if a.AccountID != "" && !accountRE.MatchString(a.AccountID) {
			v.errorf(f+".accountID", "the value is not a 12-digit AWS account ID; quote it so YAML keeps leading zeros")
		}
		if !regionRE.MatchString(a.Region) {
			v.errorf(f+".region", "the value is not an AWS region such as eu-west-1")
		}
		if a.RoleARN != "" && !roleARNRE.MatchString(a.RoleARN) {
			v.errorf(f+".roleARN", "the value is not an IAM role ARN such as arn:aws:iam::123456789012:role/jibe-deployer")
		}
		if roleARNRE.MatchString(a.RoleARN) && accountRE.MatchString(a.AccountID) && !strings.Contains(a.RoleARN, "::"+a.AccountID+":") {
			v.errorf(f+".roleARN", "the role is not in the account of %s.accountID; a role of another account would deploy there instead", f)
		}
		if a.Endpoint != "" {
			v.httpURL(f+".endpoint", a.Endpoint)
		}
	}
	return seen
}

func (v *validator) clusters(clusters []Cluster, accounts map[string]bool) map[string]bool {
	seen := map[string]bool{}
	for i, c := range clusters {
		f := fmt.Sprintf("kubernetes.clusters[%d]", i)
		v.name(f+".name", c.Name)
		v.unique(f+".name", "cluster", c.Name, seen)
		if n := count(c.Kubeconfig != nil, c.InCluster, c.EKS != nil); n != 1 {
			v.errorf(f, "set exactly one of kubeconfig, inCluster and eks")
		}
		if c.EKS != nil && !accounts[c.EKS.Account] {
			v.errorf(f+".eks.account", "the value names no account defined under aws.accounts")
		}
	}
	return seen
}

func count(set ...bool) int {
	n := 0
	for _, s := range set {
		if s {
			n++
		}
	}
	return n
}

func (v *validator) sources(sources []Source, accounts, clusters map[string]bool) {
	seen := map[string]bool{}
	for i := range sources {
		s := &sources[i]
		f := fmt.Sprintf("sources[%d]", i)
		v.name(f+".name", s.Name)
		v.unique(f+".name", "source", s.Name, seen)
		switch {
		case (s.Git == nil) == (s.Dir == nil):
			v.errorf(f, "set exactly one of git and dir")
		case s.Git != nil:
			v.git(f+".git", s.Git)
		}
		for j, g := range s.Applications {
			if _, err := path.Match(g, ""); err != nil || path.IsAbs(g) || strings.HasPrefix(path.Clean(g), "..") {
				v.errorf(fmt.Sprintf("%s.applications[%d]", f, j), "the value is not a glob of folders relative to the repository root, such as apps/*")
			}
		}
		v.tenancy(f+".allow", &s.Allow, accounts, clusters)
	}
}

// artifactUpdates checks that a source's artifact updates can be
// proposed: in Git, and through GitHub when they are pull requests.
func (v *validator) artifactUpdates(f string, s *Source, github bool) {
	u := s.ArtifactUpdates
	switch {
	case u == nil:
	case u.Interval.Duration < MinArtifactInterval:
		v.errorf(f+".artifactUpdates.interval", "the value is too short: use at least %s (POST /hooks/artifact reads at once after a push)", MinArtifactInterval)
	case s.Git == nil:
		v.errorf(f+".artifactUpdates", "artifact updates are proposed in Git, and this source is not a Git source: remove artifactUpdates or use a git source")
	case u.Mode == UpdatePullRequest && !github:
		v.errorf(f+".artifactUpdates", "artifact updates are proposed as pull requests (mode: pullRequest, the default), which needs the github settings: add github (a token or app that may write pull requests), or set mode: commit")
	}
}

func (v *validator) git(field string, g *GitSource) {
	ssh := isSSHURL(g.URL)
	u, err := url.Parse(g.URL)
	switch {
	case ssh:
	case err != nil || u.Host == "" && u.Scheme != "file" || !slices.Contains([]string{"https", "http", "file"}, u.Scheme):
		v.errorf(field+".url", "the value is not a Git URL: use https://host/org/repo.git, ssh://git@host/org/repo.git or git@host:org/repo.git")
	}
	if branchBadRE.MatchString(g.Branch) {
		v.errorf(field+".branch", "the value is not a branch name (write the branch itself, without refs/heads/)")
	}
	if d := g.PollInterval.Duration; d < MinPollInterval {
		v.errorf(field+".pollInterval", "the value is too short: use at least %s (webhooks make polling instant anyway)", MinPollInterval)
	}
	if g.Repository != "" && !repoRE.MatchString(g.Repository) {
		v.errorf(field+".repository", "the value is not owner/name")
	}
	if g.Auth != nil {
		v.gitAuth(field+".auth", g.Auth, ssh)
	}
}

func isSSHURL(u string) bool {
	return strings.HasPrefix(u, "ssh://") || scpLikeRE.MatchString(u) && !strings.Contains(u, "://")
}

func (v *validator) gitAuth(field string, a *GitAuth, ssh bool) {
	if count(a.Token != nil, a.Password != nil, a.SSHKey != nil, a.GitHubApp != nil) != 1 {
		v.errorf(field, "set exactly one of token, password, sshKey and githubApp")
		return
	}
	switch {
	case a.SSHKey != nil && !ssh:
		v.errorf(field+".sshKey", "an SSH key needs an ssh:// or git@host:path URL")
	case a.SSHKey == nil && ssh:
		v.errorf(field, "an SSH URL needs sshKey (with knownHosts)")
	case a.SSHKey != nil && a.KnownHosts == nil:
		v.errorf(field+".knownHosts", "sshKey needs knownHosts, so that the server's host key is checked")
	case a.Password != nil && a.Username == "":
		v.errorf(field+".username", "password needs username")
	}
}

func (v *validator) tenancy(field string, t *Tenancy, accounts, clusters map[string]bool) {
	for j, a := range t.Accounts {
		if !accounts[a] {
			v.errorf(fmt.Sprintf("%s.accounts[%d]", field, j), "the value names no account defined under aws.accounts")
		}
	}
	for j, c := range t.Clusters {
		if !clusters[c] {
			v.errorf(fmt.Sprintf("%s.clusters[%d]", field, j), "the value names no cluster defined under kubernetes.clusters")
		}
	}
	if len(t.Clusters) > 0 && len(t.Namespaces) == 0 {
		v.errorf(field+".namespaces", "clusters are allowed but no namespaces; list the namespaces (globs allowed) this source may deploy to")
	}
	for j, ns := range t.Namespaces {
		if _, err := path.Match(ns, ""); err != nil || strings.Contains(ns, "/") {
			v.errorf(fmt.Sprintf("%s.namespaces[%d]", field, j), "the value is not a namespace or namespace glob such as team-a-*")
		}
	}
	if len(t.ClusterScoped) > 0 && len(t.Clusters) == 0 {
		v.errorf(field+".clusterScoped", "cluster-scoped kinds are allowed but no clusters; list the clusters this source may deploy to")
	}
	for j, k := range t.ClusterScoped {
		if msg := checkKindName(k); msg != "" {
			v.errorf(fmt.Sprintf("%s.clusterScoped[%d]", field, j), "%q %s", k, msg)
		}
	}
	for j, h := range t.CheckHosts {
		if _, ok := parseCheckHost(h); !ok {
			v.errorf(fmt.Sprintf("%s.checkHosts[%d]", field, j), "the value is not a host name glob with an optional port (*.staging.acme.internal, api.acme.com:443), an IP address with an optional port (10.1.2.3, [fd00::1]:8080) or a CIDR (10.0.0.0/8)")
		}
	}
	if len(t.Accounts) == 0 && len(t.Clusters) == 0 {
		v.errorf(field, "the source may deploy nowhere; list the accounts and/or clusters (with namespaces) it may deploy to")
	}
}

// checkKindName returns what is wrong with an allow.clusterScoped entry,
// or "" when it is "*", "Kind", "group/Kind" or "group/*".
func checkKindName(entry string) string {
	const want = `is not a kind: write "Kind" for the core group (Namespace), "group/Kind" (rbac.authorization.k8s.io/ClusterRole), "group/*" or "*"`
	if entry == AllClusterScoped {
		return ""
	}
	group, kind := splitKindName(entry)
	switch {
	case strings.Count(entry, "/") > 1:
		return want + ", without the version"
	case strings.Contains(entry, "/") && (group == "" || versionRE.MatchString(group)):
		return want + "; the core group has no name: write " + kind
	case strings.Contains(entry, "/") && len(validation.IsDNS1123Subdomain(group)) > 0:
		return want + "; " + group + " is not an API group"
	case kind == "*" && group != "":
		return ""
	case !kindRE.MatchString(kind):
		return want
	}
	return ""
}

func (v *validator) github(gh *GitHub) {
	if (gh.Token == nil) == (gh.App == nil) {
		v.errorf("github", "set exactly one of token and app")
	}
	v.httpURL("github.apiURL", gh.APIURL)
	if !strings.Contains(gh.StatusContext, "{app}") || !strings.Contains(gh.StatusContext, "{env}") {
		v.errorf("github.statusContext", "the value must contain {app} and {env}, so that each application and environment has its own status")
	}
}

func (v *validator) notifications(n *Notifications) {
	seen := map[string]bool{}
	for i, s := range n.Slack {
		f := fmt.Sprintf("notifications.slack[%d]", i)
		v.unique(f+".name", "webhook", s.Name, seen)
		for j, e := range s.Events {
			if !slices.Contains(Events, e) {
				v.errorf(fmt.Sprintf("%s.events[%d]", f, j), "the value is not an event; use %s", eventList())
			}
		}
	}
}

func eventList() string {
	names := make([]string, len(Events))
	for i, e := range Events {
		names[i] = string(e)
	}
	return strings.Join(names, ", ")
}

func (v *validator) prometheus(servers []PrometheusServer) {
	seen := map[string]bool{}
	for i, p := range servers {
		f := fmt.Sprintf("prometheus[%d]", i)
		v.unique(f+".name", "prometheus server", p.Name, seen)
		v.httpURL(f+".url", p.URL)
	}
}

func (v *validator) secretRef(field string, r *SecretRef) {
	if f, msg := r.problem(field); msg != "" {
		v.errorf(f, "%s", msg)
	}
}

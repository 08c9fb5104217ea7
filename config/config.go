// Package config defines the agent configuration that operators write: the
// Git sources Jibe watches, the AWS accounts and Kubernetes clusters it may
// deploy to, GitHub settings, the HTTP server, the state directory and the
// tenancy rules that keep one team's specs out of another team's
// infrastructure.
//
// Load reads and validates a file, reporting every problem at once with
// file:line:column and field path. Secrets are never in the file: it names
// environment variables or files holding them (SecretRef), and neither
// errors nor logs ever contain their values. Watch reloads the file when it
// changes, keeping the last valid configuration.
package config

// APIVersion is the apiVersion of agent configuration files.
const APIVersion = "jibe.dev/v1alpha1"

// KindAgentConfig is the kind of agent configuration files.
const KindAgentConfig = "AgentConfig"

// Config is the agent's configuration file.
type Config struct {
	// APIVersion must be "jibe.dev/v1alpha1".
	APIVersion string `json:"apiVersion" jsonschema:"required,enum=jibe.dev/v1alpha1"`
	// Kind must be "AgentConfig".
	Kind string `json:"kind" jsonschema:"required,enum=AgentConfig"`
	// StateDir holds the rollout journal and the Git clones. Default
	// /var/lib/jibe. Relative paths are relative to the configuration file.
	StateDir string `json:"stateDir,omitempty"`
	// State keeps the rollout journal in a Kubernetes cluster instead of
	// the state directory's bbolt file, with leader election or sharding
	// between several agents. Default: the embedded journal, one agent.
	State State `json:"state,omitempty"`
	// Server is the HTTP server for webhooks, the API, the dashboard and
	// metrics.
	Server Server `json:"server,omitempty"`
	// Sources are the Git repositories (or local folders) holding
	// applications: at least one.
	Sources []Source `json:"sources" jsonschema:"required,minItems=1"`
	// AWS lists the AWS accounts applications may deploy to, by name.
	AWS AWS `json:"aws,omitempty"`
	// Kubernetes lists the clusters applications may deploy to, by name.
	Kubernetes Kubernetes `json:"kubernetes,omitempty"`
	// GitHub is where commit statuses, plan previews and approvals live.
	// Without it, statuses are not reported and approval gates cannot open.
	GitHub *GitHub `json:"github,omitempty"`
	// Notifications are sent on rollout events.
	Notifications *Notifications `json:"notifications,omitempty"`
	// Prometheus lists Prometheus servers that checks may query, by name.
	Prometheus []PrometheusServer `json:"prometheus,omitempty"`
	// Reconcile tunes the engine.
	Reconcile Reconcile `json:"reconcile,omitempty"`
	// Log configures the agent's logs.
	Log Log `json:"log,omitempty"`
	// Limits bound what one application may make the agent read and
	// render. Default: each limit's default.
	Limits Limits `json:"limits,omitempty"`
	// FreezeWindows are recurring deploy freezes, like Argo CD's sync
	// windows: while one is open, no rollout of the applications it
	// covers starts, and a running one stops before its next step. The
	// API (POST .../pause) freezes by hand.
	FreezeWindows []FreezeWindow `json:"freezeWindows,omitempty"`
}

// Server configures the agent's HTTP server.
type Server struct {
	// Listen is the address to listen on. Default ":8080".
	Listen string `json:"listen,omitempty"`
	// ExternalURL is the agent's address as users reach it; commit statuses
	// link to it.
	ExternalURL string `json:"externalURL,omitempty"`
	// WebhookSecret verifies GitHub webhook deliveries (X-Hub-Signature-256).
	// Without it, webhooks are refused and Jibe relies on polling. With
	// state.kubernetes, every agent needs the same one: it also signs the
	// mark of the deliveries they relay to each other.
	WebhookSecret *SecretRef `json:"webhookSecret,omitempty"`
	// ReadHeaderTimeout bounds the time a client may take to send a
	// request's headers. Default 5s.
	ReadHeaderTimeout *Duration `json:"readHeaderTimeout,omitempty"`
	// ReadTimeout bounds the time a client may take to send a whole
	// request, body included, however steadily it sends. GitHub itself
	// gives up on a delivery after 10s. Default 10s.
	ReadTimeout *Duration `json:"readTimeout,omitempty"`
	// WriteTimeout bounds the time from the end of a request's headers to
	// the end of its response, so that a client that does not read its
	// answer is disconnected. Default 30s.
	WriteTimeout *Duration `json:"writeTimeout,omitempty"`
	// IdleTimeout closes keep-alive connections that stay idle this long.
	// Default 1m.
	IdleTimeout *Duration `json:"idleTimeout,omitempty"`
	// MaxConnections bounds the connections open at once; further ones
	// wait in the kernel's queue until one closes. Default 4096.
	MaxConnections int `json:"maxConnections,omitempty"`
	// MaxConcurrentWebhooks bounds the webhook deliveries handled at once;
	// further ones are answered 503 with Retry-After, without their bodies
	// being read. Default 4.
	MaxConcurrentWebhooks int `json:"maxConcurrentWebhooks,omitempty"`
	// MaxWebhookBodyBytes bounds a webhook delivery's body, in bytes;
	// larger ones are answered 413. Other routes take no body. Default
	// 26214400 (25 MiB, GitHub's own cap on payloads).
	MaxWebhookBodyBytes int64 `json:"maxWebhookBodyBytes,omitempty"`
	// Tokens are the bearer tokens that may use the API (/api/v1) and the
	// dashboard, each with its scope. Webhooks (signed), /healthz and
	// /metrics need none.
	Tokens []APIToken `json:"tokens,omitempty"`
	// OpenRead lets requests without a token read (the read scope), as
	// on a private network. Default true when Tokens is empty, false
	// otherwise. Write (actions) always needs a token.
	OpenRead *bool `json:"openRead,omitempty"`
}

// ReadIsOpen reports whether requests without a token may read: OpenRead,
// or by default when no token is configured.
func (s *Server) ReadIsOpen() bool {
	if s.OpenRead != nil {
		return *s.OpenRead
	}
	return len(s.Tokens) == 0
}

// TokenScope is what a token may do.
type TokenScope string

// The scopes. Write includes read.
const (
	// ScopeRead reads the API, the live stream and the dashboard.
	ScopeRead TokenScope = "read"
	// ScopeWrite also acts: approve, retry, roll back (actions).
	ScopeWrite TokenScope = "write"
)

// APIToken is a bearer token of the API. Requests send it as
// "Authorization: Bearer <token>".
type APIToken struct {
	// Name identifies the token in logs and audit records (never the
	// token itself), e.g. "ci" or "dashboard-team-a".
	Name string `json:"name" jsonschema:"required,pattern=^[a-z0-9]([-a-z0-9]*[a-z0-9])?$,maxLength=63"`
	// Scope is read or write (write includes read).
	Scope TokenScope `json:"scope" jsonschema:"required,enum=read,enum=write"`
	// Secret is where the token is kept. Use a long random value (at
	// least 32 characters), e.g. from openssl rand -hex 32.
	Secret SecretRef `json:"secret" jsonschema:"required"`
}

// Source is a repository (or, for local development, a folder) of
// applications.
type Source struct {
	// Name identifies the source in logs, metrics and the API.
	Name string `json:"name" jsonschema:"required,pattern=^[a-z0-9]([-a-z0-9]*[a-z0-9])?$,maxLength=63"`
	// Git is a Git repository polled for new commits. Set this or Dir.
	Git *GitSource `json:"git,omitempty"`
	// Dir is a local folder watched for changes (for development). Set
	// this or Git.
	Dir *DirSource `json:"dir,omitempty"`
	// Applications are globs of folders holding a jibe.yaml, relative to
	// the repository's root, e.g. "apps/*". Default: every folder holding
	// a jibe.yaml.
	Applications []string `json:"applications,omitempty"`
	// Allow says what the source's applications may deploy to. An
	// application naming anything else is refused before anything is
	// applied.
	Allow Tenancy `json:"allow" jsonschema:"required"`
	// Prune deletes what an application runs, in every environment (the
	// last one in promotion order first), once it has left Git: a
	// successful poll at a new commit no longer has its folder or its
	// jibe.yaml. A spec that does not load, a failed poll or a restart
	// never delete anything, and a folder renamed with its application's
	// name kept only moves the application. Off by default, because a
	// deletion cannot be undone: without it, an application that left Git
	// is reported (log, API, metric, commit status) and left running.
	Prune bool `json:"prune,omitempty"`
	// ArtifactUpdates turns on the artifact watch for the source's
	// applications: the artifacts that have an update policy in their
	// jibe.yaml (spec.artifacts.<name>.update) are read every interval, in
	// the accounts of allow.accounts only, and a newer version is proposed
	// as a change of jibe.yaml. Default: off.
	ArtifactUpdates *ArtifactUpdates `json:"artifactUpdates,omitempty"`
	// BreakGlass lets API tokens approve the approval gates of some
	// environments without the reviews the approval rule wants (POST
	// .../approve, jibe approve), and promote with force past verify
	// steps and approval gates. Each use needs a reason, and is recorded
	// in the journal, the history, the commit status and a notification.
	// Default: off, so gates open only on reviews.
	BreakGlass *BreakGlass `json:"breakGlass,omitempty"`

	// protected are the namespaces no glob of Allow.Namespaces matches,
	// set by SetDefaults.
	protected protectedNamespaces
}

// BreakGlass says where and by whom approval gates may be opened without
// reviews.
type BreakGlass struct {
	// Environments are the names of the environments (globs such as
	// "prod-*") where break-glass is allowed.
	Environments []string `json:"environments" jsonschema:"required,minItems=1"`
	// Tokens are the names of the server.tokens (of scope write) that may
	// use it. Default: every token of scope write.
	Tokens []string `json:"tokens,omitempty"`
}

// ArtifactUpdates says how often a source's artifacts are read and how
// their updates are proposed.
type ArtifactUpdates struct {
	// Interval is the time between reads of a registry repository,
	// bucket prefix or image series. Applications of every source that
	// use the same one share each read. A signed POST /hooks/artifact
	// reads at once. Default 5m, at least 1m.
	Interval *Duration `json:"interval,omitempty"`
	// Mode is how an update is proposed: pullRequest (a branch and a pull
	// request, reviewed like any change) or commit (directly on the
	// source's branch). Default pullRequest, which needs the github
	// settings; either way the source must be a Git source whose
	// credentials may push.
	Mode UpdateMode `json:"mode,omitempty" jsonschema:"enum=pullRequest,enum=commit"`
	// Group is what one proposal holds: application (one branch and pull
	// request per application) or source (one for every application of
	// the source). Default application.
	Group UpdateGroup `json:"group,omitempty" jsonschema:"enum=application,enum=source"`
}

// UpdateMode is how artifact updates are proposed.
type UpdateMode string

// The update modes.
const (
	UpdatePullRequest UpdateMode = "pullRequest"
	UpdateCommit      UpdateMode = "commit"
)

// UpdateGroup is what one proposal of artifact updates holds.
type UpdateGroup string

// The update groups.
const (
	GroupApplication UpdateGroup = "application"
	GroupSource      UpdateGroup = "source"
)

// GitSource is a Git repository.
type GitSource struct {
	// URL is the repository's https:// or ssh:// URL (or scp-like
	// git@host:org/repo.git).
	URL string `json:"url" jsonschema:"required"`
	// Branch is the branch deployed. Default main.
	Branch string `json:"branch,omitempty"`
	// PollInterval is the time between polls; webhooks make it
	// instant. Default 1m, at least 5s.
	PollInterval *Duration `json:"pollInterval,omitempty"`
	// Auth is how to authenticate. Default: none (public repositories).
	Auth *GitAuth `json:"auth,omitempty"`
	// Repository is the GitHub owner/name statuses are posted to. Default:
	// taken from URL.
	Repository string `json:"repository,omitempty"`
}

// GitAuth is one way to authenticate to a Git server. Exactly one of
// Token, Password, SSHKey and GitHubApp is set.
type GitAuth struct {
	// Token is an HTTPS access token.
	Token *SecretRef `json:"token,omitempty"`
	// Username goes with Password (or Token, where the server needs a
	// user name). Default for tokens: x-access-token.
	Username string `json:"username,omitempty"`
	// Password is an HTTPS basic-auth password.
	Password *SecretRef `json:"password,omitempty"`
	// SSHKey is a PEM private key for ssh:// URLs.
	SSHKey *SecretRef `json:"sshKey,omitempty"`
	// KnownHosts is an OpenSSH known_hosts file checked against the
	// server's host key. Required with SSHKey.
	KnownHosts *SecretRef `json:"knownHosts,omitempty"`
	// GitHubApp authenticates as a GitHub App installation, minting and
	// refreshing installation tokens.
	GitHubApp *GitHubApp `json:"githubApp,omitempty"`
}

// GitHubApp identifies a GitHub App installation.
type GitHubApp struct {
	// AppID is the App's ID.
	AppID int64 `json:"appID" jsonschema:"required"`
	// InstallationID is the installation's ID.
	InstallationID int64 `json:"installationID" jsonschema:"required"`
	// PrivateKey is the App's PEM private key.
	PrivateKey SecretRef `json:"privateKey" jsonschema:"required"`
}

// DirSource is a local folder.
type DirSource struct {
	// Path is the folder. Relative paths are relative to the configuration
	// file.
	Path string `json:"path" jsonschema:"required"`
}

// Tenancy is what a source may deploy to.
type Tenancy struct {
	// Accounts are names of AWS accounts from aws.accounts.
	Accounts []string `json:"accounts,omitempty"`
	// Clusters are names of clusters from kubernetes.clusters.
	Clusters []string `json:"clusters,omitempty"`
	// Namespaces are Kubernetes namespaces, as globs such as "team-a-*".
	// Required when Clusters is set. No glob matches kube-system,
	// kube-public, kube-node-lease, the agent's own namespace in the
	// clusters it runs in, or the namespace of state.kubernetes: a source
	// may write there only when an entry names the namespace exactly.
	Namespaces []string `json:"namespaces,omitempty"`
	// ClusterScoped are the cluster-scoped kinds the source may create,
	// change and prune in its clusters, as "Kind" for the core group
	// ("Namespace"), "group/Kind" ("rbac.authorization.k8s.io/ClusterRole",
	// "apiextensions.k8s.io/CustomResourceDefinition"), "group/*" for every
	// kind of a group, or "*" for every kind. Whether a kind is
	// cluster-scoped is the cluster's answer (discovery, or the
	// CustomResourceDefinition in the application), never a list in Jibe.
	// Namespaces created this way must also match Namespaces. Default:
	// none, so a source writes only in its namespaces.
	ClusterScoped []string `json:"clusterScoped,omitempty"`
	// CheckHosts are where the source's HTTP checks (verify and canary
	// analysis) may send requests. Each entry is a host name glob with an
	// optional port ("*.staging.acme.internal", "api.acme.com:443"; "*"
	// matches any characters, dots included, and the port defaults to any),
	// an IP address with an optional port ("10.1.2.3", "10.1.2.3:8080",
	// "[fd00::1]:8080") or a CIDR without port ("10.0.0.0/8"). Name
	// entries match the names URLs are written with, address entries the
	// addresses URLs are written with and the addresses names resolve to.
	// Loopback (127.0.0.0/8, ::1), link-local and cloud metadata
	// (169.254.0.0/16, fe80::/10, fd00:ec2::254) and unspecified
	// (0.0.0.0/8, ::) addresses are reached only when an address entry
	// lists them, whatever names lead there. Default: any host outside
	// those ranges.
	CheckHosts []string `json:"checkHosts,omitempty"`
}

// AWS lists AWS accounts.
type AWS struct {
	// Accounts are the accounts, by name.
	Accounts []AWSAccount `json:"accounts,omitempty"`
}

// AWSAccount is one AWS account and default region.
type AWSAccount struct {
	// Name is how specs refer to the account (environments[].aws.account).
	Name string `json:"name" jsonschema:"required"`
	// AccountID is the 12-digit account ID. Jibe checks it against the
	// credentials' identity before deploying.
	AccountID string `json:"accountID,omitempty"`
	// Region is the default region.
	Region string `json:"region" jsonschema:"required"`
	// RoleARN is assumed (sts:AssumeRole) for every call into the account.
	RoleARN string `json:"roleARN,omitempty"`
	// ExternalID is passed to AssumeRole.
	ExternalID string `json:"externalID,omitempty"`
	// Endpoint overrides every service's endpoint, e.g. for Jibe's AWS
	// emulator (http://127.0.0.1:4566).
	Endpoint string `json:"endpoint,omitempty"`
	// Credentials are static credentials. Default: the AWS SDK's default
	// chain (environment, shared config, instance or pod role).
	Credentials *AWSCredentials `json:"credentials,omitempty"`
}

// AWSCredentials are static AWS credentials.
type AWSCredentials struct {
	// AccessKeyID is the access key ID.
	AccessKeyID SecretRef `json:"accessKeyID" jsonschema:"required"`
	// SecretAccessKey is the secret access key.
	SecretAccessKey SecretRef `json:"secretAccessKey" jsonschema:"required"`
	// SessionToken is the session token of temporary credentials.
	SessionToken *SecretRef `json:"sessionToken,omitempty"`
}

// Kubernetes lists clusters.
type Kubernetes struct {
	// Clusters are the clusters, by name.
	Clusters []Cluster `json:"clusters,omitempty"`
}

// Cluster is one Kubernetes cluster. Exactly one of Kubeconfig, InCluster
// and EKS is set.
type Cluster struct {
	// Name is how specs refer to the cluster (environments[].kubernetes.cluster).
	Name string `json:"name" jsonschema:"required"`
	// Kubeconfig is a kubeconfig file and context.
	Kubeconfig *Kubeconfig `json:"kubeconfig,omitempty"`
	// InCluster uses the agent's own service account, when it runs in
	// the cluster.
	InCluster bool `json:"inCluster,omitempty"`
	// EKS is an EKS cluster found by name, authenticated with IAM.
	EKS *EKSCluster `json:"eks,omitempty"`
}

// Kubeconfig names a kubeconfig file and context.
type Kubeconfig struct {
	// Path is the kubeconfig file. Relative paths are relative to the
	// configuration file.
	Path string `json:"path" jsonschema:"required"`
	// Context is the context to use. Default: the file's current context.
	Context string `json:"context,omitempty"`
}

// EKSCluster is an EKS cluster.
type EKSCluster struct {
	// Name is the EKS cluster's name.
	Name string `json:"name" jsonschema:"required"`
	// Account is the name of the AWS account (from aws.accounts) the
	// cluster is in.
	Account string `json:"account" jsonschema:"required"`
	// Region overrides the account's default region.
	Region string `json:"region,omitempty"`
}

// GitHub configures the GitHub API.
type GitHub struct {
	// APIURL is the REST API's base URL. Default https://api.github.com/;
	// for GitHub Enterprise Server, https://<host>/api/v3/.
	APIURL string `json:"apiURL,omitempty"`
	// Token is a personal or fine-grained access token. Set this or App.
	Token *SecretRef `json:"token,omitempty"`
	// App authenticates as a GitHub App installation. Set this or Token.
	App *GitHubApp `json:"app,omitempty"`
	// StatusContext is the commit status context; {source}, {app} and
	// {env} are replaced. Default "jibe/{app}/{env}". Sources sharing one
	// repository whose applications may have the same name need {source}.
	StatusContext string `json:"statusContext,omitempty"`
}

// Notifications configures notifications.
type Notifications struct {
	// Slack are Slack-compatible incoming webhooks.
	Slack []SlackWebhook `json:"slack,omitempty"`
}

// SlackWebhook is a Slack-compatible incoming webhook.
type SlackWebhook struct {
	// Name identifies the webhook in logs.
	Name string `json:"name" jsonschema:"required"`
	// URL is the webhook URL, which is itself a secret.
	URL SecretRef `json:"url" jsonschema:"required"`
	// Events are the events sent. Default: all.
	Events []Event `json:"events,omitempty"`
}

// Event is a rollout event that can be notified.
type Event string

// The notifiable events.
const (
	EventStarted    Event = "started"
	EventWaiting    Event = "waiting"
	EventSucceeded  Event = "succeeded"
	EventFailed     Event = "failed"
	EventRolledBack Event = "rolledBack"
	// EventDeparted: an application left Git and is left running (its
	// source does not prune).
	EventDeparted Event = "departed"
	// EventDeleted: an environment of an application that left Git was
	// deleted (its source prunes).
	EventDeleted Event = "deleted"
	// EventAction: someone acted on a rollout through the API (abort,
	// retry, promote, break-glass approval, rollback).
	EventAction Event = "action"
)

// Events lists every notifiable event.
var Events = []Event{EventStarted, EventWaiting, EventSucceeded, EventFailed, EventRolledBack, EventDeparted, EventDeleted, EventAction}

// PrometheusServer is a Prometheus-compatible query API.
type PrometheusServer struct {
	// Name is how checks refer to the server.
	Name string `json:"name" jsonschema:"required"`
	// URL is the server's base URL, e.g. http://prometheus:9090.
	URL string `json:"url" jsonschema:"required"`
	// BearerToken is sent as Authorization: Bearer.
	BearerToken *SecretRef `json:"bearerToken,omitempty"`
}

// Reconcile tunes the engine.
type Reconcile struct {
	// DriftInterval is how often live state is compared with Git. Default 5m.
	DriftInterval *Duration `json:"driftInterval,omitempty"`
	// MaxConcurrentRollouts bounds rollouts running at once. Default 4.
	MaxConcurrentRollouts int `json:"maxConcurrentRollouts,omitempty"`
}

// Log configures logging.
type Log struct {
	// Level is debug, info, warn or error. Default info.
	Level string `json:"level,omitempty" jsonschema:"enum=debug,enum=info,enum=warn,enum=error"`
	// Format is json or text. Default json.
	Format string `json:"format,omitempty" jsonschema:"enum=json,enum=text"`
}

// State says where the rollout journal lives and how several agents share
// the work.
type State struct {
	// Kubernetes keeps the journal as objects in a cluster's namespace and
	// coordinates agents with coordination.k8s.io Leases there.
	Kubernetes *KubernetesState `json:"kubernetes,omitempty"`
}

// KubernetesState is the journal in a cluster and the agents' coordination
// through Leases.
type KubernetesState struct {
	// Cluster names the cluster (from kubernetes.clusters) holding the
	// journal and the Leases. Default: the agent's own cluster
	// (in-cluster configuration).
	Cluster string `json:"cluster,omitempty"`
	// Namespace holds the journal's objects and the Leases.
	Namespace string `json:"namespace" jsonschema:"required"`
	// Name prefixes the Leases and the journal's objects, so that two
	// installations can share a namespace. Default "jibe".
	Name string `json:"name,omitempty"`
	// Identity names this agent among its replicas. Default: the
	// POD_NAME environment variable, else the host name.
	Identity string `json:"identity,omitempty"`
	// AdvertiseURL is this agent's address as its replicas reach it,
	// published on its Lease: API actions for an application it owns
	// are forwarded there, the other replicas ask it there for what only
	// it knows live of its applications (API and dashboard reads, the
	// live stream), and webhook deliveries are relayed there.
	// Default http://$POD_IP:<server.listen port>, else the host name
	// instead of the pod's address.
	AdvertiseURL string `json:"advertiseURL,omitempty"`
	// Sharding spreads applications over every live agent (consistent
	// hashing over the members' Leases) instead of electing one leader
	// that does all the work while the others stand by.
	Sharding bool `json:"sharding,omitempty"`
	// LeaseDuration is how long a Lease holds without renewal: a standby
	// takes over within it. Default 15s.
	LeaseDuration *Duration `json:"leaseDuration,omitempty"`
	// RenewDeadline is how long the holder keeps trying to renew before
	// it stops acting; shorter than LeaseDuration. Default 10s.
	RenewDeadline *Duration `json:"renewDeadline,omitempty"`
	// RetryPeriod is how often Leases are renewed and watched. Default 2s.
	RetryPeriod *Duration `json:"retryPeriod,omitempty"`
}

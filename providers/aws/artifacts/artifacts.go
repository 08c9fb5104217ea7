// Package artifacts reads what the artifact watch needs from AWS: the
// images of ECR repositories, the versions of S3 objects and series of
// AMIs, each read once per interval however many applications (of however
// many sources) use it, in accounts the source is allowed only; and it
// turns each artifact's update policy (spec.UpdatePolicy) and what was
// read into the changes to propose (bump.Change).
package artifacts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"k8s.io/utils/clock"

	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/providers/aws/account"
	"github.com/jibe-dev/jibe/sources/bump"
	"github.com/jibe-dev/jibe/spec"
)

// ECRAPI is the ECR call the watch makes.
type ECRAPI interface {
	DescribeImages(ctx context.Context, in *ecr.DescribeImagesInput, optFns ...func(*ecr.Options)) (*ecr.DescribeImagesOutput, error)
}

// S3API is the S3 call the watch makes.
type S3API interface {
	ListObjectVersions(ctx context.Context, in *s3.ListObjectVersionsInput, optFns ...func(*s3.Options)) (*s3.ListObjectVersionsOutput, error)
}

// EC2API is the EC2 call the watch makes.
type EC2API interface {
	DescribeImages(ctx context.Context, in *ec2.DescribeImagesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeImagesOutput, error)
}

// Clients are the clients of one account and region.
type Clients struct {
	ECR ECRAPI
	S3  S3API
	EC2 EC2API
}

// ClientsFunc returns the clients of a configured account in region.
type ClientsFunc func(ctx context.Context, acct config.AWSAccount, region string) (Clients, error)

// SDKClients builds clients from the account's SDK configuration
// (account.Config: its credentials, role, endpoint and call counts).
func SDKClients(ctx context.Context, acct config.AWSAccount, region string) (Clients, error) {
	cfg, err := account.Config(ctx, acct, region)
	if err != nil {
		return Clients{}, err
	}
	return Clients{ECR: ecr.NewFromConfig(cfg), EC2: ec2.NewFromConfig(cfg),
		S3: s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = cfg.BaseEndpoint != nil })}, nil
}

// Options configure a Watcher. The zero value is usable.
type Options struct {
	// Clients builds each account's clients. Default SDKClients.
	Clients ClientsFunc
	// Clock dates reads. Default the wall clock.
	Clock clock.PassiveClock
	// Logger receives a record per read. Default slog.Default().
	Logger *slog.Logger
}

// Watcher reads artifacts for the watch and keeps what it read for the
// interval of the sources that use it. It is safe for concurrent use.
type Watcher struct {
	opts Options

	mu      sync.Mutex
	cache   map[string]*entry
	clients map[string]Clients
}

// New returns a Watcher.
func New(opts Options) *Watcher {
	if opts.Clients == nil {
		opts.Clients = SDKClients
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Watcher{opts: opts, cache: map[string]*entry{}, clients: map[string]Clients{}}
}

// App is an application whose artifacts the watch reads.
type App struct {
	// Source is the name of the application's source.
	Source string
	// Folder is the application's folder in the repository.
	Folder string
	// Spec is the application's spec as loaded (defaults set).
	Spec *spec.Application
}

// Problem is an artifact the watch could not read or follow.
type Problem struct {
	Source, App, Artifact string
	// Err says what is wrong and what to do; a *config.TenancyError
	// when the artifact is in an account the source is not allowed.
	Err error
}

// Error names the artifact and the problem.
func (p Problem) Error() string {
	return fmt.Sprintf("artifact watch: source %s, application %s, artifact %s: %v", p.Source, p.App, p.Artifact, p.Err)
}

// Result is what one pass found.
type Result struct {
	// Changes are the artifacts to move, by source, sorted by
	// application and artifact.
	Changes map[string][]bump.Change
	// Problems are the artifacts not read or not followed.
	Problems []Problem
}

// Pass reads what the update policies of apps need, from the cache while
// it is younger than the interval of the app's source
// (sources[].artifactUpdates), and returns the changes to propose. Apps
// of sources without artifactUpdates are skipped.
func (w *Watcher) Pass(ctx context.Context, cfg *config.Config, apps []App) Result {
	res := Result{Changes: map[string][]bump.Change{}}
	for _, app := range apps {
		src := source(cfg, app.Source)
		if src == nil || src.ArtifactUpdates == nil || app.Spec == nil {
			continue
		}
		for _, name := range slices.Sorted(maps.Keys(app.Spec.Spec.Artifacts)) {
			a := app.Spec.Spec.Artifacts[name]
			if a.Update == nil {
				continue
			}
			ch, err := w.follow(ctx, cfg, src, app, &a)
			switch {
			case err != nil:
				res.Problems = append(res.Problems, Problem{Source: app.Source, App: app.Spec.Metadata.Name, Artifact: name, Err: err})
			case ch != nil:
				ch.Artifact = name
				res.Changes[app.Source] = append(res.Changes[app.Source], *ch)
			}
		}
	}
	for _, chs := range res.Changes {
		sort.SliceStable(chs, func(i, j int) bool { return chs[i].App < chs[j].App })
	}
	return res
}

// follow reads what artifact a's policy needs and returns its change, or
// nil when it is up to date.
func (w *Watcher) follow(ctx context.Context, cfg *config.Config, src *config.Source, app App, a *spec.Artifact) (*bump.Change, error) {
	interval := src.ArtifactUpdates.Interval.Duration
	var path, from, to string
	var err error
	switch a.Kind() {
	case spec.ArtifactImage:
		path, from = "image", a.Image
		to, err = w.followImage(ctx, cfg, src, interval, a)
	case spec.ArtifactS3:
		path, from = "s3.version", a.S3.Version
		to, err = w.followObject(ctx, cfg, src, app.Spec, interval, a)
	case spec.ArtifactAMI:
		path, from = "ami", a.AMI
		to, err = w.followAMI(ctx, cfg, src, app.Spec, interval, a)
	default:
		return nil, errors.New("the artifact sets none or several of image, s3 and ami")
	}
	if err != nil || to == "" || to == from {
		return nil, err
	}
	return &bump.Change{App: app.Spec.Metadata.Name, Folder: app.Folder, Path: path, From: from, To: to,
		Environments: environments(app.Spec)}, nil
}

// Invalidate makes the next pass read again the ECR repositories named by
// ref (ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPOSITORY[:TAG], or a
// repository name alone: every account and region), however recent the
// last read. It returns how many cached reads it invalidated.
func (w *Watcher) Invalidate(ref string) int {
	match := func(e *entry) bool { return e.kind == kindECR && e.name == ref }
	if img, ok := spec.ParseECRImage(ref); ok {
		match = func(e *entry) bool {
			return e.kind == kindECR && e.account == img.Account && e.region == img.Region && e.name == img.Repository
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, e := range w.cache {
		if match(e) {
			e.stale = true
			n++
		}
	}
	return n
}

func source(cfg *config.Config, name string) *config.Source {
	for i := range cfg.Sources {
		if cfg.Sources[i].Name == name {
			return &cfg.Sources[i]
		}
	}
	return nil
}

// environments are the application's environments, in promotion order.
func environments(app *spec.Application) []string {
	out := make([]string, len(app.Spec.Environments))
	for i, e := range app.Spec.Environments {
		out[i] = e.Name
	}
	return out
}

// placement is the account and region of the application's first
// environment on AWS, where S3 objects and AMIs are read.
func placement(cfg *config.Config, app *spec.Application) (*config.AWSAccount, string, error) {
	for _, e := range app.Spec.Environments {
		if e.AWS == nil {
			continue
		}
		acct := cfg.Account(e.AWS.Account)
		if acct == nil {
			return nil, "", fmt.Errorf("environment %s names AWS account %q, which is not in the agent configuration", e.Name, e.AWS.Account)
		}
		region := e.AWS.Region
		if region == "" {
			region = acct.Region
		}
		return acct, region, nil
	}
	return nil, "", errors.New("no environment deploys to AWS, so no account reads this artifact; give it an environment with aws.account or remove its update policy")
}

// registryAccount returns the configured account that reads the ECR
// registry of accountID: one allowed for src. It is a
// *config.TenancyError when the registry's accounts are not allowed.
func registryAccount(cfg *config.Config, src *config.Source, accountID string) (*config.AWSAccount, error) {
	var denied error
	for i := range cfg.AWS.Accounts {
		acct := &cfg.AWS.Accounts[i]
		if acct.AccountID != accountID {
			continue
		}
		if err := src.CheckAccount(acct.Name); err != nil {
			denied = fmt.Errorf("the registry of account %s is read with account %s, which source %s may not use: %w", accountID, acct.Name, src.Name, err)
			continue
		}
		return acct, nil
	}
	if denied != nil {
		return nil, denied
	}
	return nil, fmt.Errorf("the registry of account %s is not one Jibe can read: no account of aws.accounts has accountID %q; add one (allowed for source %s) to watch this image", accountID, accountID, src.Name)
}

// clientsOf returns the clients of acct in region, built once.
func (w *Watcher) clientsOf(ctx context.Context, acct *config.AWSAccount, region string) (Clients, error) {
	key := acct.Name + "/" + region
	w.mu.Lock()
	c, ok := w.clients[key]
	w.mu.Unlock()
	if ok {
		return c, nil
	}
	c, err := w.opts.Clients(ctx, *acct, region)
	if err != nil {
		return Clients{}, fmt.Errorf("account %s: %w", acct.Name, err)
	}
	w.mu.Lock()
	w.clients[key] = c
	w.mu.Unlock()
	return c, nil
}

// fresh reports whether e was read less than interval ago and not
// invalidated since.
func (w *Watcher) fresh(e *entry, interval time.Duration) bool {
	return e != nil && !e.stale && w.opts.Clock.Since(e.read) < interval
}

package artifacts_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/prometheus/client_golang/prometheus"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/internal/apimetrics"
	"github.com/jibe-dev/jibe/internal/awsemu"
	"github.com/jibe-dev/jibe/internal/awsemu/awsemutest"
	"github.com/jibe-dev/jibe/providers/aws/artifacts"
	"github.com/jibe-dev/jibe/sources/bump"
	"github.com/jibe-dev/jibe/spec"
)

// The accounts of the tests: staging and production are allowed for the
// source "shop"; other is configured but not allowed.
const (
	stagingID = "111111111111"
	otherID   = "222222222222"
	unknownID = "333333333333"
	region    = "us-east-1"
)

// keys are the emulator's access keys of each configured account.
var keys = map[string]string{"staging": "AKIDSTAGING", "production": "AKIDSTAGING", "other": "AKIDOTHER"}

// rig is an emulator, the agent configuration around it and a watcher
// on a fake clock.
type rig struct {
	env   *awsemutest.Env
	cfg   *config.Config
	clock *clocktesting.FakeClock
	w     *artifacts.Watcher
}

func newRig(t testing.TB) *rig {
	env := awsemutest.Start(t, awsemu.Options{Accounts: map[string]string{"AKIDSTAGING": stagingID, "AKIDOTHER": otherID}})
	interval := &config.Duration{Duration: 5 * time.Minute}
	cfg := &config.Config{
		AWS: config.AWS{Accounts: []config.AWSAccount{
			{Name: "staging", AccountID: stagingID, Region: region},
			{Name: "production", AccountID: stagingID, Region: region},
			{Name: "other", AccountID: otherID, Region: region},
		}},
		Sources: []config.Source{
			{Name: "shop", Allow: config.Tenancy{Accounts: []string{"staging", "production"}}, ArtifactUpdates: &config.ArtifactUpdates{Interval: interval}},
			{Name: "team", Allow: config.Tenancy{Accounts: []string{"staging"}}, ArtifactUpdates: &config.ArtifactUpdates{Interval: interval}},
			{Name: "off", Allow: config.Tenancy{Accounts: []string{"staging"}}},
		},
	}
	clk := clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	w := artifacts.New(artifacts.Options{Clock: clk, Clients: func(_ context.Context, acct config.AWSAccount, r string) (artifacts.Clients, error) {
		e := env.As(keys[acct.Name], "secret", r)
		count := apimetrics.AWSCalls(acct.Name, r)
		return artifacts.Clients{ECR: e.ECR(func(o *ecr.Options) { o.APIOptions = append(o.APIOptions, count) }),
			S3:  e.S3(func(o *s3.Options) { o.APIOptions = append(o.APIOptions, count) }),
			EC2: e.EC2(func(o *ec2.Options) { o.APIOptions = append(o.APIOptions, count) })}, nil
	}})
	return &rig{env: env, cfg: cfg, clock: clk, w: w}
}

// image is an image reference of the emulated ECR of account id.
func image(id, repoTag string) string {
	return id + ".dkr.ecr." + region + ".amazonaws.com/" + repoTag
}

// push pushes image tags in order, a minute apart, and returns the
// digest of each.
func (r *rig) push(t testing.TB, id, repo string, tags ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, tag := range tags {
		d, err := r.env.Emu.PushImage(image(id, repo+":"+tag), "")
		if err != nil {
			t.Fatal(err)
		}
		out[tag] = d
		r.env.Emu.Advance(time.Minute)
	}
	return out
}

// app loads an application whose artifacts are given as YAML lines
// under spec.artifacts.
func app(t testing.TB, source, name, artifactsYAML string) artifacts.App {
	t.Helper()
	doc := fmt.Sprintf(`apiVersion: jibe.dev/v1alpha1
kind: Application
metadata: {name: %s}
spec:
  artifacts:
%s
  targets:
    - name: site
      kubernetes: {manifests: .}
  environments:
    - name: staging
      aws: {account: staging}
      kubernetes: {cluster: local}
    - name: production
      aws: {account: production}
      kubernetes: {cluster: local}
`, name, artifactsYAML)
	fsys := fstest.MapFS{"jibe.yaml": {Data: []byte(doc)},
		"site.yaml": {Data: []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: site}\n")}}
	loaded, err := spec.LoadFS(fsys, "app")
	if err != nil {
		t.Fatalf("load %s:\n%v", name, err)
	}
	return artifacts.App{Source: source, Folder: "apps/" + name, Spec: &loaded.Application}
}

// sdkCalls counts the calls of an operation the watch's SDK clients
// made (internal/apimetrics: one per call, its retries included) since
// the process started.
func sdkCalls(t testing.TB, service, operation string) int {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(apimetrics.Collectors()...)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := 0.0
	for _, mf := range mfs {
		if mf.GetName() != "jibe_aws_api_calls_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["service"] == service && labels["operation"] == operation {
				n += m.GetCounter().GetValue()
			}
		}
	}
	return int(n)
}

// Each kind of policy picks its version: the highest semver in range
// (not a pre-release, not a major outside it), the highest build number
// (numerically: main-10 after main-9), the newest push, the digest the
// moving tag points to now, the latest S3 version, the newest AMI of a
// series. Artifacts already at their newest version make no change.
func TestPassFollowsEachPolicy(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	r.push(t, stagingID, "shop/web", "1.4.2", "1.5.0", "2.0.0", "1.5.1-rc.1")
	r.push(t, stagingID, "shop/api", "main-10", "main-9", "main-7", "feature-x")
	r.push(t, stagingID, "shop/worker", "b", "a")
	edge := r.push(t, stagingID, "shop/edge", "stable")
	edge2 := r.push(t, stagingID, "shop/edge", "stable")["stable"]
	r.push(t, stagingID, "shop/done", "1.0.0", "1.1.0")

	s3c := r.env.As("AKIDSTAGING", "secret", "").S3()
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("pkgs")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("pkgs"),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	var versions []string
	for _, body := range []string{"one", "two"} {
		out, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("pkgs"), Key: aws.String("fn/code.zip"), Body: strings.NewReader(body)})
		if err != nil {
			t.Fatal(err)
		}
		versions = append(versions, aws.ToString(out.VersionId))
	}
	for i, name := range []string{"base-web-1", "base-web-2", "base-db-3"} {
		if err := r.env.Emu.AddImage(stagingID, region, awsemu.Image{ID: fmt.Sprintf("ami-000000000000000%d", i+1), Name: name,
			Created: r.env.Emu.Now().Add(time.Duration(i) * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}

	shop := app(t, "shop", "shop", fmt.Sprintf(`    web:
      image: %s
      update: {semver: "^1.4"}
    api:
      image: %s
      update: {tag: {pattern: '^main-(?P<build>\d+)$', sortBy: numerical}}
    worker:
      image: %s
      update: {tag: {pattern: '^[a-z]$', sortBy: pushed}}
    edge:
      image: %s
      update: {digest: stable}
    bare:
      image: %s
      update: {digest: stable}
    done:
      image: %s
      update: {semver: "1.x"}
    code:
      s3: {bucket: pkgs, key: fn/code.zip, version: %s}
      update: {latestVersion: true}
    base:
      ami: ami-0000000000000001
      update: {ami: {name: "base-web-*"}}
    pinned:
      image: %s`, image(stagingID, "shop/web:1.4.2"), image(stagingID, "shop/api:main-7"), image(stagingID, "shop/worker:b"),
		image(stagingID, "shop/edge:stable@"+edge["stable"]), image(stagingID, "shop/edge@"+edge["stable"]), image(stagingID, "shop/done:1.1.0"), versions[0], image(stagingID, "shop/web:1.4.2")))

	res := r.w.Pass(ctx, r.cfg, []artifacts.App{shop})
	if len(res.Problems) > 0 {
		t.Fatalf("problems: %v", res.Problems)
	}
	envs := []string{"staging", "production"}
	want := []bump.Change{
		{App: "shop", Folder: "apps/shop", Artifact: "api", Path: "image", From: image(stagingID, "shop/api:main-7"), To: image(stagingID, "shop/api:main-10"), Environments: envs},
		{App: "shop", Folder: "apps/shop", Artifact: "bare", Path: "image", From: image(stagingID, "shop/edge@"+edge["stable"]), To: image(stagingID, "shop/edge@"+edge2), Environments: envs},
		{App: "shop", Folder: "apps/shop", Artifact: "base", Path: "ami", From: "ami-0000000000000001", To: "ami-0000000000000002", Environments: envs},
		{App: "shop", Folder: "apps/shop", Artifact: "code", Path: "s3.version", From: versions[0], To: versions[1], Environments: envs},
		{App: "shop", Folder: "apps/shop", Artifact: "edge", Path: "image", From: image(stagingID, "shop/edge:stable@"+edge["stable"]), To: image(stagingID, "shop/edge:stable@"+edge2), Environments: envs},
		{App: "shop", Folder: "apps/shop", Artifact: "web", Path: "image", From: image(stagingID, "shop/web:1.4.2"), To: image(stagingID, "shop/web:1.5.0"), Environments: envs},
		{App: "shop", Folder: "apps/shop", Artifact: "worker", Path: "image", From: image(stagingID, "shop/worker:b"), To: image(stagingID, "shop/worker:a"), Environments: envs},
	}
	if got := res.Changes["shop"]; !reflect.DeepEqual(got, want) {
		t.Errorf("changes:\n got %+v\nwant %+v", got, want)
	}
}

// Applications of two sources that use one repository share its read:
// one DescribeImages per repository and interval, however many passes;
// after the interval, or when Invalidate names the repository (the
// webhook's fast path), the next pass reads it again.
func TestPassReadsEachRepositoryOncePerInterval(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	r.push(t, stagingID, "shop/web", "1.0.0")
	yaml := fmt.Sprintf("    web:\n      image: %s\n      update: {semver: \"^1\"}", image(stagingID, "shop/web:1.0.0"))
	apps := []artifacts.App{app(t, "shop", "a", yaml), app(t, "shop", "b", yaml), app(t, "team", "c", yaml), app(t, "off", "d", yaml)}
	start := sdkCalls(t, "ECR", "DescribeImages")
	reads := func() int { return sdkCalls(t, "ECR", "DescribeImages") - start }

	if res := r.w.Pass(ctx, r.cfg, apps); len(res.Changes) != 0 || len(res.Problems) != 0 || reads() != 1 {
		t.Fatalf("first pass: %+v, %d reads, want no change and 1 read", res, reads())
	}
	r.push(t, stagingID, "shop/web", "1.1.0")
	r.clock.Step(4 * time.Minute)
	if res := r.w.Pass(ctx, r.cfg, apps); len(res.Changes) != 0 || reads() != 1 {
		t.Fatalf("within the interval: %+v, %d reads, want the cached read", res, reads())
	}
	r.clock.Step(time.Minute)
	res := r.w.Pass(ctx, r.cfg, apps)
	if reads() != 2 || len(res.Changes["shop"]) != 2 || len(res.Changes["team"]) != 1 || len(res.Changes["off"]) != 0 {
		t.Fatalf("after the interval: %+v, %d reads, want 2 reads and changes for a, b and c", res.Changes, reads())
	}
	if c := res.Changes["team"][0]; c.App != "c" || c.To != image(stagingID, "shop/web:1.1.0") {
		t.Errorf("team's change %+v", c)
	}

	r.push(t, stagingID, "shop/web", "1.2.0")
	if n := r.w.Invalidate(image(stagingID, "shop/web:1.2.0")); n != 1 {
		t.Errorf("Invalidate: %d entries, want 1", n)
	}
	if n := r.w.Invalidate("shop/web"); n != 1 {
		t.Errorf("Invalidate by repository name: %d entries, want 1", n)
	}
	if n := r.w.Invalidate("shop/other"); n != 0 {
		t.Errorf("Invalidate of a repository never read: %d entries", n)
	}
	res = r.w.Pass(ctx, r.cfg, apps)
	if reads() != 3 || res.Changes["shop"][0].To != image(stagingID, "shop/web:1.2.0") {
		t.Errorf("after Invalidate: %+v, %d reads, want a read and 1.2.0", res.Changes, reads())
	}
}

// A watch reads only in accounts its source is allowed: an image of a
// registry whose account the source may not use is reported as a
// tenancy problem and never read; a registry no configured account
// reaches is reported with what to do; a registry Jibe can read but
// where the repository does not exist says so.
func TestPassReadsOnlyAllowedAccounts(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	r.push(t, otherID, "team/web", "1.0.0", "1.1.0")
	apps := []artifacts.App{
		app(t, "shop", "foreign", fmt.Sprintf("    web:\n      image: %s\n      update: {semver: \"^1\"}", image(otherID, "team/web:1.0.0"))),
		app(t, "shop", "unknown", fmt.Sprintf("    web:\n      image: %s\n      update: {semver: \"^1\"}", image(unknownID, "team/web:1.0.0"))),
		app(t, "shop", "missing", fmt.Sprintf("    web:\n      image: %s\n      update: {semver: \"^1\"}", image(stagingID, "nowhere:1.0.0"))),
	}
	res := r.w.Pass(ctx, r.cfg, apps)
	if len(res.Changes) != 0 || len(res.Problems) != 3 {
		t.Fatalf("result %+v, want 3 problems", res)
	}
	var tenancy *config.TenancyError
	if p := res.Problems[0]; p.App != "foreign" || !errors.As(p.Err, &tenancy) || tenancy.Name != "other" {
		t.Errorf("foreign registry: %v, want a tenancy error naming account other", p)
	}
	if p := res.Problems[1]; p.App != "unknown" || !strings.Contains(p.Error(), "no account of aws.accounts has accountID \"333333333333\"") {
		t.Errorf("unknown registry: %v", p)
	}
	if p := res.Problems[2]; p.App != "missing" || !strings.Contains(p.Error(), "RepositoryNotFoundException") {
		t.Errorf("missing repository: %v", p)
	}
	for _, q := range r.env.Emu.Requests() {
		if q.Account == otherID {
			t.Errorf("read in an account the source may not use: %+v", q)
		}
	}
}

// A repository of more than a page of images is read page by page
// (DescribeImages, 1000 a page) in one pass, and every page counts.
func TestPassReadsEveryPage(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	for i := range 1001 {
		if _, err := r.env.Emu.PushImage(image(stagingID, fmt.Sprintf("big:1.0.%d", i)), ""); err != nil {
			t.Fatal(err)
		}
	}
	start := sdkCalls(t, "ECR", "DescribeImages")
	res := r.w.Pass(ctx, r.cfg, []artifacts.App{app(t, "shop", "big", fmt.Sprintf("    web:\n      image: %s\n      update: {semver: \"~1.0\"}", image(stagingID, "big:1.0.0")))})
	if got := res.Changes["shop"]; len(got) != 1 || got[0].To != image(stagingID, "big:1.0.1000") {
		t.Errorf("changes %+v, want 1.0.1000 from the second page", res.Changes)
	}
	if n := sdkCalls(t, "ECR", "DescribeImages") - start; n != 2 {
		t.Errorf("%d DescribeImages calls, want 2 pages", n)
	}
}

package agent

import (
	"strings"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/jibe-dev/jibe/internal/awsemu"
	"github.com/jibe-dev/jibe/internal/awsemu/awsemutest"
	"github.com/jibe-dev/jibe/providers/aws/artifacts"
	"github.com/jibe-dev/jibe/sources/bump"
)

const watchConfig = `apiVersion: jibe.dev/v1alpha1
kind: AgentConfig
sources:
  - name: shop
    git: {url: URL, repository: acme/shop, pollInterval: 5s}
    allow: {clusters: [staging], namespaces: [shop], accounts: [registry]}
    artifactUpdates: {interval: 5m, mode: commit}
aws:
  accounts:
    - name: registry
      accountID: "111111111111"
      region: us-east-1
      endpoint: EMULATOR
      credentials: {accessKeyID: {env: JIBE_WATCH_KEY}, secretAccessKey: {env: JIBE_WATCH_SECRET}}
    - name: elsewhere
      accountID: "222222222222"
      region: us-east-1
      endpoint: EMULATOR
      credentials: {accessKeyID: {env: JIBE_WATCH_KEY}, secretAccessKey: {env: JIBE_WATCH_SECRET}}
kubernetes:
  clusters:
    - {name: staging, inCluster: true}
`

// followingSpec is validSpec with an artifact that follows a semver range.
func followingSpec(name, image string) string {
	return strings.Replace(strings.Replace(validSpec, "name: shop}", "name: "+name+"}", 1), "spec:\n", "spec:\n  artifacts:\n    web:\n      image: "+image+"\n      update: {semver: \"^1\"}\n", 1)
}

// The agent's pass reads the policies of the applications its sources
// hold, at their latest commit, through the accounts of the agent
// configuration (the SDK clients of account.Config, counted in
// apimetrics): a newer image becomes a bump.Change as written in
// jibe.yaml, the registry is read once per interval, and an image in an
// account the source may not use is reported and never read.
func TestArtifactPassProposesNewerImages(t *testing.T) {
	t.Setenv("JIBE_WATCH_KEY", "AKIAWATCH")
	t.Setenv("JIBE_WATCH_SECRET", "secret")
	env := awsemutest.Start(t, awsemu.Options{Accounts: map[string]string{"AKIAWATCH": "111111111111"}})
	clk := clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	h := newHarnessWith(t, strings.ReplaceAll(watchConfig, "EMULATOR", env.URL), func(_ *harness, o *Options) {
		o.Artifacts = artifacts.New(artifacts.Options{Clock: clk})
	})
	web := "111111111111.dkr.ecr.us-east-1.amazonaws.com/shop/web"
	for _, tag := range []string{"1.0.0", "1.1.0", "2.0.0"} {
		if _, err := env.Emu.PushImage(web+":"+tag, ""); err != nil {
			t.Fatal(err)
		}
	}
	foreign := "222222222222.dkr.ecr.us-east-1.amazonaws.com/shop/web:1.0.0"
	h.commit(map[string]string{"apps/shop/jibe.yaml": followingSpec("shop", web+":1.0.0"), "apps/shop/k8s/cm.yaml": configMap,
		"apps/other/jibe.yaml": followingSpec("other", foreign), "apps/other/k8s/cm.yaml": configMap})
	h.poll()

	res := h.agent.ArtifactPass(t.Context())
	want := []bump.Change{{App: "shop", Folder: "apps/shop", Artifact: "web", Path: "image", From: web + ":1.0.0", To: web + ":1.1.0", Environments: []string{"staging"}}}
	if got := res.Changes["shop"]; len(got) != 1 || got[0].To != want[0].To || got[0].From != want[0].From || got[0].Folder != want[0].Folder || strings.Join(got[0].Environments, ",") != "staging" {
		t.Fatalf("changes %+v, want %+v", res.Changes, want)
	}
	if len(res.Problems) != 1 || res.Problems[0].App != "other" || !strings.Contains(res.Problems[0].Error(), `may not deploy to AWS account "elsewhere"`) {
		t.Errorf("problems %v, want the foreign registry refused by tenancy", res.Problems)
	}
	describes := func() int {
		n := 0
		for _, q := range env.Emu.Requests() {
			if q.Operation == "DescribeImages" {
				n++
			}
			if q.Account == "222222222222" {
				t.Errorf("read in an account the source may not use: %+v", q)
			}
		}
		return n
	}
	if n := describes(); n != 1 {
		t.Errorf("%d DescribeImages, want 1", n)
	}

	// A new commit that takes 1.1.0 by hand: the watch reads the new
	// spec, and within the interval the registry's cached read.
	h.commit(map[string]string{"apps/shop/jibe.yaml": followingSpec("shop", web+":1.1.0")})
	h.poll()
	res = h.agent.ArtifactPass(t.Context())
	if len(res.Changes) != 0 || describes() != 1 {
		t.Errorf("after the manual bump: changes %+v, %d DescribeImages; want none and the cached read", res.Changes, describes())
	}
	if h.agent.ArtifactPushed(web + ":1.2.0") {
		t.Error("ArtifactPushed with the watch off (no Proposer) reported a watched repository")
	}
}

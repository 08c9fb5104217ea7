package agent

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/jibe-dev/jibe/reconcile"
)

// smokeServer is a health endpoint that answers 503 while failing is set,
// 200 otherwise.
func smokeServer(t *testing.T, failing *atomic.Bool) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if failing.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// verifiedFiles is the ECS service at image, rolled out to production with
// a rolling update and verified by an HTTP check of url; extra is more of
// the environment's settings, e.g. "rollback: manual".
func (x *ecsE2E) verifiedFiles(image, url, extra string) map[string]string {
	files := x.files(image)
	files["apps/shop/jibe.yaml"] = strings.NewReplacer("IMAGE", image, "REGION", x.env.Region, "URL", url, "EXTRA", extra).Replace(`apiVersion: jibe.dev/v1alpha1
kind: Application
metadata: {name: shop}
spec:
  artifacts:
    web: {image: IMAGE}
  targets:
    - name: web
      ecs: {taskDefinition: taskdef.yaml, service: service.yaml}
  environments:
    - name: production
      aws: {account: main, region: REGION}
      verify:
        - name: smoke
          http: {url: URL}
      EXTRA
`)
	return files
}

// serviceActive reports whether service web of cluster prod is ACTIVE.
func (x *ecsE2E) serviceActive() bool {
	x.t.Helper()
	out, err := x.env.ECS().DescribeServices(x.t.Context(), &awsecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"web"}})
	if err != nil {
		x.t.Fatal(err)
	}
	return len(out.Services) == 1 && aws.ToString(out.Services[0].Status) == "ACTIVE"
}

// A first deploy whose verification fails has nothing to roll back to. It
// does not stay running with a pending status for ever: the new service
// is removed, the rollout ends failed, and the commit status is a failure
// saying what happened and what to do. A fix pushed afterwards deploys.
func TestE2EFailedFirstDeployEndsAsAFailure(t *testing.T) {
	x := newECSE2E(t)
	var failing atomic.Bool
	failing.Store(true)
	url := smokeServer(t, &failing)

	v1 := x.push(x.verifiedFiles("registry.example.com/shop/web:1.0.0", url, ""))
	x.settle("first deploy ended", x.ended(v1))

	r := x.rollout(v1)
	if r.State != reconcile.RolloutFailed {
		t.Fatalf("first deploy: %s (%s)", r.State, r.Reason)
	}
	s := x.statuses(v1)["jibe/shop/production"]
	if want := "failed, first deploy removed (nothing to roll back to): check smoke failed: status 503, want 200; push a fix"; s.State != "failure" || s.Description != want {
		t.Errorf("status = %s %q, want failure %q", s.State, s.Description, want)
	}
	if x.serviceActive() {
		t.Error("the failed first deploy's service is still active")
	}

	failing.Store(false)
	v2 := x.push(x.verifiedFiles("registry.example.com/shop/web:1.0.1", url, ""))
	x.settle("the fix deployed", x.ended(v2))
	if r := x.rollout(v2); r.State != reconcile.RolloutSucceeded {
		t.Fatalf("the fix: %s (%s)", r.State, r.Reason)
	}
	if s := x.statuses(v2)["jibe/shop/production"]; s.State != "success" {
		t.Errorf("status of the fix = %s %q", s.State, s.Description)
	}
}

// With rollback: manual, a failed rollout is left in place, and its commit
// status ends as a failure saying so, not as "failed, rolling back".
func TestE2EManualRollbackFailureIsAFailure(t *testing.T) {
	x := newECSE2E(t)
	var failing atomic.Bool
	failing.Store(true)
	url := smokeServer(t, &failing)

	v1 := x.push(x.verifiedFiles("registry.example.com/shop/web:1.0.0", url, "rollback: manual"))
	x.settle("rollout ended", x.ended(v1))

	if r := x.rollout(v1); r.State != reconcile.RolloutFailed {
		t.Fatalf("rollout: %s (%s)", r.State, r.Reason)
	}
	s := x.statuses(v1)["jibe/shop/production"]
	if want := "failed, left in place (rollback: manual): check smoke failed: status 503, want 200; revert or push a fix"; s.State != "failure" || s.Description != want {
		t.Errorf("status = %s %q, want failure %q", s.State, s.Description, want)
	}
	if !x.serviceActive() {
		t.Error("rollback: manual removed the service")
	}
}

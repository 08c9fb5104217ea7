package kubernetes

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/jibe-dev/jibe/internal/testenv/kube"
	"github.com/jibe-dev/jibe/spec"
)

// requestLog records the requests of a rest.Config as "METHOD path".
type requestLog struct {
	mu   sync.Mutex
	reqs []string
}

func (l *requestLog) wrap(t *testing.T, c *kube.Cluster) *Platform {
	cfg := c.RESTConfig()
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if r.URL.Query().Get("watch") != "true" {
				l.mu.Lock()
				l.reqs = append(l.reqs, r.Method+" "+r.URL.Path)
				l.mu.Unlock()
			}
			return rt.RoundTrip(r)
		})
	})
	return newPlatform(t, cfg)
}

// take returns the requests recorded since the last take.
func (l *requestLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.reqs
	l.reqs = nil
	return out
}

// An image bump of built-in kinds costs the API server the writes of its
// objects and nothing else: discovery, read when the plan was made, is not
// read again for kinds whose scope cannot change; the inventory, whose set
// of objects is the same, is neither written nor read past the cache; and
// health is read from the watch-fed cache.
func TestImageBumpCostsOnlyItsWrites(t *testing.T) {
	t.Parallel()
	c := kube.Shared(t)
	ns := c.NewNamespace(t)
	var log requestLog
	p := log.wrap(t, c)
	v1 := deployment(ns, "rev1", nil, target(spec.KubernetesTarget{}, webDeployment("web", "registry.test/web:1", 1), webService("web")))
	if _, err := p.Diff(t.Context(), v1); err != nil {
		t.Fatal(err)
	}
	rollOut(t, p, v1)
	v2 := next(v1, "rev2", target(spec.KubernetesTarget{}, webDeployment("web", "registry.test/web:2", 1), webService("web")))
	if _, err := p.Diff(t.Context(), v2); err != nil {
		t.Fatal(err)
	}
	log.take()
	rollOut(t, p, v2)

	got := log.take()
	slices.Sort(got)
	want := []string{
		"PATCH /apis/apps/v1/namespaces/" + ns + "/deployments/web",
		"PATCH /api/v1/namespaces/" + ns + "/services/web",
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("requests of the image bump:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if inv := readInventory(t, c, v2); len(inv.Objects) != 2 {
		t.Errorf("inventory = %+v, want the 2 objects", inv)
	}
}

package kubecheck

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/jibe-dev/jibe/internal/strictyaml"
	"github.com/jibe-dev/jibe/spec"
)

// discoveryTimeout bounds each request to a cluster, so that an
// unreachable one fails the check instead of hanging it.
const discoveryTimeout = 30 * time.Second

var crdResource = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// Cluster is what one cluster serves, read once through its discovery
// API (cached for the whole check, read-only): the kinds of every group
// and version, and its CustomResourceDefinitions with their schemas.
type Cluster struct {
	// Name is the cluster's name in the agent configuration, for messages.
	Name string
	// served holds every kind the cluster serves.
	served map[schema.GroupVersionKind]bool
	// failed holds the group versions whose discovery failed (such as an
	// aggregated API that is down): their kinds are unknown, not absent.
	failed map[schema.GroupVersion]bool
	// crds are the cluster's CustomResourceDefinitions; nil when they
	// could not be listed (no permission to).
	crds crdIndex
}

// Discover reads what the cluster named name serves through cfg; its
// errors leave naming the cluster to the caller. It only
// reads: discovery and a list of CustomResourceDefinitions (which, when
// forbidden, leaves custom resources checked by discovery alone).
func Discover(ctx context.Context, name string, cfg *rest.Config) (*Cluster, error) {
	cfg = rest.CopyConfig(cfg)
	if cfg.Timeout == 0 {
		cfg.Timeout = discoveryTimeout
	}
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("discovery client: %w", err)
	}
	c := &Cluster{Name: name, served: map[schema.GroupVersionKind]bool{}, failed: map[schema.GroupVersion]bool{}}
	_, lists, err := memory.NewMemCacheClient(disc).ServerGroupsAndResources()
	var partial *discovery.ErrGroupDiscoveryFailed
	switch {
	case errors.As(err, &partial):
		for gv := range partial.Groups {
			c.failed[gv] = true
		}
	case err != nil:
		return nil, fmt.Errorf("discovery: %w", err)
	}
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			continue
		}
		for _, r := range l.APIResources {
			c.served[gv.WithKind(r.Kind)] = true
		}
	}
	if err := c.readCRDs(ctx, cfg); err != nil {
		return nil, err
	}
	return c, nil
}

// readCRDs lists the cluster's CustomResourceDefinitions.
func (c *Cluster) readCRDs(ctx context.Context, cfg *rest.Config) error {
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	list, err := dyn.Resource(crdResource).List(ctx, metav1.ListOptions{})
	if apierrors.IsForbidden(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("listing CustomResourceDefinitions: %w", err)
	}
	c.crds = crdIndex{}
	for _, item := range list.Items {
		if gk, def, _ := readCRD(item.Object); def != nil {
			def.cluster = c.Name
			c.crds[gk] = def
		}
	}
	return nil
}

// serves reports whether the cluster serves gvk.
func (c *Cluster) serves(gvk schema.GroupVersionKind) bool { return c.served[gvk] }

// kinds returns the kinds the cluster serves in gv, for suggestions.
func (c *Cluster) kinds(gv schema.GroupVersion) []string {
	var out []string
	for gvk := range c.served {
		if gvk.GroupVersion() == gv {
			out = append(out, gvk.Kind)
		}
	}
	slices.Sort(out)
	return out
}

// unsure reports whether the cluster could not say what gv serves.
func (c *Cluster) unsure(gv schema.GroupVersion) bool { return c.failed[gv] }

var _ spec.ManifestCheck = (*Cluster)(nil).Check

// Check checks the Kubernetes objects one environment deploys like the
// package's Check, and against the cluster: a kind that neither the
// application's CRDs nor the cluster serve is a problem, not a warning,
// and custom resources of the cluster's CRDs are checked against those
// CRDs' schemas.
func (c *Cluster) Check(docs []spec.ManifestDoc) (problems, warnings strictyaml.ErrorList) {
	return check(docs, c)
}

// withCRDs returns the cluster's CRDs overlaid with the application's,
// which the deploy applies first.
func (c *Cluster) withCRDs(app crdIndex) crdIndex {
	if c == nil {
		return app
	}
	out := crdIndex{}
	for gk, d := range c.crds {
		out[gk] = d
	}
	for gk, d := range app {
		out[gk] = d
	}
	return out
}

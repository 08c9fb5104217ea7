package config

import (
	"fmt"
	"path"
	"slices"
	"strings"
)

// AllClusterScoped in allow.clusterScoped allows every cluster-scoped kind.
const AllClusterScoped = "*"

// TenancyError says that a source tried to deploy where it is not allowed.
// The engine treats it as stalled: nothing is applied and the revision is
// not retried until the spec or the configuration changes.
type TenancyError struct {
	Source string
	// What is "AWS account", "cluster", "namespace" or "cluster-scoped
	// kind".
	What string
	Name string
	// Cluster is the cluster of a refused namespace, when known.
	Cluster string
	// Field, when set, is the field of the source's allow that Name must
	// be added to, e.g. "clusterScoped".
	Field string
	// Protected, when set, says why the namespace Name is one that no
	// glob matches (see ProtectedNamespaces).
	Protected string
}

// Error says what was refused and how to allow it.
func (e *TenancyError) Error() string {
	if e.Protected != "" {
		return fmt.Sprintf("source %s may not deploy to namespace %q of cluster %s: it is %s, and a glob of allow.namespaces never matches it; an operator who means it lists %q exactly in allow.namespaces of source %s",
			e.Source, e.Name, e.Cluster, e.Protected, e.Name, e.Source)
	}
	if e.Field != "" {
		return fmt.Sprintf("%s %q is not allowed for source %s; an operator can add it to allow.%s of source %s in the agent configuration",
			e.What, e.Name, e.Source, e.Field, e.Source)
	}
	return fmt.Sprintf("source %s may not deploy to %s %q; an operator can allow it under sources[].allow in the agent configuration", e.Source, e.What, e.Name)
}

// CheckAccount returns a *TenancyError unless the source may deploy to the
// AWS account named account.
func (s *Source) CheckAccount(account string) error {
	if slices.Contains(s.Allow.Accounts, account) {
		return nil
	}
	return &TenancyError{Source: s.Name, What: "AWS account", Name: account}
}

// CheckCluster returns a *TenancyError unless the source may deploy
// namespaced objects to namespace of the cluster named cluster. The empty
// namespace is never allowed: cluster-scoped objects are checked by
// CheckClusterScoped. A protected namespace (Kubernetes' own, the
// agent's, the journal's) is allowed only by an entry naming it exactly.
func (s *Source) CheckCluster(cluster, namespace string) error {
	if !slices.Contains(s.Allow.Clusters, cluster) {
		return &TenancyError{Source: s.Name, What: "cluster", Name: cluster}
	}
	if namespace == "" {
		return &TenancyError{Source: s.Name, What: "namespace", Name: namespace}
	}
	if slices.Contains(s.Allow.Namespaces, namespace) {
		return nil
	}
	if why := s.protected.why(cluster, namespace); why != "" {
		return &TenancyError{Source: s.Name, What: "namespace", Name: namespace, Cluster: cluster, Protected: why}
	}
	for _, glob := range s.Allow.Namespaces {
		if ok, _ := path.Match(glob, namespace); ok {
			return nil
		}
	}
	return &TenancyError{Source: s.Name, What: "namespace", Name: namespace}
}

// CheckClusterScoped returns a *TenancyError unless the source may deploy
// the cluster-scoped object name of kind (group "" for the core group) to
// the cluster named cluster: the cluster must be allowed and the kind
// listed in allow.clusterScoped. A Namespace must also be one the source
// may deploy to (allow.namespaces), so that it creates or prunes no other.
func (s *Source) CheckClusterScoped(cluster, group, kind, name string) error {
	if !slices.Contains(s.Allow.Clusters, cluster) {
		return &TenancyError{Source: s.Name, What: "cluster", Name: cluster}
	}
	k := KindName(group, kind)
	if !allowsKind(s.Allow.ClusterScoped, group, k) {
		return &TenancyError{Source: s.Name, What: "cluster-scoped kind", Name: k, Field: "clusterScoped"}
	}
	if group == "" && kind == "Namespace" {
		return s.CheckCluster(cluster, name)
	}
	return nil
}

// allowsKind reports whether the allow.clusterScoped entries allow kind
// (as KindName writes it) of group.
func allowsKind(entries []string, group, kind string) bool {
	return slices.ContainsFunc(entries, func(e string) bool {
		return e == AllClusterScoped || e == kind || group != "" && e == group+"/*"
	})
}

// KindName writes a kind as allow.clusterScoped lists it: "Kind" for the
// core group, "group/Kind" for the others.
func KindName(group, kind string) string {
	if group == "" {
		return kind
	}
	return group + "/" + kind
}

// splitKindName splits an allow.clusterScoped entry into group and kind.
func splitKindName(entry string) (group, kind string) {
	if i := strings.LastIndex(entry, "/"); i >= 0 {
		return entry[:i], entry[i+1:]
	}
	return "", entry
}

// InCluster returns what the source may write in the cluster named
// cluster, as the Kubernetes platform checks it (reconcile.Tenancy).
func (s *Source) InCluster(cluster string) ClusterTenancy {
	return ClusterTenancy{source: s, cluster: cluster}
}

// ClusterTenancy is what one source may write in one cluster: the
// namespaces and cluster-scoped kinds of its allow.
type ClusterTenancy struct {
	source  *Source
	cluster string
}

// AllowNamespace returns a *TenancyError unless the source may write
// namespaced objects in namespace.
func (t ClusterTenancy) AllowNamespace(namespace string) error {
	return t.source.CheckCluster(t.cluster, namespace)
}

// AllowClusterScoped returns a *TenancyError unless the source may write
// the cluster-scoped object name of kind.
func (t ClusterTenancy) AllowClusterScoped(group, kind, name string) error {
	return t.source.CheckClusterScoped(t.cluster, group, kind, name)
}

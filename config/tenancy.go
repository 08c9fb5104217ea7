package config

import (
	"fmt"
	"path"
	"slices"
)

// TenancyError says that a source tried to deploy where it is not allowed.
// The engine treats it as stalled: nothing is applied and the revision is
// not retried until the spec or the configuration changes.
type TenancyError struct {
	Source string
	// What is "AWS account", "cluster" or "namespace".
	What string
	Name string
}

// Error says what was refused and how to allow it.
func (e *TenancyError) Error() string {
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

// CheckCluster returns a *TenancyError unless the source may deploy to
// namespace of the cluster named cluster. An empty namespace checks the
// cluster only (for cluster-scoped objects, which need the cluster allowed
// and the namespace "*").
func (s *Source) CheckCluster(cluster, namespace string) error {
	if !slices.Contains(s.Allow.Clusters, cluster) {
		return &TenancyError{Source: s.Name, What: "cluster", Name: cluster}
	}
	if namespace == "" {
		if slices.Contains(s.Allow.Namespaces, "*") {
			return nil
		}
		return &TenancyError{Source: s.Name, What: "cluster-scoped objects of cluster", Name: cluster}
	}
	for _, glob := range s.Allow.Namespaces {
		if ok, _ := path.Match(glob, namespace); ok {
			return nil
		}
	}
	return &TenancyError{Source: s.Name, What: "namespace", Name: namespace}
}

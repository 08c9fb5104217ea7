package config

import (
	"os"
	"strings"
)

// SystemNamespaces are Kubernetes' own namespaces. Their controllers'
// service accounts hold cluster-wide rights, so a pod placed there may
// act as them: no glob of allow.namespaces matches them.
var SystemNamespaces = []string{"kube-system", "kube-public", "kube-node-lease"}

// serviceAccountNamespaceFile holds the namespace of a pod's service
// account, where Kubernetes mounts it.
const serviceAccountNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

// protectedNamespaces are, by cluster name, the namespaces holding the
// agent's own objects, with why. "" stands for every cluster.
type protectedNamespaces map[string]map[string]string

// why says why namespace of cluster is protected, or "" when it is not.
func (p protectedNamespaces) why(cluster, namespace string) string {
	for _, ns := range SystemNamespaces {
		if ns == namespace {
			return "one of Kubernetes' own namespaces, whose controllers' service accounts hold cluster-wide rights"
		}
	}
	return p[cluster][namespace]
}

// add records namespace of cluster as protected for why, keeping the
// first reason given.
func (p protectedNamespaces) add(cluster, namespace, why string) {
	if namespace == "" {
		return
	}
	if p[cluster] == nil {
		p[cluster] = map[string]string{}
	}
	if _, ok := p[cluster][namespace]; !ok {
		p[cluster][namespace] = why
	}
}

// protectedNamespaces returns, for every cluster, the namespaces that a
// glob of allow.namespaces never matches besides SystemNamespaces: in the
// clusters the agent runs in (inCluster), its own namespace
// ($POD_NAMESPACE, else its service account's), where a pod could run as
// the agent's service account; and the namespace of state.kubernetes in
// its cluster, which holds the journal and the Leases. A source may write
// there only when its allow.namespaces names the namespace exactly.
func (c *Config) protectedNamespaces() protectedNamespaces {
	p := protectedNamespaces{}
	own := agentNamespace()
	for _, cl := range c.Kubernetes.Clusters {
		if cl.InCluster {
			p.add(cl.Name, own, "the agent's own namespace, where a pod could run as the agent's service account")
		}
	}
	if k := c.State.Kubernetes; k != nil {
		const why = "the namespace of state.kubernetes, holding the agents' journal and Leases"
		if k.Cluster != "" {
			p.add(k.Cluster, k.Namespace, why)
		}
		for _, cl := range c.Kubernetes.Clusters {
			if k.Cluster == "" && cl.InCluster {
				p.add(cl.Name, k.Namespace, why)
			}
		}
	}
	return p
}

// protectSources gives every source the namespaces no glob matches.
func (c *Config) protectSources() {
	p := c.protectedNamespaces()
	for i := range c.Sources {
		c.Sources[i].protected = p
	}
}

// agentNamespace returns the namespace the agent runs in: $POD_NAMESPACE,
// else its service account's, else "" (not in a pod).
func agentNamespace() string {
	if ns := os.Getenv("POD_NAMESPACE"); ns != "" {
		return ns
	}
	data, err := os.ReadFile(serviceAccountNamespaceFile)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(data))
}

package spec

// KubernetesTarget applies a folder of Kubernetes manifests.
type KubernetesTarget struct {
	// Manifests is the path of a folder, relative to the application's
	// folder, holding plain manifests (*.yaml, *.yml, *.json, searched
	// recursively) or a kustomization (kustomization.yaml at its root, built
	// with kustomize; its bases must be inside the application's folder).
	// It may be the application's folder itself (.): jibe.yaml and the files
	// other targets name are never read as manifests.
	// Placeholders are resolved in every file before it is read.
	Manifests string `json:"manifests" jsonschema:"required"`
	// Namespace is the default namespace of namespaced objects that name
	// none. An environment's kubernetes.namespace overrides it.
	Namespace string `json:"namespace,omitempty"`
	// Workload is the Deployment that canary and blue/green strategies
	// clone, as Kind/name (e.g. Deployment/web). Default: the folder's only
	// Deployment.
	Workload string `json:"workload,omitempty"`
	// Service is the Service whose selector blue/green switches. Default:
	// the folder's only Service.
	Service string `json:"service,omitempty"`
	// HTTPRoute is a Gateway API HTTPRoute whose backend weights a canary
	// shifts. Without one, a canary's share of traffic follows its share of
	// replicas.
	HTTPRoute string `json:"httpRoute,omitempty"`
}

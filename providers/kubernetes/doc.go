// Package kubernetes is the Kubernetes platform of the reconcile engine: it
// diffs, applies, health-checks, shifts traffic for, promotes and rolls back
// the manifests of a Kubernetes target (see README.md for the design).
//
// Objects are written with server-side apply under the field manager
// "jibe". What was applied is recorded in the cluster, in an inventory
// ConfigMap per application, environment and target, and objects that left
// Git are pruned from that inventory only. Diff reads live state from
// watch-fed caches, so an idle application costs no API request.
package kubernetes

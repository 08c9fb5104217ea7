// Package chart tests Jibe's Helm chart (deploy/helm/jibe) on a real
// cluster: the manifests that deploy/helm/render renders with Helm's Go SDK
// (and keeps in sync with the chart) are applied here with server-side
// apply, so that Jibe's own module never imports Helm.
package chart

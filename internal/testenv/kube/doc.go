// Package kube runs a real, throwaway Kubernetes control plane for tests:
// etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok
// (simulated nodes and pods) as local processes on 127.0.0.1.
//
// The binaries come from internal/testenv/cluster/build.sh. A test package
// calls Main from TestMain to share one cluster between its tests, and each
// test takes it with Shared and isolates itself with NewNamespace. kwok
// stages control how pods behave: by default they become Ready at once;
// NeverReadyLabel and Options.PodStages make chosen pods fail or lag, so
// rollout failures can be tested too. See README.md for versions and timings.
package kube

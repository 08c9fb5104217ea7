// Package hatest tests high availability and sharding end to end: several
// `jibe agent` processes (built once with `go build`) share a journal and
// Leases in the package's real Kubernetes cluster (internal/testenv/kube),
// read one Git server (internal/testenv/gitserver) and post commit statuses
// to the GitHub emulator (internal/githubemu), while the tests kill, stop
// and continue them. The benchmark (go test -bench) measures a cold sync of
// 1,000 applications over three shards against one agent.
//
// The package holds tests only; this file names it.
package hatest

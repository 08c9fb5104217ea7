#!/usr/bin/env bash
# build.sh builds the Kubernetes control-plane binaries that Jibe's tests run
# (internal/testenv/kube): etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, kubectl and kwok.
#
# Output: ${JIBE_K8S_BIN_DIR:-${JIBE_CACHE:-$HOME/.cache/jibe}/k8s-v1.35.4/bin}
#
# It rebuilds only when the stamp file there does not match the hash of this
# module's go.mod, go.sum, mains and build recipe, so a second run is a no-op.
# Needs only Go (and network access to the Go module proxy on a cold cache).
# GOMODCACHE and GOCACHE are the defaults, shared with the main module.
set -euo pipefail

readonly K8S_VERSION=v1.35.4
readonly KWOK_VERSION=v0.8.0
# One CGO_ENABLED value for every binary: static binaries, no C toolchain,
# and no second compile of the standard library.
export CGO_ENABLED=0
export GOFLAGS=-buildvcs=false
export GOWORK=off

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${JIBE_CACHE:-$HOME/.cache/jibe}
bin=${JIBE_K8S_BIN_DIR:-$cache/k8s-$K8S_VERSION/bin}
stamp=$bin/.stamp
stage= # temporary build directory, removed on exit
binaries=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok)

die() {
	echo "build.sh: error: $*" >&2
	exit 1
}

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }

command -v go >/dev/null || die "go is not on PATH; install Go 1.26+ (https://go.dev/dl/)"

major=${K8S_VERSION#v}
minor=${major#*.}
minor=${minor%%.*}
major=${major%%.*}
ldflags="-s -w"
for kv in gitVersion=$K8S_VERSION gitMajor=$major gitMinor=$minor gitTreeState=clean; do
	ldflags+=" -X k8s.io/component-base/version.$kv"
done

# recipe_hash identifies everything that decides the binaries' content.
recipe_hash() {
	(
		cd "$here"
		cat go.mod go.sum cmd/*/main.go
		echo "k8s=$K8S_VERSION kwok=$KWOK_VERSION cgo=$CGO_ENABLED ldflags=$ldflags"
		go env GOVERSION GOOS GOARCH
	) | sha256sum | cut -d' ' -f1
}

up_to_date() {
	[[ -f $stamp && $(cat "$stamp") == "$1" ]] || return 1
	local b
	for b in "${binaries[@]}"; do
		[[ -x $bin/$b ]] || return 1
	done
}

build_all() {
	local stage=$1 start b
	start=$(now)
	echo "build.sh: downloading modules"
	(cd "$here" && go mod download) || die "go mod download failed (is the Go module proxy reachable?)"
	echo "build.sh: modules ready in $(since "$start")"
	for b in etcd kube-apiserver kube-controller-manager kube-scheduler kubectl; do
		start=$(now)
		(cd "$here" && go build -ldflags "$ldflags" -o "$stage/$b" "./cmd/$b") || die "building $b failed"
		echo "build.sh: $b built in $(since "$start")"
	done
	start=$(now)
	GOBIN=$stage go install -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" ||
		die "building kwok $KWOK_VERSION failed"
	echo "build.sh: kwok built in $(since "$start")"
}

main() {
	local want total b
	mkdir -p "$bin" || die "cannot create $bin"
	# Serialise concurrent runs (parallel CI jobs, two terminals).
	if command -v flock >/dev/null; then
		exec 9>"$bin/.lock"
		flock 9
	fi
	want=$(recipe_hash)
	if up_to_date "$want"; then
		echo "build.sh: Kubernetes $K8S_VERSION binaries are up to date in $bin"
		return
	fi
	total=$(now)
	echo "build.sh: building Kubernetes $K8S_VERSION and kwok $KWOK_VERSION into $bin (a cold build takes 5-10 min)"
	stage=$(mktemp -d "$bin/.stage.XXXXXX")
	trap 'rm -rf "${stage:?}"' EXIT
	build_all "$stage"
	# rename(2) each binary into place: safe even while old copies are running.
	for b in "${binaries[@]}"; do
		mv -f "$stage/$b" "$bin/$b"
	done
	echo "$want" >"$stamp"
	echo "build.sh: done in $(since "$total"): $bin"
}

main "$@"

// Package demo holds the application that `jibe demo` deploys: the
// checkout service in checkout/. `jibe validate examples/demo` checks it.
package demo

import "embed"

// Files holds checkout/ and the files its jibe.yaml names.
//
//go:embed checkout
var Files embed.FS

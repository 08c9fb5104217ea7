// Package demo holds the applications that `jibe demo` deploys: the
// checkout service in checkout/ and the quote Lambda function in quote/.
// `jibe validate examples/demo` checks them.
package demo

import "embed"

// Files holds checkout/ and quote/ and the files their jibe.yaml name.
//
//go:embed checkout quote
var Files embed.FS

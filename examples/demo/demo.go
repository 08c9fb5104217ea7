// Package demo holds the applications that `jibe demo` deploys: the
// checkout service in checkout/, the quote Lambda function in quote/ and
// quote-service/, the ECS service that /api/quote later moves to.
// `jibe validate examples/demo` checks them.
package demo

import "embed"

// Files holds checkout/, quote/ and quote-service/ and the files their jibe.yaml name.
//
//go:embed checkout quote quote-service
var Files embed.FS

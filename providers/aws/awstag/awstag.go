// Package awstag names the tags Jibe puts on the AWS resources it applies,
// the same keys on every platform, so that live state tells which
// application, environment and revision a resource belongs to.
package awstag

// The tags every AWS platform puts on what it applies.
const (
	// App is the application's name.
	App = "jibe.dev/app"
	// Environment is the environment's name.
	Environment = "jibe.dev/environment"
	// Revision is the Git commit the resource was applied from.
	Revision = "jibe.dev/revision"
	// SwitchedAt records when a blue/green switch sent all traffic to the
	// new version (RFC 3339), so that Promote knows when draining is over.
	SwitchedAt = "jibe.dev/switched-at"
	// ForwardedBefore records, on an ALB listener or rule that an ECS
	// rolling deploy took over, the target groups and weights it
	// forwarded to before ("targetgroup/<name>/<id>=<weight>", separated
	// by spaces; the ARN's prefix is the listener's), so that a failed
	// first deploy or a deletion can hand it back. ELBv2 tag values hold
	// at most 256 characters: what does not fit goes on in
	// "jibe.dev/forwarded-before-2" and so on.
	ForwardedBefore = "jibe.dev/forwarded-before"
)

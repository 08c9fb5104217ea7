package spec_test

import (
	"testing"

	"github.com/jibe-dev/jibe/spec"
)

// BenchmarkLoad measures loading, validating and rendering an application
// with two environments, as the agent does for each new revision:
//
//	go test ./spec -run '^$' -bench Load -benchmem
func BenchmarkLoad(b *testing.B) {
	for _, dir := range []string{"ecs-web", "lambda-api", "k8s-guestbook"} {
		b.Run(dir, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := spec.Load("../examples/" + dir); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

package main

import (
	"runtime/debug"
	"testing"
)

// `jibe version` names the release that `go install ...@v1.2.3` built, and
// the commit of a pseudo-version or of the checkout it was built in.
func TestVersionFromBuildInfo(t *testing.T) {
	tests := []struct {
		name, stamped string
		info          *debug.BuildInfo
		version, rev  string
	}{
		{"go install of a release", "dev", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}, "v1.2.3", "unknown"},
		{"go install of a commit", "dev", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261205203000-3460757abcde"}},
			"v0.0.0-20261205203000-3460757abcde", "3460757abcde"},
		{"checkout", "dev", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "3460757abcdef0123456789"}, {Key: "vcs.modified", Value: "true"}}},
			"dev", "3460757abcde-dirty"},
		{"stamped release", "v2.0.0", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "v2.0.0", "unknown"},
		{"no build information", "dev", nil, "dev", "unknown"},
	}
	for _, tt := range tests {
		if got := moduleVersion(tt.stamped, tt.info); got != tt.version {
			t.Errorf("%s: version %q, want %q", tt.name, got, tt.version)
		}
		if got := commit(tt.info); got != tt.rev {
			t.Errorf("%s: commit %q, want %q", tt.name, got, tt.rev)
		}
	}
}

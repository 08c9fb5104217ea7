package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
	"golang.org/x/mod/module"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
// Left at "dev", the version comes from the build information: the module
// version `go install github.com/jibe-dev/jibe/cmd/jibe@v1.2.3` records.
var version = "dev"

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print Jibe's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			info, _ := debug.ReadBuildInfo()
			fmt.Fprintf(cmd.OutOrStdout(), "jibe %s (commit %s, %s, %s/%s)\n", moduleVersion(version, info), commit(info), runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
}

// moduleVersion returns stamped unless it is "dev", then the main module's
// version from info ("(devel)" when built from a checkout, which says
// nothing more than "dev").
func moduleVersion(stamped string, info *debug.BuildInfo) string {
	if stamped != "dev" || info == nil {
		return stamped
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	return stamped
}

// commit returns the VCS revision the binary was built from, when known:
// recorded by go build in a checkout, or the revision in a pseudo-version
// that go install recorded.
func commit(info *debug.BuildInfo) string {
	if info == nil {
		return "unknown"
	}
	rev, dirty := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		rev = pseudoRevision(info.Main.Version)
	}
	if rev == "" {
		return "unknown"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	return rev
}

// pseudoRevision returns the commit a pseudo-version such as
// v0.0.0-20261205203000-3460757abcde names, or "".
func pseudoRevision(v string) string {
	if module.IsPseudoVersion(v) {
		if rev, err := module.PseudoVersionRev(v); err == nil {
			return rev
		}
	}
	return ""
}

package main

import (
	"fmt"
	"log/slog"

	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/sources/bump"
)

// proposers builds a bump.Proposer for every Git source with
// artifactUpdates: pushing with the source's own credentials, opening
// pull requests with the GitHub client statuses use, in the source's
// repository. It returns nil (the watch off) when no source has
// artifactUpdates. Configuration validation has refused what cannot
// work (a dir source, pull requests without github).
func (w *wiring) proposers(cfg *config.Config, log *slog.Logger) (bump.BySource, error) {
	out := bump.BySource{}
	for _, s := range cfg.Sources {
		u := s.ArtifactUpdates
		if u == nil || s.Git == nil {
			continue
		}
		creds, err := w.git.Credentials(s.Name)
		if err != nil {
			return nil, fmt.Errorf("source %q: artifact updates: %w", s.Name, err)
		}
		opts := bump.Options{Source: s.Name, Credentials: creds, GitHub: w.client, Logger: log}
		if u.Mode == config.UpdateCommit {
			opts.Mode = bump.ModeCommit
		}
		if u.Group == config.GroupSource {
			opts.Group = bump.PerSource
		}
		p, err := bump.New(opts)
		if err != nil {
			return nil, fmt.Errorf("source %q: artifact updates: %w", s.Name, err)
		}
		out[s.Name] = p
		log.Info("artifact updates are proposed", "source", s.Name, "mode", opts.Mode.String(), "repository", creds.Repository, "branch", creds.Branch)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

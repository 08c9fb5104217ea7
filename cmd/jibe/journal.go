package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.etcd.io/bbolt"
	k8s "k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/providers/kubernetes"
	"github.com/jibe-dev/jibe/providers/kubernetes/kubejournal"
	"github.com/jibe-dev/jibe/reconcile"
)

// The destinations of `jibe journal migrate --to`.
const (
	journalToKubernetes = "kubernetes"
	journalToLocal      = "local"
)

// journalOpenTimeout bounds the wait for the local journal's lock and
// for the cluster's journal to be read.
const journalOpenTimeout = 30 * time.Second

func newJournalCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "journal",
		Short: "Manage the rollout journal",
	}
	cmd.AddCommand(newJournalMigrateCommand())
	return cmd
}

// journalMigrateOptions are the flags of `jibe journal migrate`.
type journalMigrateOptions struct {
	config string
	to     string
	force  bool
}

func newJournalMigrateCommand() *cobra.Command {
	o := journalMigrateOptions{config: os.Getenv("JIBE_CONFIG")}
	cmd := &cobra.Command{
		Use:   "migrate --config agent.yaml --to kubernetes|local",
		Short: "Copy the rollout journal between the state directory and the cluster",
		Long: `Copy every record of the rollout journal from the state directory's file
(stateDir/journal.db) to the cluster that state.kubernetes names (--to
kubernetes), or back (--to local). The destination must hold no records,
unless --force (records of the same key are then replaced, others kept).

Stop the agents first: the command refuses to run while an agent holds the
journal file. See docs/journal.md.`,
		Example: `  jibe journal migrate --config agent.yaml --to kubernetes
  jibe journal migrate --config agent.yaml --to local --force`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.config == "" {
				return errors.New("--config is required (or set JIBE_CONFIG)")
			}
			if o.to != journalToKubernetes && o.to != journalToLocal {
				return fmt.Errorf("--to %q: give kubernetes (from the state directory to the cluster) or local (back)", o.to)
			}
			return runJournalMigrate(cmd.Context(), cmd.OutOrStdout(), &o)
		},
	}
	cmd.Flags().StringVarP(&o.config, "config", "c", o.config, "agent configuration file")
	cmd.Flags().StringVar(&o.to, "to", "", "where to copy the journal: kubernetes or local")
	cmd.Flags().BoolVar(&o.force, "force", false, "copy even if the destination holds records")
	return cmd
}

func runJournalMigrate(ctx context.Context, out io.Writer, o *journalMigrateOptions) error {
	cfg, err := config.Load(o.config)
	if err != nil {
		return fmt.Errorf("the agent configuration is invalid:\n%w", err)
	}
	k := cfg.State.Kubernetes
	if k == nil {
		return fmt.Errorf("%s: state.kubernetes is not set: add it (namespace, and cluster unless the command runs in the cluster) to say where the journal goes", o.config)
	}
	path := filepath.Join(cfg.StateDir, "journal.db")
	if _, err := os.Stat(path); o.to == journalToKubernetes && err != nil {
		return fmt.Errorf("no journal to copy at %s (stateDir): %w", path, err)
	}
	local, err := openLocalJournal(path)
	if err != nil {
		return err
	}
	defer local.Close()
	remote, where, err := openClusterJournal(ctx, cfg)
	if err != nil {
		return err
	}
	defer remote.Close()
	from, to, fromName, toName := reconcile.Store(local), reconcile.Store(remote), path, where
	if o.to == journalToLocal {
		from, to, fromName, toName = remote, local, where, path
	}
	res, err := reconcile.CopyJournal(from, to, o.force)
	if errors.Is(err, reconcile.ErrNotEmpty) {
		return fmt.Errorf("%s: %w; nothing was copied (--force copies anyway, replacing records of the same key)", toName, err)
	}
	if err != nil {
		return fmt.Errorf("copying the journal from %s to %s: %w (records copied so far stay; run again with --force once fixed)", fromName, toName, err)
	}
	printCopy(out, res, fromName, toName)
	return nil
}

// openLocalJournal opens the state directory's journal file, refusing
// while an agent holds it.
func openLocalJournal(path string) (reconcile.Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("creating the state directory: %w", err)
	}
	s, err := reconcile.OpenBoltStore(path, time.Second)
	if errors.Is(err, bbolt.ErrTimeout) {
		return nil, fmt.Errorf("the journal %s is in use: an agent (or another jibe journal command) holds its lock; stop the agent, then run the migration again", path)
	}
	return s, err
}

// openClusterJournal opens the journal state.kubernetes names, and says
// where it is.
func openClusterJournal(ctx context.Context, cfg *config.Config) (*kubejournal.Store, string, error) {
	k := cfg.State.Kubernetes
	rc, err := journalRESTConfig(ctx, cfg)
	if err != nil {
		return nil, "", err
	}
	client, err := k8s.NewForConfig(rc)
	if err != nil {
		return nil, "", fmt.Errorf("state.kubernetes: %w", err)
	}
	where := fmt.Sprintf("configmaps %s=%s in namespace %s", kubejournal.LabelJournal, k.Name, k.Namespace)
	if k.Cluster != "" {
		where += " of cluster " + k.Cluster
	}
	ctx, cancel := context.WithTimeout(ctx, journalOpenTimeout)
	defer cancel()
	s, err := kubejournal.Open(ctx, client, k.Namespace, k.Name, kubejournal.Options{Identity: k.Identity})
	if err != nil {
		return nil, "", fmt.Errorf("state.kubernetes: %w", err)
	}
	return s, where, nil
}

// journalRESTConfig returns the client configuration of the cluster
// state.kubernetes names, in-cluster when it names none.
func journalRESTConfig(ctx context.Context, cfg *config.Config) (*rest.Config, error) {
	name := cfg.State.Kubernetes.Cluster
	if name == "" {
		rc, err := rest.InClusterConfig()
		if err != nil {
			return nil, fmt.Errorf("state.kubernetes names no cluster and this is not a pod (%w): set state.kubernetes.cluster to one of kubernetes.clusters", err)
		}
		return rc, nil
	}
	for _, c := range cfg.Kubernetes.Clusters {
		if c.Name == name {
			rc, err := kubernetes.RESTConfig(ctx, c, eksClients(cfg))
			if err != nil {
				return nil, fmt.Errorf("state.kubernetes.cluster %s: %w", name, err)
			}
			return rc, nil
		}
	}
	return nil, fmt.Errorf("state.kubernetes.cluster %s is not one of kubernetes.clusters", name)
}

// printCopy says what was copied.
func printCopy(out io.Writer, res reconcile.CopyResult, from, to string) {
	total := 0
	var parts []string
	for _, b := range slices.Sorted(maps.Keys(res.Records)) {
		total += res.Records[b]
		parts = append(parts, fmt.Sprintf("%s %d", b, res.Records[b]))
	}
	fmt.Fprintf(out, "copied %d records in %d parts\n  from %s\n  to   %s\n", total, res.Parts, from, to)
	if len(parts) > 0 {
		fmt.Fprintf(out, "  %s\n", strings.Join(parts, ", "))
	}
}

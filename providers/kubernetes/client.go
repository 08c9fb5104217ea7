package kubernetes

import (
	"context"
	"errors"
	"fmt"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/reconcile"
)

// ErrNoAWS is returned by RESTConfig for an EKS cluster when no AWS
// clients are given.
var ErrNoAWS = errors.New("eks clusters need AWS clients; the agent must pass AWSClients")

// RESTConfig returns the client configuration of an agent-configured
// cluster: its kubeconfig file and context (the file's current context when
// none is named), the pod's service account for InCluster, or, for EKS,
// EKSRESTConfig with the clients aws returns for the cluster's account and
// region (aws may be nil when no cluster is on EKS). Errors that a retry
// cannot fix (a missing file or context) are reconcile.Stalled.
func RESTConfig(ctx context.Context, c config.Cluster, aws AWSClients) (*rest.Config, error) {
	switch {
	case c.Kubeconfig != nil:
		rules := &clientcmd.ClientConfigLoadingRules{ExplicitPath: c.Kubeconfig.Path}
		overrides := &clientcmd.ConfigOverrides{CurrentContext: c.Kubeconfig.Context}
		cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides).ClientConfig()
		if err != nil {
			return nil, reconcile.Stalled(fmt.Errorf("cluster %s: kubeconfig %s: %w", c.Name, c.Kubeconfig.Path, err))
		}
		return withUserAgent(cfg), nil
	case c.InCluster:
		cfg, err := rest.InClusterConfig()
		if err != nil {
			return nil, reconcile.Stalled(fmt.Errorf("cluster %s: in-cluster configuration: %w", c.Name, err))
		}
		return withUserAgent(cfg), nil
	case c.EKS != nil:
		return eksConfig(ctx, c, aws)
	}
	return nil, reconcile.Stalled(fmt.Errorf("cluster %s: set one of kubeconfig, inCluster and eks", c.Name))
}

// withUserAgent names Jibe in the API server's audit log and raises
// client-go's default rate limits, which would throttle a many-object apply.
func withUserAgent(cfg *rest.Config) *rest.Config {
	cfg.UserAgent = "jibe"
	if cfg.QPS == 0 {
		cfg.QPS, cfg.Burst = 50, 100
	}
	return cfg
}

// eksConfig builds the configuration of an EKS cluster.
func eksConfig(ctx context.Context, c config.Cluster, aws AWSClients) (*rest.Config, error) {
	if aws == nil {
		return nil, reconcile.Stalled(fmt.Errorf("cluster %s: %w", c.Name, ErrNoAWS))
	}
	api, signer, err := aws(ctx, c.EKS.Account, c.EKS.Region)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: aws account %s: %w", c.Name, c.EKS.Account, err)
	}
	cfg, err := EKSRESTConfig(ctx, c.EKS.Name, api, signer)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: %w", c.Name, err)
	}
	return cfg, nil
}

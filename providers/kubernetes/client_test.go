package kubernetes

import (
	"context"
	"encoding/base64"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"k8s.io/client-go/kubernetes"

	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/internal/awsemu"
	"github.com/jibe-dev/jibe/internal/awsemu/awsemutest"
	"github.com/jibe-dev/jibe/internal/testenv/kube"
	"github.com/jibe-dev/jibe/reconcile"
)

func TestRESTConfigFromKubeconfig(t *testing.T) {
	c := kube.Shared(t)
	cfg, err := RESTConfig(t.Context(), config.Cluster{Name: "test", Kubeconfig: &config.Kubeconfig{Path: c.Kubeconfig()}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Discovery().ServerVersion(); err != nil {
		t.Errorf("server version through the kubeconfig: %v", err)
	}

	_, err = RESTConfig(t.Context(), config.Cluster{Name: "test", Kubeconfig: &config.Kubeconfig{Path: c.Kubeconfig(), Context: "missing"}}, nil)
	if reconcile.PolicyOf(err) != reconcile.PolicyStall || !strings.Contains(err.Error(), "missing") {
		t.Errorf("unknown context: %v, want a stalled error naming it", err)
	}
	_, err = RESTConfig(t.Context(), config.Cluster{Name: "test", InCluster: true}, nil)
	if reconcile.PolicyOf(err) != reconcile.PolicyStall {
		t.Errorf("in-cluster outside a pod: %v, want a stalled error", err)
	}
}

func TestEKSRESTConfig(t *testing.T) {
	env := awsemutest.Start(t, awsemu.Options{})
	api := env.EKS()
	_, err := api.CreateCluster(t.Context(), &eks.CreateClusterInput{Name: aws.String("prod"), RoleArn: aws.String("arn:aws:iam::111111111111:role/eks"),
		ResourcesVpcConfig: &ekstypes.VpcConfigRequest{SubnetIds: []string{"subnet-a"}}})
	if err != nil {
		t.Fatal(err)
	}
	clients := func(context.Context, string, string) (EKSDescriber, STSPresigner, error) {
		return api, sts.NewPresignClient(env.STS()), nil
	}
	cluster := config.Cluster{Name: "prod", EKS: &config.EKSCluster{Name: "prod", Account: "main"}}
	if _, err := RESTConfig(t.Context(), cluster, clients); reconcile.PolicyOf(err) != reconcile.PolicyRequeue {
		t.Errorf("creating cluster: %v, want a waiting error", err)
	}
	env.Emu.Advance(30 * time.Minute)
	cfg, err := RESTConfig(t.Context(), cluster, clients)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(cfg.Host, "https://prod.") || !strings.Contains(string(cfg.CAData), "BEGIN CERTIFICATE") || cfg.WrapTransport == nil {
		t.Errorf("config = host %s, CA %q", cfg.Host, cfg.CAData)
	}

	tok, err := (&eksTokenSource{cluster: "prod", signer: sts.NewPresignClient(env.STS())}).Token()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(tok.AccessToken, eksTokenPrefix))
	if err != nil || !strings.HasPrefix(tok.AccessToken, eksTokenPrefix) {
		t.Fatalf("token %q: %v", tok.AccessToken, err)
	}
	u, err := url.Parse(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if q.Get("Action") != "GetCallerIdentity" || !strings.Contains(q.Get("X-Amz-SignedHeaders"), eksClusterHeader) ||
		q.Get("X-Amz-Expires") != "60" || q.Get("X-Amz-Signature") == "" {
		t.Errorf("presigned URL %s lacks what aws-iam-authenticator checks", u)
	}
	if _, err := RESTConfig(t.Context(), cluster, nil); reconcile.PolicyOf(err) != reconcile.PolicyStall {
		t.Errorf("eks without aws clients: %v, want stalled", err)
	}
}

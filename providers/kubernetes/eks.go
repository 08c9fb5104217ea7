package kubernetes

import (
	"context"
	"encoding/base64"
	"fmt"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"golang.org/x/oauth2"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/transport"

	"github.com/jibe-dev/jibe/reconcile"
)

// EKS token constants, as aws-iam-authenticator defines them.
const (
	// eksTokenPrefix starts every EKS bearer token.
	eksTokenPrefix = "k8s-aws-v1."
	// eksClusterHeader binds a token to one cluster.
	eksClusterHeader = "x-k8s-aws-id"
	// eksTokenLifetime is how long a token is used; EKS accepts them for
	// 15 minutes.
	eksTokenLifetime = 14 * time.Minute
	// eksPresignTimeout bounds the signing of a token on refresh.
	eksPresignTimeout = 30 * time.Second
)

// EKSDescriber is the EKS call RESTConfig needs (an *eks.Client).
type EKSDescriber interface {
	DescribeCluster(ctx context.Context, in *eks.DescribeClusterInput, optFns ...func(*eks.Options)) (*eks.DescribeClusterOutput, error)
}

// STSPresigner signs GetCallerIdentity requests (an *sts.PresignClient).
type STSPresigner interface {
	PresignGetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, optFns ...func(*sts.PresignOptions)) (*v4.PresignedHTTPRequest, error)
}

// AWSClients returns the clients of an AWS account (by its name in the
// agent configuration) in a region, for EKS clusters.
type AWSClients func(ctx context.Context, account, region string) (EKSDescriber, STSPresigner, error)

// EKSRESTConfig returns the client configuration of EKS cluster name: its
// endpoint and CA from DescribeCluster, and bearer tokens made as
// aws-iam-authenticator makes them (a presigned STS GetCallerIdentity
// bound to the cluster by the x-k8s-aws-id header), renewed before they
// expire. A cluster that is not active yet is a Waiting error.
func EKSRESTConfig(ctx context.Context, name string, api EKSDescriber, signer STSPresigner) (*rest.Config, error) {
	out, err := api.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: &name})
	if err != nil {
		return nil, fmt.Errorf("describe eks cluster %s: %w", name, err)
	}
	c := out.Cluster
	if c == nil || c.Status != ekstypes.ClusterStatusActive || c.Endpoint == nil {
		return nil, reconcile.Waiting(time.Minute, "eks cluster %s is not active yet", name)
	}
	var ca []byte
	if c.CertificateAuthority != nil && c.CertificateAuthority.Data != nil {
		if ca, err = base64.StdEncoding.DecodeString(*c.CertificateAuthority.Data); err != nil {
			return nil, reconcile.Stalled(fmt.Errorf("eks cluster %s: certificate authority: %w", name, err))
		}
	}
	tokens := transport.NewCachedTokenSource(&eksTokenSource{cluster: name, signer: signer})
	cfg := &rest.Config{Host: *c.Endpoint, TLSClientConfig: rest.TLSClientConfig{CAData: ca}}
	cfg.Wrap(transport.TokenSourceWrapTransport(tokens))
	return withUserAgent(cfg), nil
}

// eksTokenSource makes EKS bearer tokens.
type eksTokenSource struct {
	cluster string
	signer  STSPresigner
}

// Token signs a new token.
func (s *eksTokenSource) Token() (*oauth2.Token, error) {
	ctx, cancel := context.WithTimeout(context.Background(), eksPresignTimeout)
	defer cancel()
	tok, err := eksToken(ctx, s.signer, s.cluster)
	if err != nil {
		return nil, err
	}
	return &oauth2.Token{AccessToken: tok, TokenType: "Bearer", Expiry: time.Now().Add(eksTokenLifetime)}, nil
}

// eksToken presigns GetCallerIdentity for cluster and encodes the URL as
// an EKS token.
func eksToken(ctx context.Context, signer STSPresigner, cluster string) (string, error) {
	req, err := signer.PresignGetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}, func(o *sts.PresignOptions) {
		o.ClientOptions = append(o.ClientOptions, func(o *sts.Options) {
			o.APIOptions = append(o.APIOptions,
				smithyhttp.SetHeaderValue(eksClusterHeader, cluster),
				smithyhttp.SetHeaderValue("X-Amz-Expires", "60"))
		})
	})
	if err != nil {
		return "", fmt.Errorf("presign sts GetCallerIdentity for eks cluster %s: %w", cluster, err)
	}
	return eksTokenPrefix + base64.RawURLEncoding.EncodeToString([]byte(req.URL)), nil
}

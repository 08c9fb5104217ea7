package ecs

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/jibe-dev/jibe/reconcile"
)

// reconcile.Partitioned routes each deployment to the ECS platform of its
// account, built once per account, and diffs each account in one batch.
func TestPartitionedRoutesByAccount(t *testing.T) {
	r := newRig(t)
	other := r.config()
	other.Credentials = aws.NewCredentialsCache(staticCredentials("AKIAOTHERACCOUNT", "secret"))
	if _, err := awsecs.NewFromConfig(other).CreateCluster(r.ctx, &awsecs.CreateClusterInput{ClusterName: aws.String("prod")}); err != nil {
		t.Fatal(err)
	}
	builds := map[string]int{}
	part := &reconcile.Partitioned{
		Key: func(d *reconcile.Deployment) string { return d.Account + "/" + d.Region },
		Build: func(_ context.Context, d *reconcile.Deployment) (reconcile.Platform, error) {
			builds[d.Account]++
			if d.Account == "main" {
				return r.p, nil
			}
			return New(NewClients(other), Options{Clock: r.env.Emu}), nil
		},
	}
	inMain := r.deployment("rev1", "shop/web:v1", nil)
	r.rollout(inMain)
	inOther := r.deployment("rev1", "shop/web:v1", nil)
	inOther.Account = "other"
	inOther.Target.Service.LoadBalancers = nil // the other account has no load balancer

	r.env.Emu.ResetRequests()
	got, err := part.DiffAll(r.ctx, []*reconcile.Deployment{inMain, inOther, inMain})
	if err != nil {
		t.Fatal(err)
	}
	if len(got[0]) != 0 || len(got[2]) != 0 {
		t.Errorf("the deployed account shows changes: %+v", got[0])
	}
	if len(got[1]) != 2 || got[1][0].Action != reconcile.ActionCreate {
		t.Errorf("the other account should be created from nothing: %+v", got[1])
	}
	if builds["main"] != 1 || builds["other"] != 1 {
		t.Errorf("builds = %v, want one platform per account", builds)
	}
	if w := r.writes(); len(w) != 0 {
		t.Errorf("diffing wrote: %+v", w)
	}
	if err := part.Apply(r.ctx, inOther); err != nil {
		t.Fatal(err)
	}
	if builds["other"] != 1 {
		t.Errorf("the platform was built again: %v", builds)
	}
}

func staticCredentials(id, secret string) aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(id, secret, "")
}

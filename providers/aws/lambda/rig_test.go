package lambda

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/jibe-dev/jibe/internal/awsemu"
	"github.com/jibe-dev/jibe/internal/awsemu/awsemutest"
	"github.com/jibe-dev/jibe/internal/backoff"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// rig is an emulator, the platform under test and a Lambda client to check
// what it did.
type rig struct {
	t   testing.TB
	ctx context.Context
	env *awsemutest.Env
	p   *Platform
	fn  *awslambda.Client
}

func newRig(t testing.TB, opts Options) *rig {
	t.Helper()
	env := awsemutest.Start(t, awsemu.Options{})
	r := &rig{t: t, ctx: context.Background(), env: env, fn: env.Lambda()}
	opts.Clock, opts.RequeueAfter, opts.AccountID = env.Emu, 5*time.Second, awsemutest.Account
	if opts.ConflictBackoff == (backoff.Backoff{}) {
		opts.ConflictBackoff = backoff.Backoff{Base: time.Second, Max: 4 * time.Second}
	}
	r.p = New(NewClients(r.config()), opts)
	return r
}

// config is the aws.Config the platform is built from: explicit endpoint,
// static credentials, and a retryer that retries at once.
func (r *rig) config() aws.Config {
	return aws.Config{Region: r.env.Region, BaseEndpoint: aws.String(r.env.URL),
		Credentials: credentials.NewStaticCredentialsProvider(r.env.AccessKey, r.env.SecretKey, ""),
		Retryer:     awsemutest.Retryer(3)}
}

// function is a Zip function file with package key.
func function(key string) *spec.LambdaFunction {
	return &spec.LambdaFunction{FunctionName: "orders", Role: "arn:aws:iam::111111111111:role/orders", Runtime: "python3.12",
		Handler: "app.handler", Code: spec.LambdaCode{S3Bucket: "artifacts", S3Key: key}, MemorySize: aws.Int32(256),
		Environment: &spec.LambdaEnvironment{Variables: map[string]string{"MODE": "prod"}}, Tags: map[string]string{"team": "orders"}}
}

// deployment deploys fn at revision with the strategy (rolling when nil).
func (r *rig) deployment(revision string, fn *spec.LambdaFunction, strategy *spec.Strategy) *reconcile.Deployment {
	if strategy == nil {
		strategy = &spec.Strategy{Rolling: &spec.Rolling{}}
	}
	t := &spec.Target{Name: "api", Lambda: &spec.LambdaTarget{Function: "function.yaml", Alias: "live"}}
	return &reconcile.Deployment{App: "orders", Env: "prod", Revision: revision, Account: "main", Region: r.env.Region, Mode: strategy.Kind(),
		Environment: &spec.Environment{Name: "prod", Strategy: strategy},
		Target:      &spec.RenderedTarget{Target: t, Function: fn}}
}

// next returns d's successor at revision with fn, remembering d as the
// previous revision.
func (r *rig) next(d *reconcile.Deployment, revision string, fn *spec.LambdaFunction) *reconcile.Deployment {
	n := r.deployment(revision, fn, d.Environment.Strategy)
	n.Target.Lambda = d.Target.Lambda
	n.Previous, n.PreviousRevision = d.Target, d.Revision
	return n
}

// until runs step until it succeeds, advancing emulated time by 5s after
// each Waiting error, as the executor does; any other error fails the
// test.
func (r *rig) until(name string, step func() error) {
	r.t.Helper()
	if err := r.try(step); err != nil {
		r.t.Fatalf("%s: %v", name, err)
	}
}

// try runs step until it succeeds or fails with something other than
// Waiting, for at most ten emulated minutes, and returns that error.
func (r *rig) try(step func() error) error {
	for range 120 {
		err := step()
		if reconcile.PolicyOf(err) != reconcile.PolicyRequeue {
			return err
		}
		r.env.Emu.Advance(5 * time.Second)
	}
	return context.DeadlineExceeded
}

// waitHealth polls Health, advancing 5s between polls, until it is not
// progressing.
func (r *rig) waitHealth(d *reconcile.Deployment) reconcile.Health {
	r.t.Helper()
	for range 120 {
		h, err := r.p.Health(r.ctx, d)
		if err != nil {
			r.t.Fatalf("health: %v", err)
		}
		if h.State != reconcile.HealthProgressing {
			return h
		}
		r.env.Emu.Advance(5 * time.Second)
	}
	r.t.Fatalf("still progressing after 10 minutes")
	return reconcile.Health{}
}

// rollout runs d's strategy to the end as the executor would.
func (r *rig) rollout(d *reconcile.Deployment) {
	r.t.Helper()
	r.until("apply", func() error { return r.p.Apply(r.ctx, d) })
	if h := r.waitHealth(d); h.State != reconcile.HealthHealthy {
		r.t.Fatalf("rollout of %s: %s: %s", d.Revision, h.State, h.Reason)
	}
	if mode(d) != spec.StrategyRolling {
		for _, w := range []spec.Percent{10, 50, 100} {
			r.until("shift", func() error { return r.p.ShiftTraffic(r.ctx, d, w) })
		}
	}
	r.until("promote", func() error { return r.p.Promote(r.ctx, d) })
	r.until("cleanup", func() error { return r.p.Cleanup(r.ctx, d) })
}

// alias reads the alias live of function orders.
func (r *rig) alias() *awslambda.GetAliasOutput {
	r.t.Helper()
	out, err := r.fn.GetAlias(r.ctx, &awslambda.GetAliasInput{FunctionName: aws.String("orders"), Name: aws.String("live")})
	if err != nil {
		r.t.Fatal(err)
	}
	return out
}

// routing returns the alias's version and additional weights.
func (r *rig) routing() (string, map[string]float64) {
	a := r.alias()
	var w map[string]float64
	if a.RoutingConfig != nil && len(a.RoutingConfig.AdditionalVersionWeights) > 0 {
		w = a.RoutingConfig.AdditionalVersionWeights
	}
	return aws.ToString(a.FunctionVersion), w
}

// versionList returns the published version numbers of orders.
func (r *rig) versionList() []string {
	r.t.Helper()
	out, err := r.fn.ListVersionsByFunction(r.ctx, &awslambda.ListVersionsByFunctionInput{FunctionName: aws.String("orders")})
	if err != nil {
		r.t.Fatal(err)
	}
	var vs []string
	for _, v := range out.Versions {
		if n := aws.ToString(v.Version); n != "$LATEST" {
			vs = append(vs, n)
		}
	}
	return vs
}

// executed invokes the alias n times and counts the versions that ran.
func (r *rig) executed(n int) map[string]int {
	r.t.Helper()
	out := map[string]int{}
	for range n {
		res, err := r.fn.Invoke(r.ctx, &awslambda.InvokeInput{FunctionName: aws.String("orders"), Qualifier: aws.String("live"),
			InvocationType: types.InvocationTypeRequestResponse})
		if err != nil {
			r.t.Fatal(err)
		}
		out[aws.ToString(res.ExecutedVersion)]++
	}
	return out
}

// writes returns the Lambda write calls since the last reset.
func (r *rig) writes() []string {
	var ops []string
	for _, c := range r.env.Emu.WriteCalls("lambda", "elasticloadbalancing") {
		if c.Operation != "Invoke" {
			ops = append(ops, c.Operation)
		}
	}
	return ops
}

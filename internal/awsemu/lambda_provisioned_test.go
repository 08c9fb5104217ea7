package awsemu_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

func TestLambdaProvisionedConcurrencyBecomesReadyAndRefusesWhatAWSRefuses(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c := env.Lambda()
	createFunction(t, ctx, c, "api")
	waitActive(t, env, c, "api")
	need(c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("api")})).on(t)
	put := func(q string, n int32) error {
		_, err := c.PutProvisionedConcurrencyConfig(ctx, &lambda.PutProvisionedConcurrencyConfigInput{FunctionName: aws.String("api"),
			Qualifier: aws.String(q), ProvisionedConcurrentExecutions: aws.Int32(n)})
		return err
	}
	for name, tc := range map[string]struct {
		q string
		n int32
	}{
		"$LATEST":            {"$LATEST", 5},
		"beyond the account": {"1", 901},
	} {
		var ipv *lambdatypes.InvalidParameterValueException
		if err := put(tc.q, tc.n); !errors.As(err, &ipv) {
			t.Errorf("%s: got %v, want InvalidParameterValueException", name, err)
		}
	}
	refusal{"ValidationException", "1 validation error detected: Value '0' at 'provisionedConcurrentExecutions' failed to satisfy constraint: Member must have value greater than or equal to 1"}.check(t, "zero", put("1", 0))
	var nf *lambdatypes.ResourceNotFoundException
	if err := put("7", 5); !errors.As(err, &nf) {
		t.Errorf("unpublished version 7: got %v, want ResourceNotFoundException", err)
	}
	_, err := c.GetProvisionedConcurrencyConfig(ctx, &lambda.GetProvisionedConcurrencyConfigInput{FunctionName: aws.String("api"), Qualifier: aws.String("1")})
	var pnf *lambdatypes.ProvisionedConcurrencyConfigNotFoundException
	if !errors.As(err, &pnf) {
		t.Fatalf("get before put: got %v, want ProvisionedConcurrencyConfigNotFoundException", err)
	}

	if err := put("1", 10); err != nil {
		t.Fatal(err)
	}
	get := func() *lambda.GetProvisionedConcurrencyConfigOutput {
		return need(c.GetProvisionedConcurrencyConfig(ctx, &lambda.GetProvisionedConcurrencyConfigInput{FunctionName: aws.String("api"), Qualifier: aws.String("1")})).on(t)
	}
	if g := get(); g.Status != lambdatypes.ProvisionedConcurrencyStatusEnumInProgress || aws.ToInt32(g.AllocatedProvisionedConcurrentExecutions) != 0 {
		t.Fatalf("just put: %s with %d allocated, want IN_PROGRESS with 0", g.Status, aws.ToInt32(g.AllocatedProvisionedConcurrentExecutions))
	}
	env.Emu.Advance(15 * time.Second)
	if g := get(); g.Status != lambdatypes.ProvisionedConcurrencyStatusEnumInProgress || aws.ToInt32(g.AllocatedProvisionedConcurrentExecutions) != 5 {
		t.Fatalf("half way: %s with %d allocated, want IN_PROGRESS with 5", g.Status, aws.ToInt32(g.AllocatedProvisionedConcurrentExecutions))
	}
	env.Emu.Advance(15 * time.Second)
	if g := get(); g.Status != lambdatypes.ProvisionedConcurrencyStatusEnumReady || aws.ToInt32(g.AvailableProvisionedConcurrentExecutions) != 10 {
		t.Fatalf("after 30s: %s with %d available, want READY with 10", g.Status, aws.ToInt32(g.AvailableProvisionedConcurrentExecutions))
	}
	list := need(c.ListProvisionedConcurrencyConfigs(ctx, &lambda.ListProvisionedConcurrencyConfigsInput{FunctionName: aws.String("api")})).on(t)
	if len(list.ProvisionedConcurrencyConfigs) != 1 || aws.ToString(list.ProvisionedConcurrencyConfigs[0].FunctionArn) != "arn:aws:lambda:us-east-1:111111111111:function:api:1" {
		t.Fatalf("list: %+v", list.ProvisionedConcurrencyConfigs)
	}

	need(c.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String("api"), ReservedConcurrentExecutions: aws.Int32(20)})).on(t)
	var ipv *lambdatypes.InvalidParameterValueException
	if err := put("1", 21); !errors.As(err, &ipv) {
		t.Errorf("beyond reserved concurrency: got %v, want InvalidParameterValueException", err)
	}

	env.Emu.MarkFunctionVersionBroken("api", "1")
	if g := get(); g.Status != lambdatypes.ProvisionedConcurrencyStatusEnumFailed || aws.ToString(g.StatusReason) == "" {
		t.Fatalf("broken version: %s (%s), want FAILED with a reason", g.Status, aws.ToString(g.StatusReason))
	}
	need(c.DeleteProvisionedConcurrencyConfig(ctx, &lambda.DeleteProvisionedConcurrencyConfigInput{FunctionName: aws.String("api"), Qualifier: aws.String("1")})).on(t)
	list = need(c.ListProvisionedConcurrencyConfigs(ctx, &lambda.ListProvisionedConcurrencyConfigsInput{FunctionName: aws.String("api")})).on(t)
	if len(list.ProvisionedConcurrencyConfigs) != 0 {
		t.Fatalf("after delete: %+v", list.ProvisionedConcurrencyConfigs)
	}
}

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

func TestLambdaEventSourceMappingsLifecycle(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c := env.Lambda()
	createFunction(t, ctx, c, "worker")
	waitActive(t, env, c, "worker")
	v1 := need(c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("worker")})).on(t)
	queue := "arn:aws:sqs:us-east-1:111111111111:jobs"

	created := need(c.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{
		FunctionName: aws.String("worker:" + aws.ToString(v1.Version)), EventSourceArn: aws.String(queue)})).on(t)
	if aws.ToString(created.State) != "Creating" || aws.ToInt32(created.BatchSize) != 10 ||
		aws.ToString(created.FunctionArn) != "arn:aws:lambda:us-east-1:111111111111:function:worker:1" {
		t.Fatalf("created: state %s batch %d function %s", aws.ToString(created.State), aws.ToInt32(created.BatchSize), aws.ToString(created.FunctionArn))
	}
	id := created.UUID
	_, err := c.UpdateEventSourceMapping(ctx, &lambda.UpdateEventSourceMappingInput{UUID: id, BatchSize: aws.Int32(5)})
	var inUse *lambdatypes.ResourceInUseException
	if !errors.As(err, &inUse) {
		t.Errorf("updating a Creating mapping: got %v, want ResourceInUseException", err)
	}
	_, err = c.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("worker:1"), EventSourceArn: aws.String(queue)})
	var conflict *lambdatypes.ResourceConflictException
	if !errors.As(err, &conflict) {
		t.Errorf("a second mapping of the same queue and version: got %v, want ResourceConflictException", err)
	}
	env.Emu.Advance(5 * time.Second)
	if got := need(c.GetEventSourceMapping(ctx, &lambda.GetEventSourceMappingInput{UUID: id})).on(t); aws.ToString(got.State) != "Enabled" {
		t.Fatalf("after 5s: state %s, want Enabled", aws.ToString(got.State))
	}

	_, err = c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("worker"), Qualifier: aws.String("1")})
	if !errors.As(err, &conflict) {
		t.Errorf("deleting a version a mapping uses: got %v, want ResourceConflictException", err)
	}
	unqualified := need(c.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("worker"),
		EventSourceArn: aws.String(queue), Enabled: aws.Bool(false)})).on(t)
	listed := func(fn string) int {
		return len(need(c.ListEventSourceMappings(ctx, &lambda.ListEventSourceMappingsInput{FunctionName: aws.String(fn)})).on(t).EventSourceMappings)
	}
	if all, one := listed("worker"), listed("arn:aws:lambda:us-east-1:111111111111:function:worker:1"); all != 2 || one != 1 {
		t.Errorf("listed by function %d, by version 1 %d: want 2 and 1", all, one)
	}

	updated := need(c.UpdateEventSourceMapping(ctx, &lambda.UpdateEventSourceMappingInput{UUID: id, FunctionName: aws.String("worker"), BatchSize: aws.Int32(5)})).on(t)
	if aws.ToString(updated.State) != "Updating" || aws.ToInt32(updated.BatchSize) != 5 {
		t.Errorf("updated: state %s batch %d", aws.ToString(updated.State), aws.ToInt32(updated.BatchSize))
	}
	env.Emu.Advance(5 * time.Second)
	if got := need(c.GetEventSourceMapping(ctx, &lambda.GetEventSourceMappingInput{UUID: unqualified.UUID})).on(t); aws.ToString(got.State) != "Disabled" {
		t.Errorf("a mapping created disabled: state %s", aws.ToString(got.State))
	}
	need(c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("worker"), Qualifier: aws.String("1")})).on(t)

	deleted := need(c.DeleteEventSourceMapping(ctx, &lambda.DeleteEventSourceMappingInput{UUID: id})).on(t)
	if aws.ToString(deleted.State) != "Deleting" {
		t.Errorf("deleted: state %s", aws.ToString(deleted.State))
	}
	env.Emu.Advance(5 * time.Second)
	_, err = c.GetEventSourceMapping(ctx, &lambda.GetEventSourceMappingInput{UUID: id})
	var nf *lambdatypes.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("a deleted mapping: got %v, want ResourceNotFoundException", err)
	}
	_, err = c.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("missing"), EventSourceArn: aws.String(queue)})
	if !errors.As(err, &nf) {
		t.Errorf("a mapping of a missing function: got %v, want ResourceNotFoundException", err)
	}
}

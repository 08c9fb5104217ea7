package awsemu_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

func TestSQSQueuesThroughTheSDK(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c := env.SQS()
	created := need(c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("orders-dlq"), Attributes: map[string]string{"VisibilityTimeout": "60"}})).on(t)
	url := need(c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("orders-dlq")})).on(t)
	if aws.ToString(url.QueueUrl) != aws.ToString(created.QueueUrl) || aws.ToString(url.QueueUrl) != "https://sqs.us-east-1.amazonaws.com/111111111111/orders-dlq" {
		t.Errorf("queue URL %s, created %s", aws.ToString(url.QueueUrl), aws.ToString(created.QueueUrl))
	}
	again := need(c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("orders-dlq")})).on(t)
	if aws.ToString(again.QueueUrl) != aws.ToString(created.QueueUrl) {
		t.Errorf("creating it again: %s", aws.ToString(again.QueueUrl))
	}
	attrs := need(c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: url.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn, sqstypes.QueueAttributeNameVisibilityTimeout}})).on(t)
	if attrs.Attributes["QueueArn"] != "arn:aws:sqs:us-east-1:111111111111:orders-dlq" || attrs.Attributes["VisibilityTimeout"] != "60" || len(attrs.Attributes) != 2 {
		t.Errorf("attributes %v", attrs.Attributes)
	}
	all := need(c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: url.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{"All"}})).on(t)
	if all.Attributes["MessageRetentionPeriod"] != "345600" || all.Attributes["CreatedTimestamp"] == "" {
		t.Errorf("all attributes %v", all.Attributes)
	}

	_, err := c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("nope")})
	var missing *sqstypes.QueueDoesNotExist
	var api smithy.APIError
	if !errors.As(err, &missing) || !errors.As(err, &api) || api.ErrorCode() != "AWS.SimpleQueueService.NonExistentQueue" {
		t.Errorf("a missing queue: got %v, want QueueDoesNotExist coded AWS.SimpleQueueService.NonExistentQueue", err)
	}
	_, err = c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String("https://sqs.us-east-1.amazonaws.com/111111111111/nope")})
	if !errors.As(err, &missing) {
		t.Errorf("attributes of a missing queue: got %v, want QueueDoesNotExist", err)
	}
	_, err = c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("orders-dlq"), Attributes: map[string]string{"VisibilityTimeout": "90"}})
	var exists *sqstypes.QueueNameExists
	if !errors.As(err, &exists) {
		t.Errorf("the same name with other attributes: got %v, want QueueNameExists", err)
	}
	_, err = c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("jobs.fifo")})
	if !errors.As(err, &api) || api.ErrorCode() != "InvalidParameterValue" {
		t.Errorf("a .fifo name without FifoQueue: got %v", err)
	}
}

func TestSNSTopicsThroughTheSDK(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c := env.SNS()
	created := need(c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("orders-failures"), Attributes: map[string]string{"DisplayName": "Orders"}})).on(t)
	if aws.ToString(created.TopicArn) != "arn:aws:sns:us-east-1:111111111111:orders-failures" {
		t.Errorf("topic ARN %s", aws.ToString(created.TopicArn))
	}
	attrs := need(c.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: created.TopicArn})).on(t)
	if attrs.Attributes["DisplayName"] != "Orders" || attrs.Attributes["Owner"] != "111111111111" || attrs.Attributes["TopicArn"] != aws.ToString(created.TopicArn) {
		t.Errorf("attributes %v", attrs.Attributes)
	}
	_, err := c.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String("arn:aws:sns:us-east-1:111111111111:nope")})
	var nf *snstypes.NotFoundException
	var re *smithyhttp.ResponseError
	if !errors.As(err, &nf) || !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusNotFound {
		t.Errorf("a missing topic: got %v, want NotFound (404)", err)
	}
	_, err = c.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String("orders-failures")})
	var invalid *snstypes.InvalidParameterException
	if !errors.As(err, &invalid) {
		t.Errorf("a name instead of an ARN: got %v, want InvalidParameter", err)
	}
}

package apimetrics

import (
	"context"
	"errors"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
)

// AWSCalls returns the SDK option that counts every call of a client in
// jibe_aws_api_calls_total under account (the account's name in the agent
// configuration) and region: append it to an aws.Config's APIOptions and
// every client built from that configuration counts its calls.
func AWSCalls(account, region string) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		return s.Initialize.Add(countCalls(account, region), middleware.After)
	}
}

// countCalls is the middleware of AWSCalls: one count per call, after
// the SDK's retries, with the outcome of the last attempt.
func countCalls(account, region string) middleware.InitializeMiddleware {
	return middleware.InitializeMiddlewareFunc("jibe/apimetrics", func(ctx context.Context, in middleware.InitializeInput,
		next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		out, md, err := next.HandleInitialize(ctx, in)
		aws().WithLabelValues(account, region, awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx), outcome(err)).Inc()
		return out, md, err
	})
}

// outcome names a call's outcome: ok, the service's error code, or
// "error" when no response told one (a network error, a cancellation).
func outcome(err error) string {
	var apiErr smithy.APIError
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &apiErr) && apiErr.ErrorCode() != "":
		return apiErr.ErrorCode()
	}
	return "error"
}

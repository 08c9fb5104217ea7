package account

import (
	"testing"

	"github.com/aws/smithy-go"
)

func TestRetryerRetriesThrottling(t *testing.T) {
	rt := Retryer()
	if rt.MaxAttempts() != retryMaxAttempts {
		t.Errorf("max attempts %d", rt.MaxAttempts())
	}
	for _, code := range []string{"ThrottlingException", "Throttling", "TooManyRequestsException"} {
		if !rt.IsErrorRetryable(&smithy.GenericAPIError{Code: code}) {
			t.Errorf("%s is not retried", code)
		}
	}
}

package lambda

import (
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

// maxReserved is the emulated account's concurrency limit, less the 100
// executions AWS keeps unreserved.
const maxReserved = 900

func (s *Service) putConcurrency(r *region, c *protocol.Call) (any, error) {
	var in lambda.PutFunctionConcurrencyInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	fn, _, err := r.funcFromPath(c)
	if err != nil {
		return nil, err
	}
	n := aws.ToInt32(in.ReservedConcurrentExecutions)
	if n < 0 {
		return nil, constraint(fmt.Sprint(n), "reservedConcurrentExecutions", "Member must have value greater than or equal to 0")
	}
	if in.ReservedConcurrentExecutions == nil || n > maxReserved {
		return nil, invalid("Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [100].")
	}
	fn.reserved = aws.Int32(n)
	return &lambda.PutFunctionConcurrencyOutput{ReservedConcurrentExecutions: fn.reserved}, nil
}

func (s *Service) deleteConcurrency(r *region, c *protocol.Call) (any, error) {
	fn, _, err := r.funcFromPath(c)
	if err != nil {
		return nil, err
	}
	fn.reserved = nil
	return &protocol.RESTResponse{Status: http.StatusNoContent, Body: []byte{}}, nil
}

func (s *Service) getConcurrency(r *region, c *protocol.Call) (any, error) {
	fn, _, err := r.funcFromPath(c)
	if err != nil {
		return nil, err
	}
	return &lambda.GetFunctionConcurrencyOutput{ReservedConcurrentExecutions: fn.reserved}, nil
}

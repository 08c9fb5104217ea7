package lambda

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

// publishLayerVersion publishes the next version of a layer (its content
// is not kept).
func (s *Service) publishLayerVersion(r *region, c *protocol.Call) (any, error) {
	var in lambda.PublishLayerVersionInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	name := c.Params["LayerName"]
	if name == "" || strings.ContainsAny(name, ":/") || in.Content == nil {
		return nil, invalid("LayerName and Content are required")
	}
	r.layers[name]++
	n := r.layers[name]
	arn := fmt.Sprintf("arn:aws:lambda:%s:%s:layer:%s", r.scope.Region, r.scope.Account, name)
	out := &lambda.PublishLayerVersionOutput{LayerArn: aws.String(arn), LayerVersionArn: aws.String(arn + ":" + strconv.Itoa(n)),
		Version: int64(n), Description: in.Description, CompatibleRuntimes: in.CompatibleRuntimes}
	return &protocol.RESTResponse{Status: http.StatusCreated, Body: out}, nil
}

// getLayerVersionByArn describes a published layer version of this
// account and region; ResourceNotFoundException otherwise.
func (s *Service) getLayerVersionByArn(r *region, c *protocol.Call) (any, error) {
	q := c.HTTP.URL.Query()
	if q.Get("find") != "LayerVersion" {
		return nil, invalid("find=LayerVersion is required")
	}
	arn := q.Get("Arn")
	f := strings.Split(arn, ":")
	if len(f) != 8 || f[5] != "layer" {
		return nil, invalid("1 validation error detected: Value '%s' at 'arn' failed to satisfy constraint", arn)
	}
	n, err := strconv.Atoi(f[7])
	if f[3] != r.scope.Region || f[4] != r.scope.Account || err != nil || n < 1 || n > r.layers[f[6]] {
		return nil, notFound("The resource you requested does not exist.")
	}
	return &lambda.GetLayerVersionByArnOutput{LayerArn: aws.String(strings.Join(f[:7], ":")), LayerVersionArn: aws.String(arn), Version: int64(n)}, nil
}

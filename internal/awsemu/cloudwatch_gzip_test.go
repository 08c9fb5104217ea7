package awsemu_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// encodingRecorder is an SDK HTTP client that remembers the
// Content-Encoding of each request it sends.
type encodingRecorder struct {
	mu        sync.Mutex
	encodings []string
}

// Do records the request's Content-Encoding and sends it.
func (r *encodingRecorder) Do(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.encodings = append(r.encodings, req.Header.Get("Content-Encoding"))
	r.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

func TestCloudWatchAcceptsGzippedPutMetricData(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	rec := &encodingRecorder{}
	c := env.CloudWatch(func(o *cloudwatch.Options) { o.HTTPClient = rec })
	var data []cwtypes.MetricDatum
	for i := 0; i < 500; i++ {
		data = append(data, cwtypes.MetricDatum{MetricName: aws.String(fmt.Sprintf("metric-with-a-long-name-%04d", i)), Value: aws.Float64(float64(i)),
			Dimensions: []cwtypes.Dimension{{Name: aws.String("Service"), Value: aws.String("api")}}})
	}
	need(c.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("Jibe/Big"), MetricData: data})).on(t)
	if len(rec.encodings) != 1 || rec.encodings[0] != "gzip" {
		t.Fatalf("request encodings %v, want one gzip request", rec.encodings)
	}
	var n int
	p := cloudwatch.NewListMetricsPaginator(c, &cloudwatch.ListMetricsInput{Namespace: aws.String("Jibe/Big")})
	for p.HasMorePages() {
		n += len(need(p.NextPage(ctx)).on(t).Metrics)
	}
	if n != 500 {
		t.Errorf("stored %d metrics, want 500", n)
	}
}

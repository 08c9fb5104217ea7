package awsemu_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/jibe-dev/jibe/internal/awsemu"
	"github.com/jibe-dev/jibe/internal/awsemu/awsemutest"
)

func TestS3ObjectsArePerAccountAndRecorded(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c := env.S3()
	need(c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("artifacts")})).on(t)
	need(c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("artifacts"), Key: aws.String("app/v1.zip"), Body: strings.NewReader("zip bytes")})).on(t)
	got := need(c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("artifacts"), Key: aws.String("app/v1.zip")})).on(t)
	b, _ := io.ReadAll(got.Body)
	if string(b) != "zip bytes" {
		t.Fatalf("object body %q", b)
	}
	if got.LastModified == nil || !got.LastModified.Equal(env.Emu.Now().Truncate(1e9)) {
		t.Errorf("LastModified %v, want emulated time %v", got.LastModified, env.Emu.Now())
	}
	list := need(c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("artifacts"), Prefix: aws.String("app/")})).on(t)
	if len(list.Contents) != 1 {
		t.Errorf("listed %d objects", len(list.Contents))
	}
	_, err := env.As("AKIDOTHER", "s", "").S3().GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("artifacts"), Key: aws.String("app/v1.zip")})
	var nb smithy.APIError
	if !errors.As(err, &nb) || nb.ErrorCode() != "NoSuchBucket" {
		t.Errorf("another account reading the bucket: got %v, want NoSuchBucket", err)
	}
	reqs := env.Emu.Requests()
	if r := reqs[1]; r.Service != "s3" || r.Operation != "PutObject" || !r.Write {
		t.Errorf("recorded %+v", r)
	}
	var ae smithy.APIError
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("artifacts"), Key: aws.String("missing")})
	var nk *s3types.NoSuchKey
	if !errors.As(err, &nk) {
		t.Errorf("missing key: got %v, want NoSuchKey", err)
	}
	env.Emu.Inject(awsemu.Fault{Service: "s3", Operation: "GetObject", Kind: awsemu.Throttle, Count: 1})
	_, err = env.S3(func(o *s3.Options) { o.Retryer = awsemutest.Retryer(1)() }).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("artifacts"), Key: aws.String("app/v1.zip")})
	if !errors.As(err, &ae) || ae.ErrorCode() != "SlowDown" {
		t.Errorf("throttled S3: got %v, want SlowDown", err)
	}
}

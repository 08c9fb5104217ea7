package awsemu_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/jibe-dev/jibe/internal/awsemu"
)

// TestEC2ImagesNameFilterTakesWildcards: EC2 filter values take * and ?
// wildcards, as the artifact watch's AMI series use them.
func TestEC2ImagesNameFilterTakesWildcards(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	for id, name := range map[string]string{"ami-0000000000000aaa1": "base-web-1", "ami-0000000000000aaa2": "base-web-2", "ami-0000000000000aaa3": "base-db-1"} {
		if err := env.Emu.AddImage("111111111111", env.Region, awsemu.Image{ID: id, Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	got := need(env.EC2().DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"111111111111"},
		Filters: []ec2types.Filter{{Name: aws.String("name"), Values: []string{"base-web-*"}}}})).on(t).Images
	if len(got) != 2 {
		t.Errorf("name base-web-*: %d images, want 2", len(got))
	}
	got = need(env.EC2().DescribeImages(ctx, &ec2.DescribeImagesInput{Filters: []ec2types.Filter{{Name: aws.String("name"), Values: []string{"base-?b-1"}}}})).on(t).Images
	if len(got) != 1 || aws.ToString(got[0].Name) != "base-db-1" {
		t.Errorf("name base-?b-1: %+v", got)
	}
	got = need(env.EC2().DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"222222222222"}})).on(t).Images
	if len(got) != 0 {
		t.Errorf("images of another owner: %d, want none", len(got))
	}
}

// TestS3ListObjectVersions: a versioned bucket keeps every version of an
// object, newest first, with IsLatest.
func TestS3ListObjectVersions(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c := env.S3()
	need(c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("pkgs")})).on(t)
	need(c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("pkgs"),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}})).on(t)
	var ids []string
	for _, body := range []string{"v1", "v2"} {
		out := need(c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("pkgs"), Key: aws.String("fn/code.zip"), Body: strings.NewReader(body)})).on(t)
		ids = append(ids, aws.ToString(out.VersionId))
		env.Emu.Advance(time.Minute)
	}
	out := need(c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("pkgs"), Prefix: aws.String("fn/code.zip")})).on(t)
	if len(out.Versions) != 2 || ids[0] == "" || ids[0] == ids[1] {
		t.Fatalf("versions %+v, put %v", out.Versions, ids)
	}
	for _, v := range out.Versions {
		if latest := aws.ToString(v.VersionId) == ids[1]; aws.ToBool(v.IsLatest) != latest {
			t.Errorf("version %s IsLatest %v", aws.ToString(v.VersionId), aws.ToBool(v.IsLatest))
		}
	}
}

// TestControlEndpointPushesImage: POST /_jibe/ecr/push makes the
// repository when needed and pushes an image under a tag, as a CI job's
// docker push would; DescribeImages then shows it with its push time.
func TestControlEndpointPushesImage(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	image := "111111111111.dkr.ecr.us-east-1.amazonaws.com/shop/web:1.2.0"
	code, body := control(t, env.URL, http.MethodPost, "ecr/push", `{"image": "`+image+`"}`)
	if code != http.StatusOK {
		t.Fatalf("push: %d %s", code, body)
	}
	d := need(env.ECR().DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("shop/web")})).on(t).ImageDetails
	if len(d) != 1 || d[0].ImageTags[0] != "1.2.0" || !d[0].ImagePushedAt.Equal(env.Emu.Now()) {
		t.Fatalf("pushed image %+v", d)
	}
	if want := `"digest":"` + aws.ToString(d[0].ImageDigest) + `"`; !strings.Contains(body, want) {
		t.Errorf("push answer %s, want %s", body, want)
	}
	if code, _ := control(t, env.URL, http.MethodPost, "ecr/push", `{"image": "docker.io/library/nginx:1"}`); code != http.StatusBadRequest {
		t.Errorf("push of a non-ECR image: %d, want 400", code)
	}
}

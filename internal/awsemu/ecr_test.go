package awsemu_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

func TestECRResolvesTagsToDigests(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c := env.ECR()
	repo := need(c.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("app"), ImageTagMutability: ecrtypes.ImageTagMutabilityImmutable,
		ImageScanningConfiguration: &ecrtypes.ImageScanningConfiguration{ScanOnPush: true}})).on(t).Repository
	if aws.ToString(repo.RepositoryUri) != "111111111111.dkr.ecr.us-east-1.amazonaws.com/app" || !repo.ImageScanningConfiguration.ScanOnPush || repo.CreatedAt == nil {
		t.Errorf("repository %s", jsonOf(t, repo))
	}
	manifest := `{"schemaVersion":2,"config":{"digest":"sha256:aaa"}}`
	img := need(c.PutImage(ctx, &ecr.PutImageInput{RepositoryName: aws.String("app"), ImageManifest: aws.String(manifest), ImageTag: aws.String("v1")})).on(t).Image
	digest := aws.ToString(img.ImageId.ImageDigest)
	if len(digest) != len("sha256:")+64 {
		t.Fatalf("digest %q", digest)
	}
	_, err := c.PutImage(ctx, &ecr.PutImageInput{RepositoryName: aws.String("app"), ImageManifest: aws.String(manifest + " "), ImageTag: aws.String("v1")})
	var immutable *ecrtypes.ImageTagAlreadyExistsException
	if !errors.As(err, &immutable) {
		t.Errorf("moving an immutable tag: got %v, want ImageTagAlreadyExistsException", err)
	}
	d := need(c.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("app"), ImageIds: []ecrtypes.ImageIdentifier{{ImageTag: aws.String("v1")}}})).on(t)
	if len(d.ImageDetails) != 1 || aws.ToString(d.ImageDetails[0].ImageDigest) != digest || d.ImageDetails[0].ImageTags[0] != "v1" {
		t.Errorf("describe by tag %s", jsonOf(t, d.ImageDetails))
	}
	_, err = c.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("app"), ImageIds: []ecrtypes.ImageIdentifier{{ImageTag: aws.String("v9")}}})
	var inf *ecrtypes.ImageNotFoundException
	if !errors.As(err, &inf) {
		t.Errorf("unknown tag: got %v, want ImageNotFoundException", err)
	}
	got := need(c.BatchGetImage(ctx, &ecr.BatchGetImageInput{RepositoryName: aws.String("app"), ImageIds: []ecrtypes.ImageIdentifier{{ImageDigest: aws.String(digest)}, {ImageTag: aws.String("nope")}}})).on(t)
	if len(got.Images) != 1 || aws.ToString(got.Images[0].ImageManifest) != manifest || len(got.Failures) != 1 {
		t.Errorf("batch get %s", jsonOf(t, got))
	}
	_, err = c.DeleteRepository(ctx, &ecr.DeleteRepositoryInput{RepositoryName: aws.String("app")})
	var notEmpty *ecrtypes.RepositoryNotEmptyException
	if !errors.As(err, &notEmpty) {
		t.Errorf("deleting a non-empty repository: got %v", err)
	}
	need(c.DeleteRepository(ctx, &ecr.DeleteRepositoryInput{RepositoryName: aws.String("app"), Force: true})).on(t)
	_, err = c.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"app"}})
	var rnf *ecrtypes.RepositoryNotFoundException
	if !errors.As(err, &rnf) {
		t.Errorf("deleted repository: got %v", err)
	}
	tok := need(c.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})).on(t)
	if len(tok.AuthorizationData) != 1 || tok.AuthorizationData[0].ExpiresAt == nil {
		t.Errorf("token %s", jsonOf(t, tok))
	}
}

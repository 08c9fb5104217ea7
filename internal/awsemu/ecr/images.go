package ecr

import (
	"encoding/base64"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

func (s *Service) describeImages(r *region, c *protocol.Call) (any, error) {
	var in ecr.DescribeImagesInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	repo, err := r.find(aws.ToString(in.RepositoryName))
	if err != nil {
		return nil, err
	}
	var found []*image
	if len(in.ImageIds) > 0 {
		for _, id := range in.ImageIds {
			img, ok := repo.lookup(id)
			if !ok {
				return nil, protocol.Errorf("ImageNotFoundException", "The image with imageId {imageDigest:'%s', imageTag:'%s'} does not exist within the repository with name '%s'",
					aws.ToString(id.ImageDigest), aws.ToString(id.ImageTag), aws.ToString(in.RepositoryName))
			}
			found = append(found, img)
		}
	} else {
		for _, d := range sortedKeys(repo.images) {
			if matchStatus(in.Filter, repo.images[d]) {
				found = append(found, repo.images[d])
			}
		}
	}
	start, end, next, err := protocol.Page(len(found), aws.ToString(in.NextToken), int(aws.ToInt32(in.MaxResults)), 100)
	if err != nil {
		return nil, err
	}
	out := &ecr.DescribeImagesOutput{NextToken: optString(next)}
	for _, img := range found[start:end] {
		out.ImageDetails = append(out.ImageDetails, types.ImageDetail{RegistryId: repo.r.RegistryId, RepositoryName: repo.r.RepositoryName,
			ImageDigest: aws.String(img.digest), ImageTags: img.tags, ImagePushedAt: aws.Time(img.pushed),
			ImageSizeInBytes: aws.Int64(int64(len(img.manifest))), ImageManifestMediaType: aws.String(img.mediaType)})
	}
	return out, nil
}

func matchStatus(f *types.DescribeImagesFilter, img *image) bool {
	if f == nil {
		return true
	}
	switch f.TagStatus {
	case types.TagStatusTagged:
		return len(img.tags) > 0
	case types.TagStatusUntagged:
		return len(img.tags) == 0
	}
	return true
}

func (s *Service) batchGetImage(r *region, c *protocol.Call) (any, error) {
	var in ecr.BatchGetImageInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	repo, err := r.find(aws.ToString(in.RepositoryName))
	if err != nil {
		return nil, err
	}
	out := &ecr.BatchGetImageOutput{}
	for _, id := range in.ImageIds {
		img, ok := repo.lookup(id)
		if !ok {
			idc := id
			out.Failures = append(out.Failures, types.ImageFailure{ImageId: &idc, FailureCode: types.ImageFailureCodeImageNotFound, FailureReason: aws.String("Requested image not found")})
			continue
		}
		out.Images = append(out.Images, *repo.imageOut(img, aws.ToString(id.ImageTag)))
	}
	return out, nil
}

func (s *Service) batchDeleteImage(r *region, c *protocol.Call) (any, error) {
	var in ecr.BatchDeleteImageInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	repo, err := r.find(aws.ToString(in.RepositoryName))
	if err != nil {
		return nil, err
	}
	out := &ecr.BatchDeleteImageOutput{}
	for _, id := range in.ImageIds {
		img, ok := repo.lookup(id)
		if !ok {
			idc := id
			out.Failures = append(out.Failures, types.ImageFailure{ImageId: &idc, FailureCode: types.ImageFailureCodeImageNotFound, FailureReason: aws.String("Requested image not found")})
			continue
		}
		if tag := aws.ToString(id.ImageTag); tag != "" && len(img.tags) > 1 {
			repo.untag(tag)
		} else {
			delete(repo.images, img.digest)
		}
		out.ImageIds = append(out.ImageIds, types.ImageIdentifier{ImageDigest: aws.String(img.digest), ImageTag: id.ImageTag})
	}
	return out, nil
}

func (s *Service) listImages(r *region, c *protocol.Call) (any, error) {
	var in ecr.ListImagesInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	repo, err := r.find(aws.ToString(in.RepositoryName))
	if err != nil {
		return nil, err
	}
	var ids []types.ImageIdentifier
	for _, d := range sortedKeys(repo.images) {
		img := repo.images[d]
		if len(img.tags) == 0 {
			ids = append(ids, types.ImageIdentifier{ImageDigest: aws.String(d)})
		}
		for _, t := range img.tags {
			ids = append(ids, types.ImageIdentifier{ImageDigest: aws.String(d), ImageTag: aws.String(t)})
		}
	}
	start, end, next, err := protocol.Page(len(ids), aws.ToString(in.NextToken), int(aws.ToInt32(in.MaxResults)), 100)
	if err != nil {
		return nil, err
	}
	return &ecr.ListImagesOutput{ImageIds: ids[start:end], NextToken: optString(next)}, nil
}

func (s *Service) getAuthorizationToken(r *region, c *protocol.Call) (any, error) {
	token := base64.StdEncoding.EncodeToString([]byte("AWS:emulated-password-" + c.Account))
	return &ecr.GetAuthorizationTokenOutput{AuthorizationData: []types.AuthorizationData{{
		AuthorizationToken: aws.String(token), ExpiresAt: aws.Time(c.Now.Add(12 * 3600e9)),
		ProxyEndpoint: aws.String("https://" + c.Account + ".dkr.ecr." + c.Region + ".amazonaws.com"),
	}}}, nil
}

func (r *region) byArn(arn string) (*repository, error) {
	for _, repo := range r.repos {
		if aws.ToString(repo.r.RepositoryArn) == arn {
			return repo, nil
		}
	}
	return nil, protocol.Errorf("RepositoryNotFoundException", "The repository with arn '%s' does not exist", arn)
}

func (s *Service) tagResource(r *region, c *protocol.Call) (any, error) {
	var in ecr.TagResourceInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	repo, err := r.byArn(aws.ToString(in.ResourceArn))
	if err != nil {
		return nil, err
	}
	repo.tags = append(repo.tags, in.Tags...)
	return &ecr.TagResourceOutput{}, nil
}

func (s *Service) listTagsForResource(r *region, c *protocol.Call) (any, error) {
	var in ecr.ListTagsForResourceInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	repo, err := r.byArn(aws.ToString(in.ResourceArn))
	if err != nil {
		return nil, err
	}
	return &ecr.ListTagsForResourceOutput{Tags: repo.tags}, nil
}

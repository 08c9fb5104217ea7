// Package ecr emulates Amazon ECR (awsJson1.1): repositories, images
// pushed by manifest (digest = sha256 of the manifest), tag mutability,
// image lookups by tag or digest, and authorization tokens.
package ecr

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/schemas"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

// Service is the emulated ECR.
type Service struct {
	codec   *protocol.JSON11
	regions map[protocol.Scope]*region
}

// New returns an empty ECR.
func New() *Service {
	return &Service{codec: protocol.NewJSON11(schemas.AmazonEC2ContainerRegistry_V20150921), regions: map[protocol.Scope]*region{}}
}

// Name returns the signing name "ecr".
func (s *Service) Name() string { return "ecr" }

// Kind returns awsJson1.1.
func (s *Service) Kind() protocol.Kind { return protocol.KindJSON11 }

// Codec returns the awsJson1.1 codec.
func (s *Service) Codec() protocol.Codec { return s.codec }

type region struct {
	scope protocol.Scope
	repos map[string]*repository
}

type repository struct {
	r      types.Repository
	tags   []types.Tag
	images map[string]*image // by digest
}

type image struct {
	digest, manifest, mediaType string
	tags                        []string
	pushed                      time.Time
}

func (s *Service) region(scope protocol.Scope) *region {
	r, ok := s.regions[scope]
	if !ok {
		r = &region{scope: scope, repos: map[string]*repository{}}
		s.regions[scope] = r
	}
	return r
}

type handler func(s *Service, r *region, c *protocol.Call) (any, error)

var handlers = map[string]handler{
	"CreateRepository":      (*Service).createRepository,
	"DescribeRepositories":  (*Service).describeRepositories,
	"DeleteRepository":      (*Service).deleteRepository,
	"PutImage":              (*Service).putImage,
	"DescribeImages":        (*Service).describeImages,
	"BatchGetImage":         (*Service).batchGetImage,
	"BatchDeleteImage":      (*Service).batchDeleteImage,
	"ListImages":            (*Service).listImages,
	"GetAuthorizationToken": (*Service).getAuthorizationToken,
	"TagResource":           (*Service).tagResource,
	"ListTagsForResource":   (*Service).listTagsForResource,
}

// Handle serves one ECR call.
func (s *Service) Handle(c *protocol.Call) (any, error) {
	h, ok := handlers[c.Operation]
	if !ok {
		return nil, protocol.Errorf("UnknownOperationException", "operation %s is not supported by the emulator", c.Operation)
	}
	return h(s, s.region(c.Scope()), c)
}

// repoNamePattern is the pattern ECR documents (and quotes in its error)
// for repository names.
const repoNamePattern = `(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*`

// repoName is repoNamePattern, relaxed to the runs of separators ("a--b")
// ECR accepts in practice.
var repoName = regexp.MustCompile(`^(?:[a-z0-9]+(?:[._-]+[a-z0-9]+)*/)*[a-z0-9]+(?:[._-]+[a-z0-9]+)*$`)

// checkRepoName applies ECR's constraints on repositoryName: 2 to 256
// characters of its pattern.
func checkRepoName(name string) error {
	const bad = "Invalid parameter at 'repositoryName' failed to satisfy constraint: "
	switch {
	case len(name) < 2:
		return protocol.Errorf("InvalidParameterException", bad+"'must have length greater than or equal to 2'")
	case len(name) > 256:
		return protocol.Errorf("InvalidParameterException", bad+"'must have length less than or equal to 256'")
	case !repoName.MatchString(name):
		return protocol.Errorf("InvalidParameterException", bad+"'must satisfy regular expression '%s''", repoNamePattern)
	}
	return nil
}

func (r *region) find(name string) (*repository, error) {
	if err := checkRepoName(name); err != nil {
		return nil, err
	}
	repo, ok := r.repos[name]
	if !ok {
		return nil, protocol.Errorf("RepositoryNotFoundException", "The repository with name '%s' does not exist in the registry with id '%s'", name, r.scope.Account)
	}
	return repo, nil
}

func (s *Service) createRepository(r *region, c *protocol.Call) (any, error) {
	var in ecr.CreateRepositoryInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	name := aws.ToString(in.RepositoryName)
	if err := checkRepoName(name); err != nil {
		return nil, err
	}
	if _, ok := r.repos[name]; ok {
		return nil, protocol.Errorf("RepositoryAlreadyExistsException", "The repository with name '%s' already exists in the registry with id '%s'", name, c.Account)
	}
	repo := &repository{tags: in.Tags, images: map[string]*image{}}
	if err := protocol.Copy(&in, &repo.r, "Tags"); err != nil {
		return nil, err
	}
	repo.r.RegistryId = aws.String(c.Account)
	repo.r.RepositoryArn = aws.String(fmt.Sprintf("arn:aws:ecr:%s:%s:repository/%s", c.Region, c.Account, name))
	repo.r.RepositoryUri = aws.String(fmt.Sprintf("%s.dkr.ecr.%s.amazonaws.com/%s", c.Account, c.Region, name))
	repo.r.CreatedAt = aws.Time(c.Now)
	if repo.r.ImageTagMutability == "" {
		repo.r.ImageTagMutability = types.ImageTagMutabilityMutable
	}
	if repo.r.EncryptionConfiguration == nil {
		repo.r.EncryptionConfiguration = &types.EncryptionConfiguration{EncryptionType: types.EncryptionTypeAes256}
	}
	if repo.r.ImageScanningConfiguration == nil {
		repo.r.ImageScanningConfiguration = &types.ImageScanningConfiguration{}
	}
	r.repos[name] = repo
	v := repo.r
	return &ecr.CreateRepositoryOutput{Repository: &v}, nil
}

func (s *Service) describeRepositories(r *region, c *protocol.Call) (any, error) {
	var in ecr.DescribeRepositoriesInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	var found []types.Repository
	if len(in.RepositoryNames) > 0 {
		for _, n := range in.RepositoryNames {
			repo, err := r.find(n)
			if err != nil {
				return nil, err
			}
			found = append(found, repo.r)
		}
	} else {
		for _, n := range sortedKeys(r.repos) {
			found = append(found, r.repos[n].r)
		}
	}
	start, end, next, err := protocol.Page(len(found), aws.ToString(in.NextToken), int(aws.ToInt32(in.MaxResults)), 100)
	if err != nil {
		return nil, err
	}
	return &ecr.DescribeRepositoriesOutput{Repositories: found[start:end], NextToken: optString(next)}, nil
}

func (s *Service) deleteRepository(r *region, c *protocol.Call) (any, error) {
	var in ecr.DeleteRepositoryInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	repo, err := r.find(aws.ToString(in.RepositoryName))
	if err != nil {
		return nil, err
	}
	if len(repo.images) > 0 && !in.Force {
		return nil, protocol.Errorf("RepositoryNotEmptyException", "The repository with name '%s' in registry with id '%s' cannot be deleted because it still contains images", aws.ToString(in.RepositoryName), c.Account)
	}
	delete(r.repos, aws.ToString(in.RepositoryName))
	v := repo.r
	return &ecr.DeleteRepositoryOutput{Repository: &v}, nil
}

// Digest returns the content digest of a manifest, as ECR computes it.
func Digest(manifest string) string {
	sum := sha256.Sum256([]byte(manifest))
	return "sha256:" + hex.EncodeToString(sum[:])
}

func (s *Service) putImage(r *region, c *protocol.Call) (any, error) {
	var in ecr.PutImageInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	repo, err := r.find(aws.ToString(in.RepositoryName))
	if err != nil {
		return nil, err
	}
	digest := Digest(aws.ToString(in.ImageManifest))
	if in.ImageDigest != nil && *in.ImageDigest != digest {
		return nil, protocol.Errorf("ImageDigestDoesNotMatchException", "The provided image digest does not match the manifest")
	}
	tag := aws.ToString(in.ImageTag)
	if err := repo.checkTag(tag, digest); err != nil {
		return nil, err
	}
	img, ok := repo.images[digest]
	if !ok {
		img = &image{digest: digest, manifest: aws.ToString(in.ImageManifest), mediaType: aws.ToString(in.ImageManifestMediaType), pushed: c.Now}
		if img.mediaType == "" {
			img.mediaType = "application/vnd.docker.distribution.manifest.v2+json"
		}
		repo.images[digest] = img
	}
	if tag != "" {
		repo.untag(tag)
		img.tags = append(img.tags, tag)
	}
	return &ecr.PutImageOutput{Image: repo.imageOut(img, tag)}, nil
}

// checkTag rejects re-pushing an identical image and, in IMMUTABLE
// repositories, moving an existing tag.
func (repo *repository) checkTag(tag, digest string) error {
	if tag == "" {
		return nil
	}
	for _, img := range repo.images {
		for _, t := range img.tags {
			if t != tag {
				continue
			}
			if img.digest == digest {
				return protocol.Errorf("ImageAlreadyExistsException", "Image with digest '%s' and tag '%s' already exists in the repository", digest, tag)
			}
			if repo.r.ImageTagMutability == types.ImageTagMutabilityImmutable {
				return protocol.Errorf("ImageTagAlreadyExistsException", "The image tag '%s' already exists in the repository and cannot be overwritten because the repository is immutable.", tag)
			}
		}
	}
	return nil
}

func (repo *repository) untag(tag string) {
	for _, img := range repo.images {
		kept := img.tags[:0]
		for _, t := range img.tags {
			if t != tag {
				kept = append(kept, t)
			}
		}
		img.tags = kept
	}
}

func (repo *repository) imageOut(img *image, tag string) *types.Image {
	id := &types.ImageIdentifier{ImageDigest: aws.String(img.digest)}
	if tag != "" {
		id.ImageTag = aws.String(tag)
	}
	return &types.Image{RegistryId: repo.r.RegistryId, RepositoryName: repo.r.RepositoryName, ImageId: id,
		ImageManifest: aws.String(img.manifest), ImageManifestMediaType: aws.String(img.mediaType)}
}

// lookup finds an image by digest or tag.
func (repo *repository) lookup(id types.ImageIdentifier) (*image, bool) {
	if d := aws.ToString(id.ImageDigest); d != "" {
		img, ok := repo.images[d]
		return img, ok
	}
	for _, img := range repo.images {
		for _, t := range img.tags {
			if t == aws.ToString(id.ImageTag) {
				return img, true
			}
		}
	}
	return nil, false
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// ImageExists reports whether the repository of the account and region
// in scope holds an image with the tag or digest (ref "sha256:…"), as a
// pull by ECS resolves it.
func (s *Service) ImageExists(scope protocol.Scope, repository, ref string) bool {
	r, ok := s.regions[scope]
	if !ok {
		return false
	}
	repo, ok := r.repos[repository]
	if !ok {
		return false
	}
	id := types.ImageIdentifier{ImageTag: aws.String(ref)}
	if strings.HasPrefix(ref, "sha256:") {
		id = types.ImageIdentifier{ImageDigest: aws.String(ref)}
	}
	_, ok = repo.lookup(id)
	return ok
}

// Push pushes manifest under tag to the repository of scope, creating
// the repository (tags mutable) when it does not exist, as a CI job's
// docker push to a registry with create-on-push does. It returns the
// image's digest.
func (s *Service) Push(scope protocol.Scope, repository, tag, manifest string, now time.Time) (string, error) {
	r := s.region(scope)
	if _, ok := r.repos[repository]; !ok {
		c := &protocol.Call{Account: scope.Account, Region: scope.Region, Now: now}
		c.Body = []byte(fmt.Sprintf(`{"repositoryName":%q}`, repository))
		if _, err := s.createRepository(r, c); err != nil {
			return "", err
		}
	}
	c := &protocol.Call{Account: scope.Account, Region: scope.Region, Now: now}
	c.Body = []byte(fmt.Sprintf(`{"repositoryName":%q,"imageTag":%q,"imageManifest":%q}`, repository, tag, manifest))
	out, err := s.putImage(r, c)
	if err != nil {
		return "", err
	}
	return aws.ToString(out.(*ecr.PutImageOutput).Image.ImageId.ImageDigest), nil
}

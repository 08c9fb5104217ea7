package artifacts

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/providers/aws/awserr"
)

// The kinds of cached read.
const (
	kindECR = "ecr"
	kindS3  = "s3"
	kindAMI = "ami"
)

// entry is one cached read: an ECR repository's images, an S3 object's
// versions or an AMI series.
type entry struct {
	kind, account, region, name string
	// read is when it was read; stale is set by Invalidate.
	read  time.Time
	stale bool

	images   []image
	versions []version
	amis     []ami
}

// image is an ECR image as DescribeImages tells it.
type image struct {
	digest string
	tags   []string
	pushed time.Time
}

// version is a version of an S3 object.
type version struct {
	id     string
	latest bool
}

// ami is a machine image of a series.
type ami struct {
	id, name string
	created  time.Time
}

// hints say what to grant when AWS refuses a read.
var hints = map[string]string{
	"AccessDeniedException":       "grant the account's role ecr:DescribeImages on the repository",
	"AccessDenied":                "grant the account's role s3:ListBucketVersions on the bucket",
	"UnauthorizedOperation":       "grant the account's role ec2:DescribeImages",
	"RepositoryNotFoundException": "check the image's repository name and account, or create the repository",
	"NoSuchBucket":                "check the artifact's bucket name, or create the bucket with versioning on",
}

// cached returns the entry of key when fresh, else reads it with read and
// keeps it. A failed read keeps nothing, so the next pass tries again.
func (w *Watcher) cached(key string, interval time.Duration, read func() (*entry, error)) (*entry, error) {
	w.mu.Lock()
	e := w.cache[key]
	w.mu.Unlock()
	if w.fresh(e, interval) {
		return e, nil
	}
	e, err := read()
	if err != nil {
		return nil, err
	}
	e.read = w.opts.Clock.Now()
	w.mu.Lock()
	w.cache[key] = e
	w.mu.Unlock()
	return e, nil
}

// repository returns the tagged images of an ECR repository: one
// DescribeImages pass (paginated) per interval.
func (w *Watcher) repository(ctx context.Context, acct *config.AWSAccount, registry, region, repo string, interval time.Duration) (*entry, error) {
	key := fmt.Sprintf("%s/%s/%s/%s", kindECR, registry, region, repo)
	return w.cached(key, interval, func() (*entry, error) {
		c, err := w.clientsOf(ctx, acct, region)
		if err != nil {
			return nil, err
		}
		e := &entry{kind: kindECR, account: registry, region: region, name: repo}
		in := &ecr.DescribeImagesInput{RegistryId: aws.String(registry), RepositoryName: aws.String(repo),
			Filter: &ecrtypes.DescribeImagesFilter{TagStatus: ecrtypes.TagStatusTagged}, MaxResults: aws.Int32(1000)}
		p := ecr.NewDescribeImagesPaginator(c.ECR, in)
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				return nil, awserr.Classify(fmt.Errorf("account %s: describe images of ECR repository %s in %s: %w", acct.Name, repo, region, err), hints)
			}
			for _, d := range out.ImageDetails {
				e.images = append(e.images, image{digest: aws.ToString(d.ImageDigest), tags: d.ImageTags, pushed: aws.ToTime(d.ImagePushedAt)})
			}
		}
		w.opts.Logger.Debug("artifact watch read", "kind", kindECR, "account", acct.Name, "region", region, "repository", repo, "images", len(e.images))
		return e, nil
	})
}

// objectVersions returns the versions of an S3 object: one
// ListObjectVersions pass (paginated) per interval.
func (w *Watcher) objectVersions(ctx context.Context, acct *config.AWSAccount, region, bucket, key string, interval time.Duration) (*entry, error) {
	ckey := fmt.Sprintf("%s/%s/%s/%s", kindS3, acct.Name, bucket, key)
	return w.cached(ckey, interval, func() (*entry, error) {
		c, err := w.clientsOf(ctx, acct, region)
		if err != nil {
			return nil, err
		}
		e := &entry{kind: kindS3, account: acct.Name, region: region, name: bucket + "/" + key}
		in := &s3.ListObjectVersionsInput{Bucket: aws.String(bucket), Prefix: aws.String(key)}
		for {
			out, err := c.S3.ListObjectVersions(ctx, in)
			if err != nil {
				return nil, awserr.Classify(fmt.Errorf("account %s: list versions of s3://%s/%s: %w", acct.Name, bucket, key, err), hints)
			}
			for _, v := range out.Versions {
				if aws.ToString(v.Key) == key {
					e.versions = append(e.versions, version{id: aws.ToString(v.VersionId), latest: aws.ToBool(v.IsLatest)})
				}
			}
			if !aws.ToBool(out.IsTruncated) {
				break
			}
			in.KeyMarker, in.VersionIdMarker = out.NextKeyMarker, out.NextVersionIdMarker
		}
		w.opts.Logger.Debug("artifact watch read", "kind", kindS3, "account", acct.Name, "bucket", bucket, "key", key, "versions", len(e.versions))
		return e, nil
	})
}

// series returns the available images of an owner whose name matches a
// pattern: one DescribeImages pass per interval.
func (w *Watcher) series(ctx context.Context, acct *config.AWSAccount, region, owner, pattern string, interval time.Duration) (*entry, error) {
	key := fmt.Sprintf("%s/%s/%s/%s/%s", kindAMI, acct.Name, region, owner, pattern)
	return w.cached(key, interval, func() (*entry, error) {
		c, err := w.clientsOf(ctx, acct, region)
		if err != nil {
			return nil, err
		}
		e := &entry{kind: kindAMI, account: acct.Name, region: region, name: owner + "/" + pattern}
		in := &ec2.DescribeImagesInput{Owners: []string{owner}, Filters: []ec2types.Filter{
			{Name: aws.String("name"), Values: []string{pattern}}, {Name: aws.String("state"), Values: []string{"available"}}}}
		p := ec2.NewDescribeImagesPaginator(c.EC2, in)
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				return nil, awserr.Classify(fmt.Errorf("account %s: describe images named %q of owner %s in %s: %w", acct.Name, pattern, owner, region, err), hints)
			}
			for _, img := range out.Images {
				created, _ := time.Parse(time.RFC3339, aws.ToString(img.CreationDate))
				e.amis = append(e.amis, ami{id: aws.ToString(img.ImageId), name: aws.ToString(img.Name), created: created})
			}
		}
		w.opts.Logger.Debug("artifact watch read", "kind", kindAMI, "account", acct.Name, "region", region, "owner", owner, "name", pattern, "images", len(e.amis))
		return e, nil
	})
}

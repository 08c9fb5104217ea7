package artifacts

import (
	"context"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"

	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/spec"
)

// followImage returns the image a's policy picks (written as a is: with
// a digest when a has one), or "" when nothing fits.
func (w *Watcher) followImage(ctx context.Context, cfg *config.Config, src *config.Source, interval time.Duration, a *spec.Artifact) (string, error) {
	img, ok := spec.ParseECRImage(a.Image)
	if !ok {
		return "", fmt.Errorf("%q is not an image of an ECR private registry", a.Image)
	}
	acct, err := registryAccount(cfg, src, img.Account)
	if err != nil {
		return "", err
	}
	e, err := w.repository(ctx, acct, img.Account, img.Region, img.Repository, interval)
	if err != nil {
		return "", err
	}
	name := a.Image[:len(a.Image)-len(suffix(img))]
	p := a.Update
	switch {
	case p.Digest != "":
		return byDigest(e.images, name, img, p.Digest), nil
	case p.Semver != "":
		tag, err := bySemver(e.images, img.Tag, p.Semver)
		return written(name, img, tag, e.images), err
	case p.Tag != nil:
		tag, err := byPattern(e.images, img.Tag, p.Tag)
		return written(name, img, tag, e.images), err
	}
	return "", nil
}

// suffix is what follows the repository in an image reference.
func suffix(img spec.ECRImage) string {
	s := ""
	if img.Tag != "" {
		s = ":" + img.Tag
	}
	if img.Digest != "" {
		s += "@" + img.Digest
	}
	return s
}

// written is the reference of tag in the form the artifact is written:
// repository:tag, or repository:tag@digest when it carries a digest. ""
// when tag is.
func written(name string, img spec.ECRImage, tag string, images []image) string {
	if tag == "" {
		return ""
	}
	if img.Digest == "" {
		return name + ":" + tag
	}
	return name + ":" + tag + "@" + digestOf(images, tag)
}

func digestOf(images []image, tag string) string {
	for _, i := range images {
		for _, t := range i.tags {
			if t == tag {
				return i.digest
			}
		}
	}
	return ""
}

// byDigest returns the reference of the image the moving tag points to:
// repository:tag@digest, or repository@digest when the artifact is
// written without its tag.
func byDigest(images []image, name string, img spec.ECRImage, tag string) string {
	d := digestOf(images, tag)
	switch {
	case d == "" || d == img.Digest:
		return ""
	case img.Tag == "":
		return name + "@" + d
	}
	return name + ":" + tag + "@" + d
}

// bySemver returns the highest tag in the range, when it is higher than
// current (any, when current is not a version).
func bySemver(images []image, current, rng string) (string, error) {
	c, err := spec.ParseSemverRange(rng)
	if err != nil {
		return "", err
	}
	var best *semver.Version
	bestTag := ""
	for _, i := range images {
		for _, t := range i.tags {
			v, err := semver.NewVersion(t)
			if err != nil || !c.Check(v) {
				continue
			}
			if best == nil || v.GreaterThan(best) {
				best, bestTag = v, t
			}
		}
	}
	if cur, err := semver.NewVersion(current); best == nil || err == nil && !best.GreaterThan(cur) {
		return "", nil
	}
	return bestTag, nil
}

// candidate is a tag matching a pattern, with its sort key.
type candidate struct {
	tag, key string
	pushed   time.Time
}

// byPattern returns the highest matching tag by the policy's order, when
// it is above current.
func byPattern(images []image, current string, p *spec.TagPolicy) (string, error) {
	re, group, err := spec.CompileTagPattern(p.Pattern)
	if err != nil {
		return "", err
	}
	var cands []candidate
	var cur *candidate
	for _, i := range images {
		for _, t := range i.tags {
			m := re.FindStringSubmatch(t)
			if m == nil || p.SortBy == spec.SortNumerical && !isNumber(m[group]) {
				continue
			}
			c := candidate{tag: t, key: m[group], pushed: i.pushed}
			cands = append(cands, c)
			if t == current {
				cur = &c
			}
		}
	}
	if len(cands) == 0 {
		return "", nil
	}
	less := order(p.SortBy)
	sort.Slice(cands, func(i, j int) bool { return less(cands[i], cands[j]) })
	best := cands[len(cands)-1]
	if cur == nil {
		if m := re.FindStringSubmatch(current); m != nil && p.SortBy != spec.SortPushed {
			cur = &candidate{tag: current, key: m[group]}
		}
	}
	if best.tag == current || cur != nil && !less(*cur, best) {
		return "", nil
	}
	return best.tag, nil
}

// order returns the ordering of candidates by sortBy; ties go by tag.
func order(by spec.TagSort) func(a, b candidate) bool {
	return func(a, b candidate) bool {
		switch by {
		case spec.SortNumerical:
			if c := numCompare(a.key, b.key); c != 0 {
				return c < 0
			}
		case spec.SortPushed:
			if !a.pushed.Equal(b.pushed) {
				return a.pushed.Before(b.pushed)
			}
		default:
			if a.key != b.key {
				return a.key < b.key
			}
		}
		return a.tag < b.tag
	}
}

func isNumber(s string) bool {
	_, ok := new(big.Int).SetString(s, 10)
	return ok && !strings.HasPrefix(s, "-") && !strings.HasPrefix(s, "+")
}

func numCompare(a, b string) int {
	x, _ := new(big.Int).SetString(a, 10)
	y, _ := new(big.Int).SetString(b, 10)
	return x.Cmp(y)
}

// followObject returns the latest version of a's S3 object, or "" when
// the object has none (or only a delete marker is latest).
func (w *Watcher) followObject(ctx context.Context, cfg *config.Config, src *config.Source, app *spec.Application, interval time.Duration, a *spec.Artifact) (string, error) {
	acct, region, err := placement(cfg, app)
	if err != nil {
		return "", err
	}
	if err := src.CheckAccount(acct.Name); err != nil {
		return "", err
	}
	e, err := w.objectVersions(ctx, acct, region, a.S3.Bucket, a.S3.Key, interval)
	if err != nil {
		return "", err
	}
	for _, v := range e.versions {
		if v.latest {
			return v.id, nil
		}
	}
	return "", nil
}

// followAMI returns the newest image of a's series, or "" when the series
// has none.
func (w *Watcher) followAMI(ctx context.Context, cfg *config.Config, src *config.Source, app *spec.Application, interval time.Duration, a *spec.Artifact) (string, error) {
	acct, region, err := placement(cfg, app)
	if err != nil {
		return "", err
	}
	if err := src.CheckAccount(acct.Name); err != nil {
		return "", err
	}
	owner := a.Update.AMI.Owner
	if owner == "" {
		owner = "self"
	}
	e, err := w.series(ctx, acct, region, owner, a.Update.AMI.Name, interval)
	if err != nil {
		return "", err
	}
	var best *ami
	for i := range e.amis {
		m := &e.amis[i]
		if best == nil || m.created.After(best.created) || m.created.Equal(best.created) && m.name > best.name {
			best = m
		}
	}
	if best == nil {
		return "", nil
	}
	for _, m := range e.amis {
		if m.id == a.AMI && !best.created.After(m.created) {
			return "", nil
		}
	}
	return best.id, nil
}

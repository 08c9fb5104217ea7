package asg

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/jibe-dev/jibe/providers/aws/awserr"
	"github.com/jibe-dev/jibe/providers/aws/awstag"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// recentVersions is how many of a template's latest versions a revision
// may reuse instead of creating a new one (a rollback reuses its old
// version).
const recentVersions = 5

// ltData is launch template data in the shape diffs compare: user data
// by digest (it may be long, and is not echoed), lists sorted.
type ltData struct {
	ImageID            string            `json:"imageId"`
	InstanceType       string            `json:"instanceType"`
	KeyName            string            `json:"keyName"`
	UserData           string            `json:"userData"`
	SecurityGroupIDs   []string          `json:"securityGroupIds"`
	IAMInstanceProfile string            `json:"iamInstanceProfile"`
	Tags               map[string]string `json:"tags"`
	// BlockDevices are the volumes by device name.
	BlockDevices map[string]spec.EBSVolume `json:"blockDeviceMappings,omitempty"`
	Metadata     *spec.MetadataOptions     `json:"metadataOptions,omitempty"`
}

// ltRef is a launch template version.
type ltRef struct {
	id      string
	version int64
}

// spec is the reference as groups and refreshes name it.
func (lt ltRef) spec() *astypes.LaunchTemplateSpecification {
	return &astypes.LaunchTemplateSpecification{LaunchTemplateId: aws.String(lt.id), Version: aws.String(lt.versionString())}
}

// desiredLT returns the launch template data the target declares.
func desiredLT(t *spec.RenderedTarget) ltData {
	lt := t.AutoScalingGroup.LaunchTemplate
	return ltData{ImageID: lt.ImageID, InstanceType: lt.InstanceType, KeyName: lt.KeyName, UserData: digest(t.UserData),
		SecurityGroupIDs: sorted(lt.SecurityGroupIDs), IAMInstanceProfile: lt.IAMInstanceProfile, Tags: t.AutoScalingGroup.Tags,
		BlockDevices: desiredDevices(lt.BlockDeviceMappings), Metadata: lt.MetadataOptions}
}

// desiredDevices returns the spec's volumes by device name; nil when it
// has none.
func desiredDevices(bs []spec.BlockDevice) map[string]spec.EBSVolume {
	if len(bs) == 0 {
		return nil
	}
	out := map[string]spec.EBSVolume{}
	for _, b := range bs {
		var v spec.EBSVolume
		if b.EBS != nil {
			v = *b.EBS
		}
		out[b.DeviceName] = v
	}
	return out
}

// liveDevices returns a template's volumes in the shape of desiredDevices.
func liveDevices(bs []ec2types.LaunchTemplateBlockDeviceMapping) map[string]spec.EBSVolume {
	if len(bs) == 0 {
		return nil
	}
	out := map[string]spec.EBSVolume{}
	for _, b := range bs {
		var v spec.EBSVolume
		if e := b.Ebs; e != nil {
			v = spec.EBSVolume{VolumeSize: aws.ToInt32(e.VolumeSize), VolumeType: string(e.VolumeType), IOPS: aws.ToInt32(e.Iops), Throughput: aws.ToInt32(e.Throughput),
				Encrypted: aws.ToBool(e.Encrypted), KMSKeyID: aws.ToString(e.KmsKeyId), DeleteOnTermination: e.DeleteOnTermination}
		}
		out[aws.ToString(b.DeviceName)] = v
	}
	return out
}

// liveMetadata returns a template's metadata options as the spec writes
// them; nil when it has none.
func liveMetadata(m *ec2types.LaunchTemplateInstanceMetadataOptions) *spec.MetadataOptions {
	if m == nil {
		return nil
	}
	return &spec.MetadataOptions{HTTPTokens: string(m.HttpTokens), HTTPEndpoint: string(m.HttpEndpoint), HTTPPutResponseHopLimit: aws.ToInt32(m.HttpPutResponseHopLimit)}
}

// requestDevices returns the spec's volumes as a template takes them.
func requestDevices(bs []spec.BlockDevice) []ec2types.LaunchTemplateBlockDeviceMappingRequest {
	var out []ec2types.LaunchTemplateBlockDeviceMappingRequest
	for _, b := range bs {
		m := ec2types.LaunchTemplateBlockDeviceMappingRequest{DeviceName: aws.String(b.DeviceName)}
		if e := b.EBS; e != nil {
			m.Ebs = &ec2types.LaunchTemplateEbsBlockDeviceRequest{VolumeType: ec2types.VolumeType(e.VolumeType), KmsKeyId: optString(e.KMSKeyID),
				DeleteOnTermination: e.DeleteOnTermination, VolumeSize: optInt32(e.VolumeSize), Iops: optInt32(e.IOPS), Throughput: optInt32(e.Throughput)}
			if e.Encrypted {
				m.Ebs.Encrypted = aws.Bool(true)
			}
		}
		out = append(out, m)
	}
	return out
}

// requestMetadata returns the spec's metadata options as a template
// takes them.
func requestMetadata(m *spec.MetadataOptions) *ec2types.LaunchTemplateInstanceMetadataOptionsRequest {
	if m == nil {
		return nil
	}
	return &ec2types.LaunchTemplateInstanceMetadataOptionsRequest{HttpTokens: ec2types.LaunchTemplateHttpTokensState(m.HTTPTokens),
		HttpEndpoint: ec2types.LaunchTemplateInstanceMetadataEndpointState(m.HTTPEndpoint), HttpPutResponseHopLimit: optInt32(m.HTTPPutResponseHopLimit)}
}

func optInt32(n int32) *int32 {
	if n == 0 {
		return nil
	}
	return aws.Int32(n)
}

// liveLT returns live launch template data in the shape of desiredLT.
func liveLT(v *ec2types.ResponseLaunchTemplateData) ltData {
	out := ltData{ImageID: aws.ToString(v.ImageId), InstanceType: string(v.InstanceType), KeyName: aws.ToString(v.KeyName),
		SecurityGroupIDs: sorted(v.SecurityGroupIds), BlockDevices: liveDevices(v.BlockDeviceMappings), Metadata: liveMetadata(v.MetadataOptions)}
	if ud, err := base64.StdEncoding.DecodeString(aws.ToString(v.UserData)); err == nil {
		out.UserData = digest(string(ud))
	}
	if ip := v.IamInstanceProfile; ip != nil {
		out.IAMInstanceProfile = aws.ToString(ip.Name)
		if arn := aws.ToString(ip.Arn); arn != "" {
			out.IAMInstanceProfile = arn
		}
	}
	for _, ts := range v.TagSpecifications {
		if ts.ResourceType == ec2types.ResourceTypeInstance {
			out.Tags = map[string]string{}
			for _, tg := range ts.Tags {
				out.Tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
			}
		}
	}
	return out
}

// equal reports whether two launch template data are the same.
func (a ltData) equal(b ltData) bool {
	return a.ImageID == b.ImageID && a.InstanceType == b.InstanceType && a.KeyName == b.KeyName && a.UserData == b.UserData &&
		slices.Equal(a.SecurityGroupIDs, b.SecurityGroupIDs) && a.IAMInstanceProfile == b.IAMInstanceProfile && mapsEqual(a.Tags, b.Tags) &&
		reflect.DeepEqual(a.BlockDevices, b.BlockDevices) && reflect.DeepEqual(a.Metadata, b.Metadata)
}

func mapsEqual(a, b map[string]string) bool {
	return len(a) == len(b) && (len(a) == 0 || maps.Equal(a, b))
}

// digest identifies user data without showing it.
func digest(s string) string {
	if s == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(sum[:6])
}

func sorted(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return slices.Sorted(slices.Values(s))
}

// requestData returns the launch template data to write for t.
func requestData(t *spec.RenderedTarget) *ec2types.RequestLaunchTemplateData {
	lt := t.AutoScalingGroup.LaunchTemplate
	out := &ec2types.RequestLaunchTemplateData{ImageId: aws.String(lt.ImageID), InstanceType: ec2types.InstanceType(lt.InstanceType),
		SecurityGroupIds: lt.SecurityGroupIDs, BlockDeviceMappings: requestDevices(lt.BlockDeviceMappings), MetadataOptions: requestMetadata(lt.MetadataOptions)}
	if lt.KeyName != "" {
		out.KeyName = aws.String(lt.KeyName)
	}
	if t.UserData != "" {
		out.UserData = aws.String(base64.StdEncoding.EncodeToString([]byte(t.UserData)))
	}
	if ip := lt.IAMInstanceProfile; ip != "" {
		out.IamInstanceProfile = &ec2types.LaunchTemplateIamInstanceProfileSpecificationRequest{Name: aws.String(ip)}
		if strings.HasPrefix(ip, "arn:") {
			out.IamInstanceProfile = &ec2types.LaunchTemplateIamInstanceProfileSpecificationRequest{Arn: aws.String(ip)}
		}
	}
	if tags := t.AutoScalingGroup.Tags; len(tags) > 0 {
		ts := ec2types.LaunchTemplateTagSpecificationRequest{ResourceType: ec2types.ResourceTypeInstance}
		for _, k := range slices.Sorted(maps.Keys(tags)) {
			ts.Tags = append(ts.Tags, ec2types.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
		}
		out.TagSpecifications = []ec2types.LaunchTemplateTagSpecificationRequest{ts}
	}
	return out
}

// templateName is the launch template of the target: named as its group.
func templateName(d *reconcile.Deployment) string { return d.Target.AutoScalingGroup.Name }

// versions returns the template's id and versions, newest first; an
// empty id when the template does not exist.
func (p *Platform) versions(ctx context.Context, name string) (string, []ec2types.LaunchTemplateVersion, error) {
	out, err := p.c.EC2.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateName: aws.String(name)})
	if awserr.Is(err, "InvalidLaunchTemplateName.NotFoundException", "InvalidLaunchTemplateId.NotFound") {
		return "", nil, nil
	}
	if err != nil {
		return "", nil, classify(fmt.Errorf("describe versions of launch template %s: %w", name, err))
	}
	vs := out.LaunchTemplateVersions
	slices.SortFunc(vs, func(a, b ec2types.LaunchTemplateVersion) int {
		return int(aws.ToInt64(b.VersionNumber) - aws.ToInt64(a.VersionNumber))
	})
	if len(vs) == 0 {
		return "", nil, nil
	}
	return aws.ToString(vs[0].LaunchTemplateId), vs, nil
}

// version returns the data of one version of the template, nil when the
// template or version does not exist.
func (p *Platform) version(ctx context.Context, name string, number string) (*ec2types.ResponseLaunchTemplateData, error) {
	out, err := p.c.EC2.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateName: aws.String(name), Versions: []string{number}})
	if awserr.Is(err, "InvalidLaunchTemplateName.NotFoundException", "InvalidLaunchTemplateId.NotFound", "InvalidLaunchTemplateId.VersionNotFound") {
		return nil, nil
	}
	if err != nil {
		return nil, classify(fmt.Errorf("describe version %s of launch template %s: %w", number, name, err))
	}
	if len(out.LaunchTemplateVersions) == 0 {
		return nil, nil
	}
	return out.LaunchTemplateVersions[0].LaunchTemplateData, nil
}

// ensureTemplate returns the launch template version holding d's data:
// one of the template's recent versions when its data matches, else a new
// version (or the template, on a first deploy).
func (p *Platform) ensureTemplate(ctx context.Context, d *reconcile.Deployment) (ltRef, error) {
	name, want := templateName(d), desiredLT(d.Target)
	id, vs, err := p.versions(ctx, name)
	if err != nil {
		return ltRef{}, err
	}
	for _, v := range vs[:min(len(vs), recentVersions)] {
		if v.LaunchTemplateData != nil && liveLT(v.LaunchTemplateData).equal(want) {
			return ltRef{id: id, version: aws.ToInt64(v.VersionNumber)}, nil
		}
	}
	desc := aws.String("jibe revision " + d.Revision)
	if id == "" {
		out, err := p.c.EC2.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String(name), VersionDescription: desc,
			LaunchTemplateData: requestData(d.Target), TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeLaunchTemplate,
				Tags: []ec2types.Tag{{Key: aws.String(awstag.App), Value: aws.String(d.App)}, {Key: aws.String(awstag.Environment), Value: aws.String(d.Env)}}}}})
		if err != nil {
			return ltRef{}, classify(fmt.Errorf("create launch template %s: %w", name, err))
		}
		p.logger(d, "apply").Info("created launch template", "template", name)
		return ltRef{id: aws.ToString(out.LaunchTemplate.LaunchTemplateId), version: 1}, nil
	}
	out, err := p.c.EC2.CreateLaunchTemplateVersion(ctx, &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateId: aws.String(id), VersionDescription: desc,
		LaunchTemplateData: requestData(d.Target)})
	if err != nil {
		return ltRef{}, classify(fmt.Errorf("create a version of launch template %s: %w", name, err))
	}
	v := aws.ToInt64(out.LaunchTemplateVersion.VersionNumber)
	p.logger(d, "apply").Info("created launch template version", "template", name, "version", v)
	return ltRef{id: id, version: v}, nil
}

// versionString is a version number as the APIs take it.
func (r ltRef) versionString() string { return strconv.FormatInt(r.version, 10) }

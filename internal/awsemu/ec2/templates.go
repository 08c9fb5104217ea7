package ec2

import (
	"sort"

	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

// Data is the modelled subset of a launch template's data.
type Data struct {
	ImageId            string      `xml:"imageId,omitempty"`
	InstanceType       string      `xml:"instanceType,omitempty"`
	KeyName            string      `xml:"keyName,omitempty"`
	UserData           string      `xml:"userData,omitempty"`
	EbsOptimized       *bool       `xml:"ebsOptimized,omitempty"`
	SecurityGroupIds   []string    `xml:"securityGroupIdSet>item,omitempty"`
	IamInstanceProfile *profile    `xml:"iamInstanceProfile,omitempty"`
	Monitoring         *monitoring `xml:"monitoring,omitempty"`
	MetadataOptions    *metadata   `xml:"metadataOptions,omitempty"`
	BlockDevices       []device    `xml:"blockDeviceMappingSet>item,omitempty"`
	TagSpecifications  []tagSpec   `xml:"tagSpecificationSet>item,omitempty"`
}

type profile struct {
	Arn  string `xml:"arn,omitempty"`
	Name string `xml:"name,omitempty"`
}

type monitoring struct {
	Enabled bool `xml:"enabled"`
}

type metadata struct {
	HttpTokens              string `xml:"httpTokens,omitempty"`
	HttpEndpoint            string `xml:"httpEndpoint,omitempty"`
	HttpPutResponseHopLimit *int   `xml:"httpPutResponseHopLimit,omitempty"`
}

// device is a block device mapping of a template.
type device struct {
	DeviceName string `xml:"deviceName"`
	Ebs        *ebs   `xml:"ebs,omitempty"`
}

type ebs struct {
	VolumeSize          *int   `xml:"volumeSize,omitempty"`
	VolumeType          string `xml:"volumeType,omitempty"`
	Iops                *int   `xml:"iops,omitempty"`
	Throughput          *int   `xml:"throughput,omitempty"`
	Encrypted           *bool  `xml:"encrypted,omitempty"`
	KmsKeyId            string `xml:"kmsKeyId,omitempty"`
	DeleteOnTermination *bool  `xml:"deleteOnTermination,omitempty"`
	SnapshotId          string `xml:"snapshotId,omitempty"`
}

// devices reads BlockDeviceMapping.N parameters.
func devices(f protocol.Form) []device {
	var out []device
	for _, m := range f.FlatList("BlockDeviceMapping") {
		d := device{DeviceName: m.String("DeviceName")}
		if m.Has("Ebs") {
			e := m.Sub("Ebs")
			d.Ebs = &ebs{VolumeType: e.String("VolumeType"), KmsKeyId: e.String("KmsKeyId"), SnapshotId: e.String("SnapshotId"),
				VolumeSize: optInt(e, "VolumeSize"), Iops: optInt(e, "Iops"), Throughput: optInt(e, "Throughput"),
				Encrypted: optBool(e, "Encrypted"), DeleteOnTermination: optBool(e, "DeleteOnTermination")}
		}
		out = append(out, d)
	}
	return out
}

func optInt(f protocol.Form, name string) *int {
	if v, ok := f.Int(name); ok {
		return &v
	}
	return nil
}

func optBool(f protocol.Form, name string) *bool {
	if v, ok := f.Bool(name); ok {
		return &v
	}
	return nil
}

type tag struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

type tagSpec struct {
	ResourceType string `xml:"resourceType"`
	Tags         []tag  `xml:"tagSet>item"`
}

// overlay applies the LaunchTemplateData parameters present in f to d.
func (d *Data) overlay(f protocol.Form) {
	for name, dst := range map[string]*string{"ImageId": &d.ImageId, "InstanceType": &d.InstanceType, "KeyName": &d.KeyName, "UserData": &d.UserData} {
		if v := f.String(name); v != "" {
			*dst = v
		}
	}
	if v, ok := f.Bool("EbsOptimized"); ok {
		d.EbsOptimized = &v
	}
	if ids := f.FlatStrings("SecurityGroupId"); len(ids) > 0 {
		d.SecurityGroupIds = ids
	}
	if f.Has("IamInstanceProfile") {
		d.IamInstanceProfile = &profile{Arn: f.String("IamInstanceProfile.Arn"), Name: f.String("IamInstanceProfile.Name")}
	}
	if v, ok := f.Bool("Monitoring.Enabled"); ok {
		d.Monitoring = &monitoring{Enabled: v}
	}
	if f.Has("MetadataOptions") {
		m := &metadata{HttpTokens: f.String("MetadataOptions.HttpTokens"), HttpEndpoint: f.String("MetadataOptions.HttpEndpoint")}
		if n, ok := f.Int("MetadataOptions.HttpPutResponseHopLimit"); ok {
			m.HttpPutResponseHopLimit = &n
		}
		d.MetadataOptions = m
	}
	if specs := tagSpecs(f, "TagSpecification"); len(specs) > 0 {
		d.TagSpecifications = specs
	}
	if ds := devices(f); len(ds) > 0 {
		d.BlockDevices = ds
	}
}

func tagSpecs(f protocol.Form, name string) []tagSpec {
	var out []tagSpec
	for _, m := range f.FlatList(name) {
		ts := tagSpec{ResourceType: m.String("ResourceType")}
		for _, t := range m.FlatList("Tag") {
			ts.Tags = append(ts.Tags, tag{Key: t.String("Key"), Value: t.String("Value")})
		}
		out = append(out, ts)
	}
	return out
}

type xmlTemplate struct {
	LaunchTemplateId     string `xml:"launchTemplateId"`
	LaunchTemplateName   string `xml:"launchTemplateName"`
	CreateTime           string `xml:"createTime"`
	CreatedBy            string `xml:"createdBy"`
	DefaultVersionNumber int    `xml:"defaultVersionNumber"`
	LatestVersionNumber  int    `xml:"latestVersionNumber"`
	Tags                 []tag  `xml:"tagSet>item,omitempty"`
}

type xmlVersion struct {
	LaunchTemplateId   string `xml:"launchTemplateId"`
	LaunchTemplateName string `xml:"launchTemplateName"`
	VersionNumber      int    `xml:"versionNumber"`
	VersionDescription string `xml:"versionDescription,omitempty"`
	CreateTime         string `xml:"createTime"`
	CreatedBy          string `xml:"createdBy"`
	DefaultVersion     bool   `xml:"defaultVersion"`
	Data               Data   `xml:"launchTemplateData"`
}

func (t *template) xml() xmlTemplate {
	return xmlTemplate{LaunchTemplateId: t.id, LaunchTemplateName: t.name, CreateTime: isoTime(t.created), CreatedBy: t.createdBy,
		DefaultVersionNumber: t.defaultVersion, LatestVersionNumber: len(t.versions), Tags: t.tags}
}

func (t *template) versionXML(v *version) xmlVersion {
	return xmlVersion{LaunchTemplateId: t.id, LaunchTemplateName: t.name, VersionNumber: v.number, VersionDescription: v.description,
		CreateTime: isoTime(v.created), CreatedBy: t.createdBy, DefaultVersion: v.number == t.defaultVersion, Data: v.data}
}

type createResult struct {
	LaunchTemplate xmlTemplate `xml:"launchTemplate"`
	Warning        *warning    `xml:"warning,omitempty"`
}

// warning is the validation warning EC2 returns, instead of failing, when
// a template's data names what cannot launch (an AMI that is malformed or
// does not exist in the region).
type warning struct {
	Errors []warningItem `xml:"errorSet>item"`
}

type warningItem struct {
	Code    string `xml:"code"`
	Message string `xml:"message"`
}

// validate returns the warning for d, nil when its image can launch.
func (r *region) validate(d Data) *warning {
	if d.ImageId == "" {
		return nil
	}
	var err *protocol.Error
	if !amiID.MatchString(d.ImageId) {
		err = malformedAMI(d.ImageId)
	} else if _, ok := r.images[d.ImageId]; !ok {
		err = amiNotFound([]string{d.ImageId})
	} else {
		return nil
	}
	return &warning{Errors: []warningItem{{Code: err.Code, Message: err.Message}}}
}

func (s *Service) createLaunchTemplate(r *region, f protocol.Form, c *protocol.Call) (any, error) {
	name := f.String("LaunchTemplateName")
	if len(name) < 3 || len(name) > 128 {
		return nil, protocol.Errorf("InvalidLaunchTemplateName.MalformedException", "A launch template name must be between 3 and 128 characters")
	}
	if _, err := r.find("", name); err == nil {
		return nil, protocol.Errorf("InvalidLaunchTemplateName.AlreadyExistsException", "Launch template name already in use.")
	}
	t := &template{id: s.newID(), name: name, createdBy: "arn:aws:iam::" + c.Account + ":root", created: c.Now, defaultVersion: 1}
	v := &version{number: 1, description: f.String("VersionDescription"), created: c.Now}
	v.data.overlay(f.Sub("LaunchTemplateData"))
	t.versions = []*version{v}
	for _, ts := range tagSpecs(f, "TagSpecification") {
		if ts.ResourceType == "launch-template" {
			t.tags = append(t.tags, ts.Tags...)
		}
	}
	r.templates[t.id] = t
	return &createResult{LaunchTemplate: t.xml(), Warning: r.validate(v.data)}, nil
}

type createVersionResult struct {
	Version xmlVersion `xml:"launchTemplateVersion"`
	Warning *warning   `xml:"warning,omitempty"`
}

func (s *Service) createLaunchTemplateVersion(r *region, f protocol.Form, c *protocol.Call) (any, error) {
	t, err := r.find(f.String("LaunchTemplateId"), f.String("LaunchTemplateName"))
	if err != nil {
		return nil, err
	}
	var data Data
	if src := f.String("SourceVersion"); src != "" {
		base, err := t.resolve(src)
		if err != nil {
			return nil, err
		}
		data = base.data
	}
	data.overlay(f.Sub("LaunchTemplateData"))
	v := &version{number: len(t.versions) + 1, description: f.String("VersionDescription"), created: c.Now, data: data}
	t.versions = append(t.versions, v)
	return &createVersionResult{Version: t.versionXML(v), Warning: r.validate(data)}, nil
}

type describeResult struct {
	Templates []xmlTemplate `xml:"launchTemplates>item"`
}

func (s *Service) describeLaunchTemplates(r *region, f protocol.Form, c *protocol.Call) (any, error) {
	out := &describeResult{}
	ids, names := f.FlatStrings("LaunchTemplateId"), f.FlatStrings("LaunchTemplateName")
	for _, id := range ids {
		t, err := r.find(id, "")
		if err != nil {
			return nil, err
		}
		out.Templates = append(out.Templates, t.xml())
	}
	for _, n := range names {
		t, err := r.find("", n)
		if err != nil {
			return nil, err
		}
		out.Templates = append(out.Templates, t.xml())
	}
	if len(ids)+len(names) == 0 {
		for _, t := range r.sorted() {
			out.Templates = append(out.Templates, t.xml())
		}
	}
	return out, nil
}

func (r *region) sorted() []*template {
	out := make([]*template, 0, len(r.templates))
	for _, t := range r.templates {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

type versionsResult struct {
	Versions []xmlVersion `xml:"launchTemplateVersionSet>item"`
}

func (s *Service) describeLaunchTemplateVersions(r *region, f protocol.Form, c *protocol.Call) (any, error) {
	t, err := r.find(f.String("LaunchTemplateId"), f.String("LaunchTemplateName"))
	if err != nil {
		return nil, err
	}
	out := &versionsResult{}
	if asked := f.FlatStrings("LaunchTemplateVersion"); len(asked) > 0 {
		for _, a := range asked {
			v, err := t.resolve(a)
			if err != nil {
				return nil, err
			}
			out.Versions = append(out.Versions, t.versionXML(v))
		}
		return out, nil
	}
	for _, v := range t.versions {
		if v != nil {
			out.Versions = append(out.Versions, t.versionXML(v))
		}
	}
	return out, nil
}

func (s *Service) modifyLaunchTemplate(r *region, f protocol.Form, c *protocol.Call) (any, error) {
	t, err := r.find(f.String("LaunchTemplateId"), f.String("LaunchTemplateName"))
	if err != nil {
		return nil, err
	}
	if dv := f.String("SetDefaultVersion"); dv != "" {
		v, err := t.resolve(dv)
		if err != nil {
			return nil, err
		}
		t.defaultVersion = v.number
	}
	return &createResult{LaunchTemplate: t.xml()}, nil
}

func (s *Service) deleteLaunchTemplate(r *region, f protocol.Form, c *protocol.Call) (any, error) {
	t, err := r.find(f.String("LaunchTemplateId"), f.String("LaunchTemplateName"))
	if err != nil {
		return nil, err
	}
	delete(r.templates, t.id)
	return &createResult{LaunchTemplate: t.xml()}, nil
}

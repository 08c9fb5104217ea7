package lambda

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/jibe-dev/jibe/providers/aws/apidiff"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// Diff compares the deployment with what its alias serves and returns
// the function's change (configuration field by field, code as old →
// new CodeSha256, reserved concurrency, tags) and the alias's. It makes
// no write call.
func (p *Platform) Diff(ctx context.Context, rd *reconcile.Deployment) ([]reconcile.Change, error) {
	d, err := target(rd)
	if err != nil {
		return nil, err
	}
	l, err := p.read(ctx, d)
	if err != nil || l == nil {
		return createChanges(d), err
	}
	vs, err := p.versions(ctx, d)
	if err != nil {
		return nil, err
	}
	changes, err := diffLive(d, l, vs)
	if err != nil || len(changes) > 0 {
		return changes, err // a new version or alias move gets the target's provisioned concurrency in Apply
	}
	return p.provisionedChange(ctx, d, vs)
}

// provisionedChange is the change of provisioned concurrency on the
// version that already has the file's code and configuration, when the
// target asks for another number (or none).
func (p *Platform) provisionedChange(ctx context.Context, d deployment, vs []types.FunctionConfiguration) ([]reconcile.Change, error) {
	v := newVersion(d, vs)
	if v == nil {
		return nil, nil
	}
	n := aws.ToString(v.Version)
	c, err := p.getProvisioned(ctx, d, n)
	if err != nil {
		return nil, err
	}
	var have string
	if c != nil {
		have = fmt.Sprint(aws.ToInt32(c.RequestedProvisionedConcurrentExecutions))
	}
	want := ""
	if d.provisioned() > 0 {
		want = fmt.Sprint(d.provisioned())
	}
	if have == want {
		return nil, nil
	}
	return []reconcile.Change{{Target: d.Target.Name, Resource: "Lambda provisioned concurrency " + d.name() + ":" + n, Action: reconcile.ActionUpdate,
		Fields: []reconcile.FieldChange{{Path: "ProvisionedConcurrentExecutions", Live: have, Desired: want}}}}, nil
}

// createChanges are the changes of a function that does not exist yet.
func createChanges(d deployment) []reconcile.Change {
	return []reconcile.Change{
		{Target: d.Target.Name, Resource: "Lambda function " + d.name(), Action: reconcile.ActionCreate, Reason: "publishes version 1"},
		{Target: d.Target.Name, Resource: aliasResource(d), Action: reconcile.ActionCreate},
	}
}

func aliasResource(d deployment) string { return "Lambda alias " + d.name() + ":" + d.alias }

// diffLive diffs d against its live function and versions. It is pure.
func diffLive(d deployment, l *live, vs []types.FunctionConfiguration) ([]reconcile.Change, error) {
	serving, servingCode := servingVersion(l, vs)
	fields, err := functionFields(d, l, serving, servingCode, vs)
	if err != nil {
		return nil, err
	}
	var out []reconcile.Change
	if len(fields) > 0 {
		c := reconcile.Change{Target: d.Target.Name, Resource: "Lambda function " + d.name(), Action: reconcile.ActionUpdate, Fields: fields}
		c.Reason = "publishes a new version"
		if newVersion(d, vs) != nil {
			c.Reason = "moves the alias to a version that has it"
		}
		if f := fieldOf(fields, "PackageType"); f != nil {
			c.Action, c.Reason = reconcile.ActionReplace, fmt.Sprintf("PackageType cannot be updated (%q → %q): delete the function, then deploy again", f.Live, f.Desired)
		}
		out = append(out, c)
	}
	if c := aliasChange(d, l, vs, len(fields) > 0); c != nil {
		out = append(out, *c)
	}
	return out, nil
}

// servingVersion returns the configuration the alias serves (its primary
// version; $LATEST when there is no alias) and that package's codeID.
func servingVersion(l *live, vs []types.FunctionConfiguration) (*types.FunctionConfiguration, string) {
	if l.alias != nil {
		want := aws.ToString(l.alias.FunctionVersion)
		if v := newest(vs, func(v *types.FunctionConfiguration) bool { return aws.ToString(v.Version) == want }); v != nil {
			_, code := describedAs(v)
			return v, code
		}
	}
	return l.cfg, l.tags[TagCode]
}

// functionFields returns the fields of the function that differ from the
// file: configuration, code, reserved concurrency and tags.
func functionFields(d deployment, l *live, serving *types.FunctionConfiguration, servingCode string, vs []types.FunctionConfiguration) ([]reconcile.FieldChange, error) {
	fields, err := configFields(d.fn, serving)
	if err != nil {
		return nil, err
	}
	fields = append(fields, descriptionField(d.fn, l.cfg)...)
	if servingCode != codeID(d.fn.Code) {
		fields = append(fields, reconcile.FieldChange{Path: "Code", Live: "CodeSha256 " + aws.ToString(serving.CodeSha256), Desired: desiredCode(d, l, vs)})
	}
	if !reflect.DeepEqual(l.reserved, d.fn.ReservedConcurrentExecutions) {
		fields = append(fields, reconcile.FieldChange{Path: "ReservedConcurrentExecutions", Live: int32Text(l.reserved), Desired: int32Text(d.fn.ReservedConcurrentExecutions)})
	}
	tags, err := apidiff.Fields("Tags.", userTags(l.tags), d.fn.Tags)
	return append(fields, tags...), err
}

// configFields diffs the file's configuration with a live one, both
// normalised. Reserved concurrency and the description are left to the
// caller: they belong to the function, not to its versions (a version's
// description is the version's own).
func configFields(fn *spec.LambdaFunction, c *types.FunctionConfiguration) ([]reconcile.FieldChange, error) {
	want := *fn
	want.ReservedConcurrentExecutions, want.Description = nil, ""
	have := liveFunction(c, nil)
	have.Description = ""
	return apidiff.Fields("", normalize(have), normalize(want))
}

// descriptionField is the change of the function's description, if any.
func descriptionField(fn *spec.LambdaFunction, latest *types.FunctionConfiguration) []reconcile.FieldChange {
	if have := aws.ToString(latest.Description); have != fn.Description {
		return []reconcile.FieldChange{{Path: "Description", Live: have, Desired: fn.Description}}
	}
	return nil
}

// desiredCode names the file's package: its CodeSha256 when Lambda
// already has it (in $LATEST or a version) or when Jibe zipped it from the
// application's folder, else its location.
func desiredCode(d deployment, l *live, vs []types.FunctionConfiguration) string {
	id := codeID(d.fn.Code)
	if l.tags[TagCode] == id {
		return "CodeSha256 " + aws.ToString(l.cfg.CodeSha256)
	}
	if v := newest(vs, func(v *types.FunctionConfiguration) bool { _, c := describedAs(v); return c == id }); v != nil {
		return "CodeSha256 " + aws.ToString(v.CodeSha256)
	}
	if d.fn.Code.Folder != "" {
		return "CodeSha256 " + zipSha256(d.fn.Code.ZipFile) + " (zip of " + d.fn.Code.Folder + ")"
	}
	return codeLocation(d.fn.Code) + " (new package)"
}

// aliasChange returns the alias's change: created when missing; moved
// when a published version already matches the file (and the function
// has no other change that a new version would carry) or weighted
// routing is left over.
func aliasChange(d deployment, l *live, vs []types.FunctionConfiguration, changed bool) *reconcile.Change {
	if l.alias == nil {
		return &reconcile.Change{Target: d.Target.Name, Resource: aliasResource(d), Action: reconcile.ActionCreate}
	}
	var fields []reconcile.FieldChange
	if v := newVersion(d, vs); v != nil && !changed && aws.ToString(v.Version) != aws.ToString(l.alias.FunctionVersion) {
		fields = append(fields, reconcile.FieldChange{Path: "FunctionVersion", Live: aws.ToString(l.alias.FunctionVersion), Desired: aws.ToString(v.Version)})
	}
	if w := weights(l.alias); len(w) > 0 {
		fields = append(fields, reconcile.FieldChange{Path: "RoutingConfig.AdditionalVersionWeights", Live: fmt.Sprint(w), Desired: ""})
	}
	if len(fields) == 0 {
		return nil
	}
	return &reconcile.Change{Target: d.Target.Name, Resource: aliasResource(d), Action: reconcile.ActionUpdate, Fields: fields}
}

// newVersion returns the newest published version that has the file's
// package (by the codeID in its description) and configuration; nil when
// none does yet.
func newVersion(d deployment, vs []types.FunctionConfiguration) *types.FunctionConfiguration {
	id := codeID(d.fn.Code)
	return newest(vs, func(v *types.FunctionConfiguration) bool {
		if _, code := describedAs(v); code != id {
			return false
		}
		fields, err := configFields(d.fn, v)
		return err == nil && len(fields) == 0
	})
}

// weights returns the alias's additional version weights, sorted by
// version; nil when it routes everything to its primary version.
func weights(a *types.AliasConfiguration) map[string]float64 {
	if a == nil || a.RoutingConfig == nil || len(a.RoutingConfig.AdditionalVersionWeights) == 0 {
		return nil
	}
	return a.RoutingConfig.AdditionalVersionWeights
}

func fieldOf(fields []reconcile.FieldChange, path string) *reconcile.FieldChange {
	i := slices.IndexFunc(fields, func(f reconcile.FieldChange) bool { return f.Path == path })
	if i < 0 {
		return nil
	}
	return &fields[i]
}

func int32Text(p *int32) string {
	if p == nil {
		return ""
	}
	return fmt.Sprint(*p)
}

// tagsToSet returns the tags to add or change and the keys to remove so
// that the function carries want (keys of ownTags not in want are kept).
func tagsToSet(have, want map[string]string) (set map[string]string, remove []string) {
	set = map[string]string{}
	for k, v := range want {
		if have[k] != v {
			set[k] = v
		}
	}
	for _, k := range slices.Sorted(maps.Keys(have)) {
		if _, ok := want[k]; !ok && !ownTags[k] {
			remove = append(remove, k)
		}
	}
	return set, remove
}

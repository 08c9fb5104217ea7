package spec

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/jibe-dev/jibe/internal/strictyaml"
)

// render resolves environment i of app, whose positions are in doc. It
// resolves placeholders in copies of the environment and the targets, so
// that app keeps them as written and each environment costs only its own
// copy.
func (l *loader) render(app *Application, doc *strictyaml.Document, i int) *Rendered {
	env := deepCopy(app.Spec.Environments[i])
	targets := deepCopy(app.Spec.Targets)
	sc := newScope(app, &env)
	if l.budget == nil {
		l.budget = &placeholderBudget{limit: l.limits.BytesPerApplication, left: l.limits.BytesPerApplication}
	}
	sc.budget = l.budget
	envField := strictyaml.JoinIndex("spec.environments", i)
	l.expandChecks(doc, sc, envField, &env)
	r := &Rendered{Environment: &env, Platforms: l.platforms}
	l.envDocs = nil
	l.named = l.namedFiles(sc, app.Spec.Targets)
	for j := range targets {
		t := &targets[j]
		if len(env.Targets) > 0 && !slices.Contains(env.Targets, t.Name) {
			continue
		}
		field := strictyaml.JoinIndex("spec.targets", j)
		l.expandStrings(doc, sc, field, reflect.ValueOf(t).Elem())
		r.Targets = append(r.Targets, l.renderTarget(doc, sc, field, t, &env))
	}
	l.checkManifestDocs()
	return r
}

// expandChecks resolves placeholders in an environment's checks, keeping
// ${rollout.*} for the engine.
func (l *loader) expandChecks(doc *strictyaml.Document, sc *scope, field string, env *Environment) {
	check := *sc
	check.inCheck = true
	l.expandStrings(doc, &check, field+".verify", reflect.ValueOf(&env.Verify).Elem())
	if c := env.Strategy.Canary; c != nil {
		l.expandStrings(doc, &check, field+".strategy.canary.steps", reflect.ValueOf(&c.Steps).Elem())
	}
	if r := env.Strategy.Rolling; r != nil {
		l.expandStrings(doc, &check, field+".strategy.rolling.steps", reflect.ValueOf(&r.Steps).Elem())
	}
	for j := range env.Verify {
		l.checkURL(doc, fmt.Sprintf("%s.verify[%d].http.url", field, j), env.Verify[j].HTTP)
	}
}

func (l *loader) checkURL(doc *strictyaml.Document, field string, h *HTTPCheck) {
	if h == nil || strings.Contains(h.URL, "${") {
		return
	}
	if !strings.HasPrefix(h.URL, "http://") && !strings.HasPrefix(h.URL, "https://") || len(h.URL) <= len("https://") {
		l.errs = append(l.errs, doc.Errorf(field, "%q is not an http:// or https:// URL", h.URL))
	}
}

// expandStrings resolves placeholders in every string reachable from v,
// reporting problems at their fields.
func (l *loader) expandStrings(doc *strictyaml.Document, sc *scope, field string, v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			l.expandStrings(doc, sc, field, v.Elem())
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
			if t.Field(i).IsExported() && name != "-" && name != "" {
				l.expandStrings(doc, sc, strictyaml.JoinField(field, name), v.Field(i))
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			l.expandStrings(doc, sc, strictyaml.JoinIndex(field, i), v.Index(i))
		}
	case reflect.Map:
		l.expandMap(doc, sc, field, v)
	case reflect.String:
		out, problems := sc.expand(v.String())
		for _, p := range problems {
			l.errs = append(l.errs, doc.Errorf(field, "%s", p))
		}
		v.SetString(out)
	}
}

func (l *loader) expandMap(doc *strictyaml.Document, sc *scope, field string, v reflect.Value) {
	iter := v.MapRange()
	for iter.Next() {
		elem := reflect.New(v.Type().Elem()).Elem()
		elem.Set(iter.Value())
		l.expandStrings(doc, sc, strictyaml.JoinKey(field, iter.Key().String()), elem)
		v.SetMapIndex(iter.Key(), elem)
	}
}

func (l *loader) renderTarget(doc *strictyaml.Document, sc *scope, field string, t *Target, env *Environment) *RenderedTarget {
	rt := &RenderedTarget{Target: t}
	switch t.Platform() {
	case PlatformECS:
		var td, svc *strictyaml.Document
		rt.TaskDefinition, td = decodeFile[ECSTaskDefinition](l, doc, sc, field+".ecs.taskDefinition", t.ECS.TaskDefinition)
		rt.Service, svc = decodeFile[ECSService](l, doc, sc, field+".ecs.service", t.ECS.Service)
		if rt.TaskDefinition != nil && rt.Service != nil {
			l.checkECS(td, svc, t.ECS, rt.TaskDefinition, rt.Service)
		}
	case PlatformLambda:
		var fn *strictyaml.Document
		rt.Function, fn = decodeFile[LambdaFunction](l, doc, sc, field+".lambda.function", t.Lambda.Function)
		if rt.Function != nil {
			l.checkFunction(fn, rt.Function)
			l.checkSnapStartConcurrency(fn, t.Lambda, rt.Function)
			l.zipCode(fn, rt.Function)
		}
	case PlatformKubernetes:
		n := len(l.errs)
		docs := l.manifests(doc, sc, field+".kubernetes.manifests", t.Kubernetes.Manifests)
		rt.Manifests = manifestsOf(docs)
		if !l.checkManifestCount(doc, field+".kubernetes.manifests", rt.Manifests) {
			rt.Manifests, docs = nil, nil
		}
		if len(l.errs) == n {
			l.checkManifests(doc, field+".kubernetes", t.Kubernetes, env, rt.Manifests)
		}
		for i := range docs {
			docs[i].Environment = env.Name
			if env.Kubernetes != nil {
				docs[i].Cluster = env.Kubernetes.Cluster
			}
		}
		l.envDocs = append(l.envDocs, docs...)
	case PlatformAutoScalingGroup:
		if ud := t.AutoScalingGroup.LaunchTemplate.UserData; ud != "" {
			rt.UserData = l.readText(doc, sc, field+".autoScalingGroup.launchTemplate.userData", ud)
		}
	}
	return rt
}

// open checks and reads a file named at field of the spec.
func (l *loader) open(doc *strictyaml.Document, field, name string) (string, []byte, bool) {
	rel, err := cleanRel(name)
	if err != nil {
		l.errs = append(l.errs, doc.Errorf(field, "%v", err))
		return "", nil, false
	}
	data, err := l.readFile(rel)
	if err != nil {
		msg := fmt.Sprintf("cannot read %s: %v", rel, strictyaml.PathCause(err))
		if errors.Is(err, fs.ErrNotExist) {
			msg = fmt.Sprintf("file %s does not exist in the application's folder", rel)
		}
		l.errs = append(l.errs, doc.Errorf(field, "%s", msg))
		return "", nil, false
	}
	return rel, data, true
}

// decodeFile reads the file named at field, resolves its placeholders and
// decodes it into a T, returning it with its positions. It returns a nil
// T when the file has problems.
func decodeFile[T any](l *loader, doc *strictyaml.Document, sc *scope, field, name string) (*T, *strictyaml.Document) {
	rel, data, ok := l.open(doc, field, name)
	if !ok {
		return nil, nil
	}
	file := l.display(rel)
	root, perr := strictyaml.Parse(file, data)
	if perr != nil {
		if strings.Contains(perr.Message, "opened on this line is not closed") && strings.Contains(string(data), "${") {
			perr.Message += `; a placeholder inside [...] or {...} must be quoted, as in ["${vars.subnet}"]`
		}
		l.errs = append(l.errs, perr)
		return nil, nil
	}
	n := len(l.errs)
	l.expandNodes(file, sc, root, "")
	var v T
	fileDoc, errs := strictyaml.DecodeNode(file, root, &v)
	l.errs = append(l.errs, errs...)
	if len(l.errs) > n {
		return nil, nil
	}
	return &v, fileDoc
}

// expandNodes resolves placeholders in the scalar values of a parsed file,
// reporting problems at the value's position and field path.
func (l *loader) expandNodes(file string, sc *scope, n *yaml.Node, field string) {
	switch n.Kind {
	case yaml.ScalarNode:
		out, problems := sc.expand(n.Value)
		for _, p := range problems {
			l.errs = append(l.errs, &strictyaml.Error{File: file, Pos: strictyaml.Pos{Line: n.Line, Column: n.Column}, Field: field, Message: p})
		}
		if out != n.Value {
			n.Value = out
			n.Tag = "" // re-resolved from the new value when decoded as any
		}
	case yaml.MappingNode:
		for i := 1; i < len(n.Content); i += 2 {
			l.expandNodes(file, sc, n.Content[i], strictyaml.JoinKey(field, n.Content[i-1].Value))
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			l.expandNodes(file, sc, c, strictyaml.JoinIndex(field, i))
		}
	case yaml.DocumentNode:
		for _, c := range n.Content {
			l.expandNodes(file, sc, c, field)
		}
	}
}

// readText reads a text file named at field and resolves its placeholders.
func (l *loader) readText(doc *strictyaml.Document, sc *scope, field, name string) string {
	rel, data, ok := l.open(doc, field, name)
	if !ok {
		return ""
	}
	out, problems := sc.expand(string(data))
	for _, p := range problems {
		l.errs = append(l.errs, &strictyaml.Error{File: l.display(rel), Message: p})
	}
	return out
}

// manifests reads every YAML or JSON file under the folder named at field.
func (l *loader) manifests(doc *strictyaml.Document, sc *scope, field, name string) []ManifestDoc {
	rel, err := cleanRel(name)
	if err != nil {
		l.errs = append(l.errs, doc.Errorf(field, "%v", err))
		return nil
	}
	if k := l.kustomization(rel); k != "" {
		return l.kustomize(doc, sc, field, rel)
	}
	var out []ManifestDoc
	err = fs.WalkDir(l.fsys, rel, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if skipFolder(d, p) {
			return fs.SkipDir
		}
		if d.IsDir() || !isManifestFile(p) || l.named[p] {
			return nil
		}
		out = append(out, l.manifestFile(sc, p)...)
		return nil
	})
	if err != nil {
		msg := fmt.Sprintf("cannot read folder %s: %v", rel, strictyaml.PathCause(err))
		if errors.Is(err, fs.ErrNotExist) {
			msg = fmt.Sprintf("folder %s does not exist in the application's folder", rel)
		}
		l.errs = append(l.errs, doc.Errorf(field, "%s", msg))
	}
	return out
}

func isManifestFile(p string) bool {
	return strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml") || strings.HasSuffix(p, ".json")
}

// manifestFile decodes every document of one manifest file.
func (l *loader) manifestFile(sc *scope, rel string) []ManifestDoc {
	file := l.display(rel)
	if isKustomization(rel) {
		l.errs = append(l.errs, &strictyaml.Error{File: file, Message: "a kustomization below the manifests folder is not built; point manifests at its folder to build it with kustomize"})
		return nil
	}
	data, err := l.readFile(rel)
	if err != nil {
		l.errs = append(l.errs, &strictyaml.Error{File: file, Message: fmt.Sprintf("cannot read: %v", strictyaml.PathCause(err))})
		return nil
	}
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	var out []ManifestDoc
	for {
		var doc yaml.Node
		if err := dec.Decode(&doc); err != nil {
			if !errors.Is(err, io.EOF) {
				l.errs = append(l.errs, strictyaml.SyntaxError(file, data, err))
			}
			return out
		}
		if m, ok := l.manifest(file, sc, &doc); ok {
			out = append(out, m)
		}
	}
}

func (l *loader) manifest(file string, sc *scope, doc *yaml.Node) (ManifestDoc, bool) {
	if len(doc.Content) == 0 || isNullNode(doc.Content[0]) {
		return ManifestDoc{}, false
	}
	l.expandNodes(file, sc, doc, "")
	n := doc.Content[0]
	pos := strictyaml.Pos{Line: n.Line, Column: n.Column}
	var obj map[string]any
	if err := n.Decode(&obj); err != nil {
		l.errs = append(l.errs, &strictyaml.Error{File: file, Pos: pos, Message: "a Kubernetes manifest must be a mapping: " + strings.TrimPrefix(err.Error(), "yaml: ")})
		return ManifestDoc{}, false
	}
	for _, f := range []string{"apiVersion", "kind"} {
		if s, _ := obj[f].(string); s == "" {
			l.errs = append(l.errs, &strictyaml.Error{File: file, Pos: pos, Field: f, Message: "missing required field " + f + " of a Kubernetes object"})
		}
	}
	if manifestName(obj) == "" {
		l.errs = append(l.errs, &strictyaml.Error{File: file, Pos: pos, Field: "metadata.name", Message: "missing required field metadata.name of a Kubernetes object"})
	}
	return ManifestDoc{Manifest: Manifest{File: file, Line: n.Line, Object: obj}, Node: n}, true
}

func isNullNode(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

func manifestName(obj map[string]any) string {
	md, _ := obj["metadata"].(map[string]any)
	name, _ := md["name"].(string)
	return name
}

package spec

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
	"k8s.io/utils/clock"

	"github.com/jibe-dev/jibe/internal/strictyaml"
)

// App is a loaded application whose spec and files are valid for every
// environment.
type App struct {
	// Application is the spec with its defaults set. Placeholders in it are
	// not resolved; use Render for an environment's values.
	Application
	// Dir is the application's folder as given to Load.
	Dir string
	// Warnings are what loading found that does not make the spec
	// invalid but needs attention, such as a deprecated Lambda runtime,
	// each at its file, line, column and field. They do not fail the load.
	Warnings strictyaml.ErrorList

	renders []*Rendered
}

// Rendered is what one environment deploys: the spec and target files with
// the environment's placeholders resolved.
type Rendered struct {
	// Environment is the environment, with placeholders in its checks
	// resolved (except ${rollout.*}, which the engine resolves).
	Environment *Environment
	// Targets are the targets the environment deploys, in spec order.
	Targets []*RenderedTarget
	// Platforms are the declarations the application was loaded with
	// (WithPlatforms), which planning asks; nil when it was not.
	Platforms Platforms
}

// Capabilities returns the declaration of the platform of the target
// named target, nil when the target or its platform's declaration is
// unknown.
func (r *Rendered) Capabilities(target string) *Capabilities {
	for _, t := range r.Targets {
		if t.Name == target {
			return r.Platforms.Of(t.Platform())
		}
	}
	return nil
}

// RenderedTarget is one target with its files decoded for an environment.
type RenderedTarget struct {
	// Target is the target, with placeholders resolved.
	*Target
	// TaskDefinition and Service are set for ECS targets.
	TaskDefinition *ECSTaskDefinition
	Service        *ECSService
	// Function is set for Lambda targets.
	Function *LambdaFunction
	// Manifests are set for Kubernetes targets, in file order.
	Manifests []Manifest
	// UserData is the launch template's user data, for Auto Scaling group
	// targets.
	UserData string
}

// Manifest is one Kubernetes object read from a target's folder.
type Manifest struct {
	// File is the file's path, for messages.
	File string
	// Line is the line of the object's document in File.
	Line int
	// Object is the decoded object, as Kubernetes' unstructured form.
	Object map[string]any
}

// Render returns what env deploys, or an error naming the environments
// that exist when env is not one of them.
func (a *App) Render(env string) (*Rendered, error) {
	for _, r := range a.renders {
		if r.Environment.Name == env {
			return r, nil
		}
	}
	names := make([]string, len(a.Spec.Environments))
	for i, e := range a.Spec.Environments {
		names[i] = e.Name
	}
	return nil, fmt.Errorf("application %s has no environment %q; its environments are %s", a.Metadata.Name, env, strings.Join(names, ", "))
}

// Load reads and validates the application in folder dir: its jibe.yaml
// and every file it names, for every environment. Files are read through an
// os.Root, so neither ".." nor symbolic links can reach outside dir. The
// error, when not nil, holds every problem found, as strictyaml.AsList
// reads them; once the folder could be opened, it is a *LoadError, which
// also holds the warnings found alongside the problems. Loading is bounded
// by the default Limits unless WithLimits says otherwise.
func Load(dir string, opts ...Option) (*App, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, strictyaml.ErrorList{{File: dir, Message: fmt.Sprintf("cannot open the application folder: %v", strictyaml.PathCause(err))}}
	}
	defer root.Close()
	return LoadFS(root.FS(), dir, opts...)
}

// LoadFS is Load reading from fsys, whose root is the application's folder.
// dir is used to name files in messages.
func LoadFS(fsys fs.FS, dir string, opts ...Option) (*App, error) {
	l := &loader{fsys: fsys, dir: dir, limits: Limits{}.WithDefaults(), clock: clock.RealClock{}}
	for _, o := range opts {
		o(l)
	}
	app := l.load()
	warnings := dedupe(l.warns)
	warnings.Sort()
	if len(l.errs) > 0 {
		problems := dedupe(l.errs)
		problems.Sort()
		return nil, &LoadError{Problems: problems, Warnings: warnings}
	}
	app.Warnings = warnings
	return app, nil
}

// LoadError is the error of Load and LoadFS: every problem found, and the
// warnings found alongside them. Its text is the problems', one per line.
type LoadError struct {
	// Problems are the problems, sorted by file and position; never empty.
	Problems strictyaml.ErrorList
	// Warnings are the warnings, as App.Warnings would hold them.
	Warnings strictyaml.ErrorList
}

// Error returns the problems, one per line.
func (e *LoadError) Error() string { return e.Problems.Error() }

// Unwrap returns the problems, so that strictyaml.AsList finds them.
func (e *LoadError) Unwrap() error { return e.Problems }

type loader struct {
	fsys   fs.FS
	dir    string
	limits Limits
	// platforms are the declared platforms, when checked (WithPlatforms).
	platforms Platforms
	checked   bool
	errs      strictyaml.ErrorList
	// kfiles are the application's files as kustomize reads them, once
	// a target needs them.
	kfiles *kustomizeFiles
	// zips are the zips of folders Lambda functions name (Code.Folder),
	// built once per load.
	zips map[string]zipResult
	// zipLimits bound those zips; Lambda's when zero.
	zipLimits zipLimits
	// named are the files the environment being rendered names outside
	// Kubernetes targets (see namedFiles): never manifests.
	named map[string]bool
	// warns are the warnings found; clock dates them (see WithClock).
	warns strictyaml.ErrorList
	clock clock.PassiveClock
	// manifestCheck checks each environment's Kubernetes objects, envDocs
	// (see WithManifestCheck).
	manifestCheck ManifestCheck
	envDocs       []ManifestDoc
	// budget bounds what placeholders add over every environment.
	budget *placeholderBudget
}

// display returns the name of a file of the application for messages.
func (l *loader) display(rel string) string {
	return filepath.Join(l.dir, filepath.FromSlash(rel))
}

func (l *loader) load() *App {
	file := l.display(FileName)
	if !l.checkFolder() {
		return nil
	}
	data, err := l.readFile(FileName)
	if err != nil {
		msg := fmt.Sprintf("cannot read the application spec: %v", strictyaml.PathCause(err))
		if errors.Is(err, fs.ErrNotExist) {
			msg = "no " + FileName + " here; an application's folder holds its spec as " + FileName
		}
		l.errs = append(l.errs, &strictyaml.Error{File: file, Message: msg})
		return nil
	}
	root, perr := strictyaml.Parse(file, data)
	if perr != nil {
		l.errs = append(l.errs, perr)
		return nil
	}
	app, doc, errs := decodeApplication(file, root)
	l.errs = append(l.errs, errs...)
	problems, warns := validate(doc, app, l.platforms, l.checked)
	l.errs = append(l.errs, withoutShadowed(problems, errs)...)
	l.warns = append(l.warns, warns...)
	if !renderable(errs) || !l.checkCounts(doc, app) {
		// What rendering reads is broken (its files cannot be found
		// reliably), or too large to render.
		return nil
	}
	// Render even when the spec has problems, so that the problems of the
	// files it names are reported in the same run.
	out := &App{Application: *app, Dir: l.dir}
	for i := range app.Spec.Environments {
		out.renders = append(out.renders, l.render(app, doc, i))
	}
	return out
}

// decodeApplication decodes and defaults a spec from its parsed root.
func decodeApplication(file string, root *yaml.Node) (*Application, *strictyaml.Document, strictyaml.ErrorList) {
	var app Application
	doc, errs := strictyaml.DecodeNode(file, root, &app)
	SetDefaults(&app)
	return &app, doc, errs
}

// envRenderFields are the fields of an environment that rendering reads.
var envRenderFields = regexp.MustCompile(`^spec\.environments\[\d+\]\.(name|variables|targets)\b`)

// renderable reports whether the spec can be rendered despite its
// decoding problems: none may touch what rendering reads.
func renderable(decodeErrs strictyaml.ErrorList) bool {
	for _, e := range decodeErrs {
		switch {
		case e.Field == "", e.Field == "spec", strings.HasPrefix(e.Field, "metadata"),
			strings.HasPrefix(e.Field, "spec.artifacts"), strings.HasPrefix(e.Field, "spec.variables"),
			strings.HasPrefix(e.Field, "spec.targets"), e.Field == "spec.environments", envRenderFields.MatchString(e.Field):
			return false
		}
	}
	return true
}

// withoutShadowed drops validation problems at or under a field that
// already has a decoding problem, which would only repeat it.
func withoutShadowed(problems, decodeErrs strictyaml.ErrorList) strictyaml.ErrorList {
	var out strictyaml.ErrorList
	for _, p := range problems {
		shadowed := false
		for _, d := range decodeErrs {
			if d.Field != "" && (p.Field == d.Field || strings.HasPrefix(p.Field, d.Field+".") || strings.HasPrefix(p.Field, d.Field+"[")) {
				shadowed = true
				break
			}
		}
		if !shadowed {
			out = append(out, p)
		}
	}
	return out
}

// dedupe drops repeated problems, such as one file's problem found while
// rendering each environment.
func dedupe(errs strictyaml.ErrorList) strictyaml.ErrorList {
	seen := map[string]bool{}
	var out strictyaml.ErrorList
	for _, e := range errs {
		if k := e.Error(); !seen[k] {
			seen[k] = true
			out = append(out, e)
		}
	}
	return out
}

// cleanRel checks that p names a file inside the application's folder and
// returns it in fs.FS form.
func cleanRel(p string) (string, error) {
	if p == "" {
		return "", errors.New("path is empty")
	}
	if path.IsAbs(p) || filepath.IsAbs(p) || strings.Contains(p, `\`) {
		return "", fmt.Errorf("path %q must be relative to the application's folder", p)
	}
	c := path.Clean(p)
	if !fs.ValidPath(c) || c == ".." || strings.HasPrefix(c, "../") {
		return "", fmt.Errorf("path %q escapes the application's folder; keep the files a spec names inside its folder", p)
	}
	return c, nil
}

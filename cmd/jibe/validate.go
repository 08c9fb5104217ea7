package main

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/internal/strictyaml"
	"github.com/jibe-dev/jibe/spec"
	"github.com/jibe-dev/jibe/spec/kubecheck"
)

// The kinds of file validate checks.
const (
	kindApplication = "Application"
	kindAgentConfig = "AgentConfig"
)

// result is the outcome of validating one application or configuration.
type result struct {
	// Path is the application's folder or the configuration file.
	Path string `json:"path"`
	// Kind is Application or AgentConfig.
	Kind string `json:"kind"`
	// Name is the application's name, when it could be read.
	Name string `json:"name,omitempty"`
	// Problems are every problem found; empty when valid.
	Problems strictyaml.ErrorList `json:"problems"`
	// Warnings need attention but do not make the result invalid, such as
	// a deprecated Lambda runtime; empty when there are none.
	Warnings strictyaml.ErrorList `json:"warnings"`
}

func newValidateCommand() *cobra.Command {
	var format, cfgPath, source, cluster string
	var offline bool
	cmd := &cobra.Command{
		Use:   "validate PATH...",
		Short: "Check application specs and agent configurations",
		Long: `Check application specs and agent configurations, and every file they name,
for every environment, without contacting any cloud or cluster (unless
--config names the clusters the environments deploy to). Kubernetes manifests are checked against the API of
Kubernetes ` + kubecheck.KubernetesVersion + ` (custom resources against a CustomResourceDefinition of the
application, when it has one); a kind that neither is a warning, as only a
cluster knows it. Problems in objects that kustomize builds cite the
resource or patch file they come from.

Each PATH is an application folder (holding jibe.yaml), a jibe.yaml file, an
agent configuration file (kind: AgentConfig), or a folder searched for them.

Problems are printed to standard output, one per line, as
  file:line:column: field: message
which editors and CI systems link to, and warnings (such as a deprecated
Lambda runtime) as
  file:line:column: warning: field: message
--format json prints a JSON document; --format github prints GitHub Actions
annotations.

With --config FILE, applications are also checked against that agent
configuration: the AWS accounts and clusters they name must be configured, and
an approval rule needs GitHub configured; --source NAME adds the source's
tenancy (the accounts, clusters and namespaces it may deploy to).

With --config FILE, the Kubernetes manifests of each environment are also
checked against what the configured cluster that environment names serves,
read once per cluster through its discovery API (read-only, with the
connection the agent uses: kubeconfig, in-cluster or EKS): a kind that neither
the application's CRDs nor the cluster serve is a problem, and custom
resources of the cluster's CRDs are checked against those CRDs' schemas.
--cluster NAME checks every environment against that one cluster instead. A
cluster that cannot be reached is an error naming it (exit status 2);
--offline checks the manifests offline even with --config (a CI job without
cluster credentials).

Exit status: 0 when everything is valid, warnings or not, 1 when there are
problems, 2 when the command line is wrong or a PATH cannot be read.`,
		Example: `  jibe validate examples/ecs-web
  jibe validate --format json apps/
  jibe validate /etc/jibe/agent.yaml
  jibe validate --config /etc/jibe/agent.yaml --source payments apps/checkout
  jibe validate --config /etc/jibe/agent.yaml --cluster staging apps/checkout`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			write, ok := formats[format]
			if !ok {
				return fmt.Errorf("unknown --format %q; use text, json or github", format)
			}
			place, err := loadPlacement(cfgPath, source)
			if err != nil {
				return err
			}
			check, clusterErr, err := place.manifestCheck(cmd.Context(), cluster, offline)
			if err != nil {
				return err
			}
			results, err := validatePaths(args, place, check)
			if err != nil {
				return err
			}
			if err := clusterErr(); err != nil {
				return err
			}
			if err := write(cmd.OutOrStdout(), results); err != nil {
				return err
			}
			if n := countProblems(results); n > 0 {
				return problemsError{n}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&format, "format", "o", "text", "output format: text, json or github")
	cmd.Flags().StringVarP(&cfgPath, "config", "c", "", "also check the applications against this agent configuration (accounts, clusters, approvals)")
	cmd.Flags().StringVar(&source, "source", "", "with --config, also check this source's tenancy")
	cmd.Flags().BoolVar(&offline, "offline", false, "with --config, contact no cluster: check manifests against Kubernetes' own API only")
	cmd.Flags().StringVar(&cluster, "cluster", "", "with --config, check every environment's Kubernetes kinds against what this configured cluster serves (read-only discovery), instead of the cluster each environment names")
	return cmd
}

// validatePaths validates every application and configuration found under
// paths, in order.
func validatePaths(paths []string, place *placement, check spec.ManifestCheck) ([]result, error) {
	var results []result
	for _, p := range paths {
		found, err := discover(p)
		if err != nil {
			return nil, err
		}
		for _, f := range found {
			results = append(results, place.check(validateOne(f, check)))
		}
	}
	return results, nil
}

// found is a file or folder to validate.
type found struct{ path, kind string }

// discover finds what to validate at p.
func discover(p string) ([]found, error) {
	info, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", p, strictyaml.PathCause(err))
	}
	if !info.IsDir() {
		return discoverFile(p)
	}
	var out []found
	err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return walkDir(path, p, d, &out)
		}
		if isYAML(path) && peekKind(path) == kindAgentConfig {
			out = append(out, found{path, kindAgentConfig})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("searching %s: %w", p, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no %s or agent configuration under %s", spec.FileName, p)
	}
	return out, nil
}

// walkDir records an application folder and skips its insides, which are
// the application's own files, and hidden folders such as .git.
func walkDir(path, root string, d fs.DirEntry, out *[]found) error {
	if path != root && strings.HasPrefix(d.Name(), ".") {
		return filepath.SkipDir
	}
	if _, err := os.Stat(filepath.Join(path, spec.FileName)); err == nil {
		*out = append(*out, found{path, kindApplication})
		return filepath.SkipDir
	}
	return nil
}

func discoverFile(p string) ([]found, error) {
	if filepath.Base(p) == spec.FileName {
		return []found{{filepath.Dir(p), kindApplication}}, nil
	}
	switch kind := peekKind(p); kind {
	case kindAgentConfig:
		return []found{{p, kindAgentConfig}}, nil
	case kindApplication:
		return nil, fmt.Errorf("%s is an application spec, which must be named %s in the application's folder", p, spec.FileName)
	case "":
		return nil, fmt.Errorf("%s is not a Jibe file: it has no kind (expected %s or %s)", p, kindApplication, kindAgentConfig)
	default:
		return nil, fmt.Errorf("%s is not a Jibe file: its kind is %s (expected %s or %s)", p, kind, kindApplication, kindAgentConfig)
	}
}

func isYAML(p string) bool {
	return strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")
}

// peekKind returns the kind of the YAML document in file, or "".
func peekKind(file string) string {
	data, err := os.ReadFile(file)
	if err != nil {
		return ""
	}
	var head struct {
		Kind string `yaml:"kind"`
	}
	_ = yaml.Unmarshal(data, &head)
	return head.Kind
}

// validateOne validates what f is, checking Kubernetes manifests with
// check.
func validateOne(f found, check spec.ManifestCheck) result {
	r := result{Path: f.path, Kind: f.kind}
	var err error
	if f.kind == kindAgentConfig {
		_, err = config.Load(f.path)
	} else {
		var app *spec.App
		app, err = spec.Load(f.path, spec.WithPlatforms(builtinPlatforms()...), spec.WithManifestCheck(check))
		r.Warnings = warnings(app, err)
		if app != nil {
			r.Name = app.Metadata.Name
		}
	}
	r.Problems = strictyaml.AsList(err)
	if err != nil && len(r.Problems) == 0 {
		r.Problems = strictyaml.ErrorList{{File: f.path, Message: err.Error()}}
	}
	if r.Problems == nil {
		r.Problems = strictyaml.ErrorList{}
	}
	if r.Warnings == nil {
		r.Warnings = strictyaml.ErrorList{}
	}
	return r
}

// warnings returns the warnings of a load, valid or not.
func warnings(app *spec.App, err error) strictyaml.ErrorList {
	var le *spec.LoadError
	if errors.As(err, &le) {
		return le.Warnings
	}
	if app != nil {
		return app.Warnings
	}
	return nil
}

func countProblems(results []result) int {
	n := 0
	for _, r := range results {
		n += len(r.Problems)
	}
	return n
}

// formats write validation results in each output format.
var formats = map[string]func(io.Writer, []result) error{
	"text":   writeText,
	"json":   writeJSON,
	"github": writeGitHub,
}

func writeText(w io.Writer, results []result) error {
	for _, r := range results {
		for _, p := range merged(r) {
			if p.warning {
				fmt.Fprintln(w, warningText(p.Error))
			} else {
				fmt.Fprintln(w, p.Error.Error())
			}
		}
		if len(r.Problems) == 0 {
			fmt.Fprintf(w, "ok %s (%s)\n", r.Path, describe(r))
		}
	}
	return nil
}

// entry is a problem or a warning.
type entry struct {
	*strictyaml.Error
	warning bool
}

// merged returns a result's problems and warnings in file and position
// order, so that a warning shows next to the problems of its file.
func merged(r result) []entry {
	out := make([]entry, 0, len(r.Problems)+len(r.Warnings))
	for _, p := range r.Problems {
		out = append(out, entry{p, false})
	}
	for _, p := range r.Warnings {
		out = append(out, entry{p, true})
	}
	slices.SortStableFunc(out, func(a, b entry) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
	})
	return out
}

// warningText formats a warning as "file:line:column: warning: field:
// message".
func warningText(e *strictyaml.Error) string {
	w := *e
	w.Field = ""
	w.Message = "warning: " + e.Message
	if e.Field != "" {
		w.Message = "warning: " + e.Field + ": " + e.Message
	}
	return w.Error()
}

func describe(r result) string {
	if r.Kind == kindAgentConfig {
		return "agent configuration"
	}
	return "application " + r.Name
}

func writeJSON(w io.Writer, results []result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Valid   bool     `json:"valid"`
		Results []result `json:"results"`
	}{countProblems(results) == 0, results})
}

// writeGitHub writes GitHub Actions workflow commands, which annotate the
// lines of a pull request's diff.
func writeGitHub(w io.Writer, results []result) error {
	for _, r := range results {
		for _, p := range merged(r) {
			msg := p.Message
			if p.Field != "" {
				msg = p.Field + ": " + msg
			}
			level := "error"
			if p.warning {
				level = "warning"
			}
			fmt.Fprintf(w, "::%s file=%s,line=%d,col=%d,title=jibe validate::%s\n",
				level, escapeProperty(p.File), max(p.Line, 1), max(p.Column, 1), escapeData(msg))
		}
	}
	return nil
}

var (
	dataEscaper     = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
	propertyEscaper = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")
)

func escapeData(s string) string     { return dataEscaper.Replace(s) }
func escapeProperty(s string) string { return propertyEscaper.Replace(s) }

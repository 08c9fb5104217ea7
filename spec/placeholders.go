package spec

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Placeholders are written ${name}. The names are:
//
//	${app.name}                  the application's name
//	${env.name}                  the environment's name
//	${vars.<name>}               a variable (environment first, then application)
//	${artifacts.<name>}          an artifact: image reference, s3://bucket/key or AMI ID
//	${artifacts.<name>.<part>}   repository, tag, digest (images); bucket, key, version (S3)
//	${rollout.<name>}            in checks only, resolved while the rollout runs:
//	                             revision (the Git commit), shortRevision, newVersion
//	                             (the platform version being rolled out, e.g. a Lambda
//	                             version number; also written version) and
//	                             stableVersion (the version it replaces)
//
// $${ writes a literal ${.
var placeholderRE = regexp.MustCompile(`\$\$\{|\$\{([^{}]*)\}`)

// RuntimePlaceholders are the ${rollout.*} names, resolved by the engine
// while a rollout runs. They may only appear in checks.
var RuntimePlaceholders = []string{"rollout.revision", "rollout.shortRevision", "rollout.newVersion", "rollout.version", "rollout.stableVersion"}

// scope resolves placeholders for one environment.
type scope struct {
	app       string
	env       string
	vars      map[string]string
	artifacts map[string]Artifact
	// inCheck keeps ${rollout.*} placeholders for the engine to resolve.
	inCheck bool
	// budget, when set, bounds what placeholders add.
	budget *placeholderBudget
}

// placeholderBudget bounds the bytes placeholders add to an application,
// over all its environments: a variable named many times would otherwise
// render far more than the application's files hold.
type placeholderBudget struct {
	limit, left int64
	// over is set once the budget is spent; its problem is reported once.
	over bool
}

// spend takes n bytes from b and reports whether they were left; the
// problem is returned by the call that spends the budget, none after.
func (b *placeholderBudget) spend(n int) (problem []string, ok bool) {
	switch {
	case b == nil:
		return nil, true
	case b.over:
		return nil, false
	}
	if b.left -= int64(n); b.left >= 0 {
		return nil, true
	}
	b.over = true
	return []string{overLimit(fmt.Sprintf("placeholders add more than %d bytes to the application", b.limit), b.limit, "bytesPerApplication")}, false
}

// newScope returns the placeholder scope of env.
func newScope(app *Application, env *Environment) *scope {
	vars := make(map[string]string, len(app.Spec.Variables)+len(env.Variables))
	for k, v := range app.Spec.Variables {
		vars[k] = v
	}
	for k, v := range env.Variables {
		vars[k] = v
	}
	return &scope{app: app.Metadata.Name, env: env.Name, vars: vars, artifacts: app.Spec.Artifacts}
}

// expand replaces the placeholders in s. It returns the text with every
// resolvable placeholder replaced and one message per problem.
func (sc *scope) expand(s string) (string, []string) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	var problems []string
	out := placeholderRE.ReplaceAllStringFunc(s, func(m string) string {
		if m == "$${" {
			return "${"
		}
		name := strings.TrimSpace(m[2 : len(m)-1])
		v, err := sc.lookup(name)
		if err != nil {
			problems = append(problems, err.Error())
			return m
		}
		if p, ok := sc.budget.spend(len(v) - len(m)); !ok {
			problems = append(problems, p...)
			return m
		}
		return v
	})
	if len(problems) == 0 && hasUnterminated(s) {
		problems = append(problems, "unterminated placeholder: a ${ has no closing }; write $${ for a literal ${")
	}
	return out, problems
}

// hasUnterminated reports whether s has a "${" that starts no placeholder.
func hasUnterminated(s string) bool {
	rest := placeholderRE.ReplaceAllString(s, "")
	return strings.Contains(rest, "${")
}

func (sc *scope) lookup(name string) (string, error) {
	head, rest, _ := strings.Cut(name, ".")
	switch head {
	case "app":
		if rest == "name" {
			return sc.app, nil
		}
	case "env":
		if rest == "name" {
			return sc.env, nil
		}
	case "vars":
		if v, ok := sc.vars[rest]; ok {
			return v, nil
		}
		return "", fmt.Errorf("placeholder ${%s}: variable %q is not defined for environment %q; define it under spec.variables or the environment's variables%s",
			name, rest, sc.env, known(sc.vars))
	case "artifacts":
		return sc.artifact(name, rest)
	case "rollout":
		return sc.rollout(name)
	}
	return "", fmt.Errorf("placeholder ${%s} is not known; use ${app.name}, ${env.name}, ${vars.<name>} or ${artifacts.<name>}", name)
}

func (sc *scope) rollout(name string) (string, error) {
	for _, r := range RuntimePlaceholders {
		if r == name {
			if sc.inCheck {
				return "${" + name + "}", nil
			}
			return "", fmt.Errorf("placeholder ${%s} is only available in checks (verify and canary analysis)", name)
		}
	}
	return "", fmt.Errorf("placeholder ${%s} is not known; the rollout placeholders are %s", name, strings.Join(wrap(RuntimePlaceholders), ", "))
}

func (sc *scope) artifact(name, rest string) (string, error) {
	artName, part, _ := strings.Cut(rest, ".")
	a, ok := sc.artifacts[artName]
	if !ok {
		return "", fmt.Errorf("placeholder ${%s}: artifact %q is not defined under spec.artifacts%s", name, artName, known(sc.artifacts))
	}
	if a.Kind() == ArtifactUnknown {
		// The artifact's own problem is reported where it is defined.
		return "${" + name + "}", nil
	}
	parts := artifactParts(&a)
	v, ok := parts[part]
	if !ok {
		return "", fmt.Errorf("placeholder ${%s}: artifact %q has no part %q%s", name, artName, part, known(withoutEmpty(parts)))
	}
	return v, nil
}

// artifactParts returns the values ${artifacts.<name>[.<part>]} can take,
// keyed by part ("" for the whole artifact).
func artifactParts(a *Artifact) map[string]string {
	switch a.Kind() {
	case ArtifactImage:
		repo, tag, digest := splitImage(a.Image)
		return map[string]string{"": a.Image, "repository": repo, "tag": tag, "digest": digest}
	case ArtifactS3:
		return map[string]string{"": "s3://" + a.S3.Bucket + "/" + a.S3.Key,
			"bucket": a.S3.Bucket, "key": a.S3.Key, "version": a.S3.Version}
	case ArtifactAMI:
		return map[string]string{"": a.AMI}
	}
	return map[string]string{}
}

// splitImage splits an image reference into repository, tag and digest.
func splitImage(ref string) (repo, tag, digest string) {
	repo, digest, _ = strings.Cut(ref, "@")
	if i := strings.LastIndex(repo, ":"); i > strings.LastIndex(repo, "/") {
		repo, tag = repo[:i], repo[i+1:]
	}
	return repo, tag, digest
}

func withoutEmpty(m map[string]string) map[string]string {
	out := map[string]string{}
	for k := range m {
		if k != "" {
			out[k] = ""
		}
	}
	return out
}

// known formats the keys of m as "; known: a, b", or "" when m is empty.
func known[V any](m map[string]V) string {
	if len(m) == 0 {
		return ""
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return "; known: " + strings.Join(keys, ", ")
}

func wrap(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = "${" + n + "}"
	}
	return out
}

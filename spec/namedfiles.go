package spec

// namedFiles returns the files of the application that are never
// Kubernetes manifests, even in a Kubernetes target's folder: jibe.yaml and
// every file a target names for another platform (ECS task definitions and
// services, Lambda functions, Auto Scaling user data), as written and as
// resolved in environment sc.
func (l *loader) namedFiles(sc *scope, targets []Target) map[string]bool {
	named := map[string]bool{FileName: true}
	for i := range targets {
		for _, name := range targetFiles(&targets[i]) {
			l.addNamed(named, name)
			if out, problems := sc.expand(name); len(problems) == 0 {
				l.addNamed(named, out)
			}
		}
	}
	return named
}

// addNamed adds the clean path of name, when it is one, to named.
func (l *loader) addNamed(named map[string]bool, name string) {
	if rel, err := cleanRel(name); err == nil {
		named[rel] = true
	}
}

// targetFiles are the names of the files target t names, as written.
func targetFiles(t *Target) []string {
	switch {
	case t.ECS != nil:
		return []string{t.ECS.TaskDefinition, t.ECS.Service}
	case t.Lambda != nil:
		return []string{t.Lambda.Function}
	case t.AutoScalingGroup != nil && t.AutoScalingGroup.LaunchTemplate.UserData != "":
		return []string{t.AutoScalingGroup.LaunchTemplate.UserData}
	}
	return nil
}

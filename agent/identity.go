package agent

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/sources"
	"github.com/jibe-dev/jibe/spec"
)

// An application's identity is its source and its metadata.name
// (reconcile.AppID): the journal, statuses, gates, the API, metrics and
// logs key by both, so two sources may each have an application of the
// same name. Within one source a name must be unique: folders giving the
// same name are refused, all of them, until one is renamed.

// id returns the application's identity; its name is known once its spec
// has been read.
func (st *appState) id() reconcile.AppID {
	name := st.name
	if name == "" {
		name = appName(st.folder)
	}
	return reconcile.AppID{Source: st.source, Name: name}
}

// specName is the metadata.name a jibe.yaml gives, with its line, read
// from the folder with the given digest.
type specName struct {
	digest string
	name   string
	line   int
}

// readSpecName reads metadata.name of a revision's jibe.yaml, as far as it
// can be read: an empty name when it cannot (loading reports why).
func readSpecName(rev *sources.Revision) specName {
	n := specName{digest: rev.Digest}
	data, err := fs.ReadFile(rev.Files, spec.FileName)
	if err != nil {
		return n
	}
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 {
		return n
	}
	if name := mappingValue(mappingValue(doc.Content[0], "metadata"), "name"); name != nil && name.Kind == yaml.ScalarNode {
		n.name, n.line = name.Value, name.Line
	}
	return n
}

// mappingValue returns the value of key in mapping m, or nil.
func mappingValue(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// duplicate says that other folders of the source give an application's
// name too.
type duplicate struct {
	source, name string
	// at is this folder's jibe.yaml:line of metadata.name; others are the
	// other folders' (sorted).
	at     string
	others []string
}

// Error says which folders give the name and what to do. It is short
// enough for a commit status.
func (d *duplicate) Error() string {
	return fmt.Sprintf("duplicate name %q: %s and %s in source %s; names are unique per source, rename one",
		d.name, d.at, strings.Join(d.others, ", "), d.source)
}

// nameAt returns "folder/jibe.yaml:line", the place of an application's
// metadata.name.
func nameAt(folder string, line int) string {
	return fmt.Sprintf("%s:%d", path.Join(folder, spec.FileName), line)
}

// checkNames reads the name every application folder of the update gives
// and marks the folders whose name another folder of the source gives too.
// It returns the keys of the folders whose mark changed, to reconcile
// again: a duplicate must be refused, a resolved one deployed.
func (a *Agent) checkNames(u sources.Update) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	byName := map[string][]*appState{}
	for _, au := range u.Apps {
		st := a.apps[u.Source+"/"+au.App]
		if st == nil || au.Revision == nil {
			continue
		}
		if st.spec.digest != au.Revision.Digest || st.spec.digest == "" {
			st.spec = readSpecName(au.Revision)
		}
		if st.spec.name != "" {
			byName[st.spec.name] = append(byName[st.spec.name], st)
		}
	}
	var changed []string
	for _, au := range u.Apps {
		st := a.apps[u.Source+"/"+au.App]
		if st == nil || au.Revision == nil {
			continue
		}
		dup := duplicateOf(st, byName[st.spec.name])
		if (dup == nil) != (st.dup == nil) || (dup != nil && dup.Error() != st.dup.Error()) {
			changed = append(changed, st.key)
		}
		st.dup = dup
	}
	return changed
}

// duplicateOf returns the duplicate mark of st among the folders giving
// its name, or nil when it is the only one.
func duplicateOf(st *appState, same []*appState) *duplicate {
	if len(same) < 2 {
		return nil
	}
	d := &duplicate{source: st.source, name: st.spec.name, at: nameAt(st.folder, st.spec.line)}
	for _, o := range same {
		if o != st {
			d.others = append(d.others, nameAt(o.folder, o.spec.line))
		}
	}
	slices.Sort(d.others)
	return d
}

// refuseDuplicate reports the duplicate on every environment the folder's
// spec names, with the folder (the folders giving the name report on the
// same commit, and each must be seen: statuses name the folder in their
// context), and returns the stalled error. Nothing is deployed: what runs
// keeps running.
func (a *Agent) refuseDuplicate(st *appState, commit string, d *duplicate) error {
	_, envs := readNames(st)
	if len(envs) == 0 {
		envs = []string{"spec"}
	}
	for _, env := range envs {
		a.events.Emit(reconcile.Event{Kind: reconcile.EventDuplicateName, App: reconcile.AppID{Source: st.source, Name: d.name},
			Env: env, Revision: commit, Message: d.Error(), Folder: st.folder})
	}
	return reconcile.Stalled(d)
}

// forget drops the state of a removed application folder: it is no longer
// reconciled, and its name is free for another folder of the source.
func (a *Agent) forget(key string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	st := a.apps[key]
	if st == nil {
		return
	}
	delete(a.apps, key)
	if id := st.id(); a.byID[id] == st {
		delete(a.byID, id)
		if st.name != "" {
			a.gone[id] = st
		}
	}
}

// warnSharedContext warns when another source's application of the same
// name posts its statuses on the same repository under the same contexts,
// where they would replace one another. The caller holds a.mu.
func (a *Agent) warnSharedContext(st *appState) {
	format := statusFormat(a)
	if st.repo == "" || format == "" || strings.Contains(format, "{source}") {
		return
	}
	for _, o := range a.apps {
		if o.source != st.source && o.name == st.name && strings.EqualFold(o.owner+"/"+o.repo, st.owner+"/"+st.repo) {
			a.log.Warn("applications of the same name in two sources post commit statuses on the same repository under the same contexts, which replace one another",
				"app", st.name, "sources", []string{o.source, st.source}, "repository", st.owner+"/"+st.repo, "context", format,
				"fix", "add {source} to github.statusContext in the agent configuration, e.g. jibe/{source}/{app}/{env}")
			return
		}
	}
}

// statusFormat returns the status context format in force.
func statusFormat(a *Agent) string {
	if gh := a.config().GitHub; gh != nil {
		return gh.StatusContext
	}
	return ""
}

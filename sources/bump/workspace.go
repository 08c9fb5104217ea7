package bump

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	gitconfig "github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/storage/memory"
)

// workspace is a shallow in-memory clone of the source's branch, where
// edits become commits without a checkout.
type workspace struct {
	repo *git.Repository
	auth transport.AuthMethod
	base *object.Commit
	tree *object.Tree
}

// cloneBranch clones branch of url in memory, at depth 1.
func cloneBranch(ctx context.Context, url, branch string, auth transport.AuthMethod) (*workspace, error) {
	repo, err := git.CloneContext(ctx, memory.NewStorage(), nil, &git.CloneOptions{
		URL: url, Auth: auth, ReferenceName: plumbing.NewBranchReferenceName(branch),
		SingleBranch: true, Depth: 1, Tags: git.NoTags,
	})
	if err != nil {
		return nil, err
	}
	ref, err := repo.Reference(plumbing.NewRemoteReferenceName("origin", branch), true)
	if err != nil {
		return nil, err
	}
	base, err := repo.CommitObject(ref.Hash())
	if err != nil {
		return nil, err
	}
	tree, err := base.Tree()
	if err != nil {
		return nil, err
	}
	return &workspace{repo: repo, auth: auth, base: base, tree: tree}, nil
}

// read returns the content of the file at p in the base commit.
func (w *workspace) read(p string) ([]byte, error) {
	f, err := w.tree.File(p)
	if err != nil {
		return nil, err
	}
	r, err := f.Reader()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

// commit writes the base tree with files replaced (paths that exist in
// it) as a commit on the base and returns it.
func (w *workspace) commit(files map[string][]byte, message string, author object.Signature) (plumbing.Hash, error) {
	st := w.repo.Storer
	tree, err := replaceFiles(st, w.tree, files)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	c := &object.Commit{
		Author: author, Committer: author, Message: message,
		TreeHash: tree, ParentHashes: []plumbing.Hash{w.base.Hash},
	}
	return store(st, c)
}

// push sets branch to the commit and pushes it: with force, whatever the
// branch holds; without, only while the server's branch is still the base
// commit (the server checks the old value when it updates the branch).
func (w *workspace) push(ctx context.Context, branch string, commit plumbing.Hash, force bool) error {
	ref := plumbing.NewBranchReferenceName(branch)
	if err := w.repo.Storer.SetReference(plumbing.NewHashReference(ref, commit)); err != nil {
		return err
	}
	opts := &git.PushOptions{
		RemoteName: "origin", Auth: w.auth,
		RefSpecs: []gitconfig.RefSpec{gitconfig.RefSpec(fmt.Sprintf("+%s:%s", ref, ref))},
	}
	if !force {
		opts.ForceWithLease = &git.ForceWithLease{RefName: ref, Hash: w.base.Hash}
	}
	err := w.repo.PushContext(ctx, opts)
	if errors.Is(err, git.NoErrAlreadyUpToDate) {
		return nil
	}
	return err
}

// encoder is a git object that encodes itself.
type encoder interface {
	Encode(plumbing.EncodedObject) error
}

// store writes an object to the storer and returns its hash.
func store(st storer.EncodedObjectStorer, o encoder) (plumbing.Hash, error) {
	obj := st.NewEncodedObject()
	if err := o.Encode(obj); err != nil {
		return plumbing.ZeroHash, err
	}
	return st.SetEncodedObject(obj)
}

// storeBlob writes content as a blob.
func storeBlob(st storer.EncodedObjectStorer, content []byte) (plumbing.Hash, error) {
	obj := st.NewEncodedObject()
	obj.SetType(plumbing.BlobObject)
	wr, err := obj.Writer()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if _, err := wr.Write(content); err != nil {
		return plumbing.ZeroHash, err
	}
	if err := wr.Close(); err != nil {
		return plumbing.ZeroHash, err
	}
	return st.SetEncodedObject(obj)
}

// replaceFiles writes a copy of tree whose files at the given paths (which
// must exist) have new content, and returns its hash. Entries keep their
// names, modes and order.
func replaceFiles(st storer.EncodedObjectStorer, tree *object.Tree, files map[string][]byte) (plumbing.Hash, error) {
	here, sub := splitFiles(files)
	entries := make([]object.TreeEntry, len(tree.Entries))
	copy(entries, tree.Entries)
	found := 0
	for i, e := range entries {
		h, ok, err := replaceEntry(st, tree, e, here, sub)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		if ok {
			entries[i].Hash = h
			found++
		}
	}
	if found != len(here)+len(sub) {
		return plumbing.ZeroHash, errors.New("a file to edit is missing from the tree")
	}
	return store(st, &object.Tree{Entries: entries})
}

// replaceEntry returns the new hash of entry e if it holds a file to
// replace (here) or files below it (sub).
func replaceEntry(st storer.EncodedObjectStorer, tree *object.Tree, e object.TreeEntry, here map[string][]byte, sub map[string]map[string][]byte) (plumbing.Hash, bool, error) {
	if content, ok := here[e.Name]; ok && e.Mode.IsFile() {
		h, err := storeBlob(st, content)
		return h, true, err
	}
	files, ok := sub[e.Name]
	if !ok || e.Mode != filemode.Dir {
		return plumbing.ZeroHash, false, nil
	}
	child, err := tree.Tree(e.Name)
	if err != nil {
		return plumbing.ZeroHash, false, err
	}
	h, err := replaceFiles(st, child, files)
	return h, true, err
}

// splitFiles separates the files directly in a folder from those below
// it, by first path segment.
func splitFiles(files map[string][]byte) (map[string][]byte, map[string]map[string][]byte) {
	here, sub := map[string][]byte{}, map[string]map[string][]byte{}
	for p, content := range files {
		dir, rest, ok := strings.Cut(path.Clean(p), "/")
		if !ok {
			here[dir] = content
			continue
		}
		if sub[dir] == nil {
			sub[dir] = map[string][]byte{}
		}
		sub[dir][rest] = content
	}
	return here, sub
}

// signature is the author of a commit at time now.
func signature(name, email string, now time.Time) object.Signature {
	return object.Signature{Name: name, Email: email, When: now}
}

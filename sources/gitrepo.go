package sources

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/go-git/go-git/v5"
	gitconfig "github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/storage/filesystem"
	"github.com/go-git/go-git/v5/storage/memory"
)

const remoteName = "origin"

// lastRef records the last commit reported, so that a restarted agent
// knows where the branch was.
const lastRef = plumbing.ReferenceName("refs/jibe/last")

// errBranchMissing means the server does not have the branch.
var errBranchMissing = errors.New("branch missing")

// remoteRef is where the fetched branch is kept.
func remoteRef(branch string) plumbing.ReferenceName {
	return plumbing.NewRemoteReferenceName(remoteName, branch)
}

// lsRemote asks the server where branch points. It costs exactly one
// request (GET info/refs over HTTP, one upload-pack advertisement over
// SSH). It returns errBranchMissing when the branch (or every branch)
// is gone.
func lsRemote(ctx context.Context, url, branch string, auth transport.AuthMethod) (plumbing.Hash, error) {
	rem := git.NewRemote(memory.NewStorage(), &gitconfig.RemoteConfig{Name: remoteName, URLs: []string{url}})
	refs, err := rem.ListContext(ctx, &git.ListOptions{Auth: auth})
	if errors.Is(err, transport.ErrEmptyRemoteRepository) {
		return plumbing.ZeroHash, errBranchMissing
	}
	if err != nil {
		return plumbing.ZeroHash, err
	}
	want := plumbing.NewBranchReferenceName(branch)
	for _, r := range refs {
		if r.Name() == want {
			return r.Hash(), nil
		}
	}
	return plumbing.ZeroHash, errBranchMissing
}

// branchMissing reports whether a fetch failed because the server has
// no such branch (or no branch at all).
func branchMissing(err error) bool {
	var noRef git.NoMatchingRefSpecError
	return errors.Is(err, transport.ErrEmptyRemoteRepository) || errors.As(err, &noRef)
}

// openRepo opens the bare clone, creating it on first use.
func (s gitStore) openRepo(url string) (*git.Repository, *filesystem.Storage, error) {
	st := s.open()
	repo, err := git.Open(st, nil)
	if errors.Is(err, git.ErrRepositoryNotExists) {
		repo, err = s.initRepo(st, url)
	}
	if err != nil {
		st.Close()
		return nil, nil, fmt.Errorf("opening the clone in %s: %w", s.dir, err)
	}
	return repo, st, nil
}

func (s gitStore) initRepo(st *filesystem.Storage, url string) (*git.Repository, error) {
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return nil, err
	}
	repo, err := git.Init(st, nil)
	if err != nil {
		return nil, err
	}
	_, err = repo.CreateRemote(&gitconfig.RemoteConfig{Name: remoteName, URLs: []string{url}})
	return repo, err
}

// fetch fetches branch to the given depth (1: the tip only). With depth > 1
// on a shallow clone it deepens the history below the tip.
func fetch(ctx context.Context, repo *git.Repository, branch string, depth int, auth transport.AuthMethod) error {
	spec := gitconfig.RefSpec(fmt.Sprintf("+%s:%s", plumbing.NewBranchReferenceName(branch), remoteRef(branch)))
	err := repo.FetchContext(ctx, &git.FetchOptions{
		RemoteName: remoteName,
		RefSpecs:   []gitconfig.RefSpec{spec},
		Depth:      depth,
		Auth:       auth,
		Tags:       git.NoTags,
		Force:      true,
	})
	if errors.Is(err, git.NoErrAlreadyUpToDate) {
		return nil
	}
	return err
}

// walkResult is what a walk of the local history found.
type walkResult int

const (
	walkNotFound   walkResult = iota // the whole history was walked: not an ancestor
	walkFound                        // the commit is an ancestor
	walkIncomplete                   // the walk reached commits not fetched yet
)

// findAncestor walks the history of from, as far as it is present locally
// and at most limit commits, looking for target.
func findAncestor(st storer.EncodedObjectStorer, from, target plumbing.Hash, limit int) (walkResult, error) {
	queue := []plumbing.Hash{from}
	seen := map[plumbing.Hash]bool{from: true}
	for n := 0; len(queue) > 0; n++ {
		if n >= limit {
			return walkIncomplete, nil
		}
		h := queue[0]
		queue = queue[1:]
		if h == target {
			return walkFound, nil
		}
		c, err := object.GetCommit(st, h)
		if errors.Is(err, plumbing.ErrObjectNotFound) {
			return walkIncomplete, nil
		}
		if err != nil {
			return walkNotFound, err
		}
		for _, p := range c.ParentHashes {
			if !seen[p] {
				seen[p] = true
				queue = append(queue, p)
			}
		}
	}
	return walkNotFound, nil
}

// scanTree finds the applications of a commit's tree, mapping each
// application folder to its tree hash.
func scanTree(st storer.EncodedObjectStorer, root *object.Tree, filter appFilter) (map[string]string, error) {
	apps := map[string]string{}
	err := walkTree(st, ".", root, filter, apps)
	return apps, err
}

func walkTree(st storer.EncodedObjectStorer, dir string, tree *object.Tree, filter appFilter, apps map[string]string) error {
	hasSpec := false
	for _, e := range tree.Entries {
		if e.Mode.IsFile() && isSpecFile(e.Name) {
			hasSpec = true
		}
	}
	if filter.isApp(dir, hasSpec) {
		apps[dir] = tree.Hash.String()
	}
	if !filter.descend(dir) {
		return nil
	}
	for _, e := range tree.Entries {
		if e.Mode.IsFile() || e.Mode == 0o160000 { // files and submodules
			continue
		}
		sub, err := object.GetTree(st, e.Hash)
		if err != nil {
			return fmt.Errorf("reading folder %s: %w", joinDir(dir, e.Name), err)
		}
		if err := walkTree(st, joinDir(dir, e.Name), sub, filter, apps); err != nil {
			return err
		}
	}
	return nil
}

// defaultMaxPacks is how many pack files a clone may accumulate (each
// fetch adds one) before they are merged into one.
const defaultMaxPacks = 32

// compact merges the clone's pack files into one when there are more than
// maxPacks, keeping every object so that older revisions stay readable.
// The caller holds the store's write lock.
func compact(st *filesystem.Storage, maxPacks int) error {
	packs, err := st.ObjectPacks()
	if err != nil || len(packs) <= maxPacks {
		return err
	}
	hashes, err := objectHashes(st)
	if err != nil {
		return err
	}
	w, err := st.PackfileWriter()
	if err != nil {
		return err
	}
	merged, err := packfile.NewEncoder(w, st, false).Encode(hashes, 10)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("merging pack files: %w", err)
	}
	for _, h := range packs {
		if h != merged {
			if err := st.DeleteOldObjectPackAndIndex(h, time.Time{}); err != nil {
				return err
			}
		}
	}
	st.Reindex()
	return nil
}

// objectHashes lists every object of the store once.
func objectHashes(st *filesystem.Storage) ([]plumbing.Hash, error) {
	iter, err := st.IterEncodedObjects(plumbing.AnyObject)
	if err != nil {
		return nil, err
	}
	seen := map[plumbing.Hash]bool{}
	var out []plumbing.Hash
	err = iter.ForEach(func(o plumbing.EncodedObject) error {
		if h := o.Hash(); !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
		return nil
	})
	return out, err
}

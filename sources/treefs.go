package sources

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"path"
	"sync"
	"time"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// objectCacheSize bounds go-git's object cache per opened repository. The
// default (96 MiB) is what makes repositories held open expensive; polls
// and revision reads touch few objects, so a small cache loses nothing.
const objectCacheSize = 256 * cache.KiByte

// gitStore is a bare repository on disk. It holds no open files: each use
// opens it, and Close releases it. Fetches hold lock for writing and
// revision reads hold it for reading: go-git's object storage does not
// promise that a reader listing pack files while a fetch writes one sees a
// consistent set (we observed spurious "object not found"), so readers
// wait for the fetch instead.
type gitStore struct {
	dir  string
	lock *sync.RWMutex
}

// open opens the repository's object and reference storage.
func (s gitStore) open() *filesystem.Storage {
	return filesystem.NewStorageWithOptions(osfs.New(s.dir), cache.NewObjectLRU(objectCacheSize), filesystem.Options{})
}

// treeFS is an fs.FS over one Git tree, read from the repository by hash.
// Git objects are immutable and fetches only add objects, so a treeFS
// always returns the same files however far the branch moves; reads
// issued during a fetch wait for it to finish.
//
// The first read loads the whole folder into memory when it holds at most
// maxSnapshotBytes, so that loading a spec (dozens of reads) opens the
// clone once; larger folders are read from the clone at every operation.
type treeFS struct {
	store gitStore
	root  plumbing.Hash
	mtime time.Time
	snap  *treeSnapshot // nil: always read from the clone
}

// maxSnapshotBytes bounds the folder a revision keeps in memory.
const maxSnapshotBytes = 8 << 20

// errTooLarge means a folder is larger than maxSnapshotBytes.
var errTooLarge = errors.New("folder too large to keep in memory")

// treeSnapshot is a folder loaded into memory on first use.
type treeSnapshot struct {
	once  sync.Once
	files memFS
	ok    bool
}

// newTreeFS returns the fs.FS of tree root in store.
func newTreeFS(store gitStore, root plumbing.Hash, mtime time.Time) treeFS {
	return treeFS{store: store, root: root, mtime: mtime, snap: &treeSnapshot{}}
}

// memory returns the folder loaded into memory, and false when it is not
// (too large, or unreadable: the per-operation path reports the error).
func (t treeFS) memory() (memFS, bool) {
	if t.snap == nil {
		return memFS{}, false
	}
	t.snap.once.Do(func() {
		files, err := t.loadAll(maxSnapshotBytes)
		t.snap.files, t.snap.ok = memFS{files: files, mtime: t.mtime}, err == nil
	})
	return t.snap.files, t.snap.ok
}

// loadAll reads every file of the tree, failing with errTooLarge beyond
// limit bytes.
func (t treeFS) loadAll(limit int64) (map[string][]byte, error) {
	t.store.lock.RLock()
	defer t.store.lock.RUnlock()
	st := t.store.open()
	defer st.Close()
	tree, err := object.GetTree(st, t.root)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	var total int64
	err = tree.Files().ForEach(func(f *object.File) error {
		if total += f.Size; total > limit {
			return errTooLarge
		}
		data, err := readBlob(st, f.Hash)
		files[f.Name] = data
		return err
	})
	return files, err
}

var (
	_ fs.ReadFileFS = treeFS{}
	_ fs.ReadDirFS  = treeFS{}
	_ fs.StatFS     = treeFS{}
)

// Open opens the named file or folder of the tree.
func (t treeFS) Open(name string) (fs.File, error) {
	if m, ok := t.memory(); ok {
		return m.Open(name)
	}
	return lookup(t, "open", name, func(st *filesystem.Storage, e entry) (fs.File, error) {
		if e.mode == filemode.Dir {
			entries, err := t.readDir(st, e)
			if err != nil {
				return nil, err
			}
			return &dirFile{info: e.info(t.mtime), entries: entries}, nil
		}
		data, err := readBlob(st, e.hash)
		if err != nil {
			return nil, err
		}
		return &blobFile{info: e.info(t.mtime), Reader: bytes.NewReader(data)}, nil
	})
}

// ReadFile returns the content of the named file.
func (t treeFS) ReadFile(name string) ([]byte, error) {
	if m, ok := t.memory(); ok {
		return m.ReadFile(name)
	}
	return lookup(t, "read", name, func(st *filesystem.Storage, e entry) ([]byte, error) {
		if e.mode == filemode.Dir {
			return nil, errors.New("is a directory")
		}
		return readBlob(st, e.hash)
	})
}

// ReadDir returns the named folder's entries sorted by name.
func (t treeFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if m, ok := t.memory(); ok {
		return m.ReadDir(name)
	}
	return lookup(t, "readdir", name, func(st *filesystem.Storage, e entry) ([]fs.DirEntry, error) {
		if e.mode != filemode.Dir {
			return nil, errors.New("not a directory")
		}
		return t.readDir(st, e)
	})
}

// Stat describes the named file or folder.
func (t treeFS) Stat(name string) (fs.FileInfo, error) {
	if m, ok := t.memory(); ok {
		return fs.Stat(m, name)
	}
	return lookup(t, "stat", name, func(st *filesystem.Storage, e entry) (fs.FileInfo, error) {
		if e.mode == filemode.Dir {
			return e.info(t.mtime), nil
		}
		obj, err := st.EncodedObject(plumbing.BlobObject, e.hash)
		if err != nil {
			return nil, err
		}
		e.size = obj.Size()
		return e.info(t.mtime), nil
	})
}

// entry is a tree entry found by path.
type entry struct {
	name string
	mode filemode.FileMode
	hash plumbing.Hash
	size int64
}

func (e entry) info(mtime time.Time) fileInfo {
	mode := fs.FileMode(0o444)
	switch e.mode {
	case filemode.Dir:
		mode = fs.ModeDir | 0o555
	case filemode.Executable:
		mode = 0o555
	case filemode.Symlink:
		mode = fs.ModeSymlink | 0o444
	}
	return fileInfo{name: e.name, size: e.size, mode: mode, mtime: mtime}
}

// lookup opens the repository, finds name and calls fn, wrapping errors
// as *fs.PathError.
func lookup[T any](t treeFS, op, name string, fn func(*filesystem.Storage, entry) (T, error)) (T, error) {
	var zero T
	if !fs.ValidPath(name) {
		return zero, &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	t.store.lock.RLock()
	defer t.store.lock.RUnlock()
	st := t.store.open()
	defer st.Close()
	e, err := t.find(st, name)
	if err == nil {
		var v T
		if v, err = fn(st, e); err == nil {
			return v, nil
		}
	}
	return zero, &fs.PathError{Op: op, Path: name, Err: err}
}

// find resolves name in the tree.
func (t treeFS) find(st *filesystem.Storage, name string) (entry, error) {
	if name == "." {
		return entry{name: ".", mode: filemode.Dir, hash: t.root}, nil
	}
	tree, err := object.GetTree(st, t.root)
	if err != nil {
		return entry{}, err
	}
	te, err := tree.FindEntry(name)
	if errors.Is(err, object.ErrEntryNotFound) || errors.Is(err, object.ErrDirectoryNotFound) {
		return entry{}, fs.ErrNotExist
	}
	if err != nil {
		return entry{}, err
	}
	if te.Mode == filemode.Submodule {
		return entry{}, fs.ErrNotExist
	}
	return entry{name: path.Base(name), mode: te.Mode, hash: te.Hash}, nil
}

// readDir lists a folder, leaving out submodules (which have no content
// in the repository).
func (t treeFS) readDir(st *filesystem.Storage, dir entry) ([]fs.DirEntry, error) {
	tree, err := object.GetTree(st, dir.hash)
	if err != nil {
		return nil, err
	}
	out := make([]fs.DirEntry, 0, len(tree.Entries))
	for _, te := range tree.Entries {
		if te.Mode == filemode.Submodule {
			continue
		}
		e := entry{name: te.Name, mode: te.Mode, hash: te.Hash, size: -1}
		if te.Mode != filemode.Dir {
			if obj, err := st.EncodedObject(plumbing.BlobObject, te.Hash); err == nil {
				e.size = obj.Size()
			}
		}
		out = append(out, fs.FileInfoToDirEntry(e.info(t.mtime)))
	}
	return out, nil // Git sorts tree entries by name.
}

func readBlob(st *filesystem.Storage, h plumbing.Hash) ([]byte, error) {
	blob, err := object.GetBlob(st, h)
	if err != nil {
		return nil, err
	}
	r, err := blob.Reader()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

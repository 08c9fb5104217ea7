package sources

import (
	"bytes"
	"errors"
	"fmt"
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
//
// A file larger than maxFile is never read: its size comes from the Git
// object's header, and reading it fails with errFileTooLarge.
type treeFS struct {
	store   gitStore
	root    plumbing.Hash
	mtime   time.Time
	maxFile int64
	snap    *treeSnapshot // nil: always read from the clone
}

// maxSnapshotBytes bounds the folder a revision keeps in memory.
const maxSnapshotBytes = 8 << 20

// errTooLarge means a folder is larger than maxSnapshotBytes, or holds a
// file above the limit per file.
var errTooLarge = errors.New("folder too large to keep in memory")

// errFileTooLarge is a file above the limit per file, refused unread.
type errFileTooLarge struct{ size, limit int64 }

func (e errFileTooLarge) Error() string {
	return fmt.Sprintf("the file holds %d bytes, above the limit of %d (limits.bytesPerFile); it is not read", e.size, e.limit)
}

// treeSnapshot is a folder loaded into memory on first use.
type treeSnapshot struct {
	once  sync.Once
	files memFS
	ok    bool
}

// newTreeFS returns the fs.FS of tree root in store, whose files hold at
// most maxFile bytes each.
func newTreeFS(store gitStore, root plumbing.Hash, mtime time.Time, maxFile int64) treeFS {
	return treeFS{store: store, root: root, mtime: mtime, maxFile: maxFile, snap: &treeSnapshot{}}
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
// limit bytes in all or beyond maxFile bytes in one file. Sizes come from
// the objects' headers, so no file is read before they are known.
func (t treeFS) loadAll(limit int64) (map[string][]byte, error) {
	t.store.lock.RLock()
	defer t.store.lock.RUnlock()
	st := t.store.open()
	defer st.Close()
	tree, err := object.GetTree(st, t.root)
	if err != nil {
		return nil, err
	}
	w := object.NewTreeWalker(tree, true, nil)
	defer w.Close()
	files := map[string][]byte{}
	var total int64
	for {
		name, e, err := w.Next()
		if errors.Is(err, io.EOF) {
			return files, nil
		}
		if err != nil {
			return nil, err
		}
		if e.Mode == filemode.Dir || e.Mode == filemode.Submodule {
			continue
		}
		size, err := st.EncodedObjectSize(e.Hash)
		if err != nil {
			return nil, err
		}
		if total += size; total > limit || size > t.maxFile {
			return nil, errTooLarge
		}
		if files[name], err = t.readBlob(st, e.Hash); err != nil {
			return nil, err
		}
	}
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
		data, err := t.readBlob(st, e.hash)
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
		return t.readBlob(st, e.hash)
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
		size, err := st.EncodedObjectSize(e.hash)
		if err != nil {
			return nil, err
		}
		e.size = size
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
			if size, err := st.EncodedObjectSize(te.Hash); err == nil {
				e.size = size
			}
		}
		out = append(out, fs.FileInfoToDirEntry(e.info(t.mtime)))
	}
	return out, nil // Git sorts tree entries by name.
}

// readBlob reads blob h, refusing one above the limit per file before
// reading it.
func (t treeFS) readBlob(st *filesystem.Storage, h plumbing.Hash) ([]byte, error) {
	size, err := st.EncodedObjectSize(h)
	if err != nil {
		return nil, err
	}
	if size > t.maxFile {
		return nil, errFileTooLarge{size: size, limit: t.maxFile}
	}
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

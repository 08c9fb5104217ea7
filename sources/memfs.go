package sources

import (
	"bytes"
	"errors"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"
)

// memFS is an immutable in-memory fs.FS: file paths (slash-separated,
// relative) to contents. Folders are implied by the paths.
type memFS struct {
	files map[string][]byte
	mtime time.Time
}

var (
	_ fs.ReadFileFS = memFS{}
	_ fs.ReadDirFS  = memFS{}
)

// Open opens a file or an implied folder.
func (m memFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	if data, ok := m.files[name]; ok {
		info := fileInfo{name: path.Base(name), size: int64(len(data)), mode: 0o444, mtime: m.mtime}
		return &blobFile{info: info, Reader: bytes.NewReader(data)}, nil
	}
	entries, ok := m.list(name)
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return &dirFile{info: m.dirInfo(name), entries: entries}, nil
}

// ReadFile returns a copy of the named file's content.
func (m memFS) ReadFile(name string) ([]byte, error) {
	data, ok := m.files[name]
	if !ok || !fs.ValidPath(name) {
		if _, isDir := m.list(name); isDir {
			return nil, &fs.PathError{Op: "read", Path: name, Err: errors.New("is a directory")}
		}
		return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrNotExist}
	}
	return bytes.Clone(data), nil
}

// ReadDir lists the named folder, sorted by name.
func (m memFS) ReadDir(name string) ([]fs.DirEntry, error) {
	entries, ok := m.list(name)
	if !ok || !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrNotExist}
	}
	return entries, nil
}

// list returns the entries of folder dir, and whether it exists.
func (m memFS) list(dir string) ([]fs.DirEntry, bool) {
	prefix := dir + "/"
	if dir == "." {
		prefix = ""
	}
	seen := map[string]fs.DirEntry{}
	for p, data := range m.files {
		rest, ok := strings.CutPrefix(p, prefix)
		if !ok {
			continue
		}
		if child, _, isDir := strings.Cut(rest, "/"); isDir {
			seen[child] = fs.FileInfoToDirEntry(m.dirInfo(child))
		} else {
			seen[rest] = fs.FileInfoToDirEntry(fileInfo{name: rest, size: int64(len(data)), mode: 0o444, mtime: m.mtime})
		}
	}
	if len(seen) == 0 && dir != "." {
		return nil, false
	}
	out := make([]fs.DirEntry, 0, len(seen))
	for _, e := range seen {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out, true
}

func (m memFS) dirInfo(name string) fileInfo {
	return fileInfo{name: path.Base(name), mode: fs.ModeDir | 0o555, mtime: m.mtime}
}

package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// DefaultMaxIncludeDepth is Asterisk's MAX_INCLUDE_LEVEL.
const DefaultMaxIncludeDepth = 10

// Option changes how Parse and ParseFile resolve #include.
type Option func(*options)

type options struct {
	res      resolver
	maxDepth int
}

// WithDir resolves relative #include names against dir on the local file
// system. Absolute names are used as they are. ParseFile defaults to the
// directory of the file it reads.
func WithDir(dir string) Option {
	return func(o *options) { o.res = osResolver{dir: dir} }
}

// WithFS resolves #include names inside fsys, for tests and embedded
// configurations. Absolute names are looked up relative to the root of fsys.
func WithFS(fsys fs.FS) Option {
	return func(o *options) { o.res = fsResolver{fsys: fsys} }
}

// WithMaxIncludeDepth limits how many files deep #include may nest.
func WithMaxIncludeDepth(n int) Option {
	return func(o *options) { o.maxDepth = n }
}

// errNotRegular marks a glob match that is a directory or device.
var errNotRegular = errors.New("not a regular file")

// resolver finds and reads included files.
type resolver interface {
	// expand turns an #include argument into file names (display names),
	// expanding glob patterns in sorted order. A name that is not a pattern
	// is returned as is, whether or not it exists.
	expand(name string) ([]string, error)
	// read returns a file's content. Missing files give an error matching
	// fs.ErrNotExist; directories give errNotRegular.
	read(name string) ([]byte, error)
	// key identifies a file for loop detection.
	key(name string) string
}

type osResolver struct{ dir string }

func (r osResolver) full(name string) string {
	if filepath.IsAbs(name) {
		return filepath.Clean(name)
	}
	return filepath.Join(r.dir, name)
}

func (r osResolver) expand(name string) ([]string, error) {
	full := r.full(name)
	if !hasMeta(name) {
		return []string{full}, nil
	}
	return filepath.Glob(full)
}

func (r osResolver) read(name string) ([]byte, error) {
	st, err := os.Stat(name)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, errNotRegular
	}
	return os.ReadFile(name)
}

func (r osResolver) key(name string) string {
	if abs, err := filepath.Abs(name); err == nil {
		return abs
	}
	return filepath.Clean(name)
}

type fsResolver struct{ fsys fs.FS }

func (r fsResolver) full(name string) string {
	name = strings.TrimLeft(name, "/")
	if name == "" {
		return "."
	}
	return path.Clean(name)
}

func (r fsResolver) expand(name string) ([]string, error) {
	full := r.full(name)
	if !hasMeta(name) {
		return []string{full}, nil
	}
	return fs.Glob(r.fsys, full)
}

func (r fsResolver) read(name string) ([]byte, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	st, err := fs.Stat(r.fsys, name)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, errNotRegular
	}
	return fs.ReadFile(r.fsys, name)
}

func (r fsResolver) key(name string) string { return r.full(name) }

func hasMeta(name string) bool { return strings.ContainsAny(name, "*?[") }

// ParseFile reads and parses the file at path. Relative #include names are
// resolved against the file's directory unless WithDir or WithFS says
// otherwise. A file that cannot be read gives an error wrapping the
// fs.PathError (check errors.Is(err, fs.ErrNotExist)).
func ParseFile(path string, opts ...Option) (*File, []Diag, error) {
	o := options{res: osResolver{dir: filepath.Dir(path)}, maxDepth: DefaultMaxIncludeDepth}
	for _, opt := range opts {
		opt(&o)
	}
	var data []byte
	var err error
	if r, ok := o.res.(fsResolver); ok {
		data, err = fs.ReadFile(r.fsys, r.full(path))
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("config: %w", err)
	}
	return parse(path, data, o)
}

// Parse parses data as the file called name (used in positions). Includes
// resolve against the directory of name unless WithDir or WithFS is given.
func Parse(name string, data []byte, opts ...Option) (*File, []Diag, error) {
	o := options{res: osResolver{dir: filepath.Dir(name)}, maxDepth: DefaultMaxIncludeDepth}
	for _, opt := range opts {
		opt(&o)
	}
	return parse(name, data, o)
}

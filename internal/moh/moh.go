package moh

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/gopbx/gopbx/internal/app"
	"github.com/gopbx/gopbx/internal/config"
	"github.com/gopbx/gopbx/internal/sound"
)

// Class is one [section] of musiconhold.conf.
type Class struct {
	Name   string
	Mode   string // files (others are refused at load)
	Dir    string
	Random bool
	fsys   fs.FS // the directory's files
}

// Classes is the loaded configuration; immutable.
type Classes struct {
	byName map[string]*Class
}

// Load reads musiconhold.conf in confDir; a relative directory= is taken
// relative to dataDirs in order (Asterisk: astdatadir). A missing file or
// class "default" falls back to builtin (the shipped music). Classes with
// a mode other than files are skipped with a warning naming file:line.
func Load(confDir string, dataDirs []string, builtin fs.FS) (*Classes, []config.Diag, error) {
	cs := &Classes{byName: map[string]*Class{}}
	if builtin != nil {
		cs.byName["default"] = &Class{Name: "default", Mode: "files", Dir: "(built in)", fsys: builtin}
	}
	f, diags, err := config.ParseFile(filepath.Join(confDir, "musiconhold.conf"), config.WithDir(confDir))
	if errors.Is(err, fs.ErrNotExist) {
		return cs, nil, nil
	}
	if err != nil {
		return nil, diags, err
	}
	for _, s := range f.Sections {
		if s.Template || strings.EqualFold(s.Name, "general") {
			continue
		}
		c := &Class{Name: s.Name, Mode: "files"}
		for _, v := range s.Vars {
			switch strings.ToLower(v.Name) {
			case "mode":
				c.Mode = strings.ToLower(strings.TrimSpace(v.Value))
			case "directory":
				c.Dir = strings.TrimSpace(v.Value)
			case "sort":
				c.Random = strings.EqualFold(strings.TrimSpace(v.Value), "random")
			case "random":
				c.Random = config.IsTrue(v.Value)
			}
		}
		if c.Mode != "files" {
			diags = append(diags, config.Diag{Pos: s.Pos, Msg: fmt.Sprintf("music on hold class %q: mode=%s is not supported (only files); skipped", s.Name, c.Mode)})
			continue
		}
		dir := c.Dir
		if !filepath.IsAbs(dir) {
			for _, d := range dataDirs {
				if st, err := os.Stat(filepath.Join(d, dir)); err == nil && st.IsDir() {
					dir = filepath.Join(d, dir)
					break
				}
			}
		}
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			if strings.EqualFold(c.Name, "default") && builtin != nil {
				continue // keep the shipped music
			}
			diags = append(diags, config.Diag{Pos: s.Pos, Msg: fmt.Sprintf("music on hold class %q: directory %q not found; skipped", s.Name, c.Dir)})
			continue
		}
		c.Dir, c.fsys = dir, os.DirFS(dir)
		cs.byName[strings.ToLower(c.Name)] = c
	}
	return cs, diags, nil
}

// Names lists the classes.
func (cs *Classes) Names() []string {
	var out []string
	for _, c := range cs.byName {
		out = append(out, c.Name)
	}
	sort.Strings(out)
	return out
}

// Get returns a class by name.
func (cs *Classes) Get(name string) *Class { return cs.byName[strings.ToLower(name)] }

// Open implements app.MOH: an endless source looping over the class's
// files; an unknown class falls back to default, as Asterisk does.
func (cs *Classes) Open(class string) (app.Source, error) {
	c := cs.Get(class)
	if c == nil {
		c = cs.Get("default")
	}
	if c == nil {
		return nil, fmt.Errorf("moh: no class %q and no default", class)
	}
	var files []string
	_ = fs.WalkDir(c.fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && playable(path.Ext(p)) {
			files = append(files, p)
		}
		return nil
	})
	if len(files) == 0 {
		return nil, fmt.Errorf("moh: class %q has no playable files in %s", c.Name, c.Dir)
	}
	sort.Strings(files)
	if c.Random {
		rand.Shuffle(len(files), func(i, j int) { files[i], files[j] = files[j], files[i] })
	}
	return &loop{fsys: c.fsys, files: files}, nil
}

// loop plays files one after another, forever.
type loop struct {
	fsys  fs.FS
	files []string
	i     int
	cur   *sound.Reader
	fails int
}

func (l *loop) Read(dst []int16) ([]int16, error) {
	for {
		if l.cur == nil {
			f, err := l.fsys.Open(l.files[l.i%len(l.files)])
			l.i++
			if err == nil {
				name := l.files[(l.i-1)%len(l.files)]
				l.cur, err = sound.OpenReader(name, f, strings.TrimPrefix(path.Ext(name), "."))
				if err != nil {
					f.Close()
				}
			}
			if err != nil {
				if l.fails++; l.fails > len(l.files) {
					return nil, fmt.Errorf("moh: no file plays: %w", err)
				}
				continue
			}
		}
		out, err := l.cur.Read(dst)
		if errors.Is(err, io.EOF) {
			l.cur.Close()
			l.cur = nil
			continue
		}
		l.fails = 0
		return out, err
	}
}

// playable reports whether the extension is a format package sound reads.
func playable(ext string) bool {
	switch strings.ToLower(strings.TrimPrefix(ext, ".")) {
	case "wav", "sln", "sln16", "ulaw", "ul", "pcm", "alaw", "al", "gsm", "g722":
		return true
	}
	return false
}

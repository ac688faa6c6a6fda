package sound

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Finder locates sounds by Asterisk name. The zero value finds nothing but
// silence/N.
type Finder struct {
	// Dirs are sound directories searched in order, like Asterisk's
	// astdatadir/sounds (e.g. "/etc/gopbx/sounds", "/var/lib/asterisk/sounds").
	Dirs []string
	// Embedded, if set, is searched after Dirs with the same layout
	// ("en/hello-world.wav"); gopbx passes sounds.FS().
	Embedded fs.FS
}

// DefaultLang is the language tried last, as Asterisk's defaultlanguage.
const DefaultLang = "en"

// Open finds the sound name for language lang and opens it.
//
// A name is relative to each directory ("vm-intro", "digits/7") or absolute
// ("/var/lib/asterisk/sounds/custom/foo"). As in Asterisk, for each
// directory the languages lang ("en_GB"), its base ("en"), none, then
// DefaultLang are tried; within one, the formats in the order wav, sln16,
// sln, ulaw, pcm, alaw, gsm, g722. So <dir>/<lang>/<name>.<ext> wins over
// <dir>/<name>.<ext>. An absolute name puts the language before its last
// element. A name that already ends in a known extension ("foo.wav") is
// opened in that format only. Names silence/N, N a whole number of
// seconds, return N s of silence without touching the disk.
//
// When nothing matches, the error wraps fs.ErrNotExist and names the
// sound and where it looked.
func (f *Finder) Open(name, lang string) (*Reader, error) {
	if d, ok := silenceName(name); ok {
		return Silence(d), nil
	}
	if name == "" {
		return nil, fmt.Errorf("sound: empty name: %w", fs.ErrNotExist)
	}
	exts := searchOrder
	base := name
	if ext := path.Ext(name); ext != "" {
		if _, ok := formatByExt(ext[1:]); ok {
			exts = []string{ext[1:]}
			base = strings.TrimSuffix(name, ext)
		}
	}
	langs := langOrder(lang)
	if filepath.IsAbs(name) {
		dir, file := filepath.Split(base)
		for _, l := range langs {
			for _, ext := range exts {
				p := filepath.Join(dir, l, file) + "." + ext
				if r, err := openOS(p, ext); !errors.Is(err, fs.ErrNotExist) {
					return r, err
				}
			}
		}
		return nil, fmt.Errorf("sound: %s.{%s} (language %q): %w", base, strings.Join(exts, ","), lang, fs.ErrNotExist)
	}
	for _, dir := range f.Dirs {
		for _, l := range langs {
			for _, ext := range exts {
				p := filepath.Join(dir, l, filepath.FromSlash(base)) + "." + ext
				if r, err := openOS(p, ext); !errors.Is(err, fs.ErrNotExist) {
					return r, err
				}
			}
		}
	}
	if f.Embedded != nil {
		for _, l := range langs {
			for _, ext := range exts {
				p := path.Join(l, base) + "." + ext
				if !fs.ValidPath(p) {
					continue
				}
				if r, err := openFS(f.Embedded, p, ext); !errors.Is(err, fs.ErrNotExist) {
					return r, err
				}
			}
		}
	}
	where := strings.Join(f.Dirs, ", ")
	if f.Embedded != nil {
		where = strings.TrimPrefix(where+", embedded sounds", ", ")
	}
	if where == "" {
		where = "no sound directories"
	}
	return nil, fmt.Errorf("sound: %s.{%s} (language %q) not in %s: %w", base, strings.Join(exts, ","), lang, where, fs.ErrNotExist)
}

// langOrder lists the language subdirectories to try, "" meaning none, in
// Asterisk's order (file.c fileexists_core): the language, the language
// without its dialect, none, the default.
func langOrder(lang string) []string {
	out := make([]string, 0, 4)
	add := func(l string) {
		for _, o := range out {
			if o == l {
				return
			}
		}
		out = append(out, l)
	}
	if lang != "" {
		add(lang)
		if i := strings.IndexByte(lang, '_'); i > 0 {
			add(lang[:i])
		}
	}
	add("")
	add(DefaultLang)
	return out
}

// silenceName recognises Asterisk's silence/1 … silence/10 (any whole
// number is accepted) so they need no files.
func silenceName(name string) (time.Duration, bool) {
	s, ok := strings.CutPrefix(name, "silence/")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 3600 {
		return 0, false
	}
	return time.Duration(n) * time.Second, true
}

// openOS opens p if it exists. A missing file (or a path through a
// non-directory) yields an error wrapping fs.ErrNotExist, so the caller
// moves on; any other failure is returned, since a prompt that exists but
// cannot be read should be reported rather than silently replaced.
func openOS(p, ext string) (*Reader, error) {
	file, err := os.Open(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return nil, fs.ErrNotExist
		}
		return nil, fmt.Errorf("sound: %w", err)
	}
	if st, err := file.Stat(); err == nil && st.IsDir() {
		file.Close()
		return nil, fs.ErrNotExist
	}
	f, _ := formatByExt(ext)
	return openReader(p, file, f)
}

func openFS(fsys fs.FS, p, ext string) (*Reader, error) {
	file, err := fsys.Open(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrInvalid) {
			return nil, fs.ErrNotExist
		}
		return nil, fmt.Errorf("sound: %w", err)
	}
	if st, err := file.Stat(); err == nil && st.IsDir() {
		file.Close()
		return nil, fs.ErrNotExist
	}
	f, _ := formatByExt(ext)
	return openReader("embedded:"+p, file, f)
}

package config

import (
	"strings"
	"testing"
	"testing/fstest"
)

// FuzzParse checks that no input makes the parser panic, and that what it
// returns is consistent: an error or a file, every diagnostic positioned.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"[general]\nbindport=5060\nallow=ulaw;alaw\n",
		"[t](!)\na=1\n[p](t,!)\nb=>2\n[p](+)\nc+=3\n",
		";-- a\n;-- b --;\n--;\n[x]\ny=\\;z\n",
		"#include inc.conf\n#tryinclude *.conf\n[a](+type=^a$&TEMPLATES=include)\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		files := fstest.MapFS{
			"fuzz.conf":   {Data: data},
			"inc.conf":    {Data: []byte("[inc]\nx=1\n#include fuzz.conf\n")},
			"sub/a.conf":  {Data: data},
			"sub/b.conf":  {Data: []byte("k=v\n")},
			"other.conf":  {Data: []byte("[other](!)\n")},
			"dir.conf/x":  {Data: nil},
			"loop.conf":   {Data: []byte("#include loop.conf\n")},
			"broken.conf": {Data: []byte("[broken\n")},
		}
		file, diags, err := Parse("fuzz.conf", data, WithFS(files))
		for _, d := range diags {
			if d.Pos.File == "" || d.Pos.Line <= 0 || !strings.Contains(d.Error(), ":") {
				t.Fatalf("diagnostic without position: %#v", d)
			}
		}
		if err != nil {
			if file != nil {
				t.Fatal("both a file and an error")
			}
			return
		}
		for _, s := range file.All() {
			for _, v := range s.Vars {
				if v.Name == "" || v.Pos.Line <= 0 {
					t.Fatalf("bad var %#v", v)
				}
				s.Get(v.Name)
				s.GetAll(v.Name)
			}
		}
	})
}

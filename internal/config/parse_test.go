package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

// dump renders a File compactly: one line per section,
// "[name](!) <tpl1,tpl2> a=1 b=>2 ^c=3" (^ marks inherited variables).
func dump(f *File) string {
	var b strings.Builder
	for _, s := range f.Sections {
		b.WriteString("[" + s.Name + "]")
		if s.Template {
			b.WriteString("(!)")
		}
		if len(s.Inherits) > 0 {
			b.WriteString(" <" + strings.Join(s.Inherits, ",") + ">")
		}
		for _, v := range s.Vars {
			b.WriteByte(' ')
			if v.Inherited {
				b.WriteByte('^')
			}
			b.WriteString(v.Name)
			if v.Arrow {
				b.WriteString("=>")
			} else {
				b.WriteByte('=')
			}
			b.WriteString(v.Value)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func parseString(t *testing.T, src string, files fstest.MapFS) (*File, []Diag, error) {
	t.Helper()
	if files == nil {
		files = fstest.MapFS{}
	}
	return Parse("test.conf", []byte(src), WithFS(files))
}

func TestParseSyntax(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string
	}{
		{"section and vars", "[general]\nbindport=5060\ncontext = default \n", "[general] bindport=5060 context=default\n"},
		{"arrow", "[FROMSIP]\nExten => _90.,1,Dial(SIP/x)\nregister=>a:b@c\n", "[FROMSIP] Exten=>_90.,1,Dial(SIP/x) register=>a:b@c\n"},
		{"value with equals", "[c]\nexten => s,1,Set(A=b)\n", "[c] exten=>s,1,Set(A=b)\n"},
		{"comment", "; top\n[a] ; section comment\nallow=ulaw;alaw\nx = 1 ; trailing\n", "[a] allow=ulaw x=1\n"},
		{"escaped semicolon", "[a]\nsecret=ab\\;cd\nre=\\;\\;x;y\n", "[a] secret=ab;cd re=;;x\n"},
		{"backslash kept elsewhere", "[a]\npath=c:\\dir\\x\n", "[a] path=c:\\dir\\x\n"},
		{"block comment lines", "[a]\n;-- x=1\ny=2 --;\nz=3\n", "[a] z=3\n"},
		{"block comment inline", "[a]\nx=1 ;-- hidden --; \ny=2;--c--;3\n", "[a] x=1 y=23\n"},
		{"nested block comment", "[a]\n;-- outer ;-- inner --; still --;\nx=1\n", "[a] x=1\n"},
		{"stray block end is a line comment", "[a]\nx=1--;c\ny=2\n", "[a] x=1-- y=2\n"},
		{"block comment after escaped semicolon", "[a]\nx=a\\;--b\ny=2\n", "[a] x=a;--b y=2\n"},
		{"triple dash is a line comment", "[a]\n;--- not a block\nx=1\n", "[a] x=1\n"},
		{"blank lines and CRLF", "\r\n[a]\r\n\r\nx = 1\r\n\t\n", "[a] x=1\n"},
		{"utf8 bom", "\xEF\xBB\xBF[a]\nx=1\n", "[a] x=1\n"},
		{"no final newline", "[a]\nx=1", "[a] x=1\n"},
		{"repeated keys kept", "[g]\nallow=ulaw\nallow=alaw\n", "[g] allow=ulaw allow=alaw\n"},
		{"duplicate sections", "[8005]\ntype=endpoint\n[8005]\ntype=auth\n[8005]\ntype=aor\n", "[8005] type=endpoint\n[8005] type=auth\n[8005] type=aor\n"},
		{"escaped name", "[a]\n\\[x]=1\n", "[a] [x]=1\n"},
		{"plus equals", "[a]\nx=foo\nx+=bar\ny += new\nx+= baz\n", "[a] x=foobar baz y=new\n"},
		{"plus equals on inherited", "[t](!)\nallow=ulaw\n[p](t)\nallow+=,alaw\n", "[t](!) allow=ulaw\n[p] <t> ^allow=ulaw,alaw\n"},
		{"template and inherit", "[t](!)\na=1\n[p](t)\nb=2\n", "[t](!) a=1\n[p] <t> ^a=1 b=2\n"},
		{"two templates in order", "[t1](!)\na=1\n[t2](!)\na=2\nc=3\n[p](t1,t2)\na=4\n", "[t1](!) a=1\n[t2](!) a=2 c=3\n[p] <t1,t2> ^a=1 ^a=2 ^c=3 a=4\n"},
		{"template inheriting template", "[t1](!)\na=1\n[t2](!,t1)\nb=2\n[p](t2)\n", "[t1](!) a=1\n[t2](!) <t1> ^a=1 b=2\n[p] <t2> ^a=1 ^b=2\n"},
		{"inherit spaces tolerated", "[t](!)\na=1\n[p]( ! , t )\n", "[t](!) a=1\n[p](!) <t> ^a=1\n"},
		{"inherit plain section", "[base]\na=1\n[p](base)\n", "[base] a=1\n[p] <base> ^a=1\n"},
		{"inherit case-insensitive", "[Tpl](!)\na=1\n[p](tpl)\n", "[Tpl](!) a=1\n[p] <Tpl> ^a=1\n"},
		{"append", "[general]\na=1\n[other]\n[general](+)\nb=2\n", "[general] a=1 b=2\n[other]\n"},
		{"append goes to first", "[x]\nt=1\n[x]\nt=2\n[x](+)\nz=9\n", "[x] t=1 z=9\n[x] t=2\n"},
		{"append with filter", "[8005]\ntype=endpoint\n[8005]\ntype=aor\n[8005](+type=aor)\nmax_contacts=2\n", "[8005] type=endpoint\n[8005] type=aor max_contacts=2\n"},
		{"append skips templates", "[x](!)\na=1\n[x]\nb=2\n[x](+)\nc=3\n", "[x](!) a=1\n[x] b=2 c=3\n"},
		{"append restrict to templates", "[x](!)\na=1\n[x]\nb=2\n[x](+TEMPLATES=restrict)\nc=3\n", "[x](!) a=1 c=3\n[x] b=2\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, diags, err := parseString(t, tt.src, nil)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if len(diags) > 0 {
				t.Errorf("unexpected diagnostics: %v", diags)
			}
			if got := dump(f); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestParseWarnings(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string // substring of the only diagnostic
	}{
		{"no equals", "[a]\njunk\n", `test.conf:2: no '=' in line "junk"`},
		{"no name", "[a]\n= 3\n", "test.conf:2: no variable name"},
		{"exec", "[a]\n#exec /bin/date\n", "test.conf:2: #exec is not supported"},
		{"unknown directive", "#frobnicate x\n", "test.conf:1: unknown directive #frobnicate"},
		{"include without name", "#include\n", "test.conf:1: #include needs a file name"},
		{"unterminated block comment", "[a]\nx=1\n;-- open\ny=2\n", "test.conf:3: unterminated block comment"},
		{"text after header", "[a] (!)\n", `test.conf:1: ignoring " (!)" after section header [a]`},
		{"empty section name", "[]\n", "test.conf:1: empty section name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, diags, err := parseString(t, tt.src, nil)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if len(diags) != 1 {
				t.Fatalf("got %d diagnostics %v, want 1", len(diags), diags)
			}
			if diags[0].Severity != Warning {
				t.Errorf("severity = %v, want warning", diags[0].Severity)
			}
			if got := diags[0].Error(); !strings.Contains(got, tt.want) {
				t.Errorf("got %q, want it to contain %q", got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	files := fstest.MapFS{
		"inc/bad.conf":  {Data: []byte("[ok]\nx=1\n[broken\n")},
		"mid.conf":      {Data: []byte("; mid\n#include inc/bad.conf\n")},
		"loop1.conf":    {Data: []byte("[a]\n#include loop2.conf\n")},
		"loop2.conf":    {Data: []byte("#include loop1.conf\n")},
		"test.conf":     {Data: []byte("#include test.conf\n")},
		"orphan.conf":   {Data: []byte("x=1\n")},
		"sub/deep.conf": {Data: []byte("#include sub/deep2.conf\n")},
	}
	tests := []struct {
		name string
		src  string
		want string
	}{
		{"no closing bracket", "[general\nx=1\n", `test.conf:1: no closing ']'`},
		{"no closing paren", "[a](!\n", `test.conf:1: no closing ')'`},
		{"key outside section", "; hi\nbindport=5060\n", `test.conf:2: "bindport=5060" is not inside any [section]`},
		{"missing template", "[a](nosuch)\n", `test.conf:1: [a] inherits from "nosuch", which does not exist`},
		{"template must come first", "[a](later)\n[later](!)\n", `test.conf:1: [a] inherits from "later"`},
		{"append to nothing", "[a](+)\n", `test.conf:1: [a](+): cannot append to section "a"`},
		{"append filter mismatch", "[a]\ntype=aor\n[a](+type=auth)\n", `test.conf:3: [a](+type=auth): cannot append`},
		{"invalid escape", "[a]\n\\ x=1\n", "test.conf:2: invalid escape"},
		{"missing include", "#include nosuch.conf\n", `test.conf:1: #include "nosuch.conf": no such file`},
		{"missing glob include", "#include conf.d/*.conf\n", `test.conf:1: #include "conf.d/*.conf": no such file`},
		{"error in include chain", "[x]\n\n#include \"mid.conf\"\n", "inc/bad.conf:3: no closing ']' in section header \"[broken\" (included from mid.conf:2, from test.conf:3)"},
		{"include loop", "#include loop1.conf\n", "loop2.conf:1: #include loop: loop1.conf is already being read (included from loop1.conf:2, from test.conf:1)"},
		{"include self", "#include test.conf\n", "test.conf:1: #include loop: test.conf is already being read"},
		{"included file needs section", "#include orphan.conf\n", `orphan.conf:1: "x=1" is not inside any [section] (included from test.conf:1)`},
		{"missing nested include", "#include sub/deep.conf\n", "sub/deep.conf:1: #include \"sub/deep2.conf\": no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _, err := parseString(t, tt.src, files)
			if err == nil {
				t.Fatalf("Parse succeeded:\n%s", dump(f))
			}
			var d *Diag
			if !errors.As(err, &d) || d.Severity != Error {
				t.Fatalf("error %v (%T) is not a fatal *Diag", err, err)
			}
			if got := err.Error(); !strings.Contains(got, tt.want) {
				t.Errorf("got %q, want it to contain %q", got, tt.want)
			}
		})
	}
}

func TestIncludeDepth(t *testing.T) {
	files := fstest.MapFS{}
	for i := 0; i < 20; i++ {
		files[name(i)] = &fstest.MapFile{Data: []byte("#include " + name(i+1) + "\n")}
	}
	files[name(20)] = &fstest.MapFile{Data: []byte("[end]\n")}
	_, _, err := Parse("top.conf", []byte("#include "+name(0)+"\n"), WithFS(files))
	if err == nil || !strings.Contains(err.Error(), "nested more than 10 deep") {
		t.Fatalf("err = %v, want nesting limit", err)
	}
	_, _, err = Parse("top.conf", []byte("#include "+name(0)+"\n"), WithFS(files), WithMaxIncludeDepth(30))
	if err != nil {
		t.Fatalf("with a higher limit: %v", err)
	}
}

func name(i int) string { return "d" + string(rune('a'+i)) + ".conf" }

func TestIncludes(t *testing.T) {
	files := fstest.MapFS{
		"users.conf":           {Data: []byte("[1000]\nsecret=a\n")},
		"quoted file.conf":     {Data: []byte("[q]\nx=1\n")},
		"conf.d/b.conf":        {Data: []byte("[b]\nx=2\n")},
		"conf.d/a.conf":        {Data: []byte("[a]\nx=1\n")},
		"conf.d/readme.txt":    {Data: []byte("not included\n")},
		"sub/nested.conf":      {Data: []byte("#include users.conf\n")},
		"vars.conf":            {Data: []byte("extra=1\n")},
		"dir.conf/placeholder": {Data: []byte("")},
	}
	tests := []struct {
		name string
		src  string
		want string
	}{
		{"plain", "#include users.conf\n", "[1000] secret=a\n"},
		{"quoted", "#include \"quoted file.conf\"\n", "[q] x=1\n"},
		{"angle brackets", "#include <users.conf>\n", "[1000] secret=a\n"},
		{"case-insensitive directive", "#INCLUDE users.conf\n", "[1000] secret=a\n"},
		{"absolute", "#include /users.conf\n", "[1000] secret=a\n"},
		{"glob sorted", "#include conf.d/*.conf\n", "[a] x=1\n[b] x=2\n"},
		{"relative to config dir", "#include sub/nested.conf\n", "[1000] secret=a\n"},
		{"tryinclude missing", "[a]\n#tryinclude nosuch.conf\nx=1\n", "[a] x=1\n"},
		{"tryinclude glob missing", "#tryinclude nosuch/*.conf\n", ""},
		{"continues current section", "[general]\n#include vars.conf\nafter=2\n", "[general] extra=1 after=2\n"},
		{"section does not leak back", "[general]\n#include users.conf\nafter=2\n", "[general] after=2\n[1000] secret=a\n"},
		{"same file twice is fine", "#include users.conf\n#include users.conf\n", "[1000] secret=a\n[1000] secret=a\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, diags, err := parseString(t, tt.src, files)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if len(diags) > 0 {
				t.Errorf("unexpected diagnostics: %v", diags)
			}
			if got := dump(f); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}

	t.Run("directory is skipped with a warning", func(t *testing.T) {
		_, diags, err := parseString(t, "#tryinclude dir.conf\n", files)
		if err != nil {
			t.Fatal(err)
		}
		if len(diags) != 1 || !strings.Contains(diags[0].Error(), "not a regular file") {
			t.Errorf("diags = %v", diags)
		}
	})
}

func TestPositions(t *testing.T) {
	files := fstest.MapFS{
		"peers.conf": {Data: []byte("\n[1000]\nsecret = x\n")},
	}
	f, _, err := Parse("sip.conf", []byte("[general]\nbindport=5060\n#include peers.conf\n"), WithFS(files))
	if err != nil {
		t.Fatal(err)
	}
	g := f.Section("general")
	if g.Pos.String() != "sip.conf:1" {
		t.Errorf("general at %v", g.Pos)
	}
	if v, _ := g.Var("bindport"); v.Pos.String() != "sip.conf:2" {
		t.Errorf("bindport at %v", v.Pos)
	}
	p := f.Section("1000")
	if p.Pos.String() != "peers.conf:2" || p.Pos.IncludedFrom == nil || p.Pos.IncludedFrom.String() != "sip.conf:3" {
		t.Errorf("[1000] at %v from %v", p.Pos, p.Pos.IncludedFrom)
	}
	v, _ := p.Var("SECRET")
	d := Diag{Pos: v.Pos, Msg: "bad"}
	if got, want := d.Error(), "peers.conf:3: bad (included from sip.conf:3)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestSectionHelpers(t *testing.T) {
	f, _, err := parseString(t, "[t](!)\nallow=gsm\ncontext=tpl\n[p](t)\ncontext=own\nallow=ulaw\n[p]\nx=1\n[q]\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(f.All()); got != 3 {
		t.Errorf("All() has %d sections, want 3 (no template)", got)
	}
	if got := len(f.Named("P")); got != 2 {
		t.Errorf("Named(P) = %d, want 2", got)
	}
	if f.Section("t") != nil {
		t.Error("Section returned a template")
	}
	p := f.Section("p")
	if v, _ := p.Get("Context"); v != "own" {
		t.Errorf("Get(context) = %q, want own (last wins)", v)
	}
	if got := strings.Join(p.GetAll("allow"), ","); got != "gsm,ulaw" {
		t.Errorf("GetAll(allow) = %q", got)
	}
	if p.GetDefault("nat", "no") != "no" || p.Has("nat") || !p.Has("ALLOW") {
		t.Error("GetDefault/Has")
	}
	var nilSec *Section
	if _, ok := nilSec.Get("x"); ok || nilSec.GetAll("x") != nil {
		t.Error("nil section")
	}
}

func TestParseFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, "abs.conf"), []byte("[abs]\nx=1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	write("sip.conf", "[general]\n#include sip.d/*.conf\n#include "+filepath.Join(other, "abs.conf")+"\n")
	write("sip.d/1.conf", "[p1]\n#include common.conf\n")
	write("common.conf", "context=c\n")
	f, diags, err := ParseFile(filepath.Join(dir, "sip.conf"))
	if err != nil || len(diags) > 0 {
		t.Fatalf("ParseFile: %v %v", err, diags)
	}
	if got, want := dump(f), "[general]\n[p1] context=c\n[abs] x=1\n"; got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if !strings.HasSuffix(f.Section("p1").Pos.File, filepath.Join("sip.d", "1.conf")) {
		t.Errorf("p1 file = %q", f.Section("p1").Pos.File)
	}

	_, _, err = ParseFile(filepath.Join(dir, "missing.conf"))
	if !errors.Is(err, fs.ErrNotExist) || !strings.HasPrefix(err.Error(), "config: ") {
		t.Errorf("missing file: %v", err)
	}

	write("loop.conf", "#include loop.conf\n")
	_, _, err = ParseFile(filepath.Join(dir, "loop.conf"))
	if err == nil || !strings.Contains(err.Error(), "#include loop") {
		t.Errorf("loop: %v", err)
	}
}

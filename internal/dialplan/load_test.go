package dialplan_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopbx/gopbx/internal/app/apptest"
	"github.com/gopbx/gopbx/internal/config"
	"github.com/gopbx/gopbx/internal/dialplan"
)

// prios renders an extension's priorities as "1:App(data)" items, labels
// as "2(lbl)".
func prios(e *dialplan.Extension) string {
	var parts []string
	if e.Hint != nil {
		parts = append(parts, "hint:"+e.Hint.App)
	}
	for _, p := range e.Priorities {
		n := fmt.Sprint(p.Number)
		if p.Label != "" {
			n += "(" + p.Label + ")"
		}
		parts = append(parts, n+":"+p.App+"("+p.Data+")")
	}
	return strings.Join(parts, " ")
}

func TestLoadPriorities(t *testing.T) {
	dp, warns := apptest.Load(t, `
[general]
static=yes
writeprotect=no
autofallthrough=yes
clearglobalvars=no
extenpatternmatchnew=yes

[globals]
TRUNK=PJSIP/gw
OUT=${TRUNK}/out
EXT=555

[demo]
exten => 100,1,Answer()
 same => n,NoOp(two)
 same => n(lbl),NoOp(three)
 same => n+2,NoOp(five)
exten => 100,lbl+10,NoOp(thirteen)
Exten => 200,1,NoOp
SAME => n,Goto(100,lbl)
exten => 300,hint,PJSIP/300
exten => 300,1,Dial(${OUT})
exten => ${EXT}-1212,1,NoOp(dashes)
exten => 100/5551234,1,NoOp(vip)
exten => _X.,2,NoOp(starts at two)
exten => 400,1,Set(X=a,b(c)d)
exten => 401,1,NoOp(unclosed
exten => 402,s,NoOp(same number as the line before)
include => other
include => daytime,9:00-17:00,mon-fri,*,*
ignorepat => 9
[other]
exten => 999,1,Hangup()
[daytime]
`)
	for _, w := range warns {
		if !strings.Contains(w, "no closing parenthesis") {
			t.Errorf("unexpected warning: %s", w)
		}
	}
	if len(warns) != 1 {
		t.Errorf("warnings = %q, want the unclosed parenthesis", warns)
	}
	g := dp.General
	if !g.Static || g.WriteProtect || !g.AutoFallthrough || g.ClearGlobalVars || !g.ExtenPatternMatchNew {
		t.Errorf("general = %+v", g)
	}
	globals := map[string]string{}
	for _, v := range dp.Globals {
		globals[v.Name] = v.Value
	}
	if globals["OUT"] != "PJSIP/gw/out" {
		t.Errorf("[globals] OUT = %q, want the earlier global substituted", globals["OUT"])
	}
	c := dp.Context("demo")
	if c == nil {
		t.Fatal("no context demo")
	}
	want := map[string]string{
		"100":      "1:Answer() 2:NoOp(two) 3(lbl):NoOp(three) 6:NoOp(five) 13:NoOp(thirteen)", // n+2 is last+1+2
		"100/cid":  "1:NoOp(vip)",
		"200":      "1:NoOp() 2:Goto(100,lbl)",
		"300":      "hint:PJSIP/300 1:Dial(${OUT})",
		"555-1212": "1:NoOp(dashes)",
		"_X.":      "2:NoOp(starts at two)",
		"400":      "1:Set(X=a,b(c)d)",
		"401":      "1:NoOp(unclosed)",
		"402":      "1:NoOp(same number as the line before)",
	}
	got := map[string]string{}
	var order []string
	for _, e := range c.Extensions {
		key := e.Name
		if e.HasCID {
			key += "/cid"
			if e.CID != "5551234" {
				t.Errorf("CID = %q", e.CID)
			}
		}
		got[key] = prios(e)
		order = append(order, key)
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %q, want %q", k, got[k], w)
		}
	}
	// Matching order: exact extensions (the CID one before its plain
	// twin), then patterns.
	if strings.Join(order, " ") != "100/cid 100 200 300 400 401 402 555-1212 _X." {
		t.Errorf("order = %v", order)
	}
	if len(c.Includes) != 2 || c.Includes[0].Context != "other" || c.Includes[1].Time == nil || c.Includes[1].Spec != "9:00-17:00,mon-fri,*,*" {
		t.Errorf("includes = %+v", c.Includes)
	}
	if len(c.IgnorePats) != 1 || c.IgnorePats[0].Pattern != "9" {
		t.Errorf("ignorepats = %+v", c.IgnorePats)
	}
	p := c.Extensions[1].Priority(2)
	if p.Pos.Line != 16 || p.Pos.File != "extensions.conf" {
		t.Errorf("100 priority 2 at %s, want extensions.conf:16", p.Pos)
	}
}

func TestLoadWarnings(t *testing.T) {
	tests := []struct {
		name, conf string
		want       []string // substrings, each expected in some warning, with its line
	}{
		{"unknown app", "[c]\nexten => 1,1,dila(x)\n", []string{"extensions.conf:2: no application 'dila'"}},
		{"typo in general", "[general]\ntatic=yes\n", []string{"extensions.conf:2: unknown option 'tatic' in [general] (did you mean 'static'?)"}},
		{"next first", "[c]\nexten => 1,n,NoOp()\n", []string{":2: can't use 'next' priority on the first entry"}},
		{"same first", "[c]\nsame => n,NoOp()\n", []string{":2: 'same' with no extension before it"}},
		{"duplicate priority", "[c]\nexten => 1,1,NoOp()\nexten => 1,1,Answer()\n", []string{":3: unable to register extension '1' priority 1 in 'c', already in use (extensions.conf:2)"}},
		{"aliased", "[c]\nexten => _N,1,NoOp()\nexten => _[2-9],1,Answer()\n", []string{"already in use by aliased extension '_N'"}},
		{"duplicate label", "[c]\nexten => 1,1(a),NoOp()\nexten => 1,2(a),NoOp()\n", []string{":3: extension '1' priority 2 in 'c': label 'a' already in use at priority 1"}},
		{"bad label", "[c]\nexten => 1,1,NoOp()\nexten => 1,nowhere,NoOp()\n", []string{":3: invalid priority/label 'nowhere'"}},
		{"label paren", "[c]\nexten => 1,1(a,NoOp()\n", []string{":2: label missing trailing ')'"}},
		{"zero priority", "[c]\nexten => 1,0,NoOp()\n", []string{":2: invalid priority '0'"}},
		{"switch", "[c]\nswitch => IAX2/user@peer/ctx\n", []string{":2: switch => IAX2/user@peer/ctx: switches are not supported"}},
		{"unknown directive", "[c]\nexten => 1,1,NoOp()\nfoo => bar\n", []string{":3: unknown directive 'foo'"}},
		{"missing include", "[c]\ninclude => nowhere\n", []string{":2: context 'c' includes 'nowhere', which does not exist"}},
		{"bad timed include", "[c]\ninclude => d,25:00-26:00,*,*,*\n[d]\n", []string{":2: include 'd': timing:"}},
		{"discouraged _.", "[c]\nexten => _.,1,NoOp()\n", []string{"strongly discouraged"}},
		{"lower-case exten", "[c]\nexten => _9.,1,NoOp(${exten:1})\n", []string{":2: ${exten} is empty: variable names are case-sensitive (did you mean ${EXTEN}?)"}},
		{"n after hint", "[c]\nexten => 1,hint,PJSIP/1\nexten => 1,n,NoOp()\n", []string{":3: priority 'n' right after a hint line is 0"}},
		{"autofallthrough no", "[general]\nautofallthrough=no\n", []string{":2: autofallthrough=no"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, warns := apptest.Load(t, tc.conf)
			all := strings.Join(warns, "\n")
			for _, w := range tc.want {
				if !strings.Contains(all, w) {
					t.Errorf("warnings:\n%s\nwant one containing %q", all, w)
				}
			}
		})
	}
}

func TestLoadFatal(t *testing.T) {
	_, _, err := dialplan.Parse("extensions.conf", []byte("exten => 1,1,NoOp()\n"))
	var d *config.Diag
	if !errors.As(err, &d) || d.Pos.Line != 1 {
		t.Fatalf("error = %v, want a config diagnostic at line 1", err)
	}
	_, _, err = dialplan.Load(filepath.Join(t.TempDir(), "missing.conf"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want ErrNotExist", err)
	}
}

func TestLoadIncludeFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("extensions.conf", "[general]\n[demo]\nexten => 1,1,NoOp()\n#include users.conf\n")
	write("users.conf", "exten => 2,1,bogus()\n")
	dp, diags, err := dialplan.Load(filepath.Join(dir, "extensions.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := dp.Match("demo", "2", ""); !ok {
		t.Error("extension from the included file not loaded")
	}
	if len(diags) != 1 || !strings.Contains(diags[0].Error(), "users.conf:1: no application 'bogus'") ||
		!strings.Contains(diags[0].Error(), "included from") {
		t.Errorf("diags = %v, want the unknown application at users.conf:1 with the include chain", apptest.Warnings(diags))
	}
}

func TestLoadTemplatesAndMerge(t *testing.T) {
	dp, warns := apptest.Load(t, `
[common](!)
exten => i,1,Hangup()
[a](common)
exten => 1,1,NoOp()
[b]
exten => 1,1,NoOp()
[b]
exten => 2,1,NoOp()
`)
	if len(warns) > 0 {
		t.Errorf("warnings: %v", warns)
	}
	if dp.Context("common") != nil {
		t.Error("a template became a context")
	}
	if _, ok := dp.Match("a", "i", ""); !ok {
		t.Error("context a did not inherit i from its template")
	}
	if _, ok := dp.Match("b", "2", ""); !ok || len(dp.Contexts()) != 2 {
		t.Errorf("two [b] sections not merged: %d contexts", len(dp.Contexts()))
	}
	if dp.Context("B") != nil {
		t.Error("context names must be case-sensitive")
	}
}

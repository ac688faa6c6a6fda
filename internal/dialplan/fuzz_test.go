package dialplan_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/gopbx/gopbx/internal/app/apptest"
	"github.com/gopbx/gopbx/internal/dialplan"
)

// FuzzLoad checks that no extensions.conf makes the loader panic, and
// that what loads can be matched, shown and dry-run.
func FuzzLoad(f *testing.F) {
	for _, seed := range []string{
		"[general]\ntatic=yes\n[c]\nexten => _0XXXXXXXXX,1,Dial(SIP/${EXTEN}@gw)\n same => n(l),Hangup()\n",
		"[c]\nExten => _90.,1,dila(sip/91${exten:2}@22TRUNK,40,m(default))\ninclude => d,9:00-17:00,mon-fri,*,*\n[d]\n",
		"[c]\nexten => 1/_2[0-,n+3(x,NoOp(\nsame => x+1,Goto(c,1,x)\nexten => _[,hint,X\n",
		"[c]\nexten => s,1,Gosub(s,2(a,\"b,c\"))\nexten => s,2,Return(${ARG1})\nexten => h,1,Macro(m)\n[macro-m]\nexten => s,1,NoOp()\n",
	} {
		f.Add(seed, "1")
	}
	f.Fuzz(func(t *testing.T, conf, exten string) {
		dp, _, err := dialplan.Parse("extensions.conf", []byte(conf))
		if err != nil {
			return
		}
		var b bytes.Buffer
		_ = dp.Show(&b, "")
		e, err := dialplan.NewEngine(dp, dialplan.WithMaxSteps(50))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range dp.Contexts() {
			dp.Match(c.Name, exten, "")
			dp.MatchMore(c.Name, exten, "")
			_ = e.Test(&b, c.Name, exten, "")
		}
	})
}

// FuzzExpand checks that substitution terminates without panicking on any
// template.
func FuzzExpand(f *testing.F) {
	for _, seed := range []string{
		"${X}", "${X:1:-1}", "${${X}}", "$[${X} + 1]", "${CUT(X,-,1&2-)}", "${IF($[1]?a:b)}",
		"$[${", "${$[", "${X:${X}}", "$$[[[", "${STRFTIME(,,%c)}",
	} {
		f.Add(seed)
	}
	dp, _, err := dialplan.Parse("extensions.conf", []byte("[globals]\nX=1-2-3\n[c]\n"))
	if err != nil {
		f.Fatal(err)
	}
	e, err := dialplan.NewEngine(dp)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ch, _ := apptest.NewChannel(t)
		ch.SetVar("X", "a-b-c")
		_ = e.Expand(context.Background(), ch, s)
	})
}

package macro_test

import (
	"testing"

	"github.com/gopbx/gopbx/internal/app/apptest"

	_ "github.com/gopbx/gopbx/internal/app/gosub"
	_ "github.com/gopbx/gopbx/internal/app/gotoapp"
	_ "github.com/gopbx/gopbx/internal/app/gotoif"
	_ "github.com/gopbx/gopbx/internal/app/macro"
	_ "github.com/gopbx/gopbx/internal/app/noop"
	_ "github.com/gopbx/gopbx/internal/app/returnapp"
	_ "github.com/gopbx/gopbx/internal/app/set"
)

func TestMacro(t *testing.T) {
	e := apptest.Engine(t, `
[macro-greet]
exten => s,1,Set(SEEN=${SEEN}[${ARG1}|${ARG2}|${MACRO_EXTEN}@${MACRO_CONTEXT}:${MACRO_PRIORITY}|${MACRO_DEPTH}])
 same => n,GotoIf($["${ARG1}" = "leave"]?elsewhere,s,1)
 same => n,GotoIf($["${ARG1}" = "offset"]?setoff)
 same => n,GotoIf($["${ARG1}" = "nest"]?nest)
 same => n,GotoIf($["${ARG1}" = "sub"]?sub)
 same => n,Set(AFTER=${ARG1})
 same => n,GotoIf(1?done)
 same => n(setoff),Set(MACRO_OFFSET=1)
 same => n,GotoIf(1?done)
 same => n(nest),Macro(greet,inner)
 same => n,GotoIf(1?done)
 same => n(sub),Gosub(elsewhere,sub,1)
 same => n,Set(AFTER=back-in-macro)
 same => n(done),NoOp()
[demo]
exten => 100,1,Set(ARG1=outer)
 same => n,Macro(greet,a,b)
 same => n,Set(R=${ARG1}|${AFTER}|${MACRO_EXTEN})
exten => 200,1,Macro(greet,leave)
 same => n,Set(R=not reached)
exten => 300,1,Macro(greet,offset)
 same => n,Set(R=skipped)
 same => n,Set(R=offset)
exten => 400,1,Macro(greet,nest)
 same => n,Set(R=nested)
exten => 500,1,Macro(greet,sub)
 same => n,Set(R=${AFTER})
[elsewhere]
exten => s,1,Set(R=left)
exten => sub,1,Return()
`)
	tests := []struct{ exten, seen, r string }{
		{"100", "[a|b|100@demo:2|1]", "outer|a|"},
		{"200", "[leave||200@demo:1|1]", "left"},
		{"300", "[offset||300@demo:1|1]", "offset"},
		{"400", "[nest||400@demo:1|1][inner||s@macro-greet:10|2]", "nested"},
		{"500", "[sub||500@demo:1|1]", "back-in-macro"}, // a Gosub does not leave the macro
	}
	for _, tc := range tests {
		r := apptest.Call(t, e, "demo", tc.exten)
		if r.Err != nil {
			t.Fatalf("%s: Run: %v", tc.exten, r.Err)
		}
		if got := r.Var("SEEN"); got != tc.seen {
			t.Errorf("%s: SEEN = %q, want %q", tc.exten, got, tc.seen)
		}
		if got := r.Var("R"); got != tc.r {
			t.Errorf("%s: R = %q, want %q", tc.exten, got, tc.r)
		}
	}
}

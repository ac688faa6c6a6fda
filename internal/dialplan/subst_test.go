package dialplan_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/app/apptest"
	"github.com/gopbx/gopbx/internal/channel"
	"github.com/gopbx/gopbx/internal/dialplan"
)

func TestExpand(t *testing.T) {
	now := time.Date(2024, 1, 3, 10, 4, 5, 0, time.Local)
	e := apptest.Engine(t, `
[globals]
G=global
SHADOW=global
NAME=X
[demo]
exten => 90123,1,NoOp()
`, dialplan.WithClock(func() time.Time { return now }))
	ch, _ := apptest.NewChannel(t)
	ch.SetLocation(channel.Location{Context: "demo", Exten: "90123", Priority: 3})
	ch.SetCallerID(channel.CallerID{Name: "Alice", Num: "200"})
	ch.SetVar("X", "hello")
	ch.SetVar("SHADOW", "channel")
	ch.SetVar("EXTEN", "not the builtin")
	ch.SetVar("DIALSTATUS", "BUSY")
	ch.SetVar("LIST", "a-b-c-d")
	ch.SetVar("N", "5")
	ch.SetHangupCause(channel.CauseUserBusy)
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"${X}", "hello"},
		{"<${X}>", "<hello>"},
		{"${X:1}", "ello"},
		{"${X:-3}", "llo"},
		{"${X:1:2}", "el"},
		{"${X:0:-1}", "hell"},
		{"${X:-3:2}", "ll"},
		{"${X:10}", ""},
		{"${X:}", "hello"},
		{"${EXTEN:2}", "123"},
		{"91${EXTEN:2}", "91123"},
		{"${EXTEN}", "90123"}, // built-ins before channel variables
		{"${CONTEXT}/${PRIORITY}", "demo/3"},
		{"${CHANNEL}", ch.Name()},
		{"${UNIQUEID}", ch.UniqueID()},
		{"${HANGUPCAUSE}", "17"},
		{"${DIALSTATUS}", "BUSY"},
		{"${EPOCH}", strconv.FormatInt(now.Unix(), 10)},
		{"${DATETIME}", "03012024-10:04:05"},
		{"${G}", "global"},
		{"${SHADOW}", "channel"}, // channel variables before globals
		{"${NOPE}", ""},
		{"${${NAME}}", "hello"}, // ${NAME} is X
		{"${${NAME}:1:3}", "ell"},
		{"${CALLERID(num)}", "200"},
		{"${CALLERID(name)}", "Alice"},
		{"${CALLERID(all)}", `"Alice" <200>`},
		{"${callerid(num)}", "200"}, // function names are case-insensitive
		{"${LEN(${X})}", "5"},
		{"${CUT(LIST,-,2)}", "b"},
		{"${CUT(LIST,-,2-3)}", "b-c"},
		{"${CUT(LIST,-,3-)}", "c-d"},
		{"${CUT(LIST,-,-2)}", "a-b"},
		{"${CUT(LIST,-,1&4)}", "a-d"},
		{"${CUT(LIST,-,2):0:1}", "b"},
		{"${IF($[${N} > 3]?big:small)}", "big"},
		{"${IF(0?big:small)}", "small"},
		{"${ISNULL(${NOPE})}", "1"},
		{"${EXISTS(${X})}", "1"},
		{"${GLOBAL(G)}", "global"},
		{"${NOSUCHFUNC(x)}", ""},
		{"$[1 + 2]", "3"},
		{"$[${N} * 2]", "10"},
		{"$[$[1 + 1] * 3]", "6"},
		{`$["${X}" = "hello"]`, "1"},
		{"$[${X} : h(.*)]", "0"}, // unquoted parentheses: a syntax error
		{`$["${X}" : "h(.*)"]`, "ello"},
		{"$[LEN(${X}) + 1]", "6"},
		{"$[1 +]", "0"},
		{"cost $5", "cost $5"},
		{"$", "$"},
		{"a$$b", "a$$b"},
		{"${X", "hello"}, // missing '}': the rest is the name
		{"${STRFTIME(${EPOCH},,%Y-%m-%d)}", "2024-01-03"},
		{"${SIP_HEADER(X-Test)}", ""},
	}
	for _, tc := range tests {
		if got := e.Expand(context.Background(), ch, tc.in); got != tc.want {
			t.Errorf("Expand(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestExpandRecursionLimit(t *testing.T) {
	e := apptest.Engine(t, "[demo]\nexten => 1,1,NoOp()\n")
	ch, _ := apptest.NewChannel(t)
	deep := strings.Repeat("${", 50) + "X" + strings.Repeat("}", 50)
	_ = e.Expand(context.Background(), ch, deep) // must return, not overflow
}

func TestSetVarFunctions(t *testing.T) {
	e := apptest.Engine(t, "[demo]\nexten => 1,1,NoOp()\n")
	ch, _ := apptest.NewChannel(t)
	ctx := context.Background()
	for _, tc := range []struct{ name, value string }{
		{"CALLERID(all)", `"Bob" <300>`},
		{"CALLERID(name)", "Robert"},
		{"GLOBAL(G2)", "g"},
		{"CHANNEL(language)", "fr"},
		{"CHANNEL(accountcode)", "acct"},
		{"__X", "inherit"},
	} {
		if err := e.SetVar(ctx, ch, tc.name, tc.value); err != nil {
			t.Errorf("SetVar(%s): %v", tc.name, err)
		}
	}
	if id := ch.CallerID(); id.Name != "Robert" || id.Num != "300" {
		t.Errorf("caller ID = %+v", id)
	}
	if g, _ := e.Globals().Global("G2"); g != "g" {
		t.Errorf("GLOBAL(G2) = %q", g)
	}
	if ch.Language() != "fr" || ch.AccountCode() != "acct" {
		t.Errorf("CHANNEL() writes lost: %q %q", ch.Language(), ch.AccountCode())
	}
	for _, bad := range []string{"NOSUCH(x)", "LEN(x)", "CHANNEL(name)", "CALLERID(foo)"} {
		if err := e.SetVar(ctx, ch, bad, "v"); err == nil {
			t.Errorf("SetVar(%s) succeeded", bad)
		}
	}
}

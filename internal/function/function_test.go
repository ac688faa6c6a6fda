package function_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/app/apptest"
	"github.com/gopbx/gopbx/internal/channel"
	"github.com/gopbx/gopbx/internal/dialplan"
	"github.com/gopbx/gopbx/internal/function"
)

func TestFunctions(t *testing.T) {
	now := time.Date(2024, 1, 3, 10, 4, 5, 0, time.UTC) // a Wednesday
	dp, _ := apptest.Load(t, "[globals]\nG=global\n[demo]\n")
	e, err := dialplan.NewEngine(dp, dialplan.WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	ch, d := apptest.NewChannel(t)
	d.Headers = map[string]string{"X-Account": "acme", "User-Agent": "softphone"}
	ch.SetCallerID(channel.CallerID{Name: "Alice", Num: "200"})
	ch.SetVar("LIST", "a,b,c,d")
	ch.SetVar("DASHED", "555-123-4567")
	ch.SetVar("TABS", "x\ty")
	ch.SetLanguage("fr")
	tests := []struct{ in, want string }{
		{"${CALLERID(num)}", "200"},
		{"${CALLERID(number)}", "200"},
		{"${CALLERID(name)}", "Alice"},
		{"${CALLERID(all)}", `"Alice" <200>`},
		{"${CALLERID(bogus)}", ""},
		{"${LEN(hello world)}", "11"},
		{"${LEN()}", "0"},
		{"${ISNULL()}", "1"},
		{"${ISNULL(x)}", "0"},
		{"${EXISTS(x)}", "1"},
		{"${EXISTS()}", "0"},
		{"${IF(1?yes:no)}", "yes"},
		{"${IF(0?yes:no)}", "no"},
		{"${IF(0?yes)}", ""},
		{"${IF(1?:no)}", ""},
		{"${IF( 1 ? a b : c )}", "a b"},
		{"${IF(?yes:no)}", ""},
		{"${CUT(DASHED,-,1)}", "555"},
		{"${CUT(DASHED,,2)}", "123"}, // default delimiter '-'
		{"${CUT(DASHED,-,2-)}", "123-4567"},
		{"${CUT(DASHED,-,-2)}", "555-123"},
		{"${CUT(DASHED,-,1&3)}", "555-4567"},
		{"${CUT(DASHED,-,5)}", ""},
		{`${CUT(LIST,\,,2-3)}`, "b,c"},
		{"${CUT(NOPE,-,1)}", ""},
		{"${CUT(DASHED,-,x)}", ""},
		{"${GLOBAL(G)}", "global"},
		{"${CHANNEL(name)}", ch.Name()},
		{"${CHANNEL(state)}", "Ring"},
		{"${CHANNEL(language)}", "fr"},
		{"${CHANNEL(uniqueid)}", ch.UniqueID()},
		{"${CHANNEL(channeltype)}", "PJSIP"},
		{"${CHANNEL(checkhangup)}", "0"},
		{"${PJSIP_HEADER(read,X-Account)}", "acme"},
		{"${PJSIP_HEADER(read,x-account)}", "acme"},
		{"${PJSIP_HEADER(read,X-Account,2)}", ""},
		{"${PJSIP_HEADER(add,X-Account)}", ""},
		{"${SIP_HEADER(User-Agent)}", "softphone"},
		{"${SIP_HEADER(X-Missing)}", ""},
		{"${STRFTIME(1704276245,UTC,%Y-%m-%d %H:%M:%S)}", "2024-01-03 10:04:05"},
		{"${STRFTIME(1704276245,Asia/Taipei,%H:%M)}", "18:04"},
		{"${STRFTIME(,UTC,%A %j)}", "Wednesday 003"},
		{"${STRFTIME(1704276245,UTC)}", "Wed Jan  3 10:04:05 2024"},
		{"${STRFTIME(1704276245.25,UTC,%S.%3q)}", "05.250"},
		{"${RAND(5,5)}", "5"},
		{"${IFTIME(9:00-17:00,mon-fri,*,*?open:closed)}", "open"},
		{"${IFTIME(18:00-19:00,*,*,*?open:closed)}", "closed"},
		{`${REGEX("^5[0-9]+$" 5551234)}`, "1"},
		{`${REGEX("^5" 4551234)}`, "0"},
	}
	for _, tc := range tests {
		if got := e.Expand(context.Background(), ch, tc.in); got != tc.want {
			t.Errorf("Expand(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	for i := 0; i < 100; i++ {
		n, err := strconv.Atoi(e.Expand(context.Background(), ch, "${RAND(10,1)}"))
		if err != nil || n < 1 || n > 10 {
			t.Fatalf("RAND(10,1) = %d, %v", n, err)
		}
	}
}

func TestFunctionsWithoutChannel(t *testing.T) {
	dp, _ := apptest.Load(t, "[globals]\nG=x\n[demo]\n")
	e, err := dialplan.NewEngine(dp)
	if err != nil {
		t.Fatal(err)
	}
	for in, want := range map[string]string{
		"${CALLERID(num)}": "", "${CHANNEL(name)}": "", "${GLOBAL(G)}": "x", "${LEN(abc)}": "3",
		"${SIP_HEADER(To)}": "",
	} {
		if got := e.Expand(context.Background(), nil, in); got != want {
			t.Errorf("Expand(%q) without a channel = %q, want %q", in, got, want)
		}
	}
}

func TestStrftime(t *testing.T) {
	tm := time.Date(2024, 3, 9, 15, 4, 5, 123456789, time.UTC) // a Saturday
	tests := []struct{ format, want string }{
		{"%a %A %b %B", "Sat Saturday Mar March"},
		{"%d %e %j %m %y %Y %C", "09  9 069 03 24 2024 20"},
		{"%H %I %k %l %M %S %p %P", "15 03 15  3 04 05 PM pm"},
		{"%D %F %R %T %r", "03/09/24 2024-03-09 15:04 15:04:05 03:04:05 PM"},
		{"%u %w %s", "6 6 1709996645"},
		{"%z %Z %%", "+0000 UTC %"},
		{"%1q %3q %6q %q", "1 123 123456 123"},
		{"%Q 100%", "%Q 100%"},
		{"%V %G", "10 2024"},
	}
	for _, tc := range tests {
		if got := function.Strftime(tc.format, tm); got != tc.want {
			t.Errorf("Strftime(%q) = %q, want %q", tc.format, got, tc.want)
		}
	}
}

func TestRegistry(t *testing.T) {
	if _, name, ok := function.Lookup("callerid"); !ok || name != "CALLERID" {
		t.Errorf("Lookup(callerid) = %q, %v", name, ok)
	}
	for _, want := range []string{"CALLERID", "CHANNEL", "CUT", "EXISTS", "GLOBAL", "IF", "IFTIME", "ISNULL", "LEN", "PJSIP_HEADER", "RAND", "REGEX", "SIP_HEADER", "STRFTIME"} {
		if _, _, ok := function.Lookup(want); !ok {
			t.Errorf("%s is not registered", want)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("registering CALLERID twice did not panic")
		}
	}()
	function.Register("callerid", func(*function.Env) (function.Function, error) { return nil, nil })
}

func TestSplit(t *testing.T) {
	for _, tc := range []struct{ in, name, args string }{
		{"CALLERID(num)", "CALLERID", "num"},
		{"CUT(X,(,1))", "CUT", "X,(,1)"},
		{"NOARGS", "NOARGS", ""},
		{"OPEN(x", "OPEN", "x"},
	} {
		name, args, _ := function.Split(tc.in)
		if name != tc.name || args != tc.args {
			t.Errorf("Split(%q) = %q, %q", tc.in, name, args)
		}
	}
}

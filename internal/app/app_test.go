package app

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/gopbx/gopbx/internal/channel"
)

func TestSplitArgs(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		raw  bool
		want []string
	}{
		{"", 0, false, nil},
		{"a", 0, false, []string{"a"}},
		{"a,b,c", 0, false, []string{"a", "b", "c"}},
		{"a,", 0, false, []string{"a", ""}},
		{",", 0, false, []string{"", ""}},
		{",,a", 0, false, []string{"", "", "a"}},
		{`"a,b",c`, 0, false, []string{"a,b", "c"}},
		{`"a,b",c`, 0, true, []string{`"a,b"`, "c"}},
		{`a\,b,c`, 0, false, []string{"a,b", "c"}},
		{`a\,b,c`, 0, true, []string{`a\,b`, "c"}},
		{`a\\b`, 0, false, []string{`a\b`}},
		{"SIP/100,30,m(a,b)", 0, false, []string{"SIP/100", "30", "m(a,b)"}},
		{"x[1,2],y", 0, false, []string{"x[1,2]", "y"}},
		{`1,hello, "world"`, 2, false, []string{"1", `hello, "world"`}},
		{"a,b,c", 1, false, []string{"a,b,c"}},
		{`"a"b,c`, 0, false, []string{"ab", "c"}},
	}
	for _, tc := range tests {
		got := Split(tc.in, ',', tc.n, tc.raw)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Split(%q, n=%d, raw=%v) = %q, want %q", tc.in, tc.n, tc.raw, got, tc.want)
		}
	}
}

func TestParseTarget(t *testing.T) {
	tests := []struct {
		in   string
		want Target
	}{
		{"1", Target{Priority: "1"}},
		{"start", Target{Priority: "start"}},
		{"100,1", Target{Exten: "100", Priority: "1"}},
		{"ctx,100,1", Target{Context: "ctx", Exten: "100", Priority: "1"}},
		{"ctx,100,1,ignored", Target{Context: "ctx", Exten: "100", Priority: "1"}},
		{"+2", Target{Priority: "+2"}},
	}
	for _, tc := range tests {
		got, err := ParseTarget(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseTarget(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
		if s := got.String(); !strings.HasPrefix(tc.in, s) {
			t.Errorf("Target%+v.String() = %q, want a prefix of %q", got, s, tc.in)
		}
	}
	if _, err := ParseTarget(""); !errors.Is(err, ErrNoTarget) {
		t.Errorf("ParseTarget(\"\") error = %v, want ErrNoTarget", err)
	}
	tgt, args, err := ParseSubTarget(`sub,s,1("a,b",c)`)
	if err != nil || tgt != (Target{"sub", "s", "1"}) || !reflect.DeepEqual(args, []string{`"a,b"`, "c"}) {
		t.Errorf("ParseSubTarget = %+v %q %v", tgt, args, err)
	}
	tgt, args, err = ParseSubTarget("label")
	if err != nil || tgt != (Target{Priority: "label"}) || args != nil {
		t.Errorf("ParseSubTarget(label) = %+v %q %v", tgt, args, err)
	}
}

func TestRegister(t *testing.T) {
	noop := func(*Env) (App, error) {
		return Func(func(context.Context, *channel.Channel, string) error { return nil }), nil
	}
	Register("TestOnlyApp", noop)
	if _, name, ok := Lookup("testonlyAPP"); !ok || name != "TestOnlyApp" {
		t.Fatalf("Lookup is not case-insensitive: %q %v", name, ok)
	}
	found := false
	for _, n := range Names() {
		found = found || n == "TestOnlyApp"
	}
	if !found {
		t.Error("Names does not list TestOnlyApp")
	}
	for _, tc := range []struct {
		name string
		f    Factory
	}{
		{"TESTONLYAPP", noop}, // duplicate, any case
		{"", noop},
		{"Bad(name)", noop},
		{"NilFactory", nil},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Register(%q) did not panic", tc.name)
				}
			}()
			Register(tc.name, tc.f)
		}()
	}
}

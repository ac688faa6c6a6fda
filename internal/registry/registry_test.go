package registry

import (
	"reflect"
	"strings"
	"testing"
)

func TestRegistry(t *testing.T) {
	r := New[func() int]("app", "(), \t")
	r.Register("Echo", func() int { return 1 }, false)
	r.Register("Answer", func() int { return 2 }, false)
	f, name, ok := r.Lookup("ECHO")
	if !ok || name != "Echo" || f() != 1 {
		t.Fatalf("Lookup(ECHO) = %q %v", name, ok)
	}
	if _, _, ok := r.Lookup("nope"); ok {
		t.Fatal("unknown name found")
	}
	if got := r.Names(); !reflect.DeepEqual(got, []string{"Answer", "Echo"}) {
		t.Fatalf("Names = %v", got)
	}
	for _, tc := range []struct {
		name  string
		isNil bool
		want  string
	}{
		{"echo", false, "app: echo registered twice (as Echo and echo)"},
		{"Bad(x)", false, `app: invalid application name "Bad(x)"`},
		{"Nil", true, "app: nil factory for Nil"},
	} {
		func() {
			defer func() {
				if p := recover(); p == nil || !strings.Contains(p.(string), tc.want) {
					t.Errorf("Register(%q) panic = %v, want %q", tc.name, p, tc.want)
				}
			}()
			r.Register(tc.name, nil, tc.isNil)
		}()
	}
}

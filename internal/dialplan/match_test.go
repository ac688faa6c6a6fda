package dialplan_test

import (
	"testing"

	"github.com/gopbx/gopbx/internal/app/apptest"
)

// TestMatchOrder is the pattern order matrix: which extension a dialled
// string runs, and whether a SIP driver should answer 404 or 484.
func TestMatchOrder(t *testing.T) {
	dp, warns := apptest.Load(t, `
[in]
exten => 100,1,NoOp(exact 100)
exten => _1XX,1,NoOp(_1XX)
exten => _X.,1,NoOp(_X.)
exten => _12X,1,NoOp(_12X)
exten => _1[0-4]X,1,NoOp(_1[0-4]X)
exten => _NXX,1,NoOp(_NXX)
exten => _ZXX,1,NoOp(_ZXX)
exten => _0XXXXXXXXX,1,NoOp(_0XXXXXXXXX)
exten => _012.,1,NoOp(_012.)
exten => _80XX,1,NoOp(_80XX)
exten => _90.,1,NoOp(_90.)
exten => _7!,1,NoOp(_7!)
exten => 555/_2XX,1,NoOp(555 from 2XX)
exten => 555,1,NoOp(555)
exten => _6XX,2,NoOp(no priority 1)
exten => _6.,1,NoOp(_6.)
include => more

[front]
exten => 100,1,NoOp(front 100)
include => more
include => loop

[more]
exten => _3XXX,1,NoOp(more _3XXX)
exten => 100,1,NoOp(shadowed by in)
include => deeper

[deeper]
exten => _4XXX,1,NoOp(deeper _4XXX)

[loop]
include => front
exten => _5XXXX,1,NoOp(loop _5XXXX)
`)
	for _, w := range warns {
		t.Errorf("warning: %s", w)
	}
	tests := []struct {
		exten, cid string
		want       string // the NoOp text of the match, "" for none
		more       bool   // MatchMore: 484 rather than 404 when no match
	}{
		{"100", "", "exact 100", true},           // exact beats every pattern
		{"101", "", "_1[0-4]X", false},           // [0-4] (5 chars) before X (10 chars)
		{"121", "", "_12X", false},               // a digit before a set
		{"151", "", "_1XX", false},               // 1 before N and Z
		{"251", "", "_NXX", false},               // N (8) before Z (9) before X.
		{"1", "", "", true},                      // '.' needs at least one more
		{"12", "", "_X.", true},                  // only _X. takes two digits
		{"1234", "", "_X.", true},                // nothing else is four digits long
		{"0212345678", "", "_0XXXXXXXXX", false}, // seed 000: ten digits
		{"021234567", "", "_X.", true},           // nine: _X. catches it
		{"012101", "", "_012.", true},            // seed 001: 012 prefix route
		{"0121011234", "", "_012.", true},        // 012 beats 0X: the third char is a digit
		{"8005", "", "_80XX", false},             // seed 004
		{"90123", "", "_90.", true},              // seed 001
		{"7", "", "_7!", false},                  // '!' matches zero more
		{"555", "201", "555 from 2XX", false},    // caller-ID match first
		{"555", "301", "555", false},             // other callers: the plain one
		{"555", "", "555", false},                // no caller ID: not the CID one
		{"650", "", "_6.", true},                 // _6XX has no priority 1
		{"3000", "", "_X.", true},                // own extensions before includes
		{"99999999999999999999", "", "_X.", true},
	}
	for _, tc := range tests {
		e, ok := dp.Match("in", tc.exten, tc.cid)
		got := ""
		if ok {
			got = e.Priority(1).Data
		}
		if got != tc.want {
			t.Errorf("Match(in, %q, cid %q) = %q, want %q", tc.exten, tc.cid, got, tc.want)
		}
		if ok != dp.Exists("in", tc.exten, 1, tc.cid) {
			t.Errorf("Exists and Match disagree on %q", tc.exten)
		}
		if !ok && !dp.CanMatch("in", tc.exten, tc.cid) && tc.more {
			t.Errorf("CanMatch(in, %q) = false for a prefix", tc.exten)
		}
	}
	for _, tc := range []struct{ exten, want string }{
		{"100", "front 100"},     // own extension before the include's
		{"3000", "more _3XXX"},   // from an include
		{"4000", "deeper _4XXX"}, // include of an include, depth first
		{"50000", "loop _5XXXX"}, // a loop of includes is harmless
		{"60000", ""},
	} {
		e, ok := dp.Match("front", tc.exten, "")
		got := ""
		if ok {
			got = e.Priority(1).Data
		}
		if got != tc.want {
			t.Errorf("Match(front, %q) = %q, want %q", tc.exten, got, tc.want)
		}
	}
}

// TestMatchMore is the 404/484 decision of a SIP driver.
func TestMatchMore(t *testing.T) {
	dp, _ := apptest.Load(t, `
[from-external]
exten => _80XX,1,NoOp()
exten => 600,1,NoOp()
exten => _7!,1,NoOp()
include => other
[other]
exten => _0XXXXXXXXX,1,NoOp()
`)
	tests := []struct {
		exten            string
		match, can, more bool
		status           int
	}{
		{"8005", true, true, false, 0},
		{"800", false, true, true, 484},
		{"80", false, true, true, 484},
		{"80055", false, false, false, 404},
		{"9005", false, false, false, 404},
		{"600", true, true, false, 0},
		{"60", false, true, true, 484},
		{"021234567", false, true, true, 484},
		{"02123456789", false, false, false, 404},
		{"7", true, true, false, 0}, // an early match ('!') is final: no 484
		{"", false, true, true, 484},
	}
	for _, tc := range tests {
		_, match := dp.Match("from-external", tc.exten, "")
		can := dp.CanMatch("from-external", tc.exten, "")
		more := dp.MatchMore("from-external", tc.exten, "")
		if match != tc.match || can != tc.can || more != tc.more {
			t.Errorf("%q: match %v can %v more %v; want %v %v %v", tc.exten, match, can, more, tc.match, tc.can, tc.more)
		}
		status := 0
		if !match {
			status = 404
			if more {
				status = 484
			}
		}
		if status != tc.status {
			t.Errorf("%q: a SIP driver would answer %d, want %d", tc.exten, status, tc.status)
		}
	}
	if _, ok := dp.Match("nowhere", "600", ""); ok {
		t.Error("match in a context that does not exist")
	}
}

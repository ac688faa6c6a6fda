package timing

import (
	"strings"
	"testing"
	"time"
)

func TestMatch(t *testing.T) {
	// 2024-01-03 is a Wednesday.
	at := func(s string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04:05", s, time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	tests := []struct {
		spec string
		t    string
		want bool
	}{
		{"*,*,*,*", "2024-01-03 03:00:00", true},
		{"", "2024-01-03 03:00:00", true},
		{"9:00-17:00,mon-fri,*,*", "2024-01-03 09:00:00", true},
		{"9:00-17:00,mon-fri,*,*", "2024-01-03 17:00:59", true},
		{"9:00-17:00,mon-fri,*,*", "2024-01-03 17:01:00", false},
		{"9:00-17:00,mon-fri,*,*", "2024-01-03 08:59:59", false},
		{"9:00-17:00,mon-fri,*,*", "2024-01-06 12:00:00", false}, // Saturday
		{"9:00-17:00", "2024-01-06 12:00:00", true},
		{"22:00-06:00,*,*,*", "2024-01-03 23:30:00", true},
		{"22:00-06:00,*,*,*", "2024-01-03 05:00:00", true},
		{"22:00-06:00,*,*,*", "2024-01-03 12:00:00", false},
		{"*,fri-mon,*,*", "2024-01-07 12:00:00", true},  // Sunday
		{"*,fri-mon,*,*", "2024-01-03 12:00:00", false}, // Wednesday
		{"*,sat&sun,*,*", "2024-01-06 12:00:00", true},
		{"*,4,*,*", "2024-01-03 12:00:00", true}, // 4 = Wednesday, counted from Sunday=1
		{"*,*,1-5,*", "2024-01-03 12:00:00", true},
		{"*,*,25,dec", "2024-12-25 12:00:00", true},
		{"*,*,25,dec", "2024-12-26 12:00:00", false},
		{"*,*,*,nov-feb", "2024-01-03 12:00:00", true},
		{"*,*,*,mar-oct", "2024-01-03 12:00:00", false},
		{"*,*,*,JAN", "2024-01-03 12:00:00", true},
		{"12:30,*,*,*", "2024-01-03 12:30:10", true},
		{"12:30,*,*,*", "2024-01-03 12:31:00", false},
		// 12:00 UTC is 13:00 in Paris in winter.
		{"13:00-13:59,*,*,*,Europe/Paris", "2024-01-03 12:30:00", true},
		{"12:00-12:59,*,*,*,Europe/Paris", "2024-01-03 12:30:00", false},
	}
	for _, tc := range tests {
		t.Run(tc.spec+"@"+tc.t, func(t *testing.T) {
			s, err := Parse(tc.spec)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.spec, err)
			}
			if got := s.Match(at(tc.t)); got != tc.want {
				t.Errorf("Parse(%q).Match(%s) = %v, want %v", tc.spec, tc.t, got, tc.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		spec, wantErr string
	}{
		{"25:00-26:00,*,*,*", "valid start time"},
		{"9:00-,*,*,*", "invalid time range"},
		{"*,funday,*,*", `invalid day of week "funday"`},
		{"*,*,32,*", "invalid day of month"},
		{"*,*,*,jan-foo", "invalid end month"},
		{"*,*,*,*,Not/AZone", "unknown time zone"},
	}
	for _, tc := range tests {
		t.Run(tc.spec, func(t *testing.T) {
			s, err := Parse(tc.spec)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Parse(%q) error = %v, want it to contain %q", tc.spec, err, tc.wantErr)
			}
			if s == nil {
				t.Fatal("Parse returned no Spec with its error")
			}
		})
	}
}

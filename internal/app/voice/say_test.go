package voice

import (
	"strings"
	"testing"

	"github.com/gopbx/gopbx/internal/app/apptest"
)

func TestNumberFiles(t *testing.T) {
	for n, want := range map[int]string{
		0:       "digits/0",
		7:       "digits/7",
		15:      "digits/15",
		20:      "digits/20",
		45:      "digits/40 digits/5",
		100:     "digits/1 digits/hundred",
		245:     "digits/2 digits/hundred digits/40 digits/5",
		1000:    "digits/1 digits/thousand",
		2019:    "digits/2 digits/thousand digits/19",
		1500000: "digits/1 digits/million digits/5 digits/hundred digits/thousand",
		-3:      "digits/minus digits/3",
	} {
		if got := strings.Join(NumberFiles(n), " "); got != want {
			t.Errorf("NumberFiles(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestDigitAndAlphaFiles(t *testing.T) {
	if got := strings.Join(DigitFiles("1*#"), " "); got != "digits/1 digits/star digits/pound" {
		t.Errorf("DigitFiles = %q", got)
	}
	if got := strings.Join(AlphaFiles("Ab1"), " "); got != "letters/a letters/b digits/1" {
		t.Errorf("AlphaFiles = %q", got)
	}
}

func TestSetup(t *testing.T) {
	for _, name := range []string{"Playback", "Background", "WaitExten", "Read", "SayDigits", "SayNumber", "SayAlpha", "Echo", "Record", "MusicOnHold", "Milliwatt"} {
		apptest.CheckSetup(t, name)
	}
}

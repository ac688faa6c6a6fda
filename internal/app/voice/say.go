package voice

import (
	"context"
	"strconv"
	"strings"
	"unicode"

	"github.com/gopbx/gopbx/internal/app"
	"github.com/gopbx/gopbx/internal/channel"
)

type sayMode int

const (
	sayDigits sayMode = iota
	sayNumber
	sayAlpha
)

// Say is SayDigits(digits), SayNumber(number[,gender]) and
// SayAlpha(string): English prompts from digits/ and letters/ as
// Asterisk's say.c builds them. A digit pressed meanwhile is ignored.
type Say struct {
	env  *app.Env
	mode sayMode
}

// Exec implements app.App.
func (s *Say) Exec(ctx context.Context, ch *channel.Channel, args string) error {
	text := arg(app.SplitArgs(args), 0)
	var files []string
	switch s.mode {
	case sayDigits:
		files = DigitFiles(text)
	case sayNumber:
		n, err := strconv.Atoi(text)
		if err != nil {
			s.env.Log.WarnContext(ctx, "SayNumber: not a number", "chan", ch.Name(), "arg", text)
			return nil
		}
		files = NumberFiles(n)
	case sayAlpha:
		files = AlphaFiles(text)
	}
	if _, err := s.env.Media.PlayFiles(ctx, ch, files, ""); err != nil {
		if ctx.Err() != nil || ch.HungUp() {
			return app.ErrHangup
		}
		s.env.Log.WarnContext(ctx, "say failed", "chan", ch.Name(), "error", err)
	}
	return nil
}

// DigitFiles names the prompt of each digit (* is star, # is pound).
func DigitFiles(s string) []string {
	var out []string
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			out = append(out, "digits/"+string(r))
		case r == '*':
			out = append(out, "digits/star")
		case r == '#':
			out = append(out, "digits/pound")
		case r == '-':
			out = append(out, "digits/minus")
		}
	}
	return out
}

// AlphaFiles spells s: letters/x for letters, digits for digits.
func AlphaFiles(s string) []string {
	var out []string
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z':
			out = append(out, "letters/"+string(r))
		case unicode.IsDigit(r) || r == '*' || r == '#' || r == '-':
			out = append(out, DigitFiles(string(r))...)
		}
	}
	return out
}

// NumberFiles says n in English: "digits/2 digits/hundred digits/40
// digits/5" for 245, as ast_say_number_full_en.
func NumberFiles(n int) []string {
	var out []string
	if n < 0 {
		out = append(out, "digits/minus")
		n = -n
	}
	if n == 0 {
		return append(out, "digits/0")
	}
	for _, step := range []struct {
		div  int
		name string
	}{{1000000000, "digits/billion"}, {1000000, "digits/million"}, {1000, "digits/thousand"}} {
		if n >= step.div {
			out = append(out, NumberFiles(n/step.div)...)
			out = append(out, step.name)
			n %= step.div
		}
	}
	if n >= 100 {
		out = append(out, "digits/"+strconv.Itoa(n/100), "digits/hundred")
		n %= 100
	}
	switch {
	case n == 0:
	case n <= 20:
		out = append(out, "digits/"+strconv.Itoa(n))
	default:
		out = append(out, "digits/"+strconv.Itoa(n/10*10))
		if n%10 != 0 {
			out = append(out, "digits/"+strconv.Itoa(n%10))
		}
	}
	return out
}

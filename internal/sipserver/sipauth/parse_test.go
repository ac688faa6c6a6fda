package sipauth

import (
	"context"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

func TestParseAuthorization(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Authorization
		wantErr string
	}{
		{
			name: "rfc 3261 example",
			in: `Digest username="bob", realm="biloxi.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", ` +
				`uri="sip:bob@biloxi.com", qop=auth, nc=00000001, cnonce="0a4f113b", ` +
				`response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41"`,
			want: Authorization{Username: "bob", Realm: "biloxi.com", Nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
				URI: "sip:bob@biloxi.com", QOP: "auth", NC: "00000001", CNonce: "0a4f113b",
				Response: "6629fae49393a05397450978507c4ef1", Opaque: "5ccc069c403ebaf9f0171e9517f40e41"},
		},
		{
			name: "case-insensitive names and scheme, no spaces, any order",
			in:   `digest REALM="r",UserName="u",Algorithm=SHA-256,NC=1,QoP="auth"`,
			want: Authorization{Username: "u", Realm: "r", Algorithm: "SHA-256", NC: "1", QOP: "auth"},
		},
		{
			name: "whitespace around equals and commas, empty list items, folding",
			in:   "  Digest  username = \"u\" ,, \t realm=\r\n \"r\" ,  ",
			want: Authorization{Username: "u", Realm: "r"},
		},
		{
			name: "escapes and commas in quoted strings",
			in:   `Digest username="a\"b\\c", realm="x, y", uri="sip:a@b;x=\"1,2\""`,
			want: Authorization{Username: `a"b\c`, Realm: "x, y", URI: `sip:a@b;x="1,2"`},
		},
		{
			name: "unknown parameters ignored, even repeated",
			in:   `Digest foo=bar, foo="baz", username="u", auth-param=x`,
			want: Authorization{Username: "u"},
		},
		{
			name: "unquoted uri is tolerated",
			in:   `Digest uri=sip:a@b;transport=udp, username=u`,
			want: Authorization{URI: "sip:a@b;transport=udp", Username: "u"},
		},
		{name: "scheme only", in: "Digest", want: Authorization{}},
		{name: "basic", in: `Basic dXNlcjpwYXNz`, wantErr: "not a Digest scheme"},
		{name: "empty", in: "", wantErr: "not a Digest scheme"},
		{name: "glued scheme", in: `Digest"username="u"`, wantErr: "after scheme"},
		{name: "unterminated", in: `Digest username="u`, wantErr: "unterminated"},
		{name: "trailing backslash", in: `Digest username="u\"`, wantErr: "unterminated"},
		{name: "no value", in: `Digest username`, wantErr: "no value"},
		{name: "empty token value", in: `Digest username=, realm="r"`, wantErr: "empty value"},
		{name: "junk after value", in: `Digest username="u" realm="r"`, wantErr: "unexpected"},
		{name: "repeated", in: `Digest username="u", USERNAME="v"`, wantErr: "repeated parameter"},
		{name: "bad name", in: `Digest ="u"`, wantErr: "bad character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseAuthorization(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("error %v", err)
			}
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
			back, err := ParseAuthorization(got.String())
			if err != nil || back != got {
				t.Errorf("round trip of %q: %+v, %v", got.String(), back, err)
			}
		})
	}
}

func FuzzParseAuthorization(f *testing.F) {
	f.Add(`Digest username="bob", realm="biloxi.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="sip:bob@biloxi.com", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41"`)
	f.Add(`digest USERNAME="a\"b\\c",realm="x, y",algorithm=sha-256-sess`)
	f.Add("Digest")
	// More seeds live in testdata/fuzz/FuzzParseAuthorization.
	f.Fuzz(func(t *testing.T, in string) {
		a, err := ParseAuthorization(in)
		if err != nil {
			return
		}
		out := a.String()
		back, err := ParseAuthorization(out)
		if err != nil {
			t.Fatalf("reparse of %q (from %q): %v", out, in, err)
		}
		if back != a {
			t.Fatalf("round trip of %q:\n got %+v\nwant %+v", in, back, a)
		}
	})
}

func BenchmarkParseAuthorization(b *testing.B) {
	const in = `Digest username="alice", realm="pbx.example.com", nonce="AAABlCj0Tx9y3f5ZmKb2XQ0o8l7cVnQk2pJz8w6m4yE", ` +
		`uri="sip:pbx.example.com", response="6629fae49393a05397450978507c4ef1", algorithm=MD5, ` +
		`cnonce="0a4f113b", opaque="5ccc069c403ebaf9", qop=auth, nc=00000001`
	b.ReportAllocs()
	var a Authorization
	for b.Loop() {
		a = Authorization{}
		if err := parseAuthorization(in, &a); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzVerify feeds arbitrary Authorization values through the whole
// verification: it must never panic nor accept a forged answer.
func FuzzVerify(f *testing.F) {
	f.Add(`Digest username="alice", realm="pbx.example.com", nonce="AAABlCj0Tx9y3f5ZmKb2XQ0o8l7cVnQk2pJz8w6m4yE", uri="sip:pbx.example.com", response="6629fae49393a05397450978507c4ef1", algorithm=MD5, cnonce="0a4f113b", qop=auth, nc=00000001`)
	f.Add(`Digest username="bob", realm="pbx.example.com", nonce="x", uri="sip:pbx.example.com;transport=udp", response="00", algorithm=SHA-256-sess, qop=auth, nc=ffffffff, cnonce=""`)
	h := newHarness(f, nil)
	req := newRequest(f, "REGISTER", regURI)
	f.Fuzz(func(t *testing.T, value string) {
		r := req.Clone()
		r.AppendHeader(sip.NewHeader("Authorization", value))
		if _, err := h.auth.Verify(context.Background(), r, Options{}); err == nil {
			t.Fatalf("accepted %q", value)
		}
	})
}

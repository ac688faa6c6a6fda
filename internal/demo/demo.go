package demo

import (
	"bytes"
	"crypto/rand"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"text/template"
	"time"
)

//go:embed conf/*.conf
var files embed.FS

// User is one demo phone.
type User struct {
	Name     string `json:"name"`
	Password string `json:"password"`
	PIN      string `json:"pin"`
}

// Setup makes sure dataDir/demo-conf holds the demo configuration and
// returns that directory and the demo users. The first call generates the
// passwords; later calls keep the files as they are, including the user's
// own edits.
func Setup(dataDir string) (dir string, users []User, err error) {
	dir = filepath.Join(dataDir, "demo-conf")
	usersFile := filepath.Join(dir, ".demo-users.json")
	if b, err := os.ReadFile(usersFile); err == nil {
		if err := json.Unmarshal(b, &users); err != nil {
			return "", nil, fmt.Errorf("demo: %s: %w", usersFile, err)
		}
		// A deleted certificate is made again; pjsip.conf still names it.
		if err := ensureCert(dir, time.Now()); err != nil {
			return "", nil, err
		}
		return dir, users, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", nil, fmt.Errorf("demo: %w", err)
	}
	for i := 0; i < 4; i++ {
		users = append(users, User{Name: fmt.Sprint(1000 + i), Password: secret(12), PIN: digits(4)})
	}
	entries, err := fs.ReadDir(files, "conf")
	if err != nil {
		return "", nil, fmt.Errorf("demo: %w", err)
	}
	for _, e := range entries {
		src, err := files.ReadFile("conf/" + e.Name())
		if err != nil {
			return "", nil, fmt.Errorf("demo: %w", err)
		}
		t, err := template.New(e.Name()).Parse(string(src))
		if err != nil {
			return "", nil, fmt.Errorf("demo: %s: %w", e.Name(), err)
		}
		var out bytes.Buffer
		if err := t.Execute(&out, struct{ Users []User }{users}); err != nil {
			return "", nil, fmt.Errorf("demo: %s: %w", e.Name(), err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), out.Bytes(), 0o600); err != nil {
			return "", nil, fmt.Errorf("demo: %w", err)
		}
	}
	if err := ensureCert(dir, time.Now()); err != nil {
		return "", nil, err
	}
	b, _ := json.MarshalIndent(users, "", "  ")
	if err := os.WriteFile(usersFile, b, 0o600); err != nil {
		return "", nil, fmt.Errorf("demo: %w", err)
	}
	return dir, users, nil
}

const alnum = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

func secret(n int) string { return pick(alnum, n) }
func digits(n int) string { return pick("0123456789", n) }

func pick(set string, n int) string {
	b := make([]byte, n)
	for i := range b {
		k, err := rand.Int(rand.Reader, big.NewInt(int64(len(set))))
		if err != nil {
			panic(err) // crypto/rand never fails on Linux
		}
		b[i] = set[k.Int64()]
	}
	return string(b)
}

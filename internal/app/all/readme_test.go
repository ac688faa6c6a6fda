package all_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gopbx/gopbx/internal/app"
	_ "github.com/gopbx/gopbx/internal/app/all"
	"github.com/gopbx/gopbx/internal/dialplan"
)

// TestReadme checks every application's README as CoreDNS's
// test/readme_test.go checks plugin READMEs: the Name, Syntax and Examples
// sections exist, and every "~~~ extensions.conf" block loads with the
// dialplan loader without a single warning. Every registered application
// is documented by some README.
func TestReadme(t *testing.T) {
	dirs, err := filepath.Glob("../*/setup.go")
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) == 0 {
		t.Fatal("no application packages found")
	}
	documented := map[string]bool{}
	nameRe := regexp.MustCompile(`(?m)^## Name\s+\*?([A-Za-z0-9_]+)`)
	blockRe := regexp.MustCompile("(?s)~~~ extensions\\.conf\n(.*?)~~~")
	for _, setup := range dirs {
		dir := filepath.Dir(setup)
		readme := filepath.Join(dir, "README.md")
		t.Run(filepath.Base(dir), func(t *testing.T) {
			data, err := os.ReadFile(readme)
			if err != nil {
				t.Fatalf("every application needs a README.md: %v", err)
			}
			text := string(data)
			for _, section := range []string{"## Name", "## Syntax", "## Examples"} {
				if !strings.Contains(text, "\n"+section+"\n") {
					t.Errorf("%s: missing section %q", readme, section)
				}
			}
			for _, m := range nameRe.FindAllStringSubmatch(text, -1) {
				documented[strings.ToLower(m[1])] = true
			}
			blocks := blockRe.FindAllStringSubmatch(text, -1)
			if len(blocks) == 0 {
				t.Errorf("%s: no ~~~ extensions.conf example", readme)
			}
			for i, b := range blocks {
				_, diags, err := dialplan.Parse(readme, []byte(b[1]))
				if err != nil {
					t.Errorf("%s: example %d does not load: %v", readme, i+1, err)
					continue
				}
				for _, d := range diags {
					t.Errorf("%s: example %d: %v", readme, i+1, d.Error())
				}
			}
		})
	}
	for _, name := range app.Names() {
		if !documented[strings.ToLower(name)] {
			t.Errorf("application %s is registered but no README names it under ## Name", name)
		}
	}
}

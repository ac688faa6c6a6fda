package pbx

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadRTPConf(t *testing.T) {
	cases := []struct {
		name, conf string
		table      string // want KernelTable
		err        string // want an error naming this
	}{
		{"defaults", "[general]\n", "", ""},
		{"kernel on", "[general]\nrtpstart=20000\nrtpend=20100\nkernelforward=yes\n", "gopbx", ""},
		{"kernel table", "[general]\nkerneltable=pbx_2\nkernelforward=on\n", "pbx_2", ""},
		{"kernel off", "[general]\nkerneltable=pbx_2\nkernelforward=no\n", "", ""},
		{"bad bool", "[general]\n\nkernelforward=maybe\n", "", "rtp.conf:3: kernelforward"},
		{"bad table", "[general]\nkerneltable=my-table\n", "", "rtp.conf:2: kerneltable"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "rtp.conf"), []byte(c.conf), 0o644); err != nil {
				t.Fatal(err)
			}
			cfg, _, err := loadRTPConf(dir)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err %v, want one naming %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.KernelTable != c.table {
				t.Errorf("KernelTable %q, want %q", cfg.KernelTable, c.table)
			}
		})
	}
}

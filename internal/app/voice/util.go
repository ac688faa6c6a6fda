package voice

import (
	"strings"
	"time"

	"github.com/gopbx/gopbx/internal/app/wait"
)

func arg(a []string, i int) string {
	if i < len(a) {
		return strings.TrimSpace(a[i])
	}
	return ""
}

func seconds(s string) (time.Duration, bool) {
	d, ok := wait.ParseTimelen(strings.TrimSpace(s), time.Second)
	return d, ok && d > 0
}

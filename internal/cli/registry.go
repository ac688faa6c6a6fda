package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
)

// Command is one console command.
type Command struct {
	// Words is the fixed command prefix, e.g. ["sip", "show", "peers"].
	Words []string
	// Usage is the full syntax shown by help, e.g. "sip show peer <name>".
	Usage   string
	Summary string
	// Run executes the command; args are the words after Words.
	Run func(ctx context.Context, w io.Writer, args []string) error
}

// ErrUsage makes the console print the command's usage.
var ErrUsage = errors.New("usage")

// Registry holds the commands. It is safe for concurrent use.
type Registry struct {
	mu   sync.RWMutex
	cmds []*Command
}

// NewRegistry returns a registry with the built-in help command.
func NewRegistry() *Registry {
	r := &Registry{}
	r.Register(Command{
		Words: []string{"help"}, Usage: "help [prefix]", Summary: "Display help list, or specific help on a command",
		Run: r.help,
	})
	return r
}

// Register adds c. Registering the same words twice panics: it is a
// programming error, found at start-up.
func (r *Registry) Register(c Command) {
	r.mu.Lock()
	defer r.mu.Unlock()
	key := strings.Join(c.Words, " ")
	for _, o := range r.cmds {
		if strings.Join(o.Words, " ") == key {
			panic("cli: duplicate command " + key)
		}
	}
	if c.Usage == "" {
		c.Usage = key
	}
	r.cmds = append(r.cmds, &c)
	sort.Slice(r.cmds, func(i, j int) bool { return r.cmds[i].Usage < r.cmds[j].Usage })
}

// Exec runs a command line and writes its output to w.
func (r *Registry) Exec(ctx context.Context, w io.Writer, line string) error {
	words := strings.Fields(line)
	if len(words) == 0 {
		return nil
	}
	c, args := r.lookup(words)
	if c == nil {
		return fmt.Errorf("No such command '%s' (type 'help %s' for other possible commands)", line, words[0])
	}
	err := c.Run(ctx, w, args)
	if errors.Is(err, ErrUsage) {
		return fmt.Errorf("Usage: %s\n       %s", c.Usage, c.Summary)
	}
	return err
}

// lookup finds the command with the longest matching word prefix.
func (r *Registry) lookup(words []string) (*Command, []string) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var best *Command
	for _, c := range r.cmds {
		if len(c.Words) > len(words) || (best != nil && len(c.Words) <= len(best.Words)) {
			continue
		}
		match := true
		for i, cw := range c.Words {
			if !strings.EqualFold(cw, words[i]) {
				match = false
				break
			}
		}
		if match {
			best = c
		}
	}
	if best == nil {
		return nil, nil
	}
	return best, words[len(best.Words):]
}

// Complete returns the commands whose usage starts with prefix.
func (r *Registry) Complete(prefix string) []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []string
	for _, c := range r.cmds {
		if strings.HasPrefix(strings.Join(c.Words, " "), prefix) {
			out = append(out, c.Usage)
		}
	}
	return out
}

func (r *Registry) help(ctx context.Context, w io.Writer, args []string) error {
	prefix := strings.ToLower(strings.Join(args, " "))
	r.mu.RLock()
	defer r.mu.RUnlock()
	n := 0
	for _, c := range r.cmds {
		if prefix != "" && !strings.HasPrefix(strings.Join(c.Words, " "), prefix) {
			continue
		}
		fmt.Fprintf(w, "%-40s -- %s\n", c.Usage, c.Summary)
		n++
	}
	if n == 0 {
		return fmt.Errorf("No such command '%s'", prefix)
	}
	return nil
}

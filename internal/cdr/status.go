package cdr

import (
	"bufio"
	"fmt"
	"io"
	"time"
)

// WriteStatus writes `cdr show status` as Asterisk's cdr.c prints it,
// blank lines included.
func (c *Collector) WriteStatus(w io.Writer) error {
	cfg := c.cfg
	b := bufio.NewWriter(w)
	yes := func(v bool) string {
		if v {
			return "Yes"
		}
		return "No"
	}
	fmt.Fprintf(b, "\n")
	fmt.Fprintf(b, "Call Detail Record (CDR) settings\n")
	fmt.Fprintf(b, "----------------------------------\n")
	fmt.Fprintf(b, "  Logging:                    %s\n", pick(cfg.Enable, "Enabled", "Disabled"))
	fmt.Fprintf(b, "  Mode:                       %s\n", pick(cfg.Batch, "Batch", "Simple"))
	if cfg.Enable {
		fmt.Fprintf(b, "  Log calls by default:       %s\n", yes(cfg.ChannelDefaultEnabled))
		fmt.Fprintf(b, "  Log unanswered calls:       %s\n", yes(cfg.Unanswered))
		fmt.Fprintf(b, "  Log congestion:             %s\n\n", yes(cfg.Congestion))
		fmt.Fprintf(b, "  Ignore bridging changes:    %s\n\n", yes(cfg.IgnoreStateChanges))
		fmt.Fprintf(b, "  Ignore dial state changes:  %s\n\n", yes(cfg.IgnoreDialChanges))
		fmt.Fprintf(b, "  Cancel disposition enabled: %s\n\n", yes(cfg.CancelDisposition))
		if cfg.Batch {
			c.mu.Lock()
			cnt := len(c.pending)
			next := int64(time.Until(c.nextBatch) / time.Second)
			c.mu.Unlock()
			if next < 0 {
				next = 0
			}
			size, secs := cfg.BatchSize, int64(cfg.BatchTime/time.Second)
			fmt.Fprintf(b, "* Batch Mode Settings\n")
			fmt.Fprintf(b, "  -------------------\n")
			fmt.Fprintf(b, "  Safe shutdown:              %s\n", pick(cfg.SafeShutdown, "Enabled", "Disabled"))
			fmt.Fprintf(b, "  Threading model:            %s\n", pick(cfg.SchedulerOnly, "Scheduler only", "Scheduler plus separate threads"))
			fmt.Fprintf(b, "  Current batch size:         %d record%s\n", cnt, ess(int64(cnt)))
			fmt.Fprintf(b, "  Maximum batch size:         %d record%s\n", size, ess(int64(size)))
			fmt.Fprintf(b, "  Maximum batch time:         %d second%s\n", secs, ess(secs))
			fmt.Fprintf(b, "  Next batch processing time: %d second%s\n\n", next, ess(next))
		}
		fmt.Fprintf(b, "* Registered Backends\n")
		fmt.Fprintf(b, "  -------------------\n")
		if len(c.backends) == 0 {
			fmt.Fprintf(b, "    (none)\n")
		}
		for _, nb := range c.backends {
			fmt.Fprintf(b, "    %s\n", nb.name)
		}
		fmt.Fprintf(b, "\n")
	}
	return b.Flush()
}

func pick(v bool, yes, no string) string {
	if v {
		return yes
	}
	return no
}

// ess is Asterisk's ESS(): the plural "s" for any count but 1.
func ess(n int64) string {
	if n == 1 {
		return ""
	}
	return "s"
}

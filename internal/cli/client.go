package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
)

// Dial connects to a running daemon's console socket.
func Dial(ctx context.Context, path string) (*Client, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, fmt.Errorf("Unable to connect to remote gopbx (does %s exist?): %w", path, err)
	}
	return &Client{conn: c, br: bufio.NewReader(c)}, nil
}

// Client is one console session.
type Client struct {
	conn net.Conn
	br   *bufio.Reader
}

// Close ends the session.
func (c *Client) Close() error { return c.conn.Close() }

// Exec runs one command, writing its output and any asynchronous text that
// arrives meanwhile to w. The error is the command's failure message.
func (c *Client) Exec(ctx context.Context, line string, w io.Writer) error {
	if _, err := fmt.Fprintf(c.conn, "c %d\n%s", len(line), line); err != nil {
		return fmt.Errorf("cli: send: %w", err)
	}
	for {
		typ, p, err := readFrame(c.br)
		if err != nil {
			return fmt.Errorf("cli: connection lost: %w", err)
		}
		switch typ {
		case 'o', 'a':
			w.Write(p)
			if typ == 'a' && len(p) > 0 && p[len(p)-1] != '\n' {
				io.WriteString(w, "\n")
			}
		case 'e':
			if s := string(p); s != "ok" {
				return errors.New(s)
			}
			return nil
		}
	}
}

// Interactive reads command lines from in until EOF or "quit"/"exit" and
// prints their output and live asynchronous text to out.
func (c *Client) Interactive(ctx context.Context, in io.Reader, out io.Writer, prompt string) error {
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(in)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	frames := make(chan frame, 64)
	go func() {
		defer close(frames)
		for {
			typ, p, err := readFrame(c.br)
			if err != nil {
				return
			}
			frames <- frame{typ, p}
		}
	}()
	fmt.Fprint(out, prompt)
	waiting := false
	for {
		select {
		case <-ctx.Done():
			return nil
		case f, ok := <-frames:
			if !ok {
				fmt.Fprintln(out, "\nDisconnected from gopbx server")
				return nil
			}
			switch f.typ {
			case 'o', 'a':
				out.Write(f.p)
				if len(f.p) > 0 && f.p[len(f.p)-1] != '\n' {
					io.WriteString(out, "\n")
				}
			case 'e':
				if s := string(f.p); s != "ok" {
					fmt.Fprintln(out, s)
				}
				waiting = false
				fmt.Fprint(out, prompt)
			}
		case line, ok := <-lines:
			if !ok {
				return nil
			}
			line = strings.TrimSpace(line)
			if line == "quit" || line == "exit" {
				return nil
			}
			if line == "" {
				if !waiting {
					fmt.Fprint(out, prompt)
				}
				continue
			}
			if _, err := fmt.Fprintf(c.conn, "c %d\n%s", len(line), line); err != nil {
				return fmt.Errorf("cli: send: %w", err)
			}
			waiting = true
		}
	}
}

type frame struct {
	typ byte
	p   []byte
}

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// flags is a flag.FlagSet where every flag may also come from an
// environment variable. A flag given on the command line wins; the help
// lists the variable beside each flag.
type flags struct {
	fs      *flag.FlagSet
	name    string // "qoswatch run"
	args    string // "[flags]", "FILE..."
	summary string
	getenv  func(string) string
	out     io.Writer // help
	errOut  io.Writer // errors

	pos     []string          // the arguments, flags taken out
	order   []string          // flag names in declaration order
	envOf   map[string]string // flag name -> environment variable
	envOnly []envVar          // settings read only from the environment (secrets)
}

type envVar struct{ name, usage string }

func newFlags(c *cli, name, args, summary string) *flags {
	f := &flags{
		fs: flag.NewFlagSet(name, flag.ContinueOnError), name: name, args: args, summary: summary,
		getenv: c.getenv, out: c.stdout, errOut: c.stderr, envOf: map[string]string{},
	}
	f.fs.SetOutput(io.Discard) // we print errors and help ourselves
	return f
}

func (f *flags) add(name, env string) {
	f.order = append(f.order, name)
	if env != "" {
		f.envOf[name] = env
	}
}

func (f *flags) String(p *string, name, env, def, usage string) {
	f.fs.StringVar(p, name, def, usage)
	f.add(name, env)
}

func (f *flags) Duration(p *time.Duration, name, env string, def time.Duration, usage string) {
	f.fs.DurationVar(p, name, def, usage)
	f.add(name, env)
}

func (f *flags) Int(p *int, name, env string, def int, usage string) {
	f.fs.IntVar(p, name, def, usage)
	f.add(name, env)
}

func (f *flags) Int64(p *int64, name, env string, def int64, usage string) {
	f.fs.Int64Var(p, name, def, usage)
	f.add(name, env)
}

func (f *flags) Float(p *float64, name, env string, def float64, usage string) {
	f.fs.Float64Var(p, name, def, usage)
	f.add(name, env)
}

func (f *flags) Bool(p *bool, name, env string, def bool, usage string) {
	f.fs.BoolVar(p, name, def, usage)
	f.add(name, env)
}

// EnvOnly documents a setting that is read only from the environment:
// secrets, which must not sit on a command line where `ps` shows them.
func (f *flags) EnvOnly(env, usage string) { f.envOnly = append(f.envOnly, envVar{env, usage}) }

// errHelp is returned when the user asked for --help; the caller exits 0.
var errHelp = flag.ErrHelp

// envErrors are the environment variables that did not parse, all of
// them: the operator fixes every one after one read.
type envErrors []error

func (e envErrors) Error() string { return joinErrors(e) }

// joinErrors puts problems on one line, "; " between them.
func joinErrors(errs []error) string {
	msgs := make([]string, len(errs))
	for i, err := range errs {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "; ")
}

// Parse parses args, then fills every flag not given from its environment
// variable. The error names the flag, or every variable that does not
// parse (an envErrors).
func (f *flags) Parse(args []string) error {
	// Flags may follow the arguments too (`qoswatch ack 12 --as ana`):
	// the flag package stops at the first argument, so what follows it
	// is parsed again. "--" still ends the flags.
	f.pos = nil
	for {
		if err := f.fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				f.Usage()
				return errHelp
			}
			return fmt.Errorf("%s: %w (see --help)", f.name, err)
		}
		rest := f.fs.Args()
		if len(rest) == 0 || len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			f.pos = append(f.pos, rest...)
			break
		}
		f.pos = append(f.pos, rest[0])
		args = rest[1:]
	}
	given := map[string]bool{}
	f.fs.Visit(func(fl *flag.Flag) { given[fl.Name] = true })
	var errs envErrors
	for _, name := range f.order {
		env := f.envOf[name]
		if given[name] || env == "" {
			continue
		}
		v := f.getenv(env)
		if v == "" {
			continue
		}
		if err := f.fs.Set(name, v); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: not a valid %s", env, v, f.kind(name)))
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// Args returns the positional arguments, before or after the flags.
func (f *flags) Args() []string { return f.pos }

func (f *flags) kind(name string) string {
	fl := f.fs.Lookup(name)
	if fl == nil {
		return "value"
	}
	switch fl.Value.(flag.Getter).Get().(type) {
	case time.Duration:
		return "duration (like 90s, 2m, 1h)"
	case int, int64:
		return "integer"
	case float64:
		return "number"
	case bool:
		return "boolean (true or false)"
	}
	return "value"
}

// Usage prints the command's help: each flag with its environment
// variable, its default and what it does.
func (f *flags) Usage() {
	fmt.Fprintf(f.out, "Usage: %s %s\n\n%s\n", f.name, f.args, f.summary)
	if len(f.order) == 0 && len(f.envOnly) == 0 {
		return
	}
	fmt.Fprintf(f.out, "\nFlags (a flag wins over its environment variable):\n")
	tw := newTable(f.out)
	for _, name := range f.order {
		fl := f.fs.Lookup(name)
		typ := ""
		switch f.kind(name) {
		case "value":
			typ = " string"
		case "integer":
			typ = " int"
		case "number":
			typ = " float"
		case "boolean (true or false)":
			typ = ""
		default:
			typ = " duration"
		}
		env := f.envOf[name]
		if env == "" {
			env = "-"
		}
		def := ""
		if fl.DefValue != "" && fl.DefValue != "false" && fl.DefValue != "0" {
			def = fmt.Sprintf(" (default %s)", fl.DefValue)
		}
		usageRow(tw, "--"+name+typ, env, fl.Usage+def)
	}
	for _, e := range f.envOnly {
		usageRow(tw, "(environment only)", e.name, e.usage)
	}
	tw.Flush()
}

// usageRow writes one flag's row; a usage of several lines continues
// under its first, so the table keeps its columns.
func usageRow(tw io.Writer, flag, env, usage string) {
	lines := strings.Split(usage, "\n")
	fmt.Fprintf(tw, "  %s\t%s\t%s\n", flag, env, lines[0])
	for _, l := range lines[1:] {
		fmt.Fprintf(tw, "\t\t%s\n", l)
	}
}

// readSecret returns the secret from env, or from the file named by
// env_FILE (a flag may name the file too). The error names the variable or
// the file, never the value.
func readSecret(getenv func(string) string, env, file string) (string, error) {
	if v := getenv(env); v != "" {
		if file != "" {
			return "", fmt.Errorf("%s and %s_FILE are both set: use one", env, env)
		}
		return v, nil
	}
	if file == "" {
		return "", nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return "", fmt.Errorf("%s_FILE: read %s: %v", env, file, err)
	}
	v := strings.TrimSpace(string(b))
	if v == "" {
		return "", fmt.Errorf("%s_FILE: %s is empty", env, file)
	}
	return v, nil
}

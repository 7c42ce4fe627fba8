package main

import (
	"context"
	"fmt"

	"github.com/qoswatch/qoswatch/rules"
)

func cmdCheck(_ context.Context, c *cli, args []string) int {
	f := newFlags(c, "qoswatch check", "FILE...",
		"Checks rules files: exit 0 and a summary line per file, or exit 1 and every\nerror of every file, each as file:line:col: rule \"name\": what is wrong.")
	if code, done := parseOrExit(f, args); done {
		return code
	}
	files := f.Args()
	if len(files) == 0 {
		fmt.Fprintln(c.stderr, "qoswatch check: give at least one rules file (like rules.yaml)")
		return 2
	}
	code := 0
	for _, file := range files {
		set, err := rules.Load(file)
		if err != nil {
			fmt.Fprintln(c.stderr, err)
			code = 1
			continue
		}
		fmt.Fprintf(c.stdout, "%s: ok: %d rules\n", file, len(set.Rules()))
	}
	return code
}

func cmdTest(ctx context.Context, c *cli, args []string) int {
	f := newFlags(c, "qoswatch test", "FILE...",
		"Runs rule unit tests: each test file names a rules file, gives each participant\na series of values (one a minute) and the alerts expected at given minutes.\nPrints every failed expectation; exit 1 on any failure.")
	if code, done := parseOrExit(f, args); done {
		return code
	}
	if len(f.Args()) == 0 {
		fmt.Fprintln(c.stderr, "qoswatch test: give at least one test file (like rules.example.test.yaml)")
		return 2
	}
	return rules.RunTestFiles(ctx, c.stdout, f.Args()...)
}

// Package qoswatch holds what the binary embeds from the top of the
// repository, so `qoswatch demo` runs from any directory.
package qoswatch

import _ "embed"

// ExampleRules is rules.example.yaml: the starter rules the demo runs.
//
//go:embed rules.example.yaml
var ExampleRules []byte

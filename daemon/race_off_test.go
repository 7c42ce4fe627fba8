//go:build !race

package daemon

// demoSpeed is how fast the demo tests run simulated time (see
// race_on_test.go for the -race build's).
const demoSpeed = 60

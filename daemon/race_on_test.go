//go:build race

package daemon

// demoSpeed is how fast the demo tests run simulated time. The race
// detector makes the pipeline several times slower, and a demo that falls
// behind its clock fails its own check ("this machine may not keep up"),
// so under -race on a 2-core machine the demos run at half the speed.
const demoSpeed = 30

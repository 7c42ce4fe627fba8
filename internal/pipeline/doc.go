// Package pipeline holds no code of its own: its tests and benchmarks
// measure the daemon's hot path across packages, as issue 4 asks. One
// minute of a 10,000-participant webinar (1,000 QoS pages made by
// zoomtest) goes through zoom's PageDecoder, the 20 rules of a realistic
// rules file and the engine's lifecycle, on engine.MemoryStore and on the
// bbolt store (BenchmarkPipeline), against encoding/json's floor
// (BenchmarkDecodeFloor):
//
//	go test -run '^$' -bench 'Pipeline|DecodeFloor' -benchmem ./...
package pipeline

package store

import "github.com/prometheus/client_golang/prometheus"

// register puts the store's metrics on r. Their names and help texts are
// a public interface (docs/operations.md): keep them.
func (db *DB) register(r prometheus.Registerer) error {
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f)
	}
	counter := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, f)
	}
	cs := []prometheus.Collector{
		gauge("qoswatch_outbox_depth", "Notifications waiting for delivery.",
			func() float64 { return float64(db.outbox.Load()) }),
		gauge("qoswatch_store_file_size_bytes", "Size of the bbolt file.",
			func() float64 { return float64(max(db.fileSize(), 0)) }),
		counter("qoswatch_store_commits_total", "Engine commits (one write transaction each).",
			func() float64 { return float64(db.engine.Load()) }),
		counter("qoswatch_store_write_transactions_total", "All write transactions.",
			func() float64 { return float64(db.txs.Load()) }),
		counter("qoswatch_store_written_bytes_total", "Page bytes written.",
			func() float64 { return float64(db.Stats().BytesWritten) }),
		counter("qoswatch_store_page_writes_total", "Write calls to the file.",
			func() float64 { s := db.bolt.Stats(); return float64(s.TxStats.GetWrite()) }),
		counter("qoswatch_store_write_errors_total", "Write transactions the file refused (disk full, read-only, I/O error); nothing of them was saved.",
			func() float64 { return float64(db.writeErrs.Load()) }),
		gauge("qoswatch_store_writable", "1 when the store's last write transaction succeeded, 0 when the file refused it.",
			func() float64 {
				if db.WriteError() != nil {
					return 0
				}
				return 1
			}),
	}
	for i, c := range cs {
		if err := r.Register(c); err != nil {
			for _, done := range cs[:i] {
				r.Unregister(done)
			}
			return err
		}
	}
	db.collectors, db.registerer = cs, r
	return nil
}

// Package store keeps qoswatch's state in one bbolt file: alert states,
// participant cursors, silences, the notification outbox, Slack message
// refs and the poller's daily API spend.
//
// Every engine decision is one write transaction with fsync: what one
// Ingest decided is on disk entirely, or not at all.
package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/qoswatch/qoswatch/engine"
)

var (
	_ engine.Store  = (*DB)(nil)
	_ engine.Outbox = (*DB)(nil)
)

// FormatVersion is the layout of the file this release writes. A file with
// a newer version is refused; older ones are migrated on Open.
const FormatVersion = 1

// Buckets. Renaming one loses its data: don't.
var (
	bucketMeta      = []byte("meta")
	bucketAlerts    = []byte("alerts")     // rule/source/participant → Alert
	bucketCursors   = []byte("cursors")    // source/participant → Cursor
	bucketSilences  = []byte("silences")   // id → Silence
	bucketOutbox    = []byte("outbox")     // big-endian sequence → Notification
	bucketPending   = []byte("pending")    // alert key → outbox entries for it (uint64)
	bucketRefs      = []byte("refs")       // alert key → its first Slack message
	bucketGroupRefs = []byte("group_refs") // notifier's group key → grouped message
	bucketSpend     = []byte("spend")      // "2026-11-28" → API calls spent (uint64)

	allBuckets = [][]byte{bucketMeta, bucketAlerts, bucketCursors, bucketSilences, bucketOutbox,
		bucketPending, bucketRefs, bucketGroupRefs, bucketSpend}

	metaFormat = []byte("format_version")
)

// DefaultLockTimeout is how long Open waits for another process to let go
// of the file before it gives up with ErrLocked.
const DefaultLockTimeout = time.Second

// ErrLocked means another process has the file open.
var ErrLocked = errors.New("locked by another process")

// Options tune Open. The zero value is good.
type Options struct {
	// LockTimeout is how long to wait for the file lock; 0 means
	// DefaultLockTimeout.
	LockTimeout time.Duration
	// Now is the wall clock, for the age of group refs. Default time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// DB is the bbolt-backed store. It is safe for concurrent use.
type DB struct {
	bolt   *bolt.DB
	path   string
	page   int64 // bbolt page size
	now    func() time.Time
	log    *slog.Logger
	outbox atomic.Int64 // entries in the outbox
	txs    atomic.Int64 // write transactions committed
	engine atomic.Int64 // of which engine Commits
}

// Open opens (creating it 0600 if needed) the store at path. It fails with
// a clear error when another process holds the file (ErrLocked), when the
// file is not a qoswatch database, or when a newer release wrote it.
func Open(path string, opts Options) (*DB, error) {
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = DefaultLockTimeout
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.LockTimeout})
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return nil, fmt.Errorf("store: %s is %w (is another qoswatch running? waited %s)", path, ErrLocked, opts.LockTimeout)
	case errors.As(err, new(*fs.PathError)):
		return nil, fmt.Errorf("store: open %s: %w", path, err) // the OS error names the path
	case err != nil:
		// ErrInvalid, ErrChecksum, "file size too small", …
		return nil, fmt.Errorf("store: %s is not a qoswatch database (or is damaged): %w", path, err)
	}
	db := &DB{bolt: bdb, path: path, page: int64(bdb.Info().PageSize), now: opts.Now, log: opts.Logger.With("store", filepath.Base(path))}
	if err := db.init(); err != nil {
		bdb.Close()
		return nil, err
	}
	db.txs.Add(1)
	return db, nil
}

// init creates the buckets, checks the format version and counts the
// outbox.
func (db *DB) init() error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("store: %s: create bucket %s: %w", db.path, name, err)
			}
		}
		meta := tx.Bucket(bucketMeta)
		v := meta.Get(metaFormat)
		switch {
		case v == nil:
			if err := meta.Put(metaFormat, binary.BigEndian.AppendUint32(nil, FormatVersion)); err != nil {
				return fmt.Errorf("store: %s: %w", db.path, err)
			}
		case len(v) != 4:
			return fmt.Errorf("store: %s: format version is %d bytes, want 4: not a qoswatch database?", db.path, len(v))
		default:
			if got := binary.BigEndian.Uint32(v); got > FormatVersion {
				return fmt.Errorf("store: %s has format version %d, newer than this release reads (%d): upgrade qoswatch, or start from a backup", db.path, got, FormatVersion)
			}
			// Versions older than FormatVersion would be migrated here.
		}
		db.outbox.Store(int64(tx.Bucket(bucketOutbox).Stats().KeyN))
		return nil
	})
}

// Path is the file the store was opened from.
func (db *DB) Path() string { return db.path }

// Close releases the file and its lock.
func (db *DB) Close() error {
	if err := db.bolt.Close(); err != nil {
		return fmt.Errorf("store: close %s: %w", db.path, err)
	}
	return nil
}

// update runs one write transaction (fsynced) and counts it.
func (db *DB) update(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	if err := db.run(ctx, db.bolt.Update, fn); err != nil {
		return err
	}
	db.txs.Add(1)
	return nil
}

// view runs one read transaction.
func (db *DB) view(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	return db.run(ctx, db.bolt.View, fn)
}

// run runs fn in a transaction of tx (bbolt's Update or View), unless ctx
// is done, and names the file when it is closed.
func (db *DB) run(ctx context.Context, tx func(func(*bolt.Tx) error) error, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if err := tx(fn); err != nil {
		if errors.Is(err, berrors.ErrDatabaseNotOpen) {
			return fmt.Errorf("store: %s is closed: %w", db.path, err)
		}
		return err
	}
	return nil
}

// Stats are the store's counters, for metrics and the benchmark report.
type Stats struct {
	OutboxDepth  int64 // notifications waiting for delivery
	FileSize     int64 // bytes on disk
	Commits      int64 // engine Commits (one per Ingest)
	WriteTxs     int64 // all write transactions (commits, acks, silences, …)
	BytesWritten int64 // page bytes written by write transactions, meta pages included
	PageWrites   int64 // write calls to the file
}

// Stats returns the counters since Open.
func (db *DB) Stats() Stats {
	bs := db.bolt.Stats()
	s := Stats{
		OutboxDepth: db.outbox.Load(),
		Commits:     db.engine.Load(),
		WriteTxs:    db.txs.Load(),
		PageWrites:  bs.TxStats.GetWrite(),
	}
	// Every dirty page is allocated fresh (copy on write), and each commit
	// also writes one meta page.
	s.BytesWritten = bs.TxStats.GetPageAlloc() + s.WriteTxs*db.page
	if fi, err := os.Stat(db.path); err == nil {
		s.FileSize = fi.Size()
	}
	return s
}

// Backup writes a consistent copy of the whole file to w while the store
// stays in use (one read transaction; writers are not blocked). The copy
// opens with Open like the original.
func (db *DB) Backup(ctx context.Context, w io.Writer) (int64, error) {
	var n int64
	err := db.view(ctx, func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("store: backup of %s: %w", db.path, err)
	}
	return n, nil
}

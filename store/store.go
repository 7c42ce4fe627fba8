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
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/qoswatch/qoswatch/engine"
)

var (
	_ engine.Store  = (*DB)(nil)
	_ engine.Outbox = (*DB)(nil)
)

// FormatVersion is the layout of the file this release writes: records in
// JSON (format 1, qoswatch v0, had a positional binary codec). A file
// with another version is refused with what to do; none is migrated.
const FormatVersion = 2

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
	// jsonBuckets hold JSON records; the others big-endian counters, or
	// (inbox_seen) a bucket of keys per hour.
	jsonBuckets = [][]byte{bucketAlerts, bucketCursors, bucketSilences, bucketOutbox, bucketRefs, bucketGroupRefs, bucketInbox, bucketActions, bucketMinutes, bucketReports}

	// The marker: a file is qoswatch's when its meta bucket says so.
	metaFormat = []byte("format_version") // uint32, big-endian
	metaApp    = []byte("application")    // "qoswatch" (since format 2)
	appName    = []byte("qoswatch")
)

// DefaultLockTimeout is how long Open waits for another process to let go
// of the file before it gives up with ErrLocked.
const DefaultLockTimeout = time.Second

var (
	// ErrLocked means another process has the file open.
	ErrLocked = errors.New("locked by another process")
	// ErrDamaged means the file cannot be read as a database: truncated,
	// overwritten, or failing bbolt's consistency check.
	ErrDamaged = errors.New("damaged")
	// ErrNotQoswatch means the file is another program's (a bbolt file
	// without qoswatch's marker, or no bbolt file at all). It is left as
	// it is.
	ErrNotQoswatch = errors.New("not a qoswatch database")
	// ErrFormat means another release of qoswatch wrote the file in a
	// format this one does not read.
	ErrFormat = errors.New("written by another qoswatch release")
	// ErrWriteFailed is in the error of every write the file refused (a
	// full disk, a read-only mount, an I/O error). Nothing of that write
	// was saved; reads go on working, and writes work again once the
	// cause is gone.
	ErrWriteFailed = errors.New("write failed")
)

// damagedAdvice is what an operator can do about a damaged file.
const damagedAdvice = "restore the last `qoswatch backup` to this path, or move the file aside to start with an empty state"

// Options tune Open. The zero value is good.
type Options struct {
	// LockTimeout is how long to wait for the file lock; 0 means
	// DefaultLockTimeout.
	LockTimeout time.Duration
	// Clock is the wall clock, for the age of group refs. Default
	// engine.SystemClock.
	Clock  engine.Clock
	Logger *slog.Logger
	// Registerer, when set, gets the store's metrics; Close unregisters
	// them.
	Registerer prometheus.Registerer
	// OpenFile opens the file, as bbolt's option of that name (default
	// os.OpenFile). Tests use it to get a store whose writes the kernel
	// refuses (a read-only descriptor: TestWriteFailureNamesTheFile).
	OpenFile func(name string, flag int, perm os.FileMode) (*os.File, error)
}

// DB is the bbolt-backed store. It is safe for concurrent use.
type DB struct {
	bolt       *bolt.DB
	path       string
	page       int64 // bbolt page size
	now        func() time.Time
	log        *slog.Logger
	outbox     atomic.Int64          // entries in the outbox
	txs        atomic.Int64          // write transactions committed
	engine     atomic.Int64          // of which engine Commits
	writeErrs  atomic.Int64          // write transactions the file refused
	unwritable atomic.Pointer[error] // the last write's failure; nil once a write succeeds
	group      groupCommit           // batch's writers
	collectors []prometheus.Collector
	registerer prometheus.Registerer
}

// Open opens (creating it 0600 if needed) the store at path, after
// checking that it is whole: every page readable, every record JSON and
// bbolt's consistency check clean. It fails with a clear error that says
// what to do when another process holds the file (ErrLocked), when the
// file is damaged (ErrDamaged), another program's (ErrNotQoswatch), or
// written by a release in another format (ErrFormat). A file it refuses
// is not modified.
func Open(path string, opts Options) (*DB, error) {
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = DefaultLockTimeout
	}
	if opts.Clock == nil {
		opts.Clock = engine.SystemClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	openFile := opts.OpenFile
	if openFile == nil {
		openFile = os.OpenFile
	}
	// The file bbolt opened, so that a panic inside bolt.Open can still
	// close it (and release its lock).
	var file *os.File
	bopts := &bolt.Options{Timeout: opts.LockTimeout, OpenFile: func(name string, flag int, perm os.FileMode) (*os.File, error) {
		f, err := openFile(name, flag, perm)
		file = f
		return f, err
	}}
	var bdb *bolt.DB
	err := guard(func() (err error) {
		bdb, err = bolt.Open(path, 0o600, bopts)
		return err
	})
	switch {
	case err == nil:
	case errors.As(err, new(panicked)): // the file bbolt opened stays open
		if file != nil {
			file.Close()
		}
		return nil, fmt.Errorf("store: %s is %w (bbolt: %v): %s", path, ErrDamaged, err, damagedAdvice)
	case errors.Is(err, berrors.ErrTimeout):
		return nil, fmt.Errorf("store: %s is %w (is another qoswatch running? waited %s)", path, ErrLocked, opts.LockTimeout)
	case errors.As(err, new(*fs.PathError)):
		return nil, fmt.Errorf("store: open %s: %w", path, err) // the OS error names the path
	default:
		// ErrInvalid, ErrChecksum, ErrVersionMismatch, "file size too
		// small": not a bbolt file, or its first pages are damaged.
		return nil, fmt.Errorf("store: %s is %w, or is %w (%v): if it is qoswatch's, %s; if not, point QOSWATCH_DB elsewhere",
			path, ErrNotQoswatch, ErrDamaged, err, damagedAdvice)
	}
	db := &DB{bolt: bdb, path: path, page: int64(bdb.Info().PageSize), now: opts.Clock.Now,
		log: opts.Logger.With("store", filepath.Base(path))}
	if err := db.init(); err != nil {
		bdb.Close()
		return nil, err
	}
	if opts.Registerer != nil {
		if err := db.register(opts.Registerer); err != nil {
			bdb.Close()
			return nil, fmt.Errorf("store: %s: metrics: %w", path, err)
		}
	}
	return db, nil
}

// guard runs fn, turning a panic into a panicked error: bbolt panics on
// pages it cannot make sense of, and reading a page past the end of a
// truncated file is a memory fault, which SetPanicOnFault makes a panic
// of this goroutine. A damaged file must get an answer, not a crash.
func guard(fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if p := recover(); p != nil {
			err = panicked{p}
		}
	}()
	return fn()
}

// panicked is a panic guard recovered.
type panicked struct{ p any }

func (p panicked) Error() string { return fmt.Sprint(p.p) }

// fileKind is what init found in the file.
type fileKind int

const (
	fileEmpty   fileKind = iota // no bucket yet: a new file
	fileCurrent                 // FormatVersion
)

// init checks the file (see Open), creates the buckets of a new one and
// counts the outbox. It writes only to a new file.
func (db *DB) init() error {
	start := time.Now()
	var kind fileKind
	err := guard(func() error {
		return db.bolt.View(func(tx *bolt.Tx) error {
			var err error
			if err = db.checkSize(tx); err != nil {
				return err
			}
			if kind, err = db.identify(tx); err != nil || kind == fileEmpty {
				return err
			}
			if err := db.checkRecords(tx); err != nil {
				return err
			}
			// Every page was read above, in this goroutine; bbolt's own
			// check (free list, page references) runs in one of its own.
			var errs []error
			for err := range tx.Check() {
				errs = append(errs, err)
			}
			if len(errs) > 0 {
				return fmt.Errorf("store: %s is %w: bbolt's consistency check found %d problems, the first: %v: %s",
					db.path, ErrDamaged, len(errs), errs[0], damagedAdvice)
			}
			db.outbox.Store(int64(tx.Bucket(bucketOutbox).Stats().KeyN))
			return nil
		})
	})
	if err != nil {
		if errors.As(err, new(panicked)) {
			return fmt.Errorf("store: %s is %w (bbolt: %v): %s", db.path, ErrDamaged, err, damagedAdvice)
		}
		return err
	}
	if kind == fileEmpty {
		return db.update(context.Background(), func(tx *bolt.Tx) error {
			for _, name := range allBuckets {
				if _, err := tx.CreateBucket(name); err != nil {
					return fmt.Errorf("create bucket %s: %w", name, err)
				}
			}
			meta := tx.Bucket(bucketMeta)
			if err := meta.Put(metaFormat, binary.BigEndian.AppendUint32(nil, FormatVersion)); err != nil {
				return err
			}
			return meta.Put(metaApp, appName)
		})
	}
	db.log.Debug("opened and checked", "took", time.Since(start), "bytes", db.fileSize())
	return nil
}

// checkSize refuses a file shorter than its own pages reach: a truncated
// copy (a backup cut short, a full disk during a copy).
func (db *DB) checkSize(tx *bolt.Tx) error {
	size := db.fileSize()
	if size >= 0 && size < tx.Size() {
		return fmt.Errorf("store: %s is %w: it is %d bytes, but its pages reach %d (truncated): %s",
			db.path, ErrDamaged, size, tx.Size(), damagedAdvice)
	}
	return nil
}

// identify tells a new file, a qoswatch file of this format, and refuses
// everything else.
func (db *DB) identify(tx *bolt.Tx) (fileKind, error) {
	var names []string
	_ = tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
		names = append(names, string(name))
		return nil
	})
	if len(names) == 0 {
		return fileEmpty, nil
	}
	meta := tx.Bucket(bucketMeta)
	var v []byte
	if meta != nil {
		v = meta.Get(metaFormat)
	}
	if len(v) != 4 {
		if len(names) > 5 {
			names = append(names[:5], "…")
		}
		return 0, fmt.Errorf("store: %s is %w: it is a bbolt file of another program (buckets %s) and is left as it is: point QOSWATCH_DB at a new path",
			db.path, ErrNotQoswatch, strings.Join(names, ", "))
	}
	switch got := binary.BigEndian.Uint32(v); {
	case got == 1:
		return 0, fmt.Errorf("store: %s is %w: qoswatch v0 wrote it in file format 1, which this release (format %d) does not read. "+
			"To keep its state, run v0 until `qoswatch alerts` shows nothing firing and its outbox is empty (qoswatch_outbox_depth 0), "+
			"and write down its silences (`qoswatch silence list`); then move the file aside (mv %s %s.v0) and start this release: "+
			"it starts empty, so set the silences again; an alert still firing is told once more",
			db.path, ErrFormat, FormatVersion, db.path, db.path)
	case got > FormatVersion:
		return 0, fmt.Errorf("store: %s is %w: it has format version %d, newer than this release reads (%d): upgrade qoswatch, or restore a backup this release wrote",
			db.path, ErrFormat, got, FormatVersion)
	case got < FormatVersion || string(meta.Get(metaApp)) != string(appName):
		return 0, fmt.Errorf("store: %s is %w: its meta bucket has format version %d and application %q: point QOSWATCH_DB at a new path",
			db.path, ErrNotQoswatch, got, meta.Get(metaApp))
	}
	for _, name := range allBuckets {
		if tx.Bucket(name) == nil {
			return 0, fmt.Errorf("store: %s is %w: bucket %s is missing: %s", db.path, ErrDamaged, name, damagedAdvice)
		}
	}
	return fileCurrent, nil
}

// checkRecords reads every key and value of the file, nested buckets
// included: a page that cannot be read panics here, under guard, and a
// record that is not JSON is named by its bucket and key.
func (db *DB) checkRecords(tx *bolt.Tx) error {
	var walk func(b *bolt.Bucket, isJSON bool) error
	walk = func(b *bolt.Bucket, isJSON bool) error {
		return b.ForEach(func(k, v []byte) error {
			if v == nil { // a nested bucket
				return walk(b.Bucket(k), false)
			}
			if isJSON && !json.Valid(v) {
				return fmt.Errorf("%q is not a JSON record", k)
			}
			return nil
		})
	}
	return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
		isJSON := slices.ContainsFunc(jsonBuckets, func(j []byte) bool { return string(j) == string(name) })
		if err := walk(b, isJSON); err != nil {
			return fmt.Errorf("store: %s is %w: %s %v: %s", db.path, ErrDamaged, name, err, damagedAdvice)
		}
		return nil
	})
}

func (db *DB) fileSize() int64 {
	fi, err := os.Stat(db.path)
	if err != nil {
		return -1
	}
	return fi.Size()
}

// Path is the file the store was opened from.
func (db *DB) Path() string { return db.path }

// Close releases the file and its lock, and unregisters the metrics.
func (db *DB) Close() error {
	for _, c := range db.collectors {
		db.registerer.Unregister(c)
	}
	db.collectors = nil
	if err := db.bolt.Close(); err != nil {
		return fmt.Errorf("store: close %s: %w", db.path, err)
	}
	return nil
}

// update runs one write transaction (fsynced) and counts it. An error of
// fn rolls back and is returned as it is; a commit the file refused is
// ErrWriteFailed, named with the file, logged when the store turns
// unwritable and again when it recovers.
func (db *DB) update(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	tx, err := db.bolt.Begin(true)
	if err != nil {
		return db.closedErr(err)
	}
	defer tx.Rollback() // after a panic in fn, or an error; a no-op after Commit
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return db.writeFailed(err)
	}
	db.wrote()
	db.txs.Add(1)
	return nil
}

// batch is update for small writes that may share one transaction with
// concurrent callers, such as a burst of webhooks: group commit. A caller
// that finds no commit running leads one: once it holds the writer lock it
// takes every call waiting, its own included, and commits them together.
// Calls that arrive meanwhile wait and go together in the next commit, led
// by the first of them. So one fsync serves every caller that came during
// the previous one (or during an engine commit), and nobody waits for a
// timer (bbolt's Batch waits 10 ms for company, then queues its small
// batches on the writer lock, one fsync each). fn may run more than once:
// when one call's fn fails, the transaction is rolled back and run again
// without it.
func (db *DB) batch(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	c := &groupCall{fn: fn, turn: make(chan bool, 1)}
	g := &db.group
	g.mu.Lock()
	g.waiting = append(g.waiting, c)
	lead := !g.busy
	g.busy = true
	g.mu.Unlock()
	if !lead && <-c.turn { // done by another's commit
		return c.err
	}
	calls := db.commitGroup()
	g.mu.Lock()
	if len(g.waiting) > 0 {
		g.waiting[0].turn <- false // the first who waited leads the next commit
	} else {
		g.busy = false
	}
	g.mu.Unlock()
	for _, o := range calls {
		if o != c {
			o.turn <- true
		}
	}
	return c.err
}

// groupCommit is the state of batch's group commit.
type groupCommit struct {
	mu      sync.Mutex
	waiting []*groupCall
	busy    bool // a caller leads a commit
}

// groupCall is one batch call: its function, its result, and its turn:
// true when a commit has set err, false when it is to lead the next.
type groupCall struct {
	fn   func(tx *bolt.Tx) error
	err  error
	turn chan bool
}

// take returns the waiting calls and empties the queue.
func (g *groupCommit) take() []*groupCall {
	g.mu.Lock()
	defer g.mu.Unlock()
	calls := g.waiting
	g.waiting = nil
	return calls
}

// commitGroup takes the waiting calls once it holds the writer lock, runs
// their functions in one write transaction, sets each call's err and
// returns the calls. A function that fails (or panics) fails its own call
// only: the others are run again without it.
func (db *DB) commitGroup() []*groupCall {
	var all, todo []*groupCall
	taken := false
	for {
		failed := -1
		err := db.update(context.Background(), func(tx *bolt.Tx) error {
			if !taken {
				all, taken = db.group.take(), true
				todo = all
			}
			for i, c := range todo {
				if err := callSafely(c.fn, tx); err != nil {
					failed, c.err = i, err
					return err
				}
			}
			return nil
		})
		if !taken { // no transaction began (the store is closed)
			all, taken = db.group.take(), true
			todo = all
		}
		if failed < 0 {
			for _, c := range todo {
				c.err = err // nil, or the commit's failure
			}
			return all
		}
		todo = slices.Delete(slices.Clone(todo), failed, failed+1)
		if len(todo) == 0 {
			return all
		}
	}
}

// callSafely runs fn, turning a panic into an error of its call.
func callSafely(fn func(tx *bolt.Tx) error, tx *bolt.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("store: panic in a batched write: %v", p)
		}
	}()
	return fn(tx)
}

// writeFailed makes a commit the file refused ErrWriteFailed, named with
// the file, and notes that the store is unwritable (logged once).
func (db *DB) writeFailed(err error) error {
	db.writeErrs.Add(1)
	if pe := (*fs.PathError)(nil); errors.As(err, &pe) && pe.Path == db.path {
		err = fmt.Errorf("%s: %w", pe.Op, pe.Err) // the file is named once, below
	}
	err = fmt.Errorf("%s: %w (is the disk full or read-only?): %w", db.path, ErrWriteFailed, err)
	if db.unwritable.Swap(&err) == nil {
		db.log.Error("the store cannot write; nothing of the failed change was saved", "error", err)
	}
	return err
}

// wrote notes a successful write: the store is writable (again).
func (db *DB) wrote() {
	if db.unwritable.Swap(nil) != nil {
		db.log.Info("the store writes again")
	}
}

// WriteError is the failure of the last write transaction, or nil when it
// succeeded: for readiness checks. It stays set until a write succeeds.
func (db *DB) WriteError() error {
	if p := db.unwritable.Load(); p != nil {
		return *p
	}
	return nil
}

// view runs one read transaction.
func (db *DB) view(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return db.closedErr(db.bolt.View(fn))
}

// viewBucket runs fn in one read transaction on the bucket name; a bucket
// its first write has not created yet holds nothing, and fn is not run.
func (db *DB) viewBucket(ctx context.Context, name []byte, fn func(b *bolt.Bucket) error) error {
	return db.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(name)
		if b == nil {
			return nil
		}
		return fn(b)
	})
}

// closedErr names the file when bbolt says it is closed.
func (db *DB) closedErr(err error) error {
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return fmt.Errorf("store: %s is closed: %w", db.path, err)
	}
	return err
}

// Stats are the store's counters, for metrics and the benchmark report.
type Stats struct {
	OutboxDepth  int64 // notifications waiting for delivery
	FileSize     int64 // bytes on disk
	Commits      int64 // engine Commits (one per Ingest)
	WriteTxs     int64 // all write transactions (commits, acks, silences, …)
	BytesWritten int64 // page bytes written by write transactions, meta pages included
	PageWrites   int64 // write calls to the file
	WriteErrors  int64 // write transactions the file refused
}

// Stats returns the counters since Open.
func (db *DB) Stats() Stats {
	bs := db.bolt.Stats()
	s := Stats{
		OutboxDepth: db.outbox.Load(),
		Commits:     db.engine.Load(),
		WriteTxs:    db.txs.Load(),
		PageWrites:  bs.TxStats.GetWrite(),
		WriteErrors: db.writeErrs.Load(),
	}
	// Every dirty page is allocated fresh (copy on write), and each commit
	// also writes one meta page.
	s.BytesWritten = bs.TxStats.GetPageAlloc() + s.WriteTxs*db.page
	s.FileSize = max(db.fileSize(), 0)
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

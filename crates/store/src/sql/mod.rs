//! The SQL both engines run, written once, generic over sqlx's `Database`.
//!
//! Both SQLite and PostgreSQL accept `$n` placeholders, `ON CONFLICT ... DO
//! UPDATE`, `RETURNING`, partial indexes and row values, so one query text
//! serves both. What differs — how a transaction begins, how deliveries are
//! claimed, where the catalogue lives — is in the engine's [`Dialect`].
//!
//! Every operation runs inside a [`SqlTx`]: a sqlx transaction plus the
//! dialect. The trait bounds an engine must meet are spelled once, in the
//! `sql_impl!` macro, because Rust does not yet carry a trait's where-clauses
//! to its users.

mod auth;
mod gov;
mod org;
mod outbox;
mod signals;
mod work;

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::{Database, Pool, Row, SqlSafeStr};
use sqlx_core::transaction::TransactionManager;

use crate::ops::Tx;
use crate::{EngineKind, Result, Store, StoreError};

/// What differs between engines.
#[derive(Debug)]
pub struct Dialect {
    /// The engine.
    pub engine: EngineKind,
    /// How a reading transaction begins.
    pub begin_read: &'static str,
    /// How a writing transaction begins (SQLite: `BEGIN IMMEDIATE`, so that
    /// writers queue for the lock instead of failing to upgrade one).
    pub begin_write: &'static str,
    /// Appended to the claim query's inner SELECT (PostgreSQL: `FOR UPDATE
    /// SKIP LOCKED`, so that several servers claim different rows).
    pub claim_lock: &'static str,
    /// `(table, column)` rows of every application table, sorted.
    pub schema_query: &'static str,
    /// Whether writes whose outcome nothing waits for are sent together
    /// (SQLite: several statements in one hand-off to the connection's
    /// thread; see [`SqlTx::defer`]).
    pub batch_writes: bool,
    /// The rows of a JSON array of strings held in the text column `w.events`,
    /// as a table with the column `value`.
    pub webhook_events: &'static str,
    /// What goes before and after a bound UUID to make the id of the n-th
    /// delivery of an event (n from `row_number()`, in the webhooks' order):
    /// the bound id with its last two bytes replaced by n - 1.
    pub delivery_id: (&'static str, &'static str),
}

/// A store over one sqlx pool, or (SQLite) over connections of its own.
pub struct SqlStore<DB: Database> {
    pool: Pool<DB>,
    dialect: &'static Dialect,
    /// SQLite: connections held by the store itself rather than borrowed
    /// from the pool (see [`Local`]).
    local: Option<Local<DB>>,
}

/// Connections a store keeps for itself (SQLite): one writer, taken in
/// turn, and a set of readers.
///
/// sqlx's pool suits connections over a network. On SQLite each connection
/// is a worker thread in this process, and every statement is a hand-off to
/// it and back; the pool adds two more per transaction (a ping when the
/// connection is given back, the awaited rollback of a read). Here a
/// connection goes back to its set at once and a transaction that ends
/// without a commit is rolled back in the worker's queue, ahead of the next
/// statement, without waiting for it.
///
/// One connection writes, since SQLite lets one writer in at a time
/// anyway: this process's writers queue for it in memory, and each is woken
/// the moment the one before commits, rather than polling in SQLite's busy
/// handler in steps of up to 100 ms. Writers in other processes (an import
/// from the command line) still meet in the busy handler.
///
/// Writers that come while one is at work commit together (group commit):
/// each transaction's work is a savepoint inside one SQLite transaction,
/// and when a transaction commits while another waits for the writer, its
/// savepoint is released and the writer handed on with the SQLite
/// transaction still open; the last one of the group, with nobody left
/// waiting (or the group full), sends the COMMIT, and every member's
/// `commit()` returns then, with its outcome. A transaction that fails or
/// is rolled back is undone back to its savepoint and takes nothing of
/// the others' with it. Each commit writes the pages it changed to the
/// WAL: under load, the requests of a group change the same pages (the
/// newest rows of each table and index), and write them once.
struct Local<DB: Database> {
    writer: Slot<DB>,
    writing: Arc<Writing>,
    readers: Vec<Slot<DB>>,
    /// One per reader: a permit means one of them is free.
    permits: Arc<tokio::sync::Semaphore>,
}

/// What the store's writer shares with the transactions on it.
#[derive(Default)]
struct Writing {
    /// Set when a transaction on the writer was dropped open after some
    /// of it went out: whoever takes the writer next undoes it first
    /// ([`ABANDONED_SAVEPOINT`] or [`ABANDONED_FIRST`]).
    abandoned: std::sync::atomic::AtomicU8,
    /// Transactions waiting for the writer.
    waiting: std::sync::atomic::AtomicUsize,
    /// The group commit under way.
    group: std::sync::Mutex<Group>,
}

/// The work in the writer's open SQLite transaction, waiting for its
/// COMMIT.
#[derive(Default)]
struct Group {
    /// Whether a SQLite transaction is open on the writer (its BEGIN has
    /// gone out).
    open: bool,
    /// One per transaction whose work it holds: told how the COMMIT went.
    members: Vec<tokio::sync::oneshot::Sender<std::result::Result<(), String>>>,
}

/// Most transactions one COMMIT carries.
const GROUP: usize = 32;

/// Where each transaction that joins an open group begins, is let go into
/// it, and is undone. The one that begins the SQLite transaction needs no
/// savepoint: nothing is in the group before it, and a ROLLBACK undoes it
/// (a savepoint would also copy every page it changes, as it changes it,
/// to be able to go back: a cost for a long import).
const SAVEPOINT: &str = "SAVEPOINT tx";
const RELEASE: &str = "RELEASE tx";
const UNDO: &str = "ROLLBACK TO tx;\nRELEASE tx";

/// What was abandoned on the writer: a transaction in a savepoint, or the
/// one that began the SQLite transaction.
const ABANDONED_SAVEPOINT: u8 = 1;
const ABANDONED_FIRST: u8 = 2;

impl Writing {
    /// The group, whoever panicked while holding it (nothing does).
    fn group(&self) -> std::sync::MutexGuard<'_, Group> {
        self.group.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether another transaction waits for the writer.
    fn awaited(&self) -> bool {
        self.waiting.load(std::sync::atomic::Ordering::Acquire) > 0
    }

    /// The group is over (committed or rolled back): its members, to be
    /// told how.
    fn end_group(&self) -> Vec<tokio::sync::oneshot::Sender<std::result::Result<(), String>>> {
        let mut g = self.group();
        g.open = false;
        std::mem::take(&mut g.members)
    }
}

/// A place in the queue for the writer: counted while it waits, so that the
/// one at work knows to leave the group open for it. Given up before its
/// turn (a timeout, a caller gone), it makes sure that a group left open
/// for it is committed all the same.
struct Queued {
    writing: Arc<Writing>,
    waiting: bool,
    close: Closer,
}

impl<DB: Database> Local<DB>
where
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
{
    fn closer(&self) -> Closer {
        let (w, writer) = (self.writing.clone(), self.writer.clone());
        Box::new(move |now| close_in_background::<DB>(w.clone(), writer.clone(), now))
    }
}

/// Where one of a store's own connections lives; empty once the store is
/// closed.
type Slot<DB> = Arc<tokio::sync::Mutex<Option<<DB as Database>::Connection>>>;

/// A connection taken from its slot.
type Taken<DB> = tokio::sync::OwnedMappedMutexGuard<
    Option<<DB as Database>::Connection>,
    <DB as Database>::Connection,
>;

/// The connection in a locked slot; an empty slot is a closed store.
fn take<DB: Database>(
    slot: tokio::sync::OwnedMutexGuard<Option<DB::Connection>>,
) -> Result<Taken<DB>> {
    tokio::sync::OwnedMutexGuard::try_map(slot, |c| c.as_mut())
        .map_err(|_| StoreError::Unavailable("the database is closed".into()))
}

/// A connection taken from a store: what a transaction runs on.
enum Held<DB: Database> {
    Pooled(sqlx::pool::PoolConnection<DB>),
    Writer(Taken<DB>),
    Reader {
        conn: Taken<DB>,
        _permit: tokio::sync::OwnedSemaphorePermit,
    },
}

impl<DB: Database> std::ops::Deref for Held<DB> {
    type Target = DB::Connection;
    fn deref(&self) -> &DB::Connection {
        match self {
            Held::Pooled(c) => c,
            Held::Writer(c) | Held::Reader { conn: c, .. } => c,
        }
    }
}

impl<DB: Database> std::ops::DerefMut for Held<DB> {
    fn deref_mut(&mut self) -> &mut DB::Connection {
        match self {
            Held::Pooled(c) => c,
            Held::Writer(c) | Held::Reader { conn: c, .. } => c,
        }
    }
}

/// How long a transaction waits for a connection (SQLite: as long as its
/// busy timeout would have waited for the lock).
const WAIT: std::time::Duration = std::time::Duration::from_secs(10);

impl<DB: Database> SqlStore<DB> {
    /// A store over `pool`, speaking `dialect`.
    pub fn new(pool: Pool<DB>, dialect: &'static Dialect) -> Self {
        Self {
            pool,
            dialect,
            local: None,
        }
    }

    /// A store that runs its transactions on connections of its own: one
    /// `writer` and the `readers` (see [`Local`]); `pool` serves the rest
    /// (health checks, the schema listing).
    pub fn with_connections(
        pool: Pool<DB>,
        dialect: &'static Dialect,
        writer: DB::Connection,
        readers: Vec<DB::Connection>,
    ) -> Self {
        let permits = Arc::new(tokio::sync::Semaphore::new(readers.len()));
        Self {
            pool,
            dialect,
            local: Some(Local {
                writer: Arc::new(tokio::sync::Mutex::new(Some(writer))),
                writing: Arc::default(),
                readers: readers
                    .into_iter()
                    .map(|c| Arc::new(tokio::sync::Mutex::new(Some(c))))
                    .collect(),
                permits,
            }),
        }
    }

    /// The pool, for the engine's own needs (migrations).
    pub fn pool(&self) -> &Pool<DB> {
        &self.pool
    }
}

impl<DB: Database> fmt::Debug for SqlStore<DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlStore")
            .field("engine", &self.dialect.engine)
            .field("pooled", &self.pool.size())
            .field("own", &self.local.is_some())
            .finish()
    }
}

/// A transaction on one engine.
pub struct SqlTx<DB: Database> {
    tx: Held<DB>,
    dialect: &'static Dialect,
    /// Whether the transaction is still open: one dropped open is rolled
    /// back.
    open: bool,
    /// Writes deferred until the next statement or the commit, and how
    /// many (see [`SqlTx::defer`]).
    pending: Option<sqlx::QueryBuilder<DB>>,
    deferred: usize,
    /// How the transaction begins and ends: through sqlx's transaction
    /// manager, or (the store's own writer) in statements of its own.
    ends: Ends,
}

/// [`close_in_background`] for a store's writer, made where the bounds for
/// running a statement are known (`Drop` cannot carry them).
type Closer = Box<dyn Fn(bool) + Send>;

/// How the COMMIT of the group a transaction joined went.
type Joined = tokio::sync::oneshot::Receiver<std::result::Result<(), String>>;

/// How a transaction begins and ends.
enum Ends {
    /// Through sqlx: `BEGIN` is awaited; a transaction dropped open is
    /// rolled back in the connection's queue.
    Managed,
    /// The store's own writer (SQLite): a savepoint in the group's
    /// transaction (see [`Local`]). `BEGIN IMMEDIATE` (when no group is
    /// open: the transaction is then the group's first, with no savepoint)
    /// or `SAVEPOINT` go with the transaction's first statements, its
    /// `RELEASE` (and the group's `COMMIT`) with its last, rather than a
    /// hand-off each. `sent` says whether the first have gone out;
    /// `close` sees to the group (and to the transaction, dropped open);
    /// `first` says that it began the SQLite transaction (and has no
    /// savepoint).
    Own {
        sent: bool,
        close: Closer,
        writing: Arc<Writing>,
        first: bool,
    },
    /// No transaction: one statement, on its own (see
    /// [`Store::read_single`]); `ran` says whether it has run.
    Single { ran: bool },
}

impl<DB: Database> SqlTx<DB> {
    /// Begins a transaction with `statement` on `conn`.
    async fn begin(
        mut conn: Held<DB>,
        statement: &'static str,
        dialect: &'static Dialect,
    ) -> Result<Self> {
        <DB::TransactionManager as TransactionManager>::begin(
            &mut conn,
            Some(sqlx::AssertSqlSafe(statement).into_sql_str()),
        )
        .await?;
        Ok(Self {
            tx: conn,
            dialect,
            open: true,
            pending: None,
            deferred: 0,
            ends: Ends::Managed,
        })
    }

    /// A single statement's read on `conn`: nothing to begin or end.
    fn single(conn: Held<DB>, dialect: &'static Dialect) -> Self {
        Self {
            tx: conn,
            dialect,
            open: false,
            pending: None,
            deferred: 0,
            ends: Ends::Single { ran: false },
        }
    }

    /// The writes deferred so far, ready for one more statement.
    fn batch(&mut self) -> &mut sqlx::QueryBuilder<DB> {
        let q = self
            .pending
            .get_or_insert_with(|| sqlx::QueryBuilder::new(""));
        then(q);
        q
    }
}

/// Ends the statement a batch holds so far, if any: the next one follows.
fn then<DB: Database>(q: &mut sqlx::QueryBuilder<DB>) {
    if !q.sql().as_str().is_empty() {
        q.push(";\n");
    }
}

/// Undoes the transaction the writer was dropped with, if one was.
async fn roll_back_abandoned<DB: Database>(w: &Writing, conn: &mut DB::Connection)
where
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
{
    match w.abandoned.swap(0, std::sync::atomic::Ordering::AcqRel) {
        ABANDONED_SAVEPOINT => {
            if let Err(e) = sqlx::query(UNDO).execute(&mut *conn).await {
                tracing::warn!(error = %e, "cannot roll back an abandoned write");
                abort_group::<DB>(w, conn, &e.to_string()).await;
            }
        }
        ABANDONED_FIRST => abort_group::<DB>(w, conn, "rolled back").await,
        _ => {}
    }
}

/// Rolls back the writer's open transaction, if any, and tells the group's
/// members that their work is lost (the database failed under it: a
/// statement SQLite answers by rolling back the whole transaction, a
/// COMMIT that could not be written).
async fn abort_group<DB: Database>(w: &Writing, conn: &mut DB::Connection, why: &str)
where
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
{
    // Fails harmlessly when SQLite has already rolled it back.
    let _ = sqlx::query("ROLLBACK").execute(conn).await;
    for m in w.end_group() {
        let _ = m.send(Err(why.to_owned()));
    }
}

/// Commits the writer's open transaction, if any, and tells the group's
/// members how it went.
async fn commit_group<DB: Database>(w: &Writing, conn: &mut DB::Connection) -> Result<()>
where
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
{
    if !w.group().open {
        return Ok(());
    }
    match sqlx::query("COMMIT").execute(&mut *conn).await {
        Ok(_) => {
            for m in w.end_group() {
                let _ = m.send(Ok(()));
            }
            Ok(())
        }
        Err(e) => {
            abort_group::<DB>(w, conn, &e.to_string()).await;
            Err(e.into())
        }
    }
}

/// Takes the writer in a task of its own to undo what was abandoned and
/// commit the group: should nobody else come for it, or (`now`) at once.
/// A task, so that a caller who goes away half-way (a client that hangs
/// up) cannot leave a group uncommitted and its members waiting.
fn close_in_background<DB: Database>(w: Arc<Writing>, writer: Slot<DB>, now: bool)
where
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
{
    if let Ok(rt) = tokio::runtime::Handle::try_current() {
        rt.spawn(async move {
            if let Some(conn) = writer.lock_owned().await.as_mut() {
                roll_back_abandoned::<DB>(&w, conn).await;
                if (now || !w.awaited())
                    && let Err(e) = commit_group::<DB>(&w, conn).await
                {
                    tracing::warn!(error = %e, "cannot commit the writes of a group");
                }
            }
        });
    }
}

impl Queued {
    fn new(writing: Arc<Writing>, close: Closer) -> Self {
        writing
            .waiting
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        Self {
            writing,
            waiting: true,
            close,
        }
    }

    /// Its turn has come: no longer waiting.
    fn arrived(mut self) {
        self.leave_queue();
    }

    fn leave_queue(&mut self) {
        if std::mem::take(&mut self.waiting) {
            self.writing
                .waiting
                .fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
        }
    }
}

impl Drop for Queued {
    fn drop(&mut self) {
        if !self.waiting {
            return;
        }
        self.leave_queue();
        if self.writing.group().open {
            (self.close)(false);
        }
    }
}

/// Most writes one batch carries before it is sent.
const BATCH: usize = 32;

impl<DB: Database> SqlTx<DB>
where
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
{
    /// The rows `select` finds for each of `ids`: `select` ends in
    /// `WHERE <column> IN (`, and the ids are sent in chunks of the shapes
    /// [`shaped_chunks`] makes (repeats are asked once).
    pub(crate) async fn rows_for_ids(
        &mut self,
        select: &str,
        ids: impl IntoIterator<Item = uuid::Uuid>,
    ) -> Result<Vec<DB::Row>>
    where
        for<'q> uuid::Uuid: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    {
        let ids: Vec<uuid::Uuid> = ids
            .into_iter()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut out = Vec::new();
        for chunk in shaped_chunks(&ids, ROWS_PER_STATEMENT) {
            let mut q = sqlx::QueryBuilder::<DB>::new(select);
            let mut sep = q.separated(", ");
            for id in chunk {
                sep.push_bind(*id);
            }
            q.push(")");
            out.extend(q.build().fetch_all(self.conn().await?).await?);
        }
        Ok(out)
    }

    /// The connection, once the writes deferred so far have run: every
    /// statement goes through here, so a transaction reads its own writes.
    pub(crate) async fn conn(&mut self) -> Result<&mut DB::Connection> {
        if let Ends::Single { ran } = &mut self.ends {
            debug_assert!(
                !*ran,
                "a second statement on a read_single: it needs read()"
            );
            *ran = true;
        }
        if let Some(mut q) = self.pending.take() {
            self.deferred = 0;
            self.mark_sent();
            q.build().execute(&mut *self.tx).await?;
        }
        Ok(&mut self.tx)
    }

    /// Records that the BEGIN has gone out (or is about to: a batch that
    /// fails part-way may have begun the transaction, and a ROLLBACK with
    /// nothing to undo is harmless).
    fn mark_sent(&mut self) {
        if let Ends::Own { sent, writing, .. } = &mut self.ends
            && !std::mem::replace(sent, true)
        {
            writing.group().open = true;
        }
    }

    /// Has the group committed by a task of its own, once this
    /// transaction has given the writer back: at once (`now`), or should
    /// nobody be waiting to join it.
    fn close_later(&self, now: bool) {
        if let Ends::Own { close, writing, .. } = &self.ends
            && writing.group().open
            && (now || !writing.awaited())
        {
            close(now);
        }
    }

    /// A transaction on the store's own writer: nothing is sent yet. It
    /// begins the group's SQLite transaction with `statement`, or joins
    /// the one open.
    fn begin_own(
        guard: Taken<DB>,
        statement: &'static str,
        dialect: &'static Dialect,
        local: &Local<DB>,
    ) -> Self {
        let writing = local.writing.clone();
        let first = !writing.group().open;
        debug_assert!(!first || writing.group().members.is_empty());
        Self {
            tx: Held::Writer(guard),
            dialect,
            open: true,
            pending: Some(sqlx::QueryBuilder::new(if first {
                statement
            } else {
                SAVEPOINT
            })),
            deferred: 0,
            ends: Ends::Own {
                sent: false,
                close: local.closer(),
                writing,
                first,
            },
        }
    }

    /// Ends the transaction: sqlx's COMMIT, or ours with the last writes.
    /// On the store's writer, the transaction may join the group instead:
    /// what is returned then tells how the group's COMMIT went, once the
    /// writer has been given back.
    ///
    /// Until it has ended, the transaction stays open: should a deferred
    /// write, or our ROLLBACK after it, fail, dropping it rolls it back.
    async fn finish(&mut self) -> Result<Option<Joined>> {
        match &self.ends {
            Ends::Managed => {
                self.conn().await?;
                // Open until the COMMIT is through: should it fail, or its
                // caller go away half-way, the drop rolls back, and the
                // connection goes back to the pool with no transaction.
                <DB::TransactionManager as TransactionManager>::commit(&mut self.tx).await?;
                self.open = false;
            }
            Ends::Single { .. } => {
                if self.pending.is_some() {
                    self.conn().await?;
                }
                self.open = false;
            }
            Ends::Own {
                sent,
                writing,
                first,
                ..
            } => {
                let (w, first) = (writing.clone(), *first);
                // Dropped half-way (a caller gone while a statement is
                // out), the transaction is still open: the drop hands it
                // to whoever takes the writer next, to be undone. Once it
                // is over, what is left to do for the group is done by a
                // task of its own (`close_later`).
                if !*sent && self.deferred == 0 {
                    // Nothing was sent and nothing written.
                    self.pending = None;
                    self.open = false;
                    self.close_later(false);
                    return Ok(None);
                }
                if !first {
                    self.batch().push(RELEASE);
                }
                let members = w.group().members.len();
                let join = w.awaited() && members + 1 < GROUP;
                // Alone (and so the group's first): released and committed
                // in one hand-off.
                let alone = !join && members == 0;
                if alone {
                    self.batch().push("COMMIT");
                }
                if let Err(e) = self.conn().await.map(|_| ()) {
                    // Undone alone: the group's work stays.
                    let _ = self.undo_own(&e.to_string()).await;
                    return Err(e);
                }
                self.open = false;
                if alone {
                    w.group().open = false;
                    return Ok(None);
                }
                let (told, joined) = tokio::sync::oneshot::channel();
                w.group().members.push(told);
                if !join {
                    // Nobody left to join (or the group is full).
                    self.close_later(true);
                }
                return Ok(Some(joined));
            }
        }
        Ok(None)
    }

    /// Undoes the transaction (left open, for the drop, if that fails).
    async fn undo(&mut self) -> Result<()> {
        self.pending = None;
        match &self.ends {
            Ends::Managed => {
                // Open until the ROLLBACK is through (see `finish`).
                <DB::TransactionManager as TransactionManager>::rollback(&mut self.tx).await?;
                self.open = false;
            }
            Ends::Single { .. } => self.open = false,
            Ends::Own { sent: true, .. } => self.undo_own("rolled back").await?,
            Ends::Own { .. } => {
                self.open = false;
                self.close_later(false);
            }
        }
        Ok(())
    }

    /// Undoes a transaction on the store's writer that has gone out: the
    /// group's first is rolled back (nothing else is in the group yet),
    /// any other back to its savepoint. Open until that is through: a
    /// caller gone half-way leaves it to the drop. Should the undo fail,
    /// the whole group is rolled back and its members told so (a
    /// first's group has no members: `why` is for the log).
    async fn undo_own(&mut self, why: &str) -> Result<()> {
        let Ends::Own { writing, first, .. } = &self.ends else {
            return Ok(());
        };
        let (w, first) = (writing.clone(), *first);
        let undone = if first {
            abort_group::<DB>(&w, &mut self.tx, why).await;
            Ok(())
        } else {
            match sqlx::query(UNDO).execute(&mut *self.tx).await {
                Ok(_) => {
                    self.close_later(false);
                    Ok(())
                }
                Err(e) => {
                    abort_group::<DB>(&w, &mut self.tx, &e.to_string()).await;
                    Err(e.into())
                }
            }
        };
        self.open = false;
        undone
    }

    /// A write whose outcome nothing waits for: an INSERT without
    /// RETURNING, built by `build` into a query of its own (placeholders
    /// numbered by the builder). On SQLite it joins the writes deferred
    /// before it and they run as one batch, one hand-off to the
    /// connection's thread instead of one each, before the transaction's
    /// next statement or its commit; a failure (a constraint) surfaces
    /// there, and fails the transaction all the same. Elsewhere it runs at
    /// once.
    pub(crate) async fn defer(
        &mut self,
        build: impl FnOnce(&mut sqlx::QueryBuilder<DB>),
    ) -> Result<()> {
        if !self.dialect.batch_writes {
            let mut q = sqlx::QueryBuilder::new("");
            build(&mut q);
            q.build().execute(&mut *self.tx).await?;
            return Ok(());
        }
        if self.deferred >= BATCH {
            self.conn().await?;
        }
        build(self.batch());
        self.deferred += 1;
        Ok(())
    }

    /// Rows of a statement built by `build`, sent in the same hand-off as
    /// the writes deferred before it (they return no rows).
    pub(crate) async fn fetch_after_deferred(
        &mut self,
        build: impl FnOnce(&mut sqlx::QueryBuilder<DB>),
    ) -> Result<Vec<DB::Row>> {
        let mut q = self
            .pending
            .take()
            .unwrap_or_else(|| sqlx::QueryBuilder::new(""));
        then(&mut q);
        build(&mut q);
        self.deferred = 0;
        self.mark_sent();
        Ok(q.build().fetch_all(&mut *self.tx).await?)
    }
}

impl<DB: Database> Drop for SqlTx<DB> {
    fn drop(&mut self) {
        if !self.open {
            return;
        }
        match &mut self.ends {
            // Queued on the connection, ahead of whatever it runs next;
            // nobody waits for it.
            Ends::Managed => {
                <DB::TransactionManager as TransactionManager>::start_rollback(&mut self.tx)
            }
            Ends::Single { .. } => {}
            Ends::Own {
                sent,
                close,
                writing,
                first,
            } => {
                // Marked before the writer is given back: whoever takes it
                // next undoes it first. Should nobody want it, a task
                // takes it for that and commits the group, so that neither
                // the group waits nor SQLite's lock is kept from other
                // processes.
                if *sent {
                    let what = if *first {
                        ABANDONED_FIRST
                    } else {
                        ABANDONED_SAVEPOINT
                    };
                    writing
                        .abandoned
                        .store(what, std::sync::atomic::Ordering::Release);
                }
                if *sent || writing.group().open {
                    close(false);
                }
            }
        }
    }
}

impl<DB: Database> fmt::Debug for SqlTx<DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlTx")
            .field("engine", &self.dialect.engine)
            .finish()
    }
}

/// Implements a trait for a generic type over every engine that meets the
/// bounds the shared SQL needs.
macro_rules! sql_impl {
    ($trait:path, $ty:ident { $($body:tt)* }) => {
        #[async_trait::async_trait]
        impl<DB> $trait for $ty<DB>
        where
            DB: sqlx::Database,
            for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
            for<'c> &'c sqlx::Pool<DB>: sqlx::Executor<'c, Database = DB>,
            DB::Arguments: sqlx::IntoArguments<DB>,
            for<'q> uuid::Uuid: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
            for<'q> String: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
            for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
            for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
            for<'q> f64: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
            for<'q> bool: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
            for<'q> Vec<u8>: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
            for<'q> chrono::DateTime<chrono::Utc>: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
            for<'q> chrono::NaiveDate: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
            for<'q> Option<uuid::Uuid>: sqlx::Encode<'q, DB>,
            for<'q> Option<String>: sqlx::Encode<'q, DB>,
            for<'q> Option<&'q str>: sqlx::Encode<'q, DB>,
            for<'q> Option<i64>: sqlx::Encode<'q, DB>,
            for<'q> Option<f64>: sqlx::Encode<'q, DB>,
            for<'q> Option<chrono::DateTime<chrono::Utc>>: sqlx::Encode<'q, DB>,
            for<'q> Option<chrono::NaiveDate>: sqlx::Encode<'q, DB>,
            for<'a> &'a str: sqlx::ColumnIndex<DB::Row>,
            usize: sqlx::ColumnIndex<DB::Row>,
        {
            $($body)*
        }
    };
}
pub(crate) use sql_impl;

impl<DB: Database> SqlStore<DB> {
    /// A connection to read on: one of the store's readers, or the pool's.
    async fn reader(&self) -> Result<Held<DB>> {
        Ok(match &self.local {
            None => Held::Pooled(self.pool.acquire().await?),
            Some(l) => {
                let permit = tokio::time::timeout(WAIT, l.permits.clone().acquire_owned())
                    .await
                    .map_err(|_| {
                        StoreError::Unavailable(
                            "the database is busy: no connection to read on within 10 s".into(),
                        )
                    })?
                    .map_err(|_| StoreError::Unavailable("the database is closed".into()))?;
                // A permit means a reader is free.
                let slot = l
                    .readers
                    .iter()
                    .find_map(|r| r.clone().try_lock_owned().ok())
                    .ok_or_else(|| StoreError::Other("no free reader for a read permit".into()))?;
                Held::Reader {
                    conn: take::<DB>(slot)?,
                    _permit: permit,
                }
            }
        })
    }
}

impl<DB: Database> SqlStore<DB>
where
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
{
    /// A writing transaction; `long`: one that does not join the group
    /// under way on the store's writer (see [`Store::write_long`]).
    async fn writing(&self, long: bool) -> Result<SqlTx<DB>> {
        match &self.local {
            None => {
                let conn = Held::Pooled(self.pool.acquire().await?);
                SqlTx::begin(conn, self.dialect.begin_write, self.dialect).await
            }
            Some(l) => {
                let queued = Queued::new(l.writing.clone(), l.closer());
                let slot = tokio::time::timeout(WAIT, l.writer.clone().lock_owned())
                    .await
                    .map_err(|_| {
                        StoreError::Unavailable(
                            "the database is busy: another write did not finish within 10 s".into(),
                        )
                    })?;
                queued.arrived();
                let mut guard = take::<DB>(slot)?;
                roll_back_abandoned::<DB>(&l.writing, &mut guard).await;
                if long && l.writing.group().open {
                    // In a task that holds the writer: a caller gone
                    // half-way cannot leave the group's members waiting.
                    let w = l.writing.clone();
                    let (back, ended) = tokio::spawn(async move {
                        let ended = commit_group::<DB>(&w, &mut guard).await;
                        (guard, ended)
                    })
                    .await
                    .map_err(|e| StoreError::Other(format!("the commit of a group failed: {e}")))?;
                    guard = back;
                    ended?;
                }
                Ok(SqlTx::begin_own(
                    guard,
                    self.dialect.begin_write,
                    self.dialect,
                    l,
                ))
            }
        }
    }
}

sql_impl!(Store, SqlStore {
    fn engine(&self) -> EngineKind {
        self.dialect.engine
    }

    async fn read(&self) -> Result<Box<dyn Tx>> {
        let conn = self.reader().await?;
        Ok(Box::new(SqlTx::begin(conn, self.dialect.begin_read, self.dialect).await?))
    }

    async fn read_single(&self) -> Result<Box<dyn Tx>> {
        Ok(Box::new(SqlTx::single(self.reader().await?, self.dialect)))
    }

    async fn write(&self) -> Result<Box<dyn Tx>> {
        Ok(Box::new(self.writing(false).await?))
    }

    async fn write_long(&self) -> Result<Box<dyn Tx>> {
        Ok(Box::new(self.writing(true).await?))
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn close(&self) {
        if let Some(l) = &self.local {
            // No more reads; each connection closes once its transaction
            // is through (SQLite folds the WAL back into the file when the
            // last one closes).
            l.permits.close();
            // The writes of a group under way are committed first.
            if let Some(conn) = l.writer.lock().await.as_mut() {
                roll_back_abandoned::<DB>(&l.writing, conn).await;
                if let Err(e) = commit_group::<DB>(&l.writing, conn).await {
                    tracing::warn!(error = %e, "cannot commit the writes of a group");
                }
            }
            for slot in l.readers.iter().chain([&l.writer]) {
                if let Some(c) = slot.lock().await.take()
                    && let Err(e) = sqlx::Connection::close(c).await
                {
                    tracing::warn!(error = %e, "cannot close a connection");
                }
            }
        }
        self.pool.close().await;
    }

    async fn schema(&self) -> Result<Vec<(String, Vec<String>)>> {
        let rows = sqlx::query(self.dialect.schema_query).fetch_all(&self.pool).await?;
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        for row in rows {
            let table: String = row.try_get(0)?;
            let column: String = row.try_get(1)?;
            match out.last_mut() {
                Some((t, cols)) if *t == table => cols.push(column),
                _ => out.push((table, vec![column])),
            }
        }
        for (_, cols) in &mut out {
            cols.sort();
        }
        out.sort();
        Ok(out)
    }
});

sql_impl!(Tx, SqlTx {
    async fn commit(mut self: Box<Self>) -> Result<()> {
        let joined = self.finish().await?;
        // The writer goes to the next transaction of the group.
        drop(self);
        match joined {
            None => Ok(()),
            Some(joined) => match joined.await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(why)) => Err(StoreError::Other(format!("the commit failed: {why}"))),
                Err(_) => Err(StoreError::Other(
                    "the commit's outcome is unknown: its group was dropped".into(),
                )),
            },
        }
    }

    async fn rollback(mut self: Box<Self>) -> Result<()> {
        self.undo().await
    }
});

// ---------------------------------------------------------------------------
// Encoding helpers shared by the areas.

/// A unit-variant enum as its serde name (`needs_exception`).
#[cfg(test)]
pub(crate) fn enum_str<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        // Only unit-variant enums are stored this way; anything else is a
        // programming error caught by the round-trip tests.
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

/// A unit-variant enum from its serde name.
pub(crate) fn parse_enum<T: DeserializeOwned>(s: &str, what: &str) -> Result<T> {
    T::deserialize(serde::de::value::StrDeserializer::<serde::de::value::Error>::new(s))
        .map_err(|_| StoreError::Other(format!("stored {what} {s:?} is not valid")))
}

/// A value parsed by its own validating constructor.
pub(crate) fn parse_with<T, E>(
    s: &str,
    what: &str,
    f: impl FnOnce(&str) -> std::result::Result<T, E>,
) -> Result<T> {
    f(s).map_err(|_| StoreError::Other(format!("stored {what} {s:?} is not valid")))
}

/// JSON text of a value.
pub(crate) fn json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Other(format!("cannot encode: {e}")))
}

/// A value from JSON text.
pub(crate) fn from_json<T: DeserializeOwned>(s: &str) -> Result<T> {
    Ok(serde_json::from_str(s)?)
}

/// Opaque cursors: hex of the text they stand for.
pub(crate) fn encode_cursor(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for b in s.bytes() {
        use std::fmt::Write;
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// The text a cursor stands for; a malformed cursor is `Invalid`.
pub(crate) fn decode_cursor(c: &str) -> Result<String> {
    let bad = || StoreError::Invalid(format!("malformed page cursor {c:?}"));
    if !c.len().is_multiple_of(2) || c.len() > 1024 {
        return Err(bad());
    }
    let bytes: std::result::Result<Vec<u8>, _> = (0..c.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(c.get(i..i + 2).unwrap_or("zz"), 16))
        .collect();
    String::from_utf8(bytes.map_err(|_| bad())?).map_err(|_| bad())
}

/// A cursor made of a sort key and an id, for lists ordered by name.
pub(crate) fn name_cursor(name: &str, id: uuid::Uuid) -> String {
    encode_cursor(&format!("{id}\u{1f}{name}"))
}

/// The sort key and id of a name cursor.
pub(crate) fn parse_name_cursor(c: &str) -> Result<(String, uuid::Uuid)> {
    let text = decode_cursor(c)?;
    let (id, name) = text
        .split_once('\u{1f}')
        .ok_or_else(|| StoreError::Invalid(format!("malformed page cursor {c:?}")))?;
    let id = id
        .parse()
        .map_err(|_| StoreError::Invalid(format!("malformed page cursor {c:?}")))?;
    Ok((name.to_owned(), id))
}

/// The id a cursor stands for, for lists ordered by id.
pub(crate) fn id_cursor(c: &str) -> Result<uuid::Uuid> {
    decode_cursor(c)?
        .parse()
        .map_err(|_| StoreError::Invalid(format!("malformed page cursor {c:?}")))
}

/// Splits a fetched `limit + 1` rows into a page.
pub(crate) fn page_of<T>(
    mut items: Vec<T>,
    limit: i64,
    cursor: impl Fn(&T) -> String,
) -> crate::Page<T> {
    let limit = usize::try_from(limit).unwrap_or(50);
    let next = if items.len() > limit {
        items.truncate(limit);
        items.last().map(&cursor)
    } else {
        None
    };
    crate::Page { items, next }
}

/// Most rows one multi-row INSERT carries: with at most 19 values a row,
/// a statement stays under SQLite's 32,766 variables (PostgreSQL allows
/// 65,535). A power of two, for [`shaped_chunks`].
pub(crate) const ROWS_PER_STATEMENT: usize = 1024;

/// Splits rows into runs for multi-row statements: `max` rows at a time,
/// then the rest in power-of-two runs (a remainder of 300 is 256, 32, 8
/// and 4). Every statement then has one of a dozen shapes, which the
/// connection's statement cache keeps prepared. Remainders of every length
/// would each be parsed anew (a 19,000-variable INSERT takes about a
/// millisecond to prepare) and fill the cache with large statements used
/// once: on a long import, hundreds of megabytes.
pub(crate) fn shaped_chunks<T>(items: &[T], max: usize) -> Vec<&[T]> {
    let mut out = Vec::with_capacity(items.len() / max.max(1) + 12);
    let mut rest = items;
    while !rest.is_empty() {
        let n = if rest.len() >= max {
            max
        } else {
            // The largest power of two that fits.
            1 << (usize::BITS - 1 - rest.len().leading_zeros())
        };
        let (run, tail) = rest.split_at(n.min(rest.len()));
        out.push(run);
        rest = tail;
    }
    out
}

/// Runs the statements `build` makes of `jobs`, in order, building the
/// next while the database runs the current one: both engines execute on a
/// thread of their own, so encoding and executing overlap. Bulk writes
/// (imports, the demo) spend about as long on each.
pub(crate) async fn pipelined<DB, J>(
    conn: &mut DB::Connection,
    jobs: &[J],
    build: impl Fn(&J) -> Result<sqlx::QueryBuilder<DB>>,
) -> Result<()>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
{
    let mut pending = jobs.first().map(&build).transpose()?;
    let mut next = 1;
    while let Some(mut q) = pending.take() {
        let job = jobs.get(next);
        next += 1;
        let (done, built) = futures_util::join!(q.build().execute(&mut *conn), async {
            job.map(&build).transpose()
        });
        done?;
        pending = built?;
    }
    Ok(())
}

/// The current time, as stored (microseconds).
pub(crate) fn now() -> DateTime<Utc> {
    crate::micros(Utc::now())
}

/// A meeting's time as its engine keeps it, in the `meetings` and
/// `meeting_people` tables: PostgreSQL as `timestamptz`, SQLite as integer
/// microseconds since the epoch (migration 0006). sqlx writes a time to
/// SQLite as RFC 3339 text, 32 bytes against 8, in tables a calendar import
/// writes a million rows to, one of them keyed by the time; the text is
/// also formatted for each row and compared a character at a time.
///
/// Made by [`Dialect::stamp`]; read back by [`RowExt::stamp`], which also
/// takes the text form.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Stamp {
    Micros(Option<i64>),
    Time(Option<DateTime<Utc>>),
}

impl Dialect {
    /// A time (or none) as this engine keeps a meeting's (see [`Stamp`]).
    pub(crate) fn stamp(&self, t: impl Into<Option<DateTime<Utc>>>) -> Stamp {
        let t = t.into();
        match self.engine {
            EngineKind::Sqlite => Stamp::Micros(t.map(|t| t.timestamp_micros())),
            EngineKind::Postgres => Stamp::Time(t),
        }
    }
}

impl Stamp {
    fn time(self) -> Result<Option<DateTime<Utc>>> {
        match self {
            Stamp::Time(t) => Ok(t),
            Stamp::Micros(None) => Ok(None),
            Stamp::Micros(Some(n)) => DateTime::from_timestamp_micros(n)
                .map(Some)
                .ok_or_else(|| StoreError::Other(format!("stored time {n} is out of range"))),
        }
    }
}

impl<DB: Database> sqlx::Type<DB> for Stamp
where
    i64: sqlx::Type<DB>,
    DateTime<Utc>: sqlx::Type<DB>,
{
    fn type_info() -> DB::TypeInfo {
        <DateTime<Utc> as sqlx::Type<DB>>::type_info()
    }

    fn compatible(ty: &DB::TypeInfo) -> bool {
        <i64 as sqlx::Type<DB>>::compatible(ty) || <DateTime<Utc> as sqlx::Type<DB>>::compatible(ty)
    }
}

impl<'q, DB: Database> sqlx::Encode<'q, DB> for Stamp
where
    i64: sqlx::Type<DB>,
    DateTime<Utc>: sqlx::Type<DB>,
    Option<i64>: sqlx::Encode<'q, DB>,
    Option<DateTime<Utc>>: sqlx::Encode<'q, DB>,
{
    fn encode_by_ref(
        &self,
        buf: &mut <DB as Database>::ArgumentBuffer,
    ) -> std::result::Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        match self {
            Stamp::Micros(n) => n.encode_by_ref(buf),
            Stamp::Time(t) => t.encode_by_ref(buf),
        }
    }

    fn produces(&self) -> Option<DB::TypeInfo> {
        Some(match self {
            Stamp::Micros(_) => <i64 as sqlx::Type<DB>>::type_info(),
            Stamp::Time(_) => <DateTime<Utc> as sqlx::Type<DB>>::type_info(),
        })
    }
}

impl<'r, DB: Database> sqlx::Decode<'r, DB> for Stamp
where
    i64: sqlx::Decode<'r, DB> + sqlx::Type<DB>,
    DateTime<Utc>: sqlx::Decode<'r, DB> + sqlx::Type<DB>,
{
    fn decode(
        value: <DB as Database>::ValueRef<'r>,
    ) -> std::result::Result<Self, sqlx::error::BoxDynError> {
        use sqlx::ValueRef;
        // Integers are SQLite's microseconds; anything else is a time
        // (PostgreSQL's, or SQLite text written before migration 0006).
        let micros = <i64 as sqlx::Type<DB>>::compatible(&value.type_info());
        Ok(if micros {
            Stamp::Micros(Some(<i64 as sqlx::Decode<'r, DB>>::decode(value)?))
        } else {
            Stamp::Time(Some(<DateTime<Utc> as sqlx::Decode<'r, DB>>::decode(
                value,
            )?))
        })
    }
}

/// Typed column access for any engine's rows, with decode errors mapped
/// to `StoreError`.
pub(crate) trait RowExt {
    fn uuid(&self, c: &str) -> Result<uuid::Uuid>;
    fn opt_uuid(&self, c: &str) -> Result<Option<uuid::Uuid>>;
    fn text(&self, c: &str) -> Result<String>;
    fn opt_text(&self, c: &str) -> Result<Option<String>>;
    fn int(&self, c: &str) -> Result<i64>;
    fn opt_int(&self, c: &str) -> Result<Option<i64>>;
    fn float(&self, c: &str) -> Result<f64>;
    fn opt_float(&self, c: &str) -> Result<Option<f64>>;
    fn flag(&self, c: &str) -> Result<bool>;
    fn bytes(&self, c: &str) -> Result<Vec<u8>>;
    fn time(&self, c: &str) -> Result<DateTime<Utc>>;
    fn opt_time(&self, c: &str) -> Result<Option<DateTime<Utc>>>;
    /// A meeting's time (see [`Stamp`]).
    fn stamp(&self, c: &str) -> Result<DateTime<Utc>>;
    fn opt_stamp(&self, c: &str) -> Result<Option<DateTime<Utc>>>;
    fn date(&self, c: &str) -> Result<chrono::NaiveDate>;
    fn opt_date(&self, c: &str) -> Result<Option<chrono::NaiveDate>>;
}

impl<R: Row> RowExt for R
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'r> uuid::Uuid: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> f64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> bool: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Vec<u8>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> DateTime<Utc>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> chrono::NaiveDate: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    fn uuid(&self, c: &str) -> Result<uuid::Uuid> {
        Ok(self.try_get(c)?)
    }
    fn opt_uuid(&self, c: &str) -> Result<Option<uuid::Uuid>> {
        Ok(self.try_get(c)?)
    }
    fn text(&self, c: &str) -> Result<String> {
        Ok(self.try_get(c)?)
    }
    fn opt_text(&self, c: &str) -> Result<Option<String>> {
        Ok(self.try_get(c)?)
    }
    fn int(&self, c: &str) -> Result<i64> {
        Ok(self.try_get(c)?)
    }
    fn opt_int(&self, c: &str) -> Result<Option<i64>> {
        Ok(self.try_get(c)?)
    }
    fn float(&self, c: &str) -> Result<f64> {
        Ok(self.try_get(c)?)
    }
    fn opt_float(&self, c: &str) -> Result<Option<f64>> {
        Ok(self.try_get(c)?)
    }
    fn flag(&self, c: &str) -> Result<bool> {
        Ok(self.try_get(c)?)
    }
    fn bytes(&self, c: &str) -> Result<Vec<u8>> {
        Ok(self.try_get(c)?)
    }
    fn time(&self, c: &str) -> Result<DateTime<Utc>> {
        Ok(self.try_get(c)?)
    }
    fn opt_time(&self, c: &str) -> Result<Option<DateTime<Utc>>> {
        Ok(self.try_get(c)?)
    }
    fn stamp(&self, c: &str) -> Result<DateTime<Utc>> {
        self.opt_stamp(c)?
            .ok_or_else(|| StoreError::Other(format!("stored time {c} is null")))
    }
    fn opt_stamp(&self, c: &str) -> Result<Option<DateTime<Utc>>> {
        match self.try_get::<Option<Stamp>, _>(c)? {
            Some(s) => s.time(),
            None => Ok(None),
        }
    }
    fn date(&self, c: &str) -> Result<chrono::NaiveDate> {
        Ok(self.try_get(c)?)
    }
    fn opt_date(&self, c: &str) -> Result<Option<chrono::NaiveDate>> {
        Ok(self.try_get(c)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_invalid() {
        let id = uuid::Uuid::now_v7();
        let c = name_cursor("Zoë", id);
        assert_eq!(parse_name_cursor(&c).unwrap(), ("Zoë".to_owned(), id));
        assert_eq!(id_cursor(&encode_cursor(&id.to_string())).unwrap(), id);
        for bad in ["zz", "abc", "00", "ffff"] {
            assert!(
                matches!(id_cursor(bad), Err(StoreError::Invalid(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn chunks_come_in_a_few_shapes() {
        let rows: Vec<u32> = (0..2400).collect();
        let sizes: Vec<usize> = shaped_chunks(&rows, 1024).iter().map(|c| c.len()).collect();
        assert_eq!(sizes, [1024, 1024, 256, 64, 32]);
        let joined: Vec<u32> = shaped_chunks(&rows, 1024).concat();
        assert_eq!(joined, rows);
        assert_eq!(shaped_chunks(&rows[..1], 1024).len(), 1);
        assert!(shaped_chunks::<u32>(&[], 1024).is_empty());
        for n in 0..3000 {
            for c in shaped_chunks(&rows[..n.min(2400)], 1024) {
                assert!(c.len() == 1024 || c.len().is_power_of_two());
            }
        }
    }

    #[test]
    fn enums_round_trip_by_their_serde_names() {
        use accord_domain::request::RequestState;
        let s = enum_str(&RequestState::NeedsException);
        assert_eq!(s, "needs_exception");
        assert_eq!(
            parse_enum::<RequestState>(&s, "state").unwrap(),
            RequestState::NeedsException
        );
        assert!(parse_enum::<RequestState>("nope", "state").is_err());
    }
}

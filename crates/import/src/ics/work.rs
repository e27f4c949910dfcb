//! Parsing and expanding events on several threads, emitting in file order.
//!
//! calcard's parser is the reader's bottleneck (about 10 ns a byte), and
//! each event parses independently once the first pass has grouped the
//! overrides: the scanning thread hands batches of events to workers and
//! puts their results back in order before calling back. Memory stays
//! bounded: the job queue is bounded, and results wait only for the
//! batches still in flight.

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::sync::Mutex;
use std::sync::mpsc;

use super::Occurrence;
use super::event::{self, Context, Skips};

/// One event, or one UID's group of components: (text, line) each.
pub(crate) type Job = Vec<(Vec<u8>, usize)>;

/// What a batch of jobs produced.
pub(crate) struct Done {
    pub(crate) occurrences: Vec<Occurrence>,
    pub(crate) skips: Skips,
}

/// Jobs per batch: enough to make the channel traffic negligible against
/// the parsing, few enough to keep the workers evenly busy.
const BATCH: usize = 256;

fn run_batch(jobs: Vec<Job>, ctx: &Context<'_>) -> Done {
    let mut skips = Skips::default();
    let mut occurrences = Vec::new();
    for job in jobs {
        // calcard is a third-party parser fed untrusted text: should it
        // panic on some event, that event is left out and reported, and
        // the import goes on (fuzzing has not found such an event).
        let line = job.first().map_or(0, |(_, line)| *line);
        let mut job_skips = Skips::default();
        let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
            let parts: Vec<_> = job
                .iter()
                .filter_map(|(raw, line)| event::parse(raw, *line, ctx, &mut job_skips))
                .collect();
            if parts.is_empty() {
                Vec::new()
            } else {
                event::occurrences(parts, ctx, &mut job_skips)
            }
        }));
        match result {
            Ok(list) => {
                occurrences.extend(list);
                skips.merge(job_skips);
            }
            Err(_) => skips.add("the iCalendar parser failed on this event", || {
                format!("line {line}")
            }),
        }
    }
    Done { occurrences, skips }
}

/// Runs `produce`, which hands over jobs in file order, and calls `emit`
/// with their results in the same order. With one worker everything runs
/// on the calling thread.
pub(crate) fn run<E>(
    workers: usize,
    ctx: &Context<'_>,
    produce: impl FnOnce(&mut dyn FnMut(Job)) -> Result<(), E>,
    mut emit: impl FnMut(Done),
) -> Result<(), E> {
    if workers <= 1 {
        let mut batch = Vec::with_capacity(BATCH);
        let result = produce(&mut |job| {
            batch.push(job);
            if batch.len() >= BATCH {
                emit(run_batch(std::mem::take(&mut batch), ctx));
            }
        });
        if !batch.is_empty() {
            emit(run_batch(batch, ctx));
        }
        return result;
    }

    let (job_tx, job_rx) = mpsc::sync_channel::<(u64, Vec<Job>)>(workers * 4);
    let job_rx = Mutex::new(job_rx);
    let (done_tx, done_rx) = mpsc::channel::<(u64, Done)>();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let done_tx = done_tx.clone();
            let job_rx = &job_rx;
            scope.spawn(move || {
                loop {
                    let next = match job_rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => break,
                    };
                    let Ok((seq, jobs)) = next else { break };
                    if done_tx.send((seq, run_batch(jobs, ctx))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done_tx);

        let mut pending: BTreeMap<u64, Done> = BTreeMap::new();
        let mut next_out = 0u64;
        let mut deliver = |pending: &mut BTreeMap<u64, Done>, next_out: &mut u64| {
            while let Some(done) = pending.remove(next_out) {
                emit(done);
                *next_out += 1;
            }
        };
        let mut seq = 0u64;
        let mut batch = Vec::with_capacity(BATCH);
        let mut send = |batch: Vec<Job>, pending: &mut BTreeMap<u64, Done>| {
            // A closed queue means every worker is gone; the results
            // gathered so far are still delivered below.
            let _ = job_tx.send((seq, batch));
            seq += 1;
            while let Ok((s, done)) = done_rx.try_recv() {
                pending.insert(s, done);
            }
        };
        let result = produce(&mut |job| {
            batch.push(job);
            if batch.len() >= BATCH {
                send(std::mem::take(&mut batch), &mut pending);
                deliver(&mut pending, &mut next_out);
            }
        });
        if !batch.is_empty() {
            send(batch, &mut pending);
        }
        // Closing the queue lets the workers finish.
        drop(job_tx);
        for (s, done) in done_rx.iter() {
            pending.insert(s, done);
            deliver(&mut pending, &mut next_out);
        }
        deliver(&mut pending, &mut next_out);
        result
    })
}

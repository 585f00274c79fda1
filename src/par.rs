//! Work shared among the machine's cores, results kept in input order:
//! items are handed out in batches, each thread taking the next batch when
//! it is done with one (a core slowed by other work takes fewer), and the
//! batches put back in order at the end — the output never depends on how
//! the work was shared.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};

/// How many threads to use for `n` items with at least `min_per_thread`
/// each (at most 8, at most the machine's cores).
pub fn threads_for(n: usize, min_per_thread: usize) -> usize {
    std::thread::available_parallelism()
        .map(|p| p.get())
        .unwrap_or(1)
        .min(8)
        .min(n / min_per_thread.max(1))
        .max(1)
}

/// `items.map(f)` on `threads` threads (this one among them), handed out
/// `batch` items at a time; the results in `items`' order.
pub fn map<T: Send, R: Send>(
    items: Vec<T>,
    threads: usize,
    batch: usize,
    f: impl Fn(T) -> R + Sync,
) -> Vec<R> {
    if threads <= 1 || items.len() <= batch {
        return items.into_iter().map(f).collect();
    }
    let batches = Batches::of(items, batch);
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done: Vec<(usize, Vec<R>)> = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= batches.len() {
                return done;
            }
            done.push((i, batches.take(i).into_iter().map(&f).collect()));
        }
    };
    let mut done: Vec<(usize, Vec<R>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (1..threads).map(|_| s.spawn(work)).collect();
        let mut all = work();
        for h in handles {
            all.extend(h.join().expect("worker thread"));
        }
        all
    });
    done.sort_unstable_by_key(|(i, _)| *i);
    done.into_iter().flat_map(|(_, r)| r).collect()
}

/// [`map`] for long work whose results are used a chunk at a time, in
/// order: `each` is given the results of `chunk` items at a time (rounded
/// up to whole batches, however many threads there are) on this thread, while the other threads go on with the next chunk — never
/// further, so what is held at once stays bounded (the chunk `each` has,
/// and the next). This thread maps items too whenever `each` has nothing to
/// do. Unlike calling [`map`] a chunk at a time, no thread waits while
/// `each` runs, nor for the slowest thread at each chunk's end.
pub fn map_chunks<T: Send, R: Send>(
    items: Vec<T>,
    threads: usize,
    batch: usize,
    chunk: usize,
    f: impl Fn(T) -> R + Sync,
    mut each: impl FnMut(Vec<R>),
) {
    let batch = batch.max(1);
    // Batches a chunk.
    let per = chunk.div_ceil(batch).max(1);
    if threads <= 1 || items.len() <= batch {
        let mut items = items.into_iter();
        loop {
            let done: Vec<R> = items.by_ref().take(per * batch).map(&f).collect();
            if done.is_empty() {
                return;
            }
            each(done);
        }
    }
    let slots = Batches::of(items, batch);
    let n = slots.len();
    let shared = Mutex::new(Shared {
        next: 0,
        limit: (2 * per).min(n),
        out: (0..n).map(|_| None).collect(),
        stop: false,
    });
    let wake = Condvar::new();
    let lock = || shared.lock().unwrap_or_else(|e| e.into_inner());
    let run = |i: usize| -> Vec<R> { slots.take(i).into_iter().map(&f).collect() };
    // Stores a batch's results and wakes whoever waits for them.
    let store = |i: usize, r: Vec<R>| {
        lock().out[i] = Some(r);
        wake.notify_all();
    };
    std::thread::scope(|s| {
        // A thread that panics lets the others go.
        let _stop = Stop(&shared, &wake);
        for _ in 1..threads {
            s.spawn(|| {
                let _stop = Stop(&shared, &wake);
                loop {
                    let i = {
                        let mut st = lock();
                        loop {
                            if st.stop || st.next >= n {
                                return;
                            }
                            if st.next < st.limit {
                                st.next += 1;
                                break st.next - 1;
                            }
                            st = wake.wait(st).unwrap_or_else(|e| e.into_inner());
                        }
                    };
                    store(i, run(i));
                }
            });
        }
        for c in 0..n.div_ceil(per) {
            let range = c * per..((c + 1) * per).min(n);
            let done = loop {
                let mut st = lock();
                if st.out[range.clone()].iter().all(Option::is_some) {
                    break st.out[range.clone()]
                        .iter_mut()
                        .flat_map(|r| r.take().expect("each batch is stored once"))
                        .collect::<Vec<R>>();
                }
                if st.stop {
                    // A thread panicked: the scope's end says so.
                    return;
                }
                if st.next < st.limit {
                    st.next += 1;
                    let i = st.next - 1;
                    drop(st);
                    store(i, run(i));
                } else {
                    drop(wake.wait(st).unwrap_or_else(|e| e.into_inner()));
                }
            };
            each(done);
            lock().limit = ((c + 3) * per).min(n);
            wake.notify_all();
        }
    });
}

/// Items cut into batches, each taken by one thread.
struct Batches<T>(Vec<Mutex<Option<Vec<T>>>>);

impl<T> Batches<T> {
    fn of(items: Vec<T>, batch: usize) -> Batches<T> {
        let batch = batch.max(1);
        let mut out = Vec::with_capacity(items.len().div_ceil(batch));
        let mut rest = items.into_iter();
        loop {
            let b: Vec<T> = rest.by_ref().take(batch).collect();
            if b.is_empty() {
                return Batches(out);
            }
            out.push(Mutex::new(Some(b)));
        }
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    /// Batch `i`'s items (each batch is taken once).
    fn take(&self, i: usize) -> Vec<T> {
        self.0[i]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .expect("each batch is taken once")
    }
}

/// What the threads of [`map_chunks`] share.
struct Shared<R> {
    /// The next batch to take.
    next: usize,
    /// Batches from here on wait until `each` has had an earlier chunk.
    limit: usize,
    /// Each batch's results, until they are given to `each`.
    out: Vec<Option<Vec<R>>>,
    /// A thread stopped: the others stop taking batches.
    stop: bool,
}

/// Marks [`Shared`] stopped when a thread of [`map_chunks`] panics, and
/// wakes the others (none of them waits for what it will not do then).
struct Stop<'a, R>(&'a Mutex<Shared<R>>, &'a Condvar);

impl<R> Drop for Stop<'_, R> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.lock().unwrap_or_else(|e| e.into_inner()).stop = true;
            self.1.notify_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn chunks_come_in_order_whole_and_bounded_however_shared() {
        for threads in [1, 2, 3, 8] {
            for (batch, chunk) in [(1, 1), (7, 20), (16, 64), (64, 16), (5000, 100)] {
                let mapped = AtomicUsize::new(0);
                let mut got: Vec<usize> = Vec::new();
                let mut sizes = Vec::new();
                super::map_chunks(
                    (0..1000).collect(),
                    threads,
                    batch,
                    chunk,
                    |x: usize| {
                        mapped.fetch_add(1, Ordering::SeqCst);
                        x * 2
                    },
                    |done: Vec<usize>| {
                        // Never more than this chunk and the next one mapped
                        // beyond what was given out (in whole batches).
                        let ahead = mapped.load(Ordering::SeqCst) - got.len();
                        let per = chunk.div_ceil(batch).max(1) * batch;
                        assert!(
                            ahead <= 2 * per.max(chunk),
                            "{threads}/{batch}/{chunk}: {ahead} ahead"
                        );
                        sizes.push(done.len());
                        got.extend(done);
                        // (A slow consumer: what would let others run ahead.)
                        std::thread::sleep(std::time::Duration::from_micros(200));
                    },
                );
                assert_eq!(got, (0..1000).map(|x| x * 2).collect::<Vec<_>>());
                // Chunks of whole batches, whatever the threads: all of
                // one size but the last.
                let whole = chunk.div_ceil(batch) * batch;
                let last = sizes.pop().unwrap();
                assert!(sizes.iter().all(|&n| n == whole), "{sizes:?}");
                assert!(last <= whole.min(1000), "{sizes:?} then {last}");
            }
        }
    }

    #[test]
    fn a_panic_in_a_chunk_or_an_item_is_not_a_hang() {
        for threads in [1, 2, 4] {
            let r = std::panic::catch_unwind(|| {
                super::map_chunks(
                    (0..500).collect(),
                    threads,
                    4,
                    8,
                    |x: usize| x,
                    |d: Vec<usize>| {
                        assert!(d[0] < 200, "a chunk's consumer fails");
                    },
                );
            });
            assert!(r.is_err());
            let r = std::panic::catch_unwind(|| {
                super::map_chunks(
                    (0..500).collect(),
                    threads,
                    4,
                    8,
                    |x: usize| {
                        assert!(x != 333, "an item fails");
                        x
                    },
                    |_| {},
                );
            });
            assert!(r.is_err());
        }
    }

    #[test]
    fn keeps_order_however_shared() {
        let items: Vec<usize> = (0..1000).collect();
        for threads in [1, 2, 3, 8] {
            for batch in [1, 7, 64, 5000] {
                let out = super::map(items.clone(), threads, batch, |x| x * 2);
                assert_eq!(out, (0..1000).map(|x| x * 2).collect::<Vec<_>>());
            }
        }
    }
}

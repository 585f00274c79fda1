//! Work shared among the machine's cores, results kept in input order:
//! items are handed out in batches, each thread taking the next batch when
//! it is done with one (a core slowed by other work takes fewer), and the
//! batches put back in order at the end — the output never depends on how
//! the work was shared.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

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
    let batch = batch.max(1);
    let mut batches: Vec<Mutex<Option<Vec<T>>>> = Vec::with_capacity(items.len().div_ceil(batch));
    let mut rest = items.into_iter();
    loop {
        let b: Vec<T> = rest.by_ref().take(batch).collect();
        if b.is_empty() {
            break;
        }
        batches.push(Mutex::new(Some(b)));
    }
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done: Vec<(usize, Vec<R>)> = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(slot) = batches.get(i) else {
                return done;
            };
            let b = slot
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take()
                .expect("each batch is taken once");
            done.push((i, b.into_iter().map(&f).collect()));
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

#[cfg(test)]
mod tests {
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

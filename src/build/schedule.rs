//! Running a dependency graph: each node once its dependencies are done, up to `workers` at a
//! time. The first failure stops new work; running nodes finish, then the error is returned.

use std::sync::{Condvar, Mutex};

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Waiting,
    Running,
    Done,
}

/// Runs `run(i)` for every node `i` of a graph whose dependencies are `deps[i]` (indices of
/// earlier or later nodes; the graph must be acyclic). Returns the results in node order.
pub fn run_graph<T: Send, E: Send>(
    deps: &[Vec<usize>],
    workers: usize,
    run: impl Fn(usize) -> Result<T, E> + Sync,
) -> Result<Vec<T>, E> {
    let n = deps.len();
    struct Shared<T, E> {
        state: Vec<State>,
        results: Vec<Option<T>>,
        error: Option<E>,
        running: usize,
    }
    let shared = Mutex::new(Shared::<T, E> {
        state: vec![State::Waiting; n],
        results: (0..n).map(|_| None).collect(),
        error: None,
        running: 0,
    });
    let changed = Condvar::new();
    std::thread::scope(|scope| {
        for _ in 0..workers.max(1).min(n.max(1)) {
            scope.spawn(|| {
                loop {
                    let next = {
                        let mut s = shared.lock().unwrap();
                        loop {
                            if s.error.is_some() || s.state.iter().all(|st| *st == State::Done) {
                                return;
                            }
                            let ready = (0..n).find(|&i| {
                                s.state[i] == State::Waiting
                                    && deps[i].iter().all(|&d| s.state[d] == State::Done)
                            });
                            match ready {
                                Some(i) => {
                                    s.state[i] = State::Running;
                                    s.running += 1;
                                    break i;
                                }
                                None if s.running == 0 => return, // nothing can ever become ready
                                None => s = changed.wait(s).unwrap(),
                            }
                        }
                    };
                    let outcome = run(next);
                    let mut s = shared.lock().unwrap();
                    s.running -= 1;
                    match outcome {
                        Ok(t) => {
                            s.results[next] = Some(t);
                            s.state[next] = State::Done;
                        }
                        Err(e) => {
                            if s.error.is_none() {
                                s.error = Some(e);
                            }
                        }
                    }
                    changed.notify_all();
                }
            });
        }
    });
    let s = shared.into_inner().unwrap();
    if let Some(e) = s.error {
        return Err(e);
    }
    Ok(s.results
        .into_iter()
        .map(|r| r.expect("every node ran"))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn dependencies_run_first_and_independent_nodes_overlap() {
        // 0 and 1 independent; 2 needs both; 3 needs 2.
        let deps = vec![vec![], vec![], vec![0, 1], vec![2]];
        let order = Mutex::new(Vec::new());
        let active = AtomicUsize::new(0);
        let peak = AtomicUsize::new(0);
        let out = run_graph(&deps, 2, |i| {
            let now = active.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(std::time::Duration::from_millis(30));
            order.lock().unwrap().push(i);
            active.fetch_sub(1, Ordering::SeqCst);
            Ok::<_, ()>(i * 10)
        })
        .unwrap();
        assert_eq!(out, vec![0, 10, 20, 30]);
        let order = order.into_inner().unwrap();
        assert_eq!(&order[2..], &[2, 3]);
        assert_eq!(peak.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn a_failure_stops_dependents() {
        let deps = vec![vec![], vec![0]];
        let ran = AtomicUsize::new(0);
        let r = run_graph(&deps, 2, |i| {
            ran.fetch_add(1, Ordering::SeqCst);
            if i == 0 { Err("boom") } else { Ok(()) }
        });
        assert_eq!(r.unwrap_err(), "boom");
        assert_eq!(ran.load(Ordering::SeqCst), 1);
    }
}

//! The crate's own CPU kernels, split over libtorch's own threads.
//!
//! The FMP layer, the leaky ReLU-dropout mask and the fused Adam step run in Rust between
//! libtorch's ops. With threads of their own they fight libtorch's OpenMP threads for the
//! cores: after each op those threads spin for a while (OpenMP's default), taking the
//! cores from the crate's threads, or, with `OMP_WAIT_POLICY=PASSIVE`, go to sleep at once
//! and pay a wake-up (a futex call) at the start of every op, and the cores sat idle
//! part of the time (docs/speed-history.md).
//!
//! So on Linux the parts run on libtorch's team itself: [`run_parts`] opens an OpenMP
//! parallel region through libgomp's `GOMP_parallel`, the call that a `#pragma omp
//! parallel` (and so libtorch's `at::parallel_for`) compiles to, in the libgomp that
//! libtorch has loaded. Elsewhere, or where that libgomp is not found, the parts run on
//! scoped threads of their own.

use std::ffi::{c_int, c_uint, c_void};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};

/// Runs `work` on every part, the parts split over at most libtorch's thread count.
///
/// Each part is handed to exactly one thread; a panic in one is raised again here once
/// all parts are done.
pub(crate) fn run_parts<T: Send>(parts: Vec<T>, work: impl Fn(T) + Sync) {
    if parts.len() <= 1 {
        parts.into_iter().for_each(work);
        return;
    }
    let threads = parts.len().min(tch::get_num_threads().max(1) as usize);
    match openmp() {
        Some(omp) => on_openmp(omp, parts, threads, &work),
        None => on_scoped_threads(parts, threads, &work),
    }
}

/// Where [`run_parts`] runs the parts, as `cnn env` and the setup check show it.
pub(crate) fn where_parts_run() -> &'static str {
    match openmp() {
        Some(_) => "libtorch's OpenMP threads",
        None => "threads of their own",
    }
}

/// `parts` split round-robin over `threads` scoped threads, the calling one among them.
fn on_scoped_threads<T: Send>(parts: Vec<T>, threads: usize, work: &(impl Fn(T) + Sync)) {
    let mut shares: Vec<Vec<T>> = (0..threads).map(|_| Vec::new()).collect();
    for (i, part) in parts.into_iter().enumerate() {
        shares[i % threads].push(part);
    }
    let mut shares = shares.into_iter();
    let own = shares.next().unwrap_or_default();
    std::thread::scope(|scope| {
        for share in shares {
            scope.spawn(move || share.into_iter().for_each(work));
        }
        own.into_iter().for_each(work);
    });
}

/// `GOMP_parallel(fn, data, num_threads, flags)`.
type Parallel = unsafe extern "C" fn(extern "C" fn(*mut c_void), *mut c_void, c_uint, c_uint);
/// `omp_get_thread_num()` and `omp_get_num_threads()`.
type Query = unsafe extern "C" fn() -> c_int;

/// libgomp's entry points, as libtorch's own parallel loops use them.
struct OpenMp {
    parallel: Parallel,
    thread_num: Query,
    num_threads: Query,
}

/// The libgomp already loaded with libtorch, looked up once; `None` where there is none
/// (macOS's libtorch brings LLVM's OpenMP, Windows' its own).
fn openmp() -> Option<&'static OpenMp> {
    static OPENMP: OnceLock<Option<OpenMp>> = OnceLock::new();
    OPENMP.get_or_init(find_libgomp).as_ref()
}

#[cfg(target_os = "linux")]
fn find_libgomp() -> Option<OpenMp> {
    // SAFETY: RTLD_NOLOAD only returns a library that is already loaded (libtorch_cpu's
    // own libgomp, found by its soname) and never loads one; the symbols are libgomp's
    // stable C ABI, cast to their C signatures.
    unsafe {
        let lib = libc::dlopen(
            c"libgomp.so.1".as_ptr(),
            libc::RTLD_LAZY | libc::RTLD_NOLOAD,
        );
        if lib.is_null() {
            return None;
        }
        let symbol = |name: &std::ffi::CStr| {
            let f = libc::dlsym(lib, name.as_ptr());
            (!f.is_null()).then_some(f)
        };
        let (parallel, thread_num, num_threads) = (
            symbol(c"GOMP_parallel")?,
            symbol(c"omp_get_thread_num")?,
            symbol(c"omp_get_num_threads")?,
        );
        Some(OpenMp {
            parallel: std::mem::transmute::<*mut c_void, Parallel>(parallel),
            thread_num: std::mem::transmute::<*mut c_void, Query>(thread_num),
            num_threads: std::mem::transmute::<*mut c_void, Query>(num_threads),
        })
    }
}

#[cfg(not(target_os = "linux"))]
fn find_libgomp() -> Option<OpenMp> {
    None
}

/// What each thread of the parallel region reads: the parts to take, the work, and
/// whether any part panicked.
struct Job<'a, T, F> {
    omp: &'a OpenMp,
    parts: Vec<Mutex<Option<T>>>,
    work: &'a F,
    panicked: AtomicBool,
}

fn on_openmp<T: Send, F: Fn(T) + Sync>(omp: &OpenMp, parts: Vec<T>, threads: usize, work: &F) {
    let job = Job {
        omp,
        parts: parts.into_iter().map(|p| Mutex::new(Some(p))).collect(),
        work,
        panicked: AtomicBool::new(false),
    };
    // SAFETY: `job` outlives the call, which returns only when every thread of the
    // region has finished `team_member`; the threads only read `job` and take parts
    // through their mutexes.
    unsafe {
        (omp.parallel)(
            team_member::<T, F>,
            &job as *const Job<'_, T, F> as *mut c_void,
            threads as c_uint,
            0,
        );
    }
    if job.panicked.load(Ordering::Relaxed) {
        panic!("a part of a parallel kernel panicked (its message is printed above)");
    }
}

/// One thread of the region: parts `t`, `t + n`, `t + 2n` and so on, for thread `t` of
/// `n` (the team may be smaller than asked). A panic must not unwind into C, so it is
/// caught and noted.
extern "C" fn team_member<T: Send, F: Fn(T) + Sync>(data: *mut c_void) {
    // SAFETY: `data` is the `Job` that `on_openmp` passed, alive for the whole region.
    let job = unsafe { &*(data as *const Job<'_, T, F>) };
    // SAFETY: libgomp's query functions, called inside its parallel region.
    let (t, n) = unsafe { ((job.omp.thread_num)(), (job.omp.num_threads)()) };
    let (t, n) = (t.max(0) as usize, n.max(1) as usize);
    for slot in job.parts.iter().skip(t).step_by(n) {
        let part = slot.lock().map(|mut p| p.take()).unwrap_or(None);
        if let Some(part) = part
            && catch_unwind(AssertUnwindSafe(|| (job.work)(part))).is_err()
        {
            job.panicked.store(true, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn every_part_runs_exactly_once() {
        for parts in [0, 1, 2, 3, 17] {
            let seen: Vec<AtomicUsize> = (0..parts).map(|_| AtomicUsize::new(0)).collect();
            run_parts((0..parts).collect(), |i: usize| {
                seen[i].fetch_add(1, Ordering::Relaxed);
            });
            assert!(
                seen.iter().all(|s| s.load(Ordering::Relaxed) == 1),
                "{parts} parts"
            );
        }
    }

    #[test]
    fn parts_may_own_disjoint_slices() {
        let mut out = vec![0usize; 100];
        let parts: Vec<(usize, &mut [usize])> = out.chunks_mut(30).enumerate().collect();
        run_parts(parts, |(k, chunk)| {
            for (j, v) in chunk.iter_mut().enumerate() {
                *v = k * 30 + j;
            }
        });
        assert_eq!(out, (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn the_scoped_threads_fallback_runs_every_part_too() {
        let seen: Vec<AtomicUsize> = (0..9).map(|_| AtomicUsize::new(0)).collect();
        on_scoped_threads((0..9).collect(), 2, &|i: usize| {
            seen[i].fetch_add(1, Ordering::Relaxed);
        });
        assert!(seen.iter().all(|s| s.load(Ordering::Relaxed) == 1));
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn libtorch_brings_libgomp_on_linux() {
        assert_eq!(where_parts_run(), "libtorch's OpenMP threads");
    }

    #[test]
    #[cfg(target_os = "linux")]
    #[should_panic(expected = "a part of a parallel kernel panicked")]
    fn a_panicking_part_panics_the_caller() {
        run_parts(vec![1, 2, 3], |i: i32| assert!(i != 2, "part {i}"));
    }
}

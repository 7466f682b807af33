//! Ctrl-C and the notebook's interrupt button during training.
//!
//! Jupyter's interrupt sends SIGINT to the kernel process, where the default action would
//! kill evcxr's subprocess and every variable in it. While `fit` runs, a handler only
//! sets a flag; `fit` checks it between batches, drops the unfinished epoch and returns
//! the history of the complete ones, whose checkpoint is already on disk. The previous
//! handler comes back when `fit` returns, so interrupting any other cell works as before.

use std::sync::atomic::{AtomicBool, Ordering};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigint(_: libc::c_int) {
    // Only an atomic store: the one thing a signal handler may safely do here.
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Catches SIGINT while it lives (Unix); restores the previous handler on drop.
pub(crate) struct InterruptGuard {
    #[cfg(unix)]
    previous: libc::sigaction,
}

impl InterruptGuard {
    /// Clears the flag and installs the handler.
    pub(crate) fn install() -> Self {
        INTERRUPTED.store(false, Ordering::SeqCst);
        #[cfg(unix)]
        {
            // SAFETY: plain sigaction calls with zero-initialised structs; the handler only
            // performs an atomic store, which is async-signal-safe.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = on_sigint as *const () as libc::sighandler_t;
                libc::sigemptyset(&mut action.sa_mask);
                let mut previous: libc::sigaction = std::mem::zeroed();
                libc::sigaction(libc::SIGINT, &action, &mut previous);
                InterruptGuard { previous }
            }
        }
        #[cfg(not(unix))]
        InterruptGuard {}
    }

    /// True once SIGINT arrived since [`InterruptGuard::install`].
    pub(crate) fn interrupted(&self) -> bool {
        INTERRUPTED.load(Ordering::SeqCst)
    }
}

impl Drop for InterruptGuard {
    fn drop(&mut self) {
        #[cfg(unix)]
        // SAFETY: restores the action saved by `install`.
        unsafe {
            libc::sigaction(libc::SIGINT, &self.previous, std::ptr::null_mut());
        }
    }
}

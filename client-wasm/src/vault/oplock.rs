//! A single-threaded async mutex: vault operations that await storage run
//! one at a time per instance, so two calls from JavaScript cannot
//! interleave their read-modify-write steps.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

#[derive(Debug, Default)]
pub(crate) struct OpLock {
    held: Cell<bool>,
    waiters: RefCell<Vec<Waker>>,
}

pub(crate) struct OpGuard<'a>(&'a OpLock);

pub(crate) struct Acquire<'a>(&'a OpLock);

impl OpLock {
    pub(crate) fn acquire(&self) -> Acquire<'_> {
        Acquire(self)
    }
}

impl<'a> Future for Acquire<'a> {
    type Output = OpGuard<'a>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<OpGuard<'a>> {
        let lock = self.0;
        if lock.held.get() {
            lock.waiters.borrow_mut().push(cx.waker().clone());
            Poll::Pending
        } else {
            lock.held.set(true);
            Poll::Ready(OpGuard(lock))
        }
    }
}

impl Drop for OpGuard<'_> {
    fn drop(&mut self) {
        self.0.held.set(false);
        // Wake everyone: the first to run takes the lock, the rest wait
        // again. Simple, and correct with stale or duplicate wakers.
        let waiters = std::mem::take(&mut *self.0.waiters.borrow_mut());
        for w in waiters {
            w.wake();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::task::Wake;

    struct Flag(std::sync::atomic::AtomicBool);
    impl Wake for Flag {
        fn wake(self: Arc<Self>) {
            self.0.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }

    #[test]
    fn second_acquire_waits_until_release() {
        let lock = OpLock::default();
        let flag = Arc::new(Flag(false.into()));
        let waker = Waker::from(flag.clone());
        let mut cx = Context::from_waker(&waker);
        let first = std::pin::pin!(lock.acquire()).poll(&mut cx);
        let Poll::Ready(guard) = first else {
            panic!("first acquire must succeed")
        };
        let mut second = std::pin::pin!(lock.acquire());
        assert!(second.as_mut().poll(&mut cx).is_pending());
        drop(guard);
        assert!(flag.0.load(std::sync::atomic::Ordering::SeqCst));
        assert!(second.as_mut().poll(&mut cx).is_ready());
    }
}

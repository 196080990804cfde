//! One-at-a-time turns for the tenant object's KV writes. A Durable Object's input gate does
//! not close around a KV call, so two handlers can both be waiting on a KV `put` of the same
//! key; nothing says which lands last. Taking a turn makes the puts one after another; each
//! put writes the newest in-memory state when its turn comes, so the last one to land is the
//! newest whatever order the turns are taken in (and a writer whose change an earlier put
//! already carried need not write at all).
//! Single-threaded (wasm): `Cell`/`RefCell`, no atomics.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

/// One turn at a time. Cheap to clone (shared state).
#[derive(Clone, Default)]
pub struct Serial {
    inner: Rc<Inner>,
}

#[derive(Default)]
struct Inner {
    busy: Cell<bool>,
    waiters: RefCell<VecDeque<Waker>>,
}

/// Held while it is one's turn; the next waiter goes when it is dropped.
pub struct Turn {
    inner: Rc<Inner>,
}

impl Drop for Turn {
    fn drop(&mut self) {
        self.inner.busy.set(false);
        for w in self.inner.waiters.borrow_mut().drain(..) {
            w.wake();
        }
    }
}

/// Waits for a turn. Dropping it while waiting holds nothing up.
pub struct Wait {
    inner: Rc<Inner>,
}

impl Future for Wait {
    type Output = Turn;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Turn> {
        let inner = &self.inner;
        if !inner.busy.get() {
            inner.busy.set(true);
            return Poll::Ready(Turn {
                inner: inner.clone(),
            });
        }
        inner.waiters.borrow_mut().push_back(cx.waker().clone());
        Poll::Pending
    }
}

impl Serial {
    /// Wait for a turn.
    pub fn turn(&self) -> Wait {
        Wait {
            inner: self.inner.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn poll(f: &mut Wait) -> Option<Turn> {
        let mut cx = Context::from_waker(Waker::noop());
        match Pin::new(f).poll(&mut cx) {
            Poll::Ready(t) => Some(t),
            Poll::Pending => None,
        }
    }

    #[test]
    fn one_turn_at_a_time() {
        let s = Serial::default();
        let mut a = s.turn();
        let mut b = s.turn();
        let mut c = s.turn();
        let ta = poll(&mut a).expect("a free serial gives a turn at once");
        assert!(poll(&mut b).is_none(), "one turn at a time");
        assert!(poll(&mut c).is_none());
        drop(c); // giving up while waiting holds nothing up
        drop(ta);
        let tb = poll(&mut b).expect("b goes once a is done");
        let mut d = s.turn();
        assert!(poll(&mut d).is_none());
        drop(tb);
        assert!(poll(&mut d).is_some());
    }
}

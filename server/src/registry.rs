//! The live connections of a server: the connection limit, the cancel keys handed out in
//! BackendKeyData, and the shutdown handshake between the signal thread and the connection
//! threads.
//!
//! Each connection holds a [`Slot`] whose state says whether its thread is starting up,
//! waiting for the client (idle), or working (busy). Graceful shutdown sets the registry's
//! flag and then closes the read side of every idle or starting connection; a busy
//! connection finishes what it is doing and, on its way back to idle, sees the flag and ends
//! itself. Both sides change the state with compare-and-swap and read the flag after their own
//! write (sequentially consistent), so a connection can never go idle unnoticed: either the
//! thread sees the flag, or the shutdown sees the idle state.

use std::collections::HashMap;
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use rand::Rng;

const STARTING: u8 = 0;
const IDLE: u8 = 1;
const BUSY: u8 = 2;
const CLOSING: u8 = 3;

/// Connections beyond the limit are still read (for a CancelRequest, or to answer "too many
/// clients") by short-lived threads; at most this many at once.
const MAX_REJECTING: usize = 32;

/// One connection's entry.
pub struct Slot {
    state: AtomicU8,
    socket: Option<TcpStream>,
}

impl Slot {
    /// The thread waits for the client. `false`: the server is shutting down, end the session.
    pub fn enter_idle(&self, registry: &Registry) -> bool {
        let mut current = self.state.load(Ordering::SeqCst);
        loop {
            if current == CLOSING {
                return false;
            }
            match self
                .state
                .compare_exchange(current, IDLE, Ordering::SeqCst, Ordering::SeqCst)
            {
                Ok(_) => break,
                Err(actual) => current = actual,
            }
        }
        !registry.is_shutting_down()
    }

    /// The client sent something: back to work. `false`: the server closed the connection
    /// while it was idle.
    pub fn leave_idle(&self) -> bool {
        match self
            .state
            .compare_exchange(IDLE, BUSY, Ordering::SeqCst, Ordering::SeqCst)
        {
            Ok(_) => true,
            Err(actual) => actual != CLOSING,
        }
    }

    /// Start-up and authentication are over. `false`: the server is shutting down.
    pub fn start_session(&self, registry: &Registry) -> bool {
        let started = self
            .state
            .compare_exchange(STARTING, BUSY, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok();
        started && !registry.is_shutting_down()
    }

    pub fn is_closing(&self) -> bool {
        self.state.load(Ordering::SeqCst) == CLOSING
    }

    /// Shutdown side: closes the connection if its thread is idle or still starting.
    fn close_if_waiting(&self) {
        for (from, how) in [(IDLE, Shutdown::Read), (STARTING, Shutdown::Both)] {
            if self
                .state
                .compare_exchange(from, CLOSING, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
            {
                if let Some(socket) = &self.socket {
                    let _ = socket.shutdown(how);
                }
                return;
            }
        }
    }
}

struct CancelTarget {
    secret_key: i32,
    flag: Arc<AtomicBool>,
}

/// What [`Registry::admit`] decided for a new connection.
pub enum Admission {
    Accepted(SlotGuard),
    /// Over the limit: read the startup packet and answer `53300`.
    TooMany(RejectGuard),
    /// Over the limit and too many rejections in progress: just close.
    Dropped,
}

/// All connections of one server.
pub struct Registry {
    max_connections: usize,
    shutting_down: AtomicBool,
    next_slot: AtomicUsize,
    slots: Mutex<HashMap<usize, Arc<Slot>>>,
    rejecting: AtomicUsize,
    cancel_keys: Mutex<HashMap<i32, CancelTarget>>,
}

impl Registry {
    pub fn new(max_connections: usize) -> Arc<Registry> {
        Arc::new(Registry {
            max_connections,
            shutting_down: AtomicBool::new(false),
            next_slot: AtomicUsize::new(0),
            slots: Mutex::new(HashMap::new()),
            rejecting: AtomicUsize::new(0),
            cancel_keys: Mutex::new(HashMap::new()),
        })
    }

    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
    }

    /// Connections holding a slot.
    pub fn active(&self) -> usize {
        self.slots.lock().len()
    }

    /// Takes a slot for a new connection if the limit allows. `socket` is a handle the
    /// shutdown uses to wake the connection's thread.
    pub fn admit(self: &Arc<Self>, socket: Option<TcpStream>) -> Admission {
        let mut slots = self.slots.lock();
        if slots.len() >= self.max_connections {
            drop(slots);
            if self.rejecting.fetch_add(1, Ordering::SeqCst) >= MAX_REJECTING {
                self.rejecting.fetch_sub(1, Ordering::SeqCst);
                return Admission::Dropped;
            }
            return Admission::TooMany(RejectGuard {
                registry: self.clone(),
            });
        }
        let id = self.next_slot.fetch_add(1, Ordering::Relaxed);
        let slot = Arc::new(Slot {
            state: AtomicU8::new(STARTING),
            socket,
        });
        slots.insert(id, slot.clone());
        Admission::Accepted(SlotGuard {
            registry: self.clone(),
            id,
            slot,
            process_id: None,
        })
    }

    /// Registers a session's cancel flag; returns the secret key for BackendKeyData.
    fn register_cancel(&self, process_id: i32, flag: Arc<AtomicBool>) -> i32 {
        let secret_key = rand::thread_rng().gen::<i32>();
        self.cancel_keys
            .lock()
            .insert(process_id, CancelTarget { secret_key, flag });
        secret_key
    }

    /// A CancelRequest: sets the session's cancel flag if the key matches. Returns whether it
    /// did (the client is never told).
    pub fn cancel(&self, process_id: i32, secret_key: i32) -> bool {
        let keys = self.cancel_keys.lock();
        match keys.get(&process_id) {
            Some(target) if target.secret_key == secret_key => {
                target.flag.store(true, Ordering::SeqCst);
                true
            }
            _ => false,
        }
    }

    /// Starts a graceful shutdown: no connection may go idle from now on.
    pub fn begin_shutdown(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
        self.close_waiting_connections();
    }

    /// Closes every connection whose thread waits for its client.
    pub fn close_waiting_connections(&self) {
        let slots: Vec<Arc<Slot>> = self.slots.lock().values().cloned().collect();
        for slot in slots {
            slot.close_if_waiting();
        }
    }
}

/// A connection's hold on its slot; dropping it frees the slot and the cancel key.
pub struct SlotGuard {
    registry: Arc<Registry>,
    id: usize,
    slot: Arc<Slot>,
    process_id: Option<i32>,
}

impl SlotGuard {
    pub fn slot(&self) -> &Slot {
        &self.slot
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Makes the session cancellable; returns the secret key.
    pub fn register_cancel(&mut self, process_id: i32, flag: Arc<AtomicBool>) -> i32 {
        self.process_id = Some(process_id);
        self.registry.register_cancel(process_id, flag)
    }
}

impl Drop for SlotGuard {
    fn drop(&mut self) {
        if let Some(process_id) = self.process_id {
            self.registry.cancel_keys.lock().remove(&process_id);
        }
        self.registry.slots.lock().remove(&self.id);
    }
}

/// A rejected connection's hold on the rejection budget.
pub struct RejectGuard {
    registry: Arc<Registry>,
}

impl RejectGuard {
    pub fn registry(&self) -> &Registry {
        &self.registry
    }
}

impl Drop for RejectGuard {
    fn drop(&mut self) {
        self.registry.rejecting.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepted(registry: &Arc<Registry>) -> SlotGuard {
        match registry.admit(None) {
            Admission::Accepted(guard) => guard,
            _ => panic!("not admitted"),
        }
    }

    #[test]
    fn limit_counts_live_connections() {
        let registry = Registry::new(2);
        let a = accepted(&registry);
        let _b = accepted(&registry);
        assert!(matches!(registry.admit(None), Admission::TooMany(_)));
        drop(a);
        assert_eq!(registry.active(), 1);
        let _c = accepted(&registry);
        let rejects: Vec<_> = (0..MAX_REJECTING).map(|_| registry.admit(None)).collect();
        assert!(rejects.iter().all(|r| matches!(r, Admission::TooMany(_))));
        assert!(matches!(registry.admit(None), Admission::Dropped));
        drop(rejects);
        assert!(matches!(registry.admit(None), Admission::TooMany(_)));
    }

    #[test]
    fn cancel_needs_the_right_key() {
        let registry = Registry::new(4);
        let mut guard = accepted(&registry);
        let flag = Arc::new(AtomicBool::new(false));
        let key = guard.register_cancel(1234, flag.clone());
        assert!(!registry.cancel(1234, key.wrapping_add(1)));
        assert!(!registry.cancel(99, key));
        assert!(!flag.load(Ordering::SeqCst));
        assert!(registry.cancel(1234, key));
        assert!(flag.load(Ordering::SeqCst));
        drop(guard);
        assert!(!registry.cancel(1234, key));
    }

    #[test]
    fn shutdown_closes_idle_connections_and_stops_busy_ones_at_idle() {
        let registry = Registry::new(4);
        let idle = accepted(&registry);
        let busy = accepted(&registry);
        assert!(idle.slot().start_session(&registry));
        assert!(busy.slot().start_session(&registry));
        assert!(idle.slot().enter_idle(&registry));
        registry.begin_shutdown();
        assert!(idle.slot().is_closing());
        assert!(!idle.slot().leave_idle());
        assert!(!busy.slot().is_closing());
        assert!(!busy.slot().enter_idle(&registry));
        // A connection still in start-up is closed too.
        let registry = Registry::new(4);
        let starting = accepted(&registry);
        registry.begin_shutdown();
        assert!(starting.slot().is_closing());
        assert!(!starting.slot().start_session(&registry));
    }
}

//! A driver connection that says goodbye to its server however its owner
//! lets go of it.
//!
//! Dropping a sqlx connection only drops its socket: the server learns of it
//! from an unexpected end of file, logs it, and keeps the session until it
//! notices. Closing politely sends the protocol's own goodbye. An error path
//! that returns early with `?` lets go by dropping, so the goodbye is sent
//! from `Drop`, on the runtime the connection was used on. A caller about to
//! do what the open session would stand in the way of (dropping the database
//! it is in) calls [`Polite::close`] and waits for it instead. Before the
//! process exits, [`settle`] waits for the goodbyes still on their way: a
//! MySQL server logs every connection that ends without one.

use std::ops::{Deref, DerefMut};
use std::sync::Mutex;
use std::time::Duration;

use sqlx::Connection;
use tokio::task::JoinHandle;

/// The goodbyes sent from `Drop`, not yet known to be done.
static GOODBYES: Mutex<Vec<JoinHandle<()>>> = Mutex::new(Vec::new());

/// How long [`settle`] waits for a server that does not answer a goodbye.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(2);

pub struct Polite<C: Connection + 'static>(Option<C>);

impl<C: Connection + 'static> Polite<C> {
    pub fn new(connection: C) -> Polite<C> {
        Polite(Some(connection))
    }

    /// Closes the connection now, and returns once the server was told.
    pub async fn close(mut self) {
        if let Some(connection) = self.0.take() {
            let _ = connection.close().await;
        }
    }
}

impl<C: Connection + 'static> Deref for Polite<C> {
    type Target = C;

    fn deref(&self) -> &C {
        self.0
            .as_ref()
            .expect("only `close` empties a Polite, and it consumes it")
    }
}

impl<C: Connection + 'static> DerefMut for Polite<C> {
    fn deref_mut(&mut self) -> &mut C {
        self.0
            .as_mut()
            .expect("only `close` empties a Polite, and it consumes it")
    }
}

impl<C: Connection + 'static> Drop for Polite<C> {
    fn drop(&mut self) {
        let Some(connection) = self.0.take() else {
            return;
        };
        // Outside a runtime (a synchronous test) there is nothing to send the
        // goodbye on: the socket closes as the connection drops.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let goodbye = runtime.spawn(async move {
                let _ = connection.close().await;
            });
            let mut goodbyes = GOODBYES
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            // A fleet run drops thousands: keep only the ones on their way.
            goodbyes.retain(|goodbye| !goodbye.is_finished());
            goodbyes.push(goodbye);
        }
    }
}

/// Waits (a little, at most) until every connection dropped so far has
/// said goodbye.
pub async fn settle() {
    let waiting = async {
        loop {
            let goodbyes = std::mem::take(
                &mut *GOODBYES
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()),
            );
            if goodbyes.is_empty() {
                return;
            }
            for goodbye in goodbyes {
                let _ = goodbye.await;
            }
        }
    };
    let _ = tokio::time::timeout(SETTLE_TIMEOUT, waiting).await;
}

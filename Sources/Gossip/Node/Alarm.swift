import Synchronization

/// A sleep that can be cut short: `sleep(until:)` returns at the deadline, at
/// a `ring()`, or when its task is cancelled, whichever comes first. A ring
/// while nobody sleeps is kept for the next sleep, so a wake-up is never lost
/// between deciding how long to sleep and sleeping.
///
/// The node's timer loop sleeps on one until the instance's next deadline;
/// an event that moves the deadline earlier rings it (see `GossipNode.handle`).
final class Alarm: Sendable {
    private struct State {
        var sleeper: CheckedContinuation<Void, Never>?
        var rung = false
    }

    private let state = Mutex(State())

    init() {}

    /// Wakes the current sleep, or the next one if nobody sleeps.
    func ring() {
        let sleeper = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let sleeper = state.sleeper else {
                state.rung = true
                return nil
            }
            state.sleeper = nil
            return sleeper
        }
        sleeper?.resume()
    }

    /// Sleeps until `deadline` or a ring, whichever comes first.
    func sleep(until deadline: ContinuousClock.Instant) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(until: deadline, clock: .continuous) }
            group.addTask { await self.waitForRing() }
            await group.next()
            group.cancelAll()
        }
    }

    private func waitForRing() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                // Checked under the lock that `onCancel` takes too: either it
                // finds the sleeper stored, or this finds the task cancelled.
                let now = state.withLock { state -> Bool in
                    if state.rung || Task.isCancelled {
                        state.rung = false
                        return true
                    }
                    state.sleeper = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            let sleeper = state.withLock { state -> CheckedContinuation<Void, Never>? in
                defer { state.sleeper = nil }
                return state.sleeper
            }
            sleeper?.resume()
        }
    }
}

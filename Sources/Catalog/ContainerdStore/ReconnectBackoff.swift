/// Exponential backoff with jitter for reaching containerd again: 100 ms, then
/// doubling up to a cap, each delay randomised by ±20 % so that the daemons of a
/// restarted node do not retry in step.
struct ReconnectBackoff: Sendable {
    let initial: Duration
    let cap: Duration
    private var next: Duration

    init(initial: Duration = .milliseconds(100), cap: Duration) {
        self.initial = initial
        self.cap = max(cap, initial)
        self.next = initial
    }

    /// The delay before the next attempt; each call doubles the one after it.
    mutating func nextDelay() -> Duration {
        let base = next
        next = min(next * 2, cap)
        return base * Double.random(in: 0.8...1.2)
    }

    mutating func reset() {
        next = initial
    }
}

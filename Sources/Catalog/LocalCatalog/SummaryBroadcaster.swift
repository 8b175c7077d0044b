/// The subscribers to summary updates, each with its own stream. A new
/// subscriber first receives the current full summary, then every update in
/// order, so a chain of deltas always has its base.
///
/// Streams buffer without bound: updates are rare (a few per image pull) and
/// dropping one would break the delta chain of that subscriber.
struct SummaryBroadcaster: Sendable {
    private var subscribers: [Int: AsyncStream<SummaryUpdate>.Continuation] = [:]
    private var nextID = 0

    /// Registers a subscriber; `onTermination` runs (on any thread) when its
    /// consumer goes away, with the id to pass to `remove(_:)`.
    mutating func subscribe(
        current: [UInt8], onTermination: @escaping @Sendable (Int) -> Void
    ) -> AsyncStream<SummaryUpdate> {
        let (stream, continuation) = AsyncStream.makeStream(of: SummaryUpdate.self)
        let id = nextID
        nextID += 1
        continuation.yield(.full(current))
        continuation.onTermination = { _ in onTermination(id) }
        subscribers[id] = continuation
        return stream
    }

    mutating func remove(_ id: Int) {
        subscribers[id] = nil
    }

    func publish(_ update: SummaryUpdate) {
        for continuation in subscribers.values { continuation.yield(update) }
    }

    func finishAll() {
        for continuation in subscribers.values { continuation.finish() }
    }
}

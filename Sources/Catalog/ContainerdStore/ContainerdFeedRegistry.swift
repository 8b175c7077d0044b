import Foundation

/// The running `events()` feeds of a store, so that `shutdown()` can end them all.
final class ContainerdFeedRegistry: @unchecked Sendable {
    // @unchecked: every stored property is guarded by `lock`.
    private let lock = NSLock()
    private var feeds: [Int: (task: Task<Void, Never>, continuation: AsyncStream<StoreEvent>.Continuation)] = [:]
    private var nextID = 0
    private var closed = false

    /// Registers a feed; returns nil (and the caller finishes it) after `closeAll()`.
    func insert(_ task: Task<Void, Never>, _ continuation: AsyncStream<StoreEvent>.Continuation) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard !closed else { return nil }
        nextID += 1
        feeds[nextID] = (task, continuation)
        return nextID
    }

    func remove(_ id: Int) {
        lock.lock()
        feeds[id] = nil
        lock.unlock()
    }

    /// Cancels every feed and finishes its stream; later inserts are refused.
    func closeAll() {
        lock.lock()
        let all = feeds.values
        feeds.removeAll()
        closed = true
        lock.unlock()
        for feed in all {
            feed.task.cancel()
            feed.continuation.finish()
        }
    }
}

/// A condition that did not hold within its deadline.
public struct TimedOut: Error, CustomStringConvertible {
    public var what: String
    public var deadline: Duration
    public var description: String { "timed out after \(deadline) waiting for \(what)" }

    public init(what: String, deadline: Duration) {
        self.what = what
        self.deadline = deadline
    }
}

/// The tests' one way to wait for state that can only be polled (a process's
/// socket, a node's `/status.json`, a file): re-checks `condition` every
/// `interval` until it holds and returns how long that took, or returns nil
/// once `timeout` has passed. An error thrown by `condition` (a process that
/// exited) ends the wait at once. Wait for events with `EventRecorder` instead.
///
///     let formed = await poll(timeout: .seconds(5)) { await node.status()?.members.count == 3 }
///     try #require(formed != nil, "the cluster did not form")
///
/// Code that must throw on a timeout throws `TimedOut` itself:
/// `guard try await poll(...) != nil else { throw TimedOut(what: ..., deadline: ...) }`.
@discardableResult
public func poll(
    timeout: Duration, every interval: Duration = .milliseconds(50), _ condition: () async throws -> Bool
) async rethrows -> Duration? {
    let clock = ContinuousClock()
    let start = clock.now
    while true {
        if try await condition() { return clock.now - start }
        if clock.now - start > timeout || Task.isCancelled { return nil }
        try? await Task.sleep(for: interval)
    }
}

/// A condition that did not hold within its deadline.
public struct TimedOut: Error, CustomStringConvertible {
    public var what: String
    public var deadline: Duration
    public var description: String { "timed out after \(deadline) waiting for \(what)" }
}

/// Re-checks `condition` every `interval` until it holds, or throws `TimedOut`
/// once `deadline` has passed. For state that can only be polled (a process's
/// socket, a registry's `/v2/`); wait for events with `EventRecorder` instead.
public func eventually(
    _ what: @autoclosure () -> String,
    within deadline: Duration = .seconds(30),
    every interval: Duration = .milliseconds(50),
    _ condition: () async throws -> Bool
) async throws {
    let clock = ContinuousClock()
    let end = clock.now.advanced(by: deadline)
    while true {
        if try await condition() { return }
        if clock.now >= end { throw TimedOut(what: what(), deadline: deadline) }
        try await Task.sleep(for: interval)
    }
}

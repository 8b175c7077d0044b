/// Records every element of an async sequence as it arrives, and lets a test wait,
/// with a deadline, for one that matches: `try await recorder.next(within: .seconds(10)) { $0 == .x }`.
///
/// Waiting starts after the elements already consumed by earlier waits, so a test
/// reads events in order without sleeping.
public actor EventRecorder<Element: Sendable> {
    private var elements: [Element] = []
    private var cursor = 0
    private var finished = false
    private var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    private var nextWaiter = 0
    private var pump: Task<Void, Never>?

    public init() {}

    /// Starts recording `sequence` (call once).
    public func record<S: AsyncSequence & Sendable>(_ sequence: S) where S.Element == Element {
        pump = Task { [weak self] in
            do {
                for try await element in sequence {
                    await self?.append(element)
                }
            } catch {}
            await self?.finish()
        }
    }

    /// A recorder already recording `sequence`.
    public static func recording<S: AsyncSequence & Sendable>(_ sequence: S) async -> EventRecorder<Element>
    where S.Element == Element {
        let recorder = EventRecorder<Element>()
        await recorder.record(sequence)
        return recorder
    }

    /// Everything recorded so far.
    public var all: [Element] { elements }

    /// Skips everything recorded so far: later waits see only newer elements.
    public func skipRecorded() {
        cursor = elements.count
    }

    /// The first element after the cursor that matches, waiting up to `deadline`
    /// for it; moves the cursor past it. Throws `TimedOut` (listing what was seen).
    @discardableResult
    public func next(
        within deadline: Duration = .seconds(30),
        _ description: String = "a matching event",
        where matches: @Sendable (Element) -> Bool = { _ in true }
    ) async throws -> Element {
        let clock = ContinuousClock()
        let end = clock.now.advanced(by: deadline)
        while true {
            while cursor < elements.count {
                let element = elements[cursor]
                cursor += 1
                if matches(element) { return element }
            }
            if finished || clock.now >= end {
                let seen = elements.map { "\($0)" }.joined(separator: ", ")
                throw TimedOut(
                    what: "\(description)\(finished ? " (the sequence ended)" : ""); recorded: [\(seen)]",
                    deadline: deadline)
            }
            await waitForChange(until: end)
        }
    }

    /// Stops recording.
    public func stop() {
        pump?.cancel()
    }

    private func append(_ element: Element) {
        elements.append(element)
        wakeAll()
    }

    private func finish() {
        finished = true
        wakeAll()
    }

    private func wakeAll() {
        let all = waiters.values
        waiters.removeAll()
        for waiter in all { waiter.resume() }
    }

    /// Suspends until an element arrives, the sequence ends, or `end` passes.
    private func waitForChange(until end: ContinuousClock.Instant) async {
        let id = nextWaiter
        nextWaiter += 1
        let timer = Task { [weak self] in
            try? await Task.sleep(until: end, clock: .continuous)
            await self?.wake(id)
        }
        await withCheckedContinuation { continuation in
            waiters[id] = continuation
        }
        timer.cancel()
    }

    private func wake(_ id: Int) {
        waiters.removeValue(forKey: id)?.resume()
    }
}

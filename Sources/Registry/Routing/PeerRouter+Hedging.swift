import Foundation

extension PeerRouter {
    /// The first acceptable head among `candidates`, and the candidates not
    /// yet asked.
    struct Started: Sendable {
        let attempt: OpenAttempt
        let remaining: [PeerCandidate]
    }

    private enum Event: Sendable {
        case opened(index: Int, Result<OpenAttempt, PeerFetchError>)
        /// The hedge delay for attempt `index` has passed.
        case timer(index: Int)
    }

    /// Asks `candidates` in order for `target` and returns the first
    /// acceptable head (hedged first byte).
    ///
    /// The first holder is asked at once. If it has not answered within the
    /// hedge delay, the next is asked too (and so on, one more per delay);
    /// if it fails (404, refused, unsealed), the next is asked at once. The
    /// first acceptable head wins; every other attempt is cancelled and its
    /// lease ended (`.cancelled`, not held against that holder), including
    /// one whose head arrived in the same instant.
    func start(_ candidates: [PeerCandidate], target: String, method: PeerRequest.Method, accept: String? = nil) async -> Started? {
        guard !candidates.isEmpty else { return nil }
        let delay = hedgeDelay.current
        return await withTaskGroup(of: Event.self) { group in
            var launched = 0
            var running = Set<Int>()
            func launch() {
                let index = launched
                let peer = candidates[index]
                launched += 1
                running.insert(index)
                group.addTask { .opened(index: index, await self.open(peer, target: target, method: method, accept: accept)) }
                if launched < candidates.count {
                    group.addTask {
                        try? await Task.sleep(for: delay)
                        return .timer(index: index)
                    }
                }
            }
            launch()
            var winner: OpenAttempt?
            while winner == nil, let event = await group.next() {
                switch event {
                case .timer(let index):
                    // Still waiting for that holder's head: ask the next one too.
                    guard running.contains(index), launched < candidates.count, !Task.isCancelled else { continue }
                    metrics.hedged()
                    launch()
                case .opened(let index, .success(let attempt)):
                    running.remove(index)
                    winner = attempt
                case .opened(let index, .failure):
                    running.remove(index)
                    if running.isEmpty, launched < candidates.count, !Task.isCancelled { launch() }
                }
                if winner == nil, running.isEmpty, launched == candidates.count { break }
            }
            group.cancelAll()
            for await event in group {
                if case .opened(_, .success(let extra)) = event {
                    extra.response.body.cancel()
                    extra.lease.end(.cancelled)
                }
            }
            guard let winner else { return nil }
            return Started(attempt: winner, remaining: Array(candidates[launched...]))
        }
    }
}

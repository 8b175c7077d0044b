import Foundation

extension PeerRouter {
    /// The first acceptable head among `candidates`, and the candidates
    /// still worth asking should it fail: those not asked yet, and those
    /// overtaken (cancelled by the hedge, not failed), in their order.
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
    /// one whose head arrived in the same instant. A holder overtaken so did
    /// nothing wrong: it stays among the remaining candidates, so that a
    /// winner that stalls or breaks before its body is whole falls back on
    /// it (it used to be dropped, and a winner stalling after its head left
    /// a 404 although the overtaken holder could serve).
    func start(_ candidates: [PeerCandidate], target: String, method: PeerRequest.Method, accept: String? = nil) async -> Started? {
        guard !candidates.isEmpty else { return nil }
        let delay = hedgeDelay.current
        return await withTaskGroup(of: Event.self) { group in
            var launched = 0
            var running = Set<Int>()
            var failed = Set<Int>()
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
            var winnerIndex = 0
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
                    winnerIndex = index
                case .opened(let index, .failure):
                    running.remove(index)
                    failed.insert(index)
                    if running.isEmpty, launched < candidates.count, !Task.isCancelled { launch() }
                }
                if winner == nil, running.isEmpty, launched == candidates.count { break }
            }
            group.cancelAll()
            for await event in group {
                switch event {
                case .opened(_, .success(let extra)):
                    extra.response.body.cancel()
                    extra.lease.end(.cancelled)
                case .opened(let index, .failure(let error)) where error != .cancelled:
                    failed.insert(index)  // it failed on its own before the cancellation reached it
                default:
                    break
                }
            }
            guard let winner else { return nil }
            let remaining = candidates.indices.filter { $0 != winnerIndex && !failed.contains($0) }.map { candidates[$0] }
            return Started(attempt: winner, remaining: remaining)
        }
    }
}

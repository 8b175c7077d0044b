extension SWIM {
    /// The fetches of other members' payloads that one member has scheduled
    /// or sent, by owner: when each is due, when it went out, how many failed
    /// in a row, and whether a delta rather than the owner's record asked for
    /// it. One value, so that forgetting an owner (dead, removed, or a new
    /// life under its name) forgets all four at once. When to fetch is
    /// decided in `Instance+PayloadFetch.swift`; this only keeps the books.
    struct PayloadFetches: Sendable {
        /// Scheduled fetches, by owner, and when they are due.
        private(set) var due: [String: Instant] = [:]
        /// Fetches sent and not yet answered, by owner, and when they went out.
        private(set) var sent: [String: Instant] = [:]
        /// Failed fetches in a row, by owner, for the retry's backoff.
        private(set) var failures: [String: Int] = [:]
        /// Owners whose fetch a delta asked for (one we could not apply or
        /// check) rather than their signed record: fetched once even if the
        /// record names no newer generation (`Instance.requestPayload`).
        private(set) var hinted: Set<String> = []

        /// The earliest scheduled fetch, for the instance's next deadline.
        var nextDue: Instant? { due.values.min() }

        /// Whether a fetch of `owner`'s payload is scheduled, or was sent
        /// less than `retry` before `now` and may still be answered.
        func isUnderWay(_ owner: String, at now: Instant, retry: Duration) -> Bool {
            if due[owner] != nil { return true }
            if let since = sent[owner], now - since < retry { return true }
            return false
        }

        mutating func hint(_ owner: String) { hinted.insert(owner) }

        mutating func schedule(_ owner: String, at instant: Instant) { due[owner] = instant }

        /// The owners whose fetches are due at `now`, in name order (a
        /// dictionary's order differs between processes; the instance must be
        /// reproducible), taken off the schedule.
        mutating func takeDue(at now: Instant) -> [String] {
            let ready = due.filter { $0.value <= now }.keys.sorted()
            for owner in ready { due[owner] = nil }
            return ready
        }

        mutating func sending(_ owner: String, at now: Instant) { sent[owner] = now }

        /// The fetch was answered with what was needed, or is no longer
        /// needed: the next failure starts the backoff again.
        mutating func finished(_ owner: String) {
            sent[owner] = nil
            hinted.remove(owner)
            failures[owner] = nil
        }

        /// The fetch failed; returns the failures in a row, this one included.
        mutating func failed(_ owner: String) -> Int {
            sent[owner] = nil
            hinted.remove(owner)
            let count = (failures[owner] ?? 0) + 1
            failures[owner] = count
            return count
        }

        /// The payload came by another way (push/pull, a delta): a scheduled
        /// fetch is dropped when due, and the backoff starts again.
        mutating func payloadArrived(_ owner: String) { failures[owner] = nil }

        /// Everything about `owner`: it is dead, left, removed, or a new life
        /// under its name whose generations start again.
        mutating func forget(_ owner: String) {
            due[owner] = nil
            sent[owner] = nil
            failures[owner] = nil
            hinted.remove(owner)
        }
    }
}

extension SWIM.Instance {
    /// How long a payload fetch may be outstanding before it is retried.
    static var payloadFetchRetry: Duration { .seconds(5) }

    /// The window over which the members of a group of `members` spread their
    /// fetches of one payload: 2 ms a member, at most 2 s.
    ///
    /// A new generation reaches almost every member within one eager gossip
    /// wave (milliseconds, see docs/benchmarks.md), and each then fetches the
    /// whole payload from its owner. Fetched at once, the n − 1 requests meet
    /// the owner's stream admission (64 streams at a time) together and most
    /// are refused: the scale benchmark saw 8,466 of 9,286 streams refused when
    /// one node joined 999 members. Spread uniformly over n × 2 ms, they
    /// arrive at no more than 500 a second, which 64 slots serve as long as
    /// one exchange takes under 128 ms. (memberlist has no payloads; Serf's
    /// user events and queries spread their answers the same way, over a
    /// window that grows with the group, `Serf.queryResponseSizeLimit` aside.)
    static func payloadFetchSpread(members: Int) -> Duration {
        min(.milliseconds(2) * max(1, members), .seconds(2))
    }

    /// Schedules a fetch of `owner`'s payload at a random point of the spread
    /// window (`payloadFetchSpread`), unless one is scheduled or outstanding.
    /// `hinted`: asked for by a delta that could not be applied or checked,
    /// whose generation is unsigned news; the fetch then goes out once even
    /// though the owner's signed record names no newer generation, and asks
    /// for anything newer than what is held (the owner's answer is signed).
    mutating func requestPayload(of owner: String, hinted: Bool = false, _ now: SWIM.Instant, _ out: inout [SWIM.Directive]) {
        guard let member = members[owner], member.status.isActive else { return }
        if hinted { payloadFetches.hint(owner) }
        guard !payloadFetches.isUnderWay(owner, at: now, retry: Self.payloadFetchRetry) else { return }
        let spread = Self.payloadFetchSpread(members: groupSize)
        payloadFetches.schedule(owner, at: now + spread.scaled(by: Double.random(in: 0..<1, using: &random)))
    }

    /// A fetch that failed (refused, timed out, or the owner did not hold the
    /// generation) is tried again on its own: waiting for the next mention of
    /// the generation would leave it to the next push/pull once gossip has
    /// stopped carrying the news, minutes in a large group. The wait doubles
    /// with each failure in a row, 1 s to 32 s (`payloadFetchBackoff`), plus a
    /// random share of the spread window, so that an owner too busy to serve
    /// its group is not met by every member again a second later.
    mutating func payloadFetchFailed(_ owner: String, _ now: SWIM.Instant) {
        guard let member = members[owner], member.status.isActive,
            member.payloadGeneration > (payloads[owner]?.generation ?? 0)
        else {
            payloadFetches.finished(owner)
            return
        }
        let failures = payloadFetches.failed(owner)
        let spread = Self.payloadFetchSpread(members: groupSize)
        payloadFetches.schedule(
            owner, at: now + Self.payloadFetchBackoff(failures: failures) + spread.scaled(by: Double.random(in: 0..<1, using: &random)))
    }

    /// The wait before retrying after `failures` failed fetches in a row:
    /// 1 s, doubling, at most 32 s.
    static func payloadFetchBackoff(failures: Int) -> Duration {
        .seconds(1 << min(5, max(0, failures - 1)))
    }

    /// Sends the fetches that are due, to the owners themselves, in name order
    /// (`PayloadFetches.takeDue`). A fetch no longer needed (the payload came
    /// by push/pull or a delta, or the owner is gone) is dropped.
    mutating func payloadFetchTick(_ now: SWIM.Instant, _ out: inout [SWIM.Directive]) {
        guard let first = nextPayloadFetchAt, first <= now else { return }
        for owner in payloadFetches.takeDue(at: now) {
            let held = payloads[owner]?.generation ?? 0
            guard let member = members[owner], member.status.isActive,
                member.payloadGeneration > held || payloadFetches.hinted.contains(owner)
            else { continue }
            payloadFetches.sending(owner, at: now)
            let generation = max(member.payloadGeneration, held + 1)
            out.append(.openStream(.payloadRequest(owner: owner, generation: generation), to: member.endpoint))
        }
    }

    /// The earliest scheduled fetch, for `nextDeadline`.
    var nextPayloadFetchAt: SWIM.Instant? { payloadFetches.nextDue }
}

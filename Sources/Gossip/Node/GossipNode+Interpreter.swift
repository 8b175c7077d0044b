/// The directive interpreter and the timers: events go into the instance,
/// its directives come out and are carried out here, one by one.
extension GossipNode {
    /// Work that may block or wait on the network, done in child tasks so
    /// the actor stays responsive: stream exchanges and DNS lookups.
    enum OutboundJob: Sendable {
        case exchange(SWIM.StreamMessage, SWIM.Endpoint)
        case resolveSeeds
    }

    /// Hands `event` to the instance and carries out what it directs. When
    /// the event moved the instance's next deadline before the one the timer
    /// loop sleeps until, the loop is woken.
    func handle(_ event: SWIM.Event) async {
        let directives = instance.handle(event, at: now)
        if instance.nextDeadline < timerTarget { alarm.ring() }
        await perform(directives)
    }

    func perform(_ directives: [SWIM.Directive]) async {
        for directive in directives {
            switch directive {
            case .sendPacket(let packet, let endpoint):
                sendDatagram(WireCodec.encode(packet), to: endpoint)
            case .openStream(let message, let endpoint):
                outboundJobs?.yield(.exchange(message, endpoint))
            case .replyStream(let id, let message):
                // The inbound stream waiting under `id` sends it (`answer`).
                if pendingAnswers.keys.contains(id) { pendingAnswers[id] = message }
            case .resolveSeeds:
                outboundJobs?.yield(.resolveSeeds)
            case .notify(let event):
                observe(event)
            }
        }
    }

    private func observe(_ event: SWIM.MembershipEvent) {
        switch event {
        case .memberChanged(let state, let previous):
            logger.info(
                "member \(state.status)",
                metadata: [
                    "member": "\(state.name)", "address": "\(state.endpoint)", "incarnation": "\(state.incarnation)",
                    "previous": "\(previous.map(\.description) ?? "unknown")",
                ])
        case .memberRemoved(let name):
            logger.debug("member reaped", metadata: ["member": "\(name)"])
        case .nameConflict(let name, let endpoint):
            logger.warning("name conflict refused", metadata: ["member": "\(name)", "address": "\(endpoint)"])
        case .refuted(let incarnation):
            logger.notice("refuted a suspicion about this node", metadata: ["incarnation": "\(incarnation)"])
        case .implausibleIncarnation(let name, let incarnation):
            reject(.implausible(name: name, incarnation: incarnation), from: "gossip")
        case .overCapacity(let name):
            reject(.capacity(name: name), from: "gossip")
            warnOverCapacity(name)
        case .payloadChanged:
            break
        }
        counters.record(members: instance.allMembers, health: instance.localHealthScore)
        for s in subscribers.values { s.yield(event) }
    }

    /// Counts and logs something refused from `source`.
    func reject(_ rejection: Rejection, from source: String) {
        counters.count(.rejected(rejection.reason))
        logger.debug(
            "rejected message", metadata: ["from": "\(source)", "reason": "\(rejection.reason.rawValue)", "error": "\(rejection)"])
    }

    /// The members cap is a state, not an event: while it lasts, every
    /// gossip round may bring news of the same refused members, so it is
    /// logged once per `capacityWarningInterval` (the counter has them all).
    func warnOverCapacity(_ name: String) {
        let at = now
        if let last = capacityWarnedAt, at - last < Self.capacityWarningInterval { return }
        capacityWarnedAt = at
        logger.warning(
            "members cap reached: news of new members is dropped until dead or left members are reaped",
            metadata: [
                "member": "\(name)", "cap": "\(configuration.settings.limits.maximumMembers)",
                "refused": "\(counters.statistics.rejectedCapacity)",
            ])
    }

    static let capacityWarningInterval: Duration = .seconds(60)

    // MARK: Timers

    /// Ticks the instance when its deadline is due and otherwise sleeps
    /// until it: an idle node wakes only for its protocol's own timers (a
    /// probe period, a gossip round while there is news), not to poll.
    /// Events that move the deadline earlier ring the alarm (`handle`).
    func runTimers() async throws {
        while !stopRequested {
            if now >= instance.nextDeadline { await handle(.tick) }
            timerTarget = instance.nextDeadline
            await alarm.sleep(until: origin + .nanoseconds(Int64(clamping: timerTarget.nanoseconds)))
            try Task.checkCancellation()
            timerWakeups += 1
        }
    }

    // MARK: Outbound jobs

    func runOutboundJobs(_ jobs: AsyncStream<OutboundJob>) async {
        await withDiscardingTaskGroup { group in
            for await job in jobs {
                switch job {
                case .exchange(let message, let endpoint):
                    group.addTask { await self.exchange(message, with: endpoint) }
                case .resolveSeeds:
                    group.addTask { await self.resolveSeeds() }
                }
            }
        }
    }

    nonisolated func resolveSeeds() async {
        let seeds = configuration.seeds
        let (endpoints, failures) = await Task.detached {
            SeedResolver.resolve(seeds, defaultPort: GossipConfiguration.defaultPort)
        }.value
        if !failures.isEmpty {
            logger.warning("some seeds did not resolve", metadata: ["seeds": "\(failures)"])
        }
        logger.debug("joining seeds", metadata: ["addresses": "\(endpoints)"])
        await handle(.join(endpoints))
    }
}

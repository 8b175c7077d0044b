extension SWIM {
    /// One member's view of the group and its protocol state, as a value.
    ///
    /// Feed it `Event`s with the current time through `handle(_:at:)`, carry
    /// out the returned `Directive`s, and call it again with `.tick` no later
    /// than `nextDeadline`. It does no I/O, reads no clock and draws
    /// randomness only from its seeded generator, so a run is reproducible.
    ///
    /// The protocol logic lives in extensions: probing and Lifeguard
    /// (`Instance+Probing.swift`), handling of alive/suspect/dead news
    /// (`Instance+Updates.swift`), and state exchange, joining and payloads
    /// (`Instance+AntiEntropy.swift`).
    public struct Instance: Sendable {
        public let settings: Settings
        /// This member's own record. Its status is `alive`, or `left` after `.leave`.
        public internal(set) var myself: Member
        /// This member's signing key: it signs our alive records, payloads
        /// and leave (`RecordSignature`); the public half is in `myself`.
        let identity: MemberIdentity
        var ownPayload: Payload?
        let merge: PayloadMerge?

        /// Every other member ever heard of and not yet reaped, by name.
        var members: [String: Member] = [:]
        /// Names of `members` in an array for O(1) random sampling.
        var memberNames: [String] = []
        var memberIndex: [String: Int] = [:]
        /// Members whose status is alive or suspect (not counting ourselves).
        public internal(set) var activeMemberCount = 0
        /// Payloads of other members that this node holds.
        var payloads: [String: Payload] = [:]
        /// Fetches of those payloads scheduled or sent (`Instance+PayloadFetch.swift`).
        var payloadFetches = PayloadFetches()

        var health: LocalHealth
        var suspicions: [String: Suspicion] = [:]
        var broadcasts = BroadcastQueue()
        var random: Random
        var lastSequence: SequenceNumber = 0

        var probe: Probe?
        var probeOrder: [String] = []
        var probeCursor = 0
        var relays: [SequenceNumber: Relay] = [:]

        var nextProbeAt: Instant
        var nextGossipAt: Instant
        var nextPushPullAt: Instant
        var nextReconnectAt: Instant
        var nextReapAt: Instant
        /// Next time to resolve the seeds again while isolated; nil without seeds.
        var nextJoinAt: Instant?
        var joinBackoff: Duration
        /// Whether a join through the seeds has succeeded (and the group has
        /// not been lost since): until then, seeds are retried with backoff.
        var hasJoined = false
        /// Seed addresses with a join exchange under way.
        var pendingJoins: Set<Endpoint> = []

        /// - Parameters:
        ///   - settings: protocol timing (a profile, possibly adjusted).
        ///   - name: this member's unique name.
        ///   - endpoint: the advertised address other members dial.
        ///   - metadata: small key/value metadata gossiped with every alive message.
        ///   - identity: this member's signing key.
        ///   - hasSeeds: whether `.resolveSeeds` is worth asking for while alone.
        ///   - merge: applies payload deltas; without it, deltas trigger fetches.
        ///   - seed: seeds the random generator.
        ///   - now: the current time.
        public init(
            settings: Settings, name: String, endpoint: Endpoint, metadata: Metadata = [:],
            identity: MemberIdentity, incarnation: Incarnation = 0, hasSeeds: Bool, merge: PayloadMerge? = nil, seed: UInt64, now: Instant
        ) {
            precondition(MemberName.isValid(name), "invalid member name")
            precondition(incarnation <= Limits.maximumIncarnation, "incarnation above the ceiling")
            precondition((try? WireCodec.validate(metadata: metadata)) != nil, "metadata too large or not decodable")
            self.settings = settings
            self.myself = Member(
                name: name, endpoint: endpoint, incarnation: incarnation, status: .alive, metadata: metadata,
                statusChangedAt: now)
            self.myself.publicKey = identity.publicKey
            self.identity = identity
            self.merge = merge
            self.health = LocalHealth(maximum: settings.awarenessMaxMultiplier)
            var random = Random(seed: seed)
            // Stagger periodic work so that members started together do not
            // probe and exchange state in lockstep.
            func jitter(_ d: Duration) -> Duration { d.scaled(by: Double.random(in: 0..<1, using: &random)) }
            self.nextProbeAt = now + jitter(settings.probeInterval)
            self.nextGossipAt = now + jitter(settings.gossipInterval)
            self.nextPushPullAt = now + settings.pushPullInterval.scaled(by: 0.5) + jitter(settings.pushPullInterval)
            self.nextReconnectAt = now + settings.reconnectInterval + jitter(settings.reconnectInterval)
            self.nextReapAt = now + .seconds(1)
            self.random = random
            self.joinBackoff = settings.joinRetryInitial
            self.nextJoinAt = hasSeeds ? now : nil
            updateNextDeadline()
        }

        // MARK: Reading the view

        /// Every other known member, sorted by name.
        public var otherMembers: [Member] { members.values.sorted { $0.name < $1.name } }

        /// All members including this one, sorted by name.
        public var allMembers: [Member] { (otherMembers + [myself]).sorted { $0.name < $1.name } }

        public func member(named name: String) -> Member? { name == myself.name ? myself : members[name] }

        /// The payload this node holds for `name` (its own included).
        public func payload(of name: String) -> Payload? { name == myself.name ? ownPayload : payloads[name] }

        /// Lifeguard's local health multiplier score (0 is healthy).
        public var localHealthScore: Int { health.score }

        /// Updates waiting to be gossiped.
        public var pendingBroadcasts: Int { broadcasts.count }

        public var isLeaving: Bool { myself.status == .left }

        /// Group size used to scale timeouts and retransmissions.
        var groupSize: Int { activeMemberCount + 1 }

        /// The latest time by which `.tick` must be delivered.
        ///
        /// Stored, and brought up to date at the end of every `handle` (the
        /// only way the instance changes), so that reading it after each
        /// event costs nothing; a computed property would copy the whole
        /// instance per read in debug builds.
        public private(set) var nextDeadline: Instant = .zero

        /// Recomputes `nextDeadline`.
        ///
        /// The reaper only counts while it has work (a member dead or gone);
        /// otherwise it would wake the node every second for nothing. Its
        /// timer runs on, so it fires when due once it counts again.
        mutating func updateNextDeadline() {
            var deadline = Instant(nanoseconds: .max)
            func consider(_ t: Instant?) { if let t, t < deadline { deadline = t } }
            if members.count > activeMemberCount { consider(nextReapAt) }
            if myself.status != .left {
                if let probe { consider(probe.indirectSent ? probe.deadline : probe.ackDeadline) } else { consider(nextProbeAt) }
                consider(nextPushPullAt)
                consider(nextReconnectAt)
                consider(nextJoinAt)
            }
            for s in suspicions.values {
                consider(s.deadline)
                consider(s.reminderDue)
            }
            for r in relays.values { consider(r.wantsNack && !r.nackSent ? r.nackAt : r.expiresAt) }
            consider(payloadFetches.nextDue)
            if !broadcasts.isEmpty { consider(nextGossipAt) }
            // Nothing pending at all (a member that left, with nothing to
            // send): a heartbeat every second, as the reaper's timer.
            nextDeadline = deadline.nanoseconds == .max ? nextReapAt : deadline
        }

        // MARK: Events

        /// Handles one event at time `now` and returns what to do.
        public mutating func handle(_ event: Event, at now: Instant) -> [Directive] {
            var out: [Directive] = []
            switch event {
            case .tick:
                tick(now, &out)
            case .join(let endpoints):
                join(endpoints, now, &out)
            case .packet(let packet, let from):
                receive(packet, from: from, now, &out)
            case .streamRequest(let id, let message, let from):
                answerStream(id: id, message, from: from, now, &out)
            case .streamReply(let message, let from):
                if pendingJoins.remove(from) != nil { joined(now) }
                receiveStreamReply(message, now, &out)
            case .streamFailed(let message, let endpoint):
                streamFailed(message, to: endpoint, now)
            case .localPayload(let payload, let delta):
                publishPayload(payload, delta: delta, now, &out)
            case .localMetadata(let metadata):
                precondition((try? WireCodec.validate(metadata: metadata)) != nil, "metadata too large or not decodable")
                myself.metadata = metadata
                // After leaving there is nothing to announce (an alive record
                // with status left does not decode, and would sink the packet).
                guard !isLeaving else { break }
                raiseIncarnation()
                broadcasts.enqueue(.alive(ownRecord))
            case .leave:
                leave(now, &out)
            }
            updateNextDeadline()
            return out
        }

        mutating func tick(_ now: Instant, _ out: inout [Directive]) {
            if !isLeaving {
                probeTick(now, &out)
                antiEntropyTick(now, &out)
            }
            expireSuspicions(now, &out)
            relayTick(now, &out)
            payloadFetchTick(now, &out)
            if now >= nextGossipAt {
                gossip(now, &out)
                // Keep the cadence when on time; after an idle spell (no news,
                // so no gossip ticks) start a new one from now. (Was
                // `max(next + interval, now)`, which after idling made the
                // next deadline `now` and sent a second round at once.)
                nextGossipAt = nextGossipAt + settings.gossipInterval
                if nextGossipAt <= now { nextGossipAt = now + settings.gossipInterval }
            }
            if now >= nextReapAt {
                reap(now, &out)
                nextReapAt = now + .seconds(1)
            }
        }

        mutating func receive(_ packet: Packet, from source: Endpoint, _ now: Instant, _ out: inout [Directive]) {
            var corrections: [Update] = []
            var correctionBytes = 0
            for update in packet.updates {
                switch update {
                case .suspect, .dead:
                    if let newer = Self.correction(for: update, myself: myself, identity: identity, members: members) {
                        let size = WireCodec.encodedSize(of: newer)
                        if correctionBytes + size <= (settings.packetBudget - WireCodec.envelopeReserve) / 2 {
                            corrections.append(newer)
                            correctionBytes += size
                        }
                    }
                case .alive, .payloadDelta:
                    break
                }
                apply(update, now, &out)
            }
            switch packet.message {
            case .ping(let sequence, let target, let targetKey, let from):
                // A ping for another name, or for an earlier life of ours with
                // another key, reached us (a reused address or name): stay
                // silent so the prober suspects the member it meant.
                if target == myself.name, targetKey == identity.keyID {
                    out.append(send(.ack(sequence: sequence, from: myself.name), to: from.endpoint, first: corrections))
                    corrections = []
                }
            case .pingRequest(let sequence, let target, let targetKey, let from, let wantsNack):
                relay(sequence: sequence, target: target, targetKey: targetKey, requester: from, wantsNack: wantsNack, now, &out)
            case .ack(let sequence, _):
                acknowledge(sequence, now, &out)
            case .nack(let sequence, _):
                if probe?.sequence == sequence { probe?.nacks += 1 }
            case .gossip:
                break
            }
            if !corrections.isEmpty {
                out.append(send(.gossip(from: myself.name), to: source, first: corrections))
            }
        }

        /// Our newer word about a member that `update` reports suspect or dead
        /// at an older incarnation than we know it alive at, if any.
        ///
        /// Such news is stale: its sender missed the member's refutation.
        /// Refutations spread by gossip with a bounded number of
        /// retransmissions, so under packet loss a member occasionally misses
        /// one; holding a suspicion nobody will confirm any more, it would
        /// declare a healthy member dead when its timer ran out (the
        /// simulator measured about one such false death per 17 member-hours
        /// at 10 % loss with 100 members). But a member that holds a
        /// suspicion also gossips it (once more if nobody confirms it, see
        /// `Suspicion.reminderDue`), so answering stale news with the newer
        /// alive message, straight to the packet's sender, repairs its view
        /// within a round trip. The same answer tells a member that still
        /// believes our previous life dead (a restart at a new address) that
        /// we are back. Incarnations only grow, so corrections cannot loop.
        ///
        /// (Static, with the parts of the state it reads passed in: a method
        /// on `self` called from mutating code copies the whole instance per
        /// update in debug builds.)
        static func correction(
            for update: Update, myself: Member, identity: MemberIdentity, members: [String: Member]
        ) -> Update? {
            switch update {
            case .suspect(let name, let incarnation, _), .dead(let name, let incarnation, _, _):
                if name == myself.name {
                    return myself.status != .left && incarnation < myself.incarnation
                        ? .alive(identity.signed(myself.ownState)) : nil
                }
                guard let m = members[name], m.status == .alive, m.incarnation > incarnation else { return nil }
                return .alive(m.state)
            case .alive, .payloadDelta:
                return nil
            }
        }

        /// Our own alive record, signed (`RecordSignature`).
        var ownRecord: MemberState { identity.signed(myself.ownState) }

        /// Builds a packet with as many piggybacked updates as fit the budget.
        mutating func send(_ message: Message, to endpoint: Endpoint, first: [Update] = []) -> Directive {
            var budget = settings.packetBudget - WireCodec.envelopeReserve - WireCodec.encodedSize(of: message)
            for u in first { budget -= WireCodec.encodedSize(of: u) }
            let updates = first + broadcasts.take(budget: budget, limit: settings.retransmitLimit(members: groupSize))
            return .sendPacket(Packet(message, updates: updates), to: endpoint)
        }

        mutating func nextSequence() -> SequenceNumber {
            lastSequence &+= 1
            return lastSequence
        }

        // MARK: Member bookkeeping

        /// Inserts or replaces a member, keeping the sampling array and the
        /// active count in step.
        mutating func store(_ member: Member) {
            let previous = members.updateValue(member, forKey: member.name)
            if previous == nil {
                memberIndex[member.name] = memberNames.count
                memberNames.append(member.name)
                // New members join the probe order at a random place (memberlist).
                let insertAt = Int.random(in: probeCursor...probeOrder.count, using: &random)
                probeOrder.insert(member.name, at: insertAt)
            }
            activeMemberCount += (member.status.isActive ? 1 : 0) - ((previous?.status.isActive ?? false) ? 1 : 0)
        }

        mutating func remove(_ name: String) {
            guard let removed = members.removeValue(forKey: name), let index = memberIndex.removeValue(forKey: name)
            else { return }
            let last = memberNames.removeLast()
            if index < memberNames.count {
                memberNames[index] = last
                memberIndex[last] = index
            }
            if removed.status.isActive { activeMemberCount -= 1 }
            suspicions[name] = nil
            payloads[name] = nil
            payloadFetches.forget(name)
        }

        /// Up to `count` distinct random members satisfying `accept`, by
        /// rejection sampling (cheap when most members qualify) with a full
        /// scan as fallback.
        mutating func randomMembers(_ count: Int, where accept: (Member) -> Bool) -> [Member] {
            guard count > 0, !memberNames.isEmpty else { return [] }
            var chosen: [Member] = []
            // Indices into `memberNames` already drawn: a few integers, cheaper
            // than a set of names on this hot path.
            var seen: [Int] = []
            var attempts = 0
            while chosen.count < count, attempts < 4 * count + 8 {
                attempts += 1
                let index = Int.random(in: 0..<memberNames.count, using: &random)
                guard !seen.contains(index), let m = members[memberNames[index]] else { continue }
                seen.append(index)
                if accept(m) { chosen.append(m) }
            }
            if chosen.count < count {
                var rest: [Member] = []
                for (index, name) in memberNames.enumerated() where !seen.contains(index) {
                    if let m = members[name], accept(m) { rest.append(m) }
                }
                rest.shuffle(using: &random)
                chosen.append(contentsOf: rest.prefix(count - chosen.count))
            }
            return chosen
        }

        mutating func reap(_ now: Instant, _ out: inout [Directive]) {
            // Nothing to reap while every member is active (the usual case;
            // this runs every second). Otherwise walk `memberNames`, whose
            // order, unlike a dictionary's, is the same in every process.
            guard members.count > activeMemberCount else { return }
            var expired: [String] = []
            for name in memberNames {
                guard let m = members[name] else { continue }
                switch m.status {
                case .dead where now - m.statusChangedAt >= settings.deadMemberRetention: expired.append(m.name)
                case .left where now - m.statusChangedAt >= settings.leftMemberRetention: expired.append(m.name)
                default: break
                }
            }
            for name in expired {
                remove(name)
                out.append(.notify(.memberRemoved(name: name)))
            }
        }
    }
}

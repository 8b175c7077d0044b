extension SWIM {
    /// The probe in flight (SWIM §3.1, one per protocol period).
    struct Probe: Sendable {
        var target: String
        var endpoint: Endpoint
        var sequence: SequenceNumber
        /// `MemberIdentity.keyID` of the key pinned to the target.
        var targetKey: UInt64
        var sentAt: Instant
        /// After this, ask others to probe indirectly.
        var ackDeadline: Instant
        /// After this, suspect the target.
        var deadline: Instant
        var indirectSent = false
        var expectedNacks = 0
        var nacks = 0
    }

    /// A probe this node makes on another member's behalf (ping-req).
    struct Relay: Sendable {
        var originalSequence: SequenceNumber
        var requester: Endpoint
        var target: String
        var wantsNack: Bool
        var nackAt: Instant
        var nackSent = false
        var expiresAt: Instant
    }
}

extension SWIM.Instance {
    mutating func probeTick(_ now: SWIM.Instant, _ out: inout [SWIM.Directive]) {
        if var p = probe {
            if !p.indirectSent, now >= p.ackDeadline {
                p.indirectSent = true
                let helpers = randomMembers(settings.indirectChecks) { $0.status == .alive && $0.name != p.target }
                let request = SWIM.Message.pingRequest(
                    sequence: p.sequence, target: SWIM.Sender(name: p.target, endpoint: p.endpoint),
                    targetKey: p.targetKey, from: sender, wantsNack: true)
                for helper in helpers { out.append(send(request, to: helper.endpoint)) }
                p.expectedNacks = helpers.count
                probe = p
            }
            if now >= p.deadline {
                probe = nil
                probeFailed(p, now, &out)
            }
        }
        if probe == nil, now >= nextProbeAt {
            startProbe(now, &out)
        }
    }

    var sender: SWIM.Sender { SWIM.Sender(name: myself.name, endpoint: myself.endpoint) }

    mutating func startProbe(_ now: SWIM.Instant, _ out: inout [SWIM.Directive]) {
        let interval = health.scale(settings.probeInterval)
        guard let target = nextProbeTarget() else {
            nextProbeAt = now + interval
            return
        }
        let sequence = nextSequence()
        // Buddy system (Lifeguard §4.4): a suspect learns of the suspicion from
        // the probe itself and can refute at once instead of waiting for gossip.
        let first: [SWIM.Update] =
            target.status == .suspect
            ? [.suspect(name: target.name, incarnation: target.incarnation, from: myself.name)] : []
        let targetKey = MemberIdentity.keyID(of: target.publicKey)
        out.append(
            send(.ping(sequence: sequence, target: target.name, targetKey: targetKey, from: sender), to: target.endpoint, first: first))
        probe = SWIM.Probe(
            target: target.name, endpoint: target.endpoint, sequence: sequence, targetKey: targetKey, sentAt: now,
            ackDeadline: now + health.scale(settings.probeTimeout), deadline: now + interval)
        nextProbeAt = now + interval
    }

    /// Round-robin over a shuffled list of members (SWIM §4.3): every member
    /// is probed within a bounded time, unlike uniform random choice.
    mutating func nextProbeTarget() -> SWIM.Member? {
        for _ in 0...(probeOrder.count + 1) {
            if probeCursor >= probeOrder.count {
                probeOrder = memberNames.filter { members[$0]?.status.isActive == true }
                probeOrder.shuffle(using: &random)
                probeCursor = 0
                if probeOrder.isEmpty { return nil }
            }
            let name = probeOrder[probeCursor]
            probeCursor += 1
            if let m = members[name], m.status.isActive { return m }
        }
        return nil
    }

    mutating func acknowledge(_ sequence: SWIM.SequenceNumber, _ now: SWIM.Instant, _ out: inout [SWIM.Directive]) {
        if let p = probe, p.sequence == sequence {
            probe = nil
            if !p.indirectSent {
                health.apply(-1)
                recordRoundTrip(p.target, now - p.sentAt)
            }
            return
        }
        if let r = relays.removeValue(forKey: sequence) {
            out.append(send(.ack(sequence: r.originalSequence, from: r.target), to: r.requester))
        }
    }

    /// Exponentially weighted moving average of direct probe round trips,
    /// used by the registry to prefer near peers.
    mutating func recordRoundTrip(_ name: String, _ sample: Duration) {
        guard var m = members[name] else { return }
        if let previous = m.roundTripTime {
            m.roundTripTime = previous.scaled(by: 0.8) + sample.scaled(by: 0.2)
        } else {
            m.roundTripTime = sample
        }
        members[name] = m
    }

    mutating func probeFailed(_ p: SWIM.Probe, _ now: SWIM.Instant, _ out: inout [SWIM.Directive]) {
        // Lifeguard §4.1/§4.3: missing nacks mean our own messages are not
        // getting through; without helpers, any failure counts against us.
        health.apply(p.expectedNacks > 0 ? p.expectedNacks - p.nacks : 1)
        guard let m = members[p.target], m.status.isActive, m.endpoint == p.endpoint else { return }
        suspect(name: m.name, incarnation: m.incarnation, from: myself.name, now, &out)
    }

    mutating func relay(
        sequence: SWIM.SequenceNumber, target: SWIM.Sender, targetKey: UInt64, requester: SWIM.Sender, wantsNack: Bool,
        _ now: SWIM.Instant, _ out: inout [SWIM.Directive]
    ) {
        guard target.name != myself.name else {
            // We are the target: answer the requester directly (unless the
            // request is for an earlier life of ours, as for pings).
            if targetKey == identity.keyID {
                out.append(send(.ack(sequence: sequence, from: myself.name), to: requester.endpoint))
            }
            return
        }
        let ours = nextSequence()
        relays[ours] = SWIM.Relay(
            originalSequence: sequence, requester: requester.endpoint, target: target.name, wantsNack: wantsNack,
            nackAt: now + settings.probeTimeout.scaled(by: 0.8), expiresAt: now + settings.probeInterval)
        out.append(send(.ping(sequence: ours, target: target.name, targetKey: targetKey, from: sender), to: target.endpoint))
    }

    mutating func relayTick(_ now: SWIM.Instant, _ out: inout [SWIM.Directive]) {
        guard !relays.isEmpty else { return }
        // Sorted, here and in `expireSuspicions`: dictionary order varies
        // between processes, and the order of the resulting packets and
        // broadcasts must not, so that a seeded run is reproducible.
        for sequence in relays.keys.sorted() {
            let r = relays[sequence]!
            if r.wantsNack, !r.nackSent, now >= r.nackAt {
                relays[sequence]?.nackSent = true
                out.append(send(.nack(sequence: r.originalSequence, from: myself.name), to: r.requester))
            }
            if now >= r.expiresAt { relays[sequence] = nil }
        }
    }

    mutating func expireSuspicions(_ now: SWIM.Instant, _ out: inout [SWIM.Directive]) {
        guard !suspicions.isEmpty else { return }
        for name in suspicions.compactMap({ now >= $0.value.deadline ? $0.key : nil }).sorted() {
            let s = suspicions.removeValue(forKey: name)!
            guard let m = members[name], m.status == .suspect, m.incarnation == s.incarnation else { continue }
            declareDead(name: name, incarnation: m.incarnation, from: myself.name, now, &out)
        }
        // Unconfirmed suspicions are gossiped once more (see `Suspicion.reminderDue`),
        // in the name of their first accuser: repeating is not confirming.
        for name in suspicions.compactMap({ s in s.value.reminderDue.map { now >= $0 } == true ? s.key : nil }).sorted() {
            suspicions[name]!.reminded = true
            let s = suspicions[name]!
            broadcasts.enqueue(.suspect(name: name, incarnation: s.incarnation, from: s.accuser))
        }
    }

    /// Sends pending updates to a few random members (memberlist gossip):
    /// active members, and dead ones recently enough that they may refute.
    mutating func gossip(_ now: SWIM.Instant, _ out: inout [SWIM.Directive]) {
        guard !broadcasts.isEmpty else { return }
        let window = settings.gossipToTheDeadTime
        let targets = randomMembers(settings.gossipNodes) { m in
            m.status.isActive || (m.status == .dead && now - m.statusChangedAt < window)
        }
        for t in targets {
            if broadcasts.isEmpty { break }
            out.append(send(.gossip(from: myself.name), to: t.endpoint))
        }
    }
}

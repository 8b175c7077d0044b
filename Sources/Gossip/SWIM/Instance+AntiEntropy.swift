extension SWIM.Instance {
    mutating func antiEntropyTick(_ now: SWIM.Instant, _ out: inout [SWIM.Directive]) {
        if now >= nextPushPullAt {
            nextPushPullAt = now + settings.pushPullInterval(members: groupSize)
            if let peer = randomMembers(1, where: { $0.status == .alive }).first {
                out.append(.openStream(pushPull(join: false), to: peer.endpoint))
            }
        }
        if now >= nextReconnectAt {
            // Serf's reconnect: state exchange with a random dead member heals
            // a partition once the network does. (Only looked for when some
            // member is inactive: finding none means a scan of all members.)
            nextReconnectAt = now + settings.reconnectInterval
            if members.count > activeMemberCount, let peer = randomMembers(1, where: { $0.status == .dead }).first {
                out.append(.openStream(pushPull(join: false), to: peer.endpoint))
            }
        }
        if nextJoinAt != nil {
            if hasJoined, activeMemberCount == 0 {
                // Everyone else is gone: join again from the seeds.
                hasJoined = false
                joinBackoff = settings.joinRetryInitial
                nextJoinAt = now
            }
            if let joinAt = nextJoinAt, now >= joinAt {
                // Ask the shell to resolve the seeds (DNS answers change):
                // with backoff until a join succeeds, then now and then.
                out.append(.resolveSeeds)
                if hasJoined {
                    nextJoinAt = now + settings.seedRefreshInterval
                } else {
                    nextJoinAt = now + joinBackoff
                    joinBackoff = min(joinBackoff * 2, settings.joinRetryMaximum)
                }
            }
        }
    }

    /// A join exchange with a seed succeeded.
    mutating func joined(_ now: SWIM.Instant) {
        guard !hasJoined else { return }
        hasJoined = true
        joinBackoff = settings.joinRetryInitial
        nextJoinAt = now + settings.seedRefreshInterval
    }

    mutating func join(_ endpoints: [SWIM.Endpoint], _ now: SWIM.Instant, _ out: inout [SWIM.Directive]) {
        // Deduplicated in the given order (not through a Set, whose order
        // varies between processes): the instance must be reproducible.
        var seen: Set<SWIM.Endpoint> = []
        var targets = endpoints.filter { $0 != myself.endpoint && seen.insert($0).inserted }
        if hasJoined {
            // A refresh: one seed address that is not already a member is enough.
            let known = Set(memberNames.compactMap { members[$0] }.filter { $0.status.isActive }.map(\.endpoint))
            targets = targets.filter { !known.contains($0) }
            targets = targets.isEmpty ? [] : [targets[Int.random(in: 0..<targets.count, using: &random)]]
        }
        for endpoint in targets {
            pendingJoins.insert(endpoint)
            out.append(.openStream(pushPull(join: true), to: endpoint))
        }
    }

    /// Our full view and our own payload, for a push/pull exchange.
    func pushPull(join: Bool) -> SWIM.StreamMessage {
        // In `memberNames` order: dictionary order varies between processes
        // (per-process hash seeds), which would make runs irreproducible.
        var states = memberNames.compactMap { members[$0]?.state }
        states.append(ownRecord)
        return .pushPull(join: join, from: sender, members: states, payload: ownPayload)
    }

    mutating func answerStream(
        id: UInt64, _ message: SWIM.StreamMessage, from: SWIM.Endpoint, _ now: SWIM.Instant,
        _ out: inout [SWIM.Directive]
    ) {
        switch message {
        case .pushPull(_, let peer, let states, let payload):
            // Merge first so that the answer already carries any refutation.
            merge(states, sentBy: peer.name, payload: payload, now, &out)
            out.append(.replyStream(id: id, pushPull(join: false)))
        case .payloadRequest(let owner, let generation):
            let held = payload(of: owner)
            out.append(.replyStream(id: id, .payloadResponse(owner: owner, payload: (held?.generation ?? 0) >= generation ? held : nil)))
        case .payloadResponse:
            break
        }
    }

    mutating func receiveStreamReply(_ message: SWIM.StreamMessage, _ now: SWIM.Instant, _ out: inout [SWIM.Directive]) {
        switch message {
        case .pushPull(_, let peer, let states, let payload):
            merge(states, sentBy: peer.name, payload: payload, now, &out)
        case .payloadResponse(let owner, let payload):
            if let payload { store(payload, of: owner, now, &out) }
            // Not held at the generation we knew of: try again later.
            if (payloads[owner]?.generation ?? 0) < (members[owner]?.payloadGeneration ?? 0) {
                payloadFetchFailed(owner, now)
            } else {
                payloadFetches.finished(owner)
            }
        case .payloadRequest:
            break
        }
    }

    mutating func streamFailed(_ message: SWIM.StreamMessage, to endpoint: SWIM.Endpoint, _ now: SWIM.Instant) {
        pendingJoins.remove(endpoint)
        if case .payloadRequest(let owner, _) = message { payloadFetchFailed(owner, now) }
    }

    /// Merges a remote view (memberlist `mergeState`). A remote "dead" only
    /// makes us suspect, so that the member gets its chance to refute; a
    /// remote "left" is the member's own word and is taken as is.
    mutating func merge(
        _ states: [SWIM.MemberState], sentBy peer: String, payload: SWIM.Payload?, _ now: SWIM.Instant,
        _ out: inout [SWIM.Directive]
    ) {
        for state in states {
            switch state.status {
            case .alive:
                alive(state, now, &out)
            case .suspect, .dead:
                // First learn the member exists, so the suspicion can apply.
                if members[state.name] == nil, state.name != myself.name {
                    // But not a dead one: we may have reaped it already, and
                    // learning it again from a member that has not (it was
                    // declared dead a little later there) would bring it back,
                    // announced alive to everyone that reaped it too, to be
                    // suspected, declared dead and retained all over again;
                    // the simulator saw such a member never go away.
                    // (memberlist learns no member from a dead or suspect state.)
                    guard state.status == .suspect else { continue }
                    var asAlive = state
                    asAlive.status = .alive
                    // Suspected at a later incarnation than the member
                    // signed: nothing to learn it from (a record we cannot
                    // check is not counted as forged: it is normal).
                    guard RecordSignature.verifies(alive: asAlive) else { continue }
                    alive(asAlive, now, &out)
                }
                // The peer passes the suspicion on; it did not necessarily
                // suspect on its own, so it is no confirmation.
                suspect(name: state.name, incarnation: state.incarnation, from: peer, confirming: false, now, &out)
            case .left:
                declareDead(
                    name: state.name, incarnation: state.incarnation, from: state.name, signature: state.signature, now,
                    &out)
            }
        }
        if let payload, peer != myself.name { store(payload, of: peer, now, &out) }
    }

    mutating func store(_ payload: SWIM.Payload, of owner: String, _ now: SWIM.Instant, _ out: inout [SWIM.Directive]) {
        guard owner != myself.name, var member = members[owner], payload.bytes.count <= settings.limits.maximumPayloadSize,
            payload.generation > (payloads[owner]?.generation ?? 0)
        else { return }
        guard RecordSignature.verifies(payload: payload, of: owner, by: member.publicKey) else {
            out.append(.notify(.forged(name: owner, what: "payload not signed by its owner")))
            return
        }
        payloads[owner] = payload
        payloadFetches.payloadArrived(owner)
        if payload.generation > member.payloadGeneration {
            member.payloadGeneration = payload.generation
            store(member)
        }
        out.append(.notify(.payloadChanged(owner: owner, generation: payload.generation)))
    }

    /// Records that `owner` has reached `generation` and fetches it if we hold less.
    mutating func noteGeneration(_ owner: String, _ generation: UInt64, _ now: SWIM.Instant, _ out: inout [SWIM.Directive]) {
        guard let member = members[owner] else { return }
        noteGeneration(of: member, generation, now, &out)
    }

    /// `noteGeneration` for a member record just read from `members`.
    mutating func noteGeneration(of member: SWIM.Member, _ generation: UInt64, _ now: SWIM.Instant, _ out: inout [SWIM.Directive]) {
        var member = member
        if generation > member.payloadGeneration {
            member.payloadGeneration = generation
            store(member)
        }
        if member.payloadGeneration > 0, member.payloadGeneration > (payloads[member.name]?.generation ?? 0) {
            requestPayload(of: member.name, now, &out)
        }
    }

    /// Publishes our own payload: small deltas are gossiped as they are;
    /// anything else bumps our incarnation so that the new generation spreads
    /// with our alive message and members fetch the payload.
    mutating func publishPayload(_ payload: SWIM.Payload, delta: [UInt8]?, _ now: SWIM.Instant, _ out: inout [SWIM.Directive]) {
        let base = ownPayload?.generation ?? 0
        // Generations only increase; an older or repeated one is ignored.
        guard payload.generation > base else { return }
        let payload = identity.signed(payload, owner: myself.name)
        ownPayload = payload
        myself.payloadGeneration = payload.generation
        // After leaving: still served on request, never announced (an alive
        // record with status left does not decode, and would sink the packet).
        guard !isLeaving else { return }
        // A delta carries the signature of the payload it produces.
        let update = delta.map {
            SWIM.Update.payloadDelta(
                owner: myself.name, base: base, generation: payload.generation, delta: $0, signature: payload.signature)
        }
        if let update, base > 0, WireCodec.encodedSize(of: update) <= (settings.packetBudget - WireCodec.envelopeReserve) / 2 {
            broadcasts.enqueue(update)
        } else {
            raiseIncarnation()
            broadcasts.enqueue(.alive(ownRecord))
        }
    }

    /// Graceful leave: a dead message about ourselves from ourselves means
    /// "left". It goes straight to every active member we know (small groups
    /// are the norm) and is gossiped as usual.
    mutating func leave(_ now: SWIM.Instant, _ out: inout [SWIM.Directive]) {
        guard !isLeaving else { return }
        raiseIncarnation()
        myself.status = .left
        myself.statusChangedAt = now
        probe = nil
        let news = SWIM.Update.dead(
            name: myself.name, incarnation: myself.incarnation, from: myself.name,
            signature: identity.leaveSignature(name: myself.name, incarnation: myself.incarnation))
        broadcasts.enqueue(news)
        for m in randomMembers(64, where: { $0.status.isActive }) {
            out.append(send(.gossip(from: myself.name), to: m.endpoint, first: [news]))
        }
    }
}

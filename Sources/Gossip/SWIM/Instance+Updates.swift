extension SWIM.Instance {
    mutating func apply(_ update: SWIM.Update, _ now: SWIM.Instant, _ out: inout [SWIM.Directive]) {
        switch update {
        case .alive(let state):
            alive(state, now, &out)
        case .suspect(let name, let incarnation, let from):
            suspect(name: name, incarnation: incarnation, from: from, now, &out)
        case .dead(let name, let incarnation, let from, let signature):
            declareDead(name: name, incarnation: incarnation, from: from, signature: signature, now, &out)
        case .payloadDelta(let owner, let base, let generation, let delta, let signature):
            payloadDelta(owner: owner, base: base, generation: generation, delta: delta, signature: signature, now, &out)
        }
    }

    /// An alive message (SWIM §4.2): accepted only with a higher incarnation
    /// than known. A new address for a known name is accepted only once the
    /// old member is dead or left (a restarted node); while it is active it is
    /// a name conflict and refused, so two live processes cannot flap.
    ///
    /// The record must be signed by the key it carries, and that key must be
    /// the one pinned to the name (`Member.publicKey`, pinned by the first
    /// verified record); anything else is `forged`. A new key is accepted
    /// only once the member has left (its leave signed by the old key) or
    /// has been dead for `gossipToTheDeadTime`, the time in which a member
    /// falsely declared dead still hears of it and refutes with its own key.
    mutating func alive(_ state: SWIM.MemberState, _ now: SWIM.Instant, _ out: inout [SWIM.Directive]) {
        if state.name == myself.name {
            // News of our own earlier life, or of an impostor: out-incarnate it.
            if !isLeaving, state.incarnation >= myself.incarnation,
                state.endpoint != myself.endpoint || state.metadata != myself.metadata
                    || state.incarnation > myself.incarnation,
                Self.isPlausible(state.incarnation, of: state.name, known: myself.incarnation, &out)
            {
                refute(above: state.incarnation, &out)
            }
            return
        }
        guard var member = members[state.name] else {
            guard Self.isPlausible(state.incarnation, of: state.name, known: nil, &out) else { return }
            // At the cap (ourselves included) only known members' news is
            // taken; reaping dead and left members makes room (`SWIM.Limits`).
            guard members.count + 1 < settings.limits.maximumMembers else {
                out.append(.notify(.overCapacity(name: state.name)))
                return
            }
            guard RecordSignature.verifies(alive: state) else {
                out.append(.notify(.forged(name: state.name, what: "alive record with a bad signature")))
                return
            }
            var member = SWIM.Member(
                name: state.name, endpoint: state.endpoint, incarnation: state.incarnation, status: .alive,
                metadata: state.metadata, payloadGeneration: 0, statusChangedAt: now)
            member.publicKey = state.publicKey
            member.signature = state.signature
            member.signedGeneration = state.payloadGeneration
            store(member)
            broadcasts.enqueue(.alive(state), introduction: true)
            out.append(.notify(.memberChanged(state, previous: nil)))
            noteGeneration(state.name, state.payloadGeneration, now, &out)
            return
        }
        let sameKey = state.publicKey == member.publicKey
        guard state.incarnation > member.incarnation else {
            // Old news, by far the most common case (checked before any
            // signature: most of it is the very record we hold). Only a
            // newer payload generation in a record at the same incarnation
            // may tell us something, and only once verified.
            guard sameKey, state.incarnation == member.incarnation, state.payloadGeneration > member.signedGeneration,
                member.status == .alive, state.endpoint == member.endpoint, state.metadata == member.metadata
            else { return }
            guard RecordSignature.verifies(alive: state) else {
                out.append(.notify(.forged(name: state.name, what: "alive record with a bad signature")))
                return
            }
            member.signature = state.signature
            member.signedGeneration = state.payloadGeneration
            store(member)
            noteGeneration(of: member, state.payloadGeneration, now, &out)
            return
        }
        guard Self.isPlausible(state.incarnation, of: state.name, known: member.incarnation, &out) else { return }
        // The pin first: a record under another key is refused without the
        // cost of verifying it.
        if !sameKey {
            let released =
                member.status == .left
                || (member.status == .dead && now - member.statusChangedAt >= settings.gossipToTheDeadTime)
            guard released else {
                out.append(.notify(.forged(name: state.name, what: "alive record under a key other than the pinned one")))
                return
            }
        }
        guard RecordSignature.verifies(alive: state) else {
            out.append(.notify(.forged(name: state.name, what: "alive record with a bad signature")))
            return
        }
        defer { noteGeneration(state.name, state.payloadGeneration, now, &out) }
        if state.endpoint != member.endpoint, member.status.isActive {
            out.append(.notify(.nameConflict(name: state.name, endpoint: state.endpoint)))
            return
        }
        let previous = member.status
        if previous != .alive { member.statusChangedAt = now }
        if state.endpoint != member.endpoint || !sameKey {
            // A new process under the name (a restart at a new address, or
            // with a new key): what
            // we hold of its previous life's payload is stale, and its own
            // generations start again, so they must not be compared with the
            // old ones (a payload of generation 1 would never replace one of
            // generation 3). Forget it; `noteGeneration` fetches the new one.
            member.roundTripTime = nil
            member.payloadGeneration = state.payloadGeneration
            payloads[state.name] = nil
            payloadFetches.forget(state.name)
        }
        member.incarnation = state.incarnation
        member.status = .alive
        member.endpoint = state.endpoint
        member.metadata = state.metadata
        member.publicKey = state.publicKey
        member.signature = state.signature
        member.signedGeneration = state.payloadGeneration
        store(member)
        suspicions[state.name] = nil
        broadcasts.enqueue(.alive(state))
        out.append(.notify(.memberChanged(member.state, previous: previous)))
    }

    /// A suspicion (SWIM §4.2 with Lifeguard §4.2 timeouts). A suspicion of
    /// ourselves is refuted; repeated suspicions from distinct members
    /// confirm a running timer and are passed on.
    /// A suspicion of `name`. `confirming: false` for a suspicion learnt
    /// from another member's state (push/pull) rather than from an accuser:
    /// it may start a suspicion, but never counts as a Lifeguard confirmation,
    /// which must come from a member that suspects on its own.
    mutating func suspect(
        name: String, incarnation: SWIM.Incarnation, from accuser: String, confirming: Bool = true, _ now: SWIM.Instant,
        _ out: inout [SWIM.Directive]
    ) {
        if name == myself.name {
            // Beyond the step, dropped rather than refuted (see `SWIM.Limits`).
            if !isLeaving, incarnation >= myself.incarnation,
                Self.isPlausible(incarnation, of: name, known: myself.incarnation, &out)
            {
                refute(above: incarnation, &out)
            }
            return
        }
        guard var member = members[name], incarnation >= member.incarnation,
            Self.isPlausible(incarnation, of: name, known: member.incarnation, &out)
        else { return }
        if member.status == .suspect, var running = suspicions[name], running.incarnation == incarnation {
            if confirming, running.confirm(by: accuser) {
                suspicions[name] = running
                broadcasts.enqueue(.suspect(name: name, incarnation: incarnation, from: accuser))
            }
            return
        }
        guard member.status == .alive else { return }
        member.status = .suspect
        member.incarnation = incarnation
        member.statusChangedAt = now
        store(member)
        let n = groupSize
        // k independent confirmations are expected, unless the group is too
        // small to provide them (memberlist: k = SuspicionMult − 2, 0 if n − 2 < k).
        var expected = settings.suspicionMultiplier - 2
        if n - 2 < expected { expected = 0 }
        suspicions[name] = SWIM.Suspicion(
            incarnation: incarnation, from: accuser, startedAt: now,
            minimum: settings.suspicionMinimum(members: n), maximum: settings.suspicionMaximum(members: n),
            expectedConfirmations: expected)
        broadcasts.enqueue(.suspect(name: name, incarnation: incarnation, from: accuser))
        out.append(.notify(.memberChanged(member.state, previous: .alive)))
    }

    /// A death (or, when `from == name`, a graceful leave, which must be
    /// signed by the key pinned to the name: `signature`).
    mutating func declareDead(
        name: String, incarnation: SWIM.Incarnation, from accuser: String, signature: [UInt8] = [],
        _ now: SWIM.Instant, _ out: inout [SWIM.Directive]
    ) {
        if name == myself.name {
            // Beyond the step, dropped rather than refuted (see `SWIM.Limits`).
            if !isLeaving, incarnation >= myself.incarnation,
                Self.isPlausible(incarnation, of: name, known: myself.incarnation, &out)
            {
                refute(above: incarnation, &out)
            }
            return
        }
        guard var member = members[name], incarnation >= member.incarnation,
            Self.isPlausible(incarnation, of: name, known: member.incarnation, &out)
        else { return }
        let status: SWIM.Status = accuser == name ? .left : .dead
        // Dead may still become left (the member's own word), nothing else.
        guard member.status.isActive || (member.status == .dead && status == .left) else { return }
        if status == .left {
            guard RecordSignature.verifies(leaveOf: name, incarnation: incarnation, signature: signature, by: member.publicKey)
            else {
                out.append(.notify(.forged(name: name, what: "leave not signed by the member")))
                return
            }
            member.signature = signature
        }
        let previous = member.status
        member.status = status
        member.incarnation = incarnation
        member.statusChangedAt = now
        store(member)
        suspicions[name] = nil
        payloadFetches.forget(name)
        if probe?.target == name { probe = nil }
        broadcasts.enqueue(.dead(name: name, incarnation: incarnation, from: accuser, signature: status == .left ? signature : []))
        out.append(.notify(.memberChanged(member.state, previous: previous)))
    }

    /// Whether news at `incarnation` about `name`, held at `known` (nil if
    /// unknown), may be acted upon (`SWIM.Limits.isPlausible`); reported
    /// when not. (Static, as `correction`: no copy of the instance.)
    static func isPlausible(
        _ incarnation: SWIM.Incarnation, of name: String, known: SWIM.Incarnation?, _ out: inout [SWIM.Directive]
    ) -> Bool {
        if SWIM.Limits.isPlausible(incarnation, known: known) { return true }
        out.append(.notify(.implausibleIncarnation(name: name, incarnation: incarnation)))
        return false
    }

    /// Outbids an accusation with a higher incarnation (SWIM §4.2). Having to
    /// refute is a sign of our own poor health (Lifeguard §4.1).
    ///
    /// Plausible news is at most `SWIM.Limits.maximumIncarnation`, so `+ 1`
    /// cannot overflow; news at the ceiling itself cannot be outbid and is
    /// left unanswered (reaching it takes 2^38 accusations, see `SWIM.Limits`).
    mutating func refute(above incarnation: SWIM.Incarnation, _ out: inout [SWIM.Directive]) {
        guard incarnation < SWIM.Limits.maximumIncarnation else { return }
        myself.incarnation = incarnation + 1
        health.apply(1)
        broadcasts.enqueue(.alive(ownRecord))
        out.append(.notify(.refuted(incarnation: myself.incarnation)))
    }

    /// Raises our own incarnation by one (a metadata change, a full payload
    /// change, a leave), saturating at `SWIM.Limits.maximumIncarnation`.
    mutating func raiseIncarnation() {
        if myself.incarnation < SWIM.Limits.maximumIncarnation { myself.incarnation += 1 }
    }

    /// A payload delta: applied when we hold its base and the result
    /// carries the owner's signature, then passed on; otherwise answered by
    /// a fetch of the whole payload from the owner. A delta that cannot be
    /// checked (we lack its base) is not passed on: it could be forged, and
    /// would displace the owner's genuine one in broadcast queues.
    mutating func payloadDelta(
        owner: String, base: UInt64, generation: UInt64, delta: [UInt8], signature: [UInt8], _ now: SWIM.Instant,
        _ out: inout [SWIM.Directive]
    ) {
        guard owner != myself.name, var member = members[owner] else { return }
        let held = payloads[owner]?.generation ?? 0
        guard generation > held else { return }
        guard let current = payloads[owner], current.generation == base, let merge,
            let merged = merge(current.bytes, delta)
        else {
            requestPayload(of: owner, hinted: true, now, &out)
            return
        }
        let result = SWIM.Payload(generation: generation, bytes: merged, signature: signature)
        guard RecordSignature.verifies(payload: result, of: owner, by: member.publicKey) else {
            out.append(.notify(.forged(name: owner, what: "payload delta whose result the member did not sign")))
            requestPayload(of: owner, hinted: true, now, &out)
            return
        }
        payloads[owner] = result
        if generation > member.payloadGeneration {
            member.payloadGeneration = generation
            store(member)
        }
        broadcasts.enqueue(.payloadDelta(owner: owner, base: base, generation: generation, delta: delta, signature: signature))
        out.append(.notify(.payloadChanged(owner: owner, generation: generation)))
    }
}

extension SWIM.Instance {
    mutating func apply(_ update: SWIM.Update, _ now: SWIM.Instant, _ out: inout [SWIM.Directive]) {
        switch update {
        case .alive(let state):
            alive(state, now, &out)
        case .suspect(let name, let incarnation, let from):
            suspect(name: name, incarnation: incarnation, from: from, now, &out)
        case .dead(let name, let incarnation, let from):
            declareDead(name: name, incarnation: incarnation, from: from, now, &out)
        case .payloadDelta(let owner, let base, let generation, let delta):
            payloadDelta(owner: owner, base: base, generation: generation, delta: delta, now, &out)
        }
    }

    /// An alive message (SWIM §4.2): accepted only with a higher incarnation
    /// than known. A new address for a known name is accepted only once the
    /// old member is dead or left (a restarted node); while it is active it is
    /// a name conflict and refused, so two live processes cannot flap.
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
            let member = SWIM.Member(
                name: state.name, endpoint: state.endpoint, incarnation: state.incarnation, status: .alive,
                metadata: state.metadata, payloadGeneration: 0, statusChangedAt: now)
            store(member)
            broadcasts.enqueue(.alive(state))
            out.append(.notify(.memberChanged(state, previous: nil)))
            noteGeneration(state.name, state.payloadGeneration, now, &out)
            return
        }
        guard state.incarnation > member.incarnation else {
            // Old news, by far the most common case: only the payload
            // generation may tell us something (the member in hand spares
            // looking it up again).
            noteGeneration(of: member, state.payloadGeneration, now, &out)
            return
        }
        guard Self.isPlausible(state.incarnation, of: state.name, known: member.incarnation, &out) else { return }
        defer { noteGeneration(state.name, state.payloadGeneration, now, &out) }
        if state.endpoint != member.endpoint, member.status.isActive {
            out.append(.notify(.nameConflict(name: state.name, endpoint: state.endpoint)))
            return
        }
        let previous = member.status
        if previous != .alive { member.statusChangedAt = now }
        if state.endpoint != member.endpoint {
            // A new process under the name (a restart at a new address): what
            // we hold of its previous life's payload is stale, and its own
            // generations start again, so they must not be compared with the
            // old ones (a payload of generation 1 would never replace one of
            // generation 3). Forget it; `noteGeneration` fetches the new one.
            member.roundTripTime = nil
            member.payloadGeneration = state.payloadGeneration
            payloads[state.name] = nil
            pendingPayloadFetches[state.name] = nil
            payloadFetchesDue[state.name] = nil
        }
        member.incarnation = state.incarnation
        member.status = .alive
        member.endpoint = state.endpoint
        member.metadata = state.metadata
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

    /// A death (or, when `from == name`, a graceful leave).
    mutating func declareDead(
        name: String, incarnation: SWIM.Incarnation, from accuser: String, _ now: SWIM.Instant,
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
        let status: SWIM.Status = accuser == name ? .left : .dead
        // Dead may still become left (the member's own word), nothing else.
        guard member.status.isActive || (member.status == .dead && status == .left) else { return }
        let previous = member.status
        member.status = status
        member.incarnation = incarnation
        member.statusChangedAt = now
        store(member)
        suspicions[name] = nil
        pendingPayloadFetches[name] = nil
        payloadFetchesDue[name] = nil
        if probe?.target == name { probe = nil }
        broadcasts.enqueue(.dead(name: name, incarnation: incarnation, from: accuser))
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
        broadcasts.enqueue(.alive(myself.state))
        out.append(.notify(.refuted(incarnation: myself.incarnation)))
    }

    /// Raises our own incarnation by one (a metadata change, a full payload
    /// change, a leave), saturating at `SWIM.Limits.maximumIncarnation`.
    mutating func raiseIncarnation() {
        if myself.incarnation < SWIM.Limits.maximumIncarnation { myself.incarnation += 1 }
    }

    /// A payload delta: applied when we hold its base, passed on when it is
    /// news, and answered by a fetch from the owner when we cannot apply it.
    mutating func payloadDelta(
        owner: String, base: UInt64, generation: UInt64, delta: [UInt8], _ now: SWIM.Instant,
        _ out: inout [SWIM.Directive]
    ) {
        guard owner != myself.name, var member = members[owner] else { return }
        let held = payloads[owner]?.generation ?? 0
        guard generation > held else { return }
        if generation > member.payloadGeneration {
            member.payloadGeneration = generation
            store(member)
            broadcasts.enqueue(.payloadDelta(owner: owner, base: base, generation: generation, delta: delta))
        }
        if let current = payloads[owner], current.generation == base, let merge,
            let merged = merge(current.bytes, delta)
        {
            payloads[owner] = SWIM.Payload(generation: generation, bytes: merged)
            out.append(.notify(.payloadChanged(owner: owner, generation: generation)))
        } else {
            requestPayload(of: owner, now, &out)
        }
    }
}

@testable import Gossip

/// How the simulator carries events out: dispatching the agenda, handing
/// events to instances and carrying out their directives, and the network model.
extension Simulator {
    // MARK: Internals

    func dispatch(_ event: SimEvent) {
        switch event {
        case .tick(let id):
            let p = processes[id]
            let t = now.nanoseconds
            guard p.isRunning, !p.stalled, p.tickAt == t else { return }
            p.tickAt = nil
            statistics.ticks += 1
            if p.lastTickTime == t {
                p.ticksThisInstant += 1
                precondition(p.ticksThisInstant < 100, "\(slots[p.slot].name): timer does not advance at \(now)")
            } else {
                p.lastTickTime = t
                p.ticksThisInstant = 0
            }
            handle(p, .tick)
        case .input(let id, let e):
            deliver(processes[id], e)
        case .packet(let to, let packet, let from):
            let receiver = processes[to]
            let sender = processes[from]
            guard canReach(sender.slot, receiver.slot) else {
                statistics.packetsBlocked += 1
                return
            }
            var packet = packet
            if let interceptor {
                guard let edited = interceptor(sender.slot, receiver.slot, packet) else {
                    statistics.packetsFiltered += 1
                    return
                }
                packet = edited
            }
            guard receiver.isRunning else { return }
            statistics.packetsDelivered += 1
            deliver(receiver, .packet(packet, from: sender.endpoint))
        case .streamArrive(let id):
            guard let s = streams[id] else { return }
            let server = processes[s.server]
            let client = processes[s.client]
            guard canReach(server.slot, client.slot) else { return }  // the timeout fails it
            guard server.isRunning else {
                // Connection reset: fails after one more one-way trip.
                streams[id] = nil
                statistics.streamsFailed += 1
                queue.push(.input(process: s.client, .streamFailed(s.request, to: server.endpoint)), at: now.nanoseconds + latency(server.slot, client.slot))
                return
            }
            deliver(server, .streamRequest(id: id, s.request, from: client.endpoint))
        case .streamReply(let id, let message):
            guard let s = streams[id] else { return }  // already timed out
            let server = processes[s.server]
            let client = processes[s.client]
            guard canReach(server.slot, client.slot) else { return }
            streams[id] = nil
            deliver(client, .streamReply(message, from: server.endpoint))
        case .streamTimeout(let id):
            guard let s = streams.removeValue(forKey: id) else { return }
            statistics.streamsFailed += 1
            deliver(processes[s.client], .streamFailed(s.request, to: processes[s.server].endpoint))
        case .resume(let id):
            let p = processes[id]
            guard p.isRunning, p.stalled else { return }
            p.stalled = false
            let input = p.pending
            p.pending = []
            for e in input where p.isRunning { handle(p, e) }
            if p.isRunning { handle(p, .tick) }
        case .action(let action):
            action(self)
        case .vacant:
            break
        }
    }

    /// Hands `event` to a process now, or queues it if stalled.
    func deliver(_ p: Process, _ event: SWIM.Event) {
        guard p.isRunning else { return }
        if p.stalled {
            p.pending.append(event)
            return
        }
        handle(p, event)
    }

    func handle(_ p: Process, _ event: SWIM.Event) {
        statistics.handled += 1
        let directives = p.instance.handle(event, at: now)
        for d in directives { carryOut(d, from: p) }
        guard p.isRunning, !p.stalled else { return }
        let deadline = max(p.instance.nextDeadline, now).nanoseconds
        if let at = p.tickAt, at <= deadline { return }
        p.tickAt = deadline
        queue.push(.tick(process: p.id), at: deadline)
    }

    private func carryOut(_ directive: SWIM.Directive, from p: Process) {
        switch directive {
        case .sendPacket(let packet, let endpoint):
            statistics.packetsSent += 1
            statistics.datagramBytes += Self.sealedSize(of: packet)
            var packet = packet
            if configuration.roundTripThroughCodec { packet = roundTrip(packet) }
            guard let to = processByEndpoint[endpoint] else {
                statistics.packetsToUnknown += 1
                return
            }
            if lossRate > 0, unitRandom() < lossRate {
                statistics.packetsLost += 1
                return
            }
            let receiver = processes[to]
            let at = now.nanoseconds + latency(p.slot, receiver.slot) + (jitter > 0 ? random.next() % jitter : 0)
            queue.push(.packet(to: to, packet, from: p.id), at: at)
        case .openStream(let message, let endpoint):
            statistics.streamsOpened += 1
            statistics.streamBytes += Self.sealedSize(of: message)
            if case .payloadRequest = message { statistics.payloadRequests += 1 }
            let message = configuration.roundTripThroughCodec ? roundTrip(message) : message
            guard let to = processByEndpoint[endpoint], processes[to].isRunning else {
                // Refused (or nobody there): fails after a round trip.
                statistics.streamsFailed += 1
                let rtt = 2 * latency(p.slot, processByEndpoint[endpoint].map { processes[$0].slot } ?? p.slot)
                queue.push(.input(process: p.id, .streamFailed(message, to: endpoint)), at: now.nanoseconds + rtt)
                return
            }
            nextStreamID += 1
            let id = nextStreamID
            streams[id] = Stream(client: p.id, server: to, request: message)
            let server = processes[to]
            // Handshake and request: one and a half round trips.
            queue.push(.streamArrive(id: id), at: now.nanoseconds + 3 * latency(p.slot, server.slot))
            queue.push(.streamTimeout(id: id), at: (now + configuration.streamTimeout).nanoseconds)
        case .replyStream(let id, let message):
            guard let s = streams[id] else { return }
            statistics.streamBytes += Self.sealedSize(of: message)
            let message = configuration.roundTripThroughCodec ? roundTrip(message) : message
            let client = processes[s.client]
            queue.push(.streamReply(id: id, message), at: now.nanoseconds + latency(p.slot, client.slot))
        case .resolveSeeds:
            let endpoints = slots[p.slot].seeds.map { processes[slots[$0].process].endpoint }
            queue.push(.input(process: p.id, .join(endpoints)), at: (now + configuration.resolveDelay).nanoseconds)
        case .notify(let event):
            note(event, by: p)
            observer?(self, p.slot, event)
        }
    }

    private func note(_ event: SWIM.MembershipEvent, by p: Process) {
        switch event {
        case .memberChanged(let state, let previous):
            let was = previous == .alive ? 1 : 0
            let isAlive = state.status == .alive ? 1 : 0
            p.aliveCount += isAlive - was
            if previous == nil { p.knownCount += 1 }
            switch state.status {
            case .suspect:
                statistics.suspicions += 1
            case .dead, .left:
                let subject = processByEndpoint[state.endpoint].map { processes[$0] }
                declarations.append(
                    Declaration(
                        time: now, observer: p.slot, subject: state.name, endpoint: state.endpoint, status: state.status,
                        subjectRunning: subject?.isRunning ?? false))
            case .alive:
                break
            }
        case .refuted:
            statistics.refutations += 1
        case .nameConflict:
            statistics.nameConflicts += 1
        case .memberRemoved:
            p.knownCount -= 1
        case .payloadChanged, .implausibleIncarnation, .overCapacity:
            break
        }
    }

    // MARK: Network model

    /// One-way base latency of the link between two slots, fixed per link.
    @inline(__always)
    func latency(_ a: Int, _ b: Int) -> UInt64 {
        let lo = UInt64(min(a, b)), hi = UInt64(max(a, b))
        var z = (lo << 32 | hi) &+ linkSalt
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return minLatency + z % latencySpan
    }

    @inline(__always)
    private func unitRandom() -> Double { Double(random.next() >> 11) * 0x1p-53 }

    private func roundTrip(_ packet: SWIM.Packet) -> SWIM.Packet {
        let bytes = WireCodec.encode(packet)
        statistics.codecChecked += 1
        statistics.largestPacket = max(statistics.largestPacket, bytes.count)
        if bytes.count > settings.packetBudget - WireCodec.envelopeReserve { statistics.codecOversize += 1 }
        guard let decoded = try? WireCodec.decodePacket(bytes), decoded == packet else {
            statistics.codecMismatches += 1
            return packet
        }
        return decoded
    }

    private func roundTrip(_ message: SWIM.StreamMessage) -> SWIM.StreamMessage {
        let bytes = WireCodec.encode(message)
        statistics.codecChecked += 1
        guard let decoded = try? WireCodec.decodeStreamMessage(bytes), decoded == message else {
            statistics.codecMismatches += 1
            return message
        }
        return decoded
    }
}

extension SWIM.Instant {
    static func seconds(_ s: Double) -> SWIM.Instant { SWIM.Instant(nanoseconds: UInt64(s * 1e9)) }
    var seconds: Double { Double(nanoseconds) / 1e9 }
}

extension Simulator {
    /// A datagram's size sealed: the encoded packet (sized without encoding,
    /// as the instance sizes it) and the envelope.
    static func sealedSize(of packet: SWIM.Packet) -> Int {
        packet.updates.reduce(WireCodec.encodedSize(of: packet.message)) { $0 + WireCodec.encodedSize(of: $1) }
            + Envelope.overhead
    }

    /// A stream message's size sealed: encoded, cut into 16 KiB chunks, each
    /// with its chunk header and envelope (`StreamChunk`, `MessageSecurity.sealChunks`).
    static func sealedSize(of message: SWIM.StreamMessage) -> Int {
        let body = WireCodec.encode(message).count
        let chunks = max(1, (body + StreamChunk.capacity - 1) / StreamChunk.capacity)
        return body + chunks * (StreamChunk.headerSize + Envelope.overhead)
    }
}

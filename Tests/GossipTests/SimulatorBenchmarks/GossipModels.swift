import Foundation

@testable import Gossip

/// The analytic expectations the simulator benchmarks are set beside: what
/// SWIM, Lifeguard and the epidemic model predict for a group of `n`
/// members on given settings, with loss `p` on every datagram. Each is a
/// model with its assumptions stated, not a bound; where a measurement
/// differs by more than 2x, `docs/benchmarks.md` says why.
enum GossipModels {
    // MARK: Failure detection

    /// Time from a crash to the first probe of the crashed member. Members
    /// probe round-robin over a shuffled list (SWIM §4.3), each at its own
    /// phase, so each of the n − 1 others probes the crashed one at a
    /// uniformly random point of its (n − 1)·T cycle: the first of them comes
    /// after the minimum of n − 1 uniforms, whose mean is (n − 1)T/n and
    /// whose q-quantile is (n − 1)T·(1 − (1 − q)^(1/(n − 1))). (SWIM's
    /// e/(e − 1)·T, §3.1, is the same wait counted in whole protocol periods
    /// of a synchronous round.)
    static func firstProbeWait(n: Int, settings: SWIM.Settings, quantile q: Double? = nil) -> Double {
        let t = settings.probeInterval.seconds
        let others = Double(max(1, n - 1))
        guard let q else { return others * t / Double(max(1, n)) }
        return others * t * (1 - pow(1 - q, 1 / others))
    }

    /// Time from a crash to the first suspicion: the first probe, then the
    /// rest of that probe's period (it suspects at `sentAt + probeInterval`,
    /// as memberlist's `probeNode` does).
    static func firstSuspicion(n: Int, settings: SWIM.Settings, quantile q: Double? = nil) -> Double {
        firstProbeWait(n: n, settings: settings, quantile: q) + settings.probeInterval.seconds
    }

    /// Lifeguard's suspicion timeout once the expected k = suspicionMultiplier
    /// − 2 independent confirmations have come (memberlist `state.go`:
    /// `k := SuspicionMult - 2`, none expected below k + 2 members): the
    /// minimum, suspicionMultiplier · max(1, log10 n) · T (memberlist
    /// `util.go` `suspicionTimeout`). Other members probe the crashed one
    /// about once per T between them, so the confirmations come within a few
    /// periods, well inside the minimum; without them the timeout would be
    /// suspicionMaxTimeoutMultiplier times longer.
    static func suspicionTimeout(n: Int, settings: SWIM.Settings) -> Double {
        settings.suspicionMinimum(members: n).seconds
    }

    /// Time from a crash until a member declares it dead: first suspicion,
    /// the suspicion timeout, and the spread of the verdict (the first to
    /// declare gossips "dead", which the others take at once). At quantile
    /// `q`, only the first-probe wait is taken at its quantile: it is the
    /// one wide term.
    static func detection(n: Int, settings: SWIM.Settings, loss p: Double, quantile q: Double? = nil) -> Double {
        firstSuspicion(n: n, settings: settings, quantile: q) + suspicionTimeout(n: n, settings: settings)
            + dissemination(n: n, settings: settings, loss: p, reach: q == nil ? 0.5 : q!, eager: false)
    }

    // MARK: Dissemination

    /// Rounds of push gossip, f targets per round per informed member, until
    /// the informed share reaches `reach`, from one informed member (the
    /// mean-field push epidemic: each uninformed member stays uninformed in
    /// a round with probability e^(−f(1−p)·i), i the informed share). With
    /// `eager`, a first wave precedes round 1: members whose queues were
    /// empty forward news at once on receipt (`Instance.tick` sends a round
    /// as soon as `nextGossipAt` has passed), so that wave is a branching
    /// process that stops at the share z = 1 − e^(−f(1−p)z) within a few
    /// network latencies.
    static func gossipRounds(n: Int, settings: SWIM.Settings, loss p: Double, reach: Double, eager: Bool) -> Double {
        let f = Double(settings.gossipNodes) * (1 - p)
        // `reach` of the n − 1 others is k of them: done once fewer than
        // k − ½ are expected informed (so reaching everyone means fewer than
        // half a member left out).
        let others = Double(max(1, n - 1))
        let k = (reach * others).rounded(.up)
        let target = (k - 0.5) / others
        var informed = 1 / Double(n)
        if eager {
            var z = 1.0
            for _ in 0..<200 { z = 1 - exp(-f * z) }
            informed = max(informed, z)
            if informed >= target { return 0 }
        }
        // Each member sends an update in at most `retransmitLimit` packets,
        // f per round: after that many rounds the epidemic stops.
        let limit = Double(settings.retransmitLimit(members: n)) / Double(settings.gossipNodes)
        var rounds = 0.0
        while informed < target, rounds < 10 * limit {
            let uninformed = 1 - informed
            let next = 1 - uninformed * exp(-f * informed)
            // The fraction of the last round needed to cross the target.
            if next >= target { return rounds + (target - informed) / (next - informed) }
            informed = next
            rounds += 1
        }
        return .infinity
    }

    /// Seconds until `reach` of the members have news: rounds × interval,
    /// plus, without the eager wave, half an interval for the first round's
    /// random phase.
    static func dissemination(n: Int, settings: SWIM.Settings, loss p: Double, reach: Double, eager: Bool) -> Double {
        let t = settings.gossipInterval.seconds
        let rounds = gossipRounds(n: n, settings: settings, loss: p, reach: reach, eager: eager)
        return eager ? rounds * t : rounds * t + t / 2
    }

    // MARK: Bandwidth

    /// Bytes a member sends per second in a quiet steady state, sealed: one
    /// ping per probe period and one ack for the probe it receives; with loss
    /// p, a probe whose ping or ack is lost (1 − (1 − p)²) makes 4k more
    /// datagrams among k helpers (ping-request, relayed ping, its ack, ack or
    /// nack back), about ping-sized each; and push/pull: each member starts
    /// one exchange per push/pull interval and answers as many, sending every
    /// member's state (`stateBytes` each) and its own payload, in sealed
    /// 16 KiB chunks.
    static func bytesPerMemberPerSecond(
        n: Int, settings: SWIM.Settings, loss p: Double, pingBytes: Int, ackBytes: Int, stateBytes: Int, payloadBytes: Int
    ) -> Double {
        let sealed = Double(Envelope.overhead)
        let t = settings.probeInterval.seconds
        let direct = (Double(pingBytes + ackBytes) + 2 * sealed) / t
        let failed = 1 - (1 - p) * (1 - p)
        let indirect = failed * 4 * Double(settings.indirectChecks) * (Double(pingBytes) + sealed) / t
        let body = Double(n * stateBytes + payloadBytes)
        let exchange = body + (sealed + 17) * (body / Double(16 << 10)).rounded(.up)
        let pushPull = 2 * exchange / settings.pushPullInterval(members: n).seconds
        return direct + indirect + pushPull
    }
}

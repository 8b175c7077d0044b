import Foundation

extension SWIM {
    /// Protocol timing and limits. Start from a named profile (`.lan`, `.wan`)
    /// and override single fields; every default is documented here, in the
    /// manner of hashicorp/memberlist's `config.go`.
    public struct Settings: Sendable, Hashable {
        /// The profile's name, for logs and status pages.
        public var profileName: String

        /// Time between failure probes (SWIM's protocol period T').
        /// Scaled by the local health multiplier (Lifeguard §4.1).
        public var probeInterval: Duration
        /// Time to wait for a direct ack before asking others to probe.
        /// Scaled by the local health multiplier.
        public var probeTimeout: Duration
        /// How many members are asked to probe indirectly (SWIM's k).
        public var indirectChecks: Int

        /// Time between gossip rounds that send only piggybacked updates.
        public var gossipInterval: Duration
        /// How many random members each gossip round sends to.
        public var gossipNodes: Int
        /// Dead members still receive gossip this long, so that a member that
        /// was wrongly declared dead learns it and refutes (memberlist).
        public var gossipToTheDeadTime: Duration
        /// Each update is sent `retransmitMultiplier × ceil(log10(n + 1))` times.
        public var retransmitMultiplier: Int
        /// Byte budget of one UDP packet, headers and sealing included. 1400
        /// fits an Ethernet MTU; 1232 is the IPv6 minimum MTU less headers,
        /// safe on edge links with tunnels.
        public var packetBudget: Int

        /// Minimum suspicion timeout = `suspicionMultiplier × max(1, log10 n) ×
        /// probeInterval` (Lifeguard §4.2, memberlist `SuspicionMult`).
        public var suspicionMultiplier: Int
        /// Maximum suspicion timeout = this × the minimum; confirmations from
        /// independent members shorten it towards the minimum.
        public var suspicionMaxTimeoutMultiplier: Int
        /// Upper bound of the local health multiplier (Lifeguard §4.1; 8 in
        /// the paper and in memberlist).
        public var awarenessMaxMultiplier: Int

        /// Time between full state exchanges over TCP with a random member;
        /// scaled up above 32 members as in memberlist `pushPullScale`.
        public var pushPullInterval: Duration
        /// Time between attempts to exchange state with a random dead member,
        /// which heals partitions (Serf's reconnect).
        public var reconnectInterval: Duration
        /// First delay between join attempts while no other member is known
        /// alive; doubles up to `joinRetryMaximum`.
        public var joinRetryInitial: Duration
        public var joinRetryMaximum: Duration
        /// After a successful join, the seeds are contacted again this often
        /// (one seed address not already a member), so that groups which
        /// formed apart — e.g. nodes that all started before their seeds —
        /// merge into one.
        public var seedRefreshInterval: Duration

        /// Dead members are forgotten after this long (and can no longer be
        /// reconnected with).
        public var deadMemberRetention: Duration
        /// Members that left are forgotten after this long.
        public var leftMemberRetention: Duration

        /// Bounds on what peers send (members held, payload size); see
        /// `SWIM.Limits` for each default and its reason.
        public var limits: Limits

        /// The `lan` profile: a data centre or a site LAN. Probe every 1 s with
        /// a 500 ms timeout; gossip every 200 ms to 3 members; push/pull every
        /// 30 s. A failed member is suspected within about a second and
        /// declared dead after 4–24 s (5 members), depending on confirmations.
        public static let lan = Settings(
            profileName: "lan",
            probeInterval: .seconds(1),
            probeTimeout: .milliseconds(500),
            indirectChecks: 3,
            gossipInterval: .milliseconds(200),
            gossipNodes: 3,
            gossipToTheDeadTime: .seconds(30),
            retransmitMultiplier: 4,
            packetBudget: 1400,
            suspicionMultiplier: 4,
            suspicionMaxTimeoutMultiplier: 6,
            awarenessMaxMultiplier: 8,
            pushPullInterval: .seconds(30),
            reconnectInterval: .seconds(10),
            joinRetryInitial: .seconds(1),
            joinRetryMaximum: .seconds(30),
            seedRefreshInterval: .seconds(60),
            deadMemberRetention: .seconds(3600),
            leftMemberRetention: .seconds(300),
            limits: .default
        )

        /// The `wan` (edge) profile: slow, lossy or metered links. Probe every
        /// 5 s with a 3 s timeout; gossip every 500 ms to 4 members; push/pull
        /// every 60 s; 1232-byte packets.
        public static let wan: Settings = {
            var s = Settings.lan
            s.profileName = "wan"
            s.probeInterval = .seconds(5)
            s.probeTimeout = .seconds(3)
            s.gossipInterval = .milliseconds(500)
            s.gossipNodes = 4
            s.gossipToTheDeadTime = .seconds(60)
            s.suspicionMultiplier = 6
            s.packetBudget = 1232
            s.pushPullInterval = .seconds(60)
            s.reconnectInterval = .seconds(30)
            s.seedRefreshInterval = .seconds(300)
            s.deadMemberRetention = .seconds(6 * 3600)
            return s
        }()

        /// The named profiles.
        public static func profile(named name: String) -> Settings? {
            switch name.lowercased() {
            case "lan": .lan
            case "wan", "edge": .wan
            default: nil
            }
        }

        /// `ceil(log10(n + 1))`, the scale of retransmissions and timeouts.
        static func logScale(_ n: Int) -> Double { max(1, log10(Double(max(n, 1)))) }

        /// Times an update is retransmitted in a group of `n` members.
        public func retransmitLimit(members n: Int) -> Int {
            retransmitMultiplier * Int(ceil(log10(Double(n + 1))))
        }

        /// Minimum suspicion timeout in a group of `n` members.
        public func suspicionMinimum(members n: Int) -> Duration {
            probeInterval.scaled(by: Double(suspicionMultiplier) * Settings.logScale(n))
        }

        /// Maximum suspicion timeout in a group of `n` members.
        public func suspicionMaximum(members n: Int) -> Duration {
            suspicionMinimum(members: n).scaled(by: Double(suspicionMaxTimeoutMultiplier))
        }

        /// The push/pull interval for `n` members (memberlist `pushPullScale`:
        /// doubles with every doubling of the group above 32).
        public func pushPullInterval(members n: Int) -> Duration {
            guard n > 32 else { return pushPullInterval }
            let multiplier = ceil(log2(Double(n)) - log2(32.0)) + 1
            return pushPullInterval.scaled(by: multiplier)
        }

        /// An upper bound on the time from a member's crash until every other
        /// healthy member has declared it dead: the probe that finds it (a
        /// probe period plus the protocol's own timeout, at worst scaled by a
        /// poor local health), the longest suspicion timeout, and the gossip
        /// rounds that spread the verdict. Tests assert against this.
        public func failureDetectionBound(members n: Int) -> Duration {
            let spread = gossipInterval.scaled(by: Double(2 * retransmitLimit(members: n)))
            return probeInterval.scaled(by: 2) + suspicionMaximum(members: n) + spread
        }
    }
}

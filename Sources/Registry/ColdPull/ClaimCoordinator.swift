import Catalog
import Synchronization

/// The coordinator's side of the claim protocol: the claim table of the
/// digests this node coordinates, behind a lock (each call takes
/// microseconds; an actor hop would cost more), consulting the gossiped
/// announcements when it holds no claim.
public final class ClaimCoordinator: Sendable {
    let members: ColdPullMembers
    let metrics: ColdPullMetrics
    let enabled: Bool
    private let table: Mutex<ClaimTable>
    private let clock = ContinuousClock()

    public init(settings: ColdPullSettings, members: ColdPullMembers, metrics: ColdPullMetrics) {
        self.members = members
        self.metrics = metrics
        self.enabled = settings.enabled
        self.table = Mutex(ClaimTable(settings: settings.claimTable))
    }

    /// Answers one claim message. Off, it holds no claims and tells every
    /// asker `none` (so that a mixed cluster degrades to plain 404s).
    public func answer(_ message: ClaimMessage) -> ClaimAnswer {
        guard enabled else {
            switch message.operation {
            case .ask: return .decision(.none)
            case .renew: return .renewal(.renewed)
            case .release: return .released
            }
        }
        let now = clock.now
        let digest = message.digest
        let (answer, counts) = table.withLock { table -> (ClaimAnswer, ClaimCounts) in
            let answer: ClaimAnswer
            switch message.operation {
            case .ask(let unreachable):
                let announced = table.claims[digest] == nil ? members.announcer(of: digest, excluding: unreachable) : nil
                answer = .decision(
                    table.ask(digest, by: message.member, unreachable: unreachable, announced: announced, now: now))
            case .renew:
                answer = .renewal(table.renew(digest, by: message.member, now: now))
            case .release(let completed):
                table.release(digest, by: message.member, completed: completed, now: now)
                answer = .released
            }
            return (answer, ClaimCounts(table))
        }
        metrics.claims(counts)
        return answer
    }

    /// Members that left the view lose their claims.
    public func remove(members gone: Set<String>) {
        guard !gone.isEmpty else { return }
        let counts = table.withLock { table in
            for name in gone { table.remove(member: name) }
            return ClaimCounts(table)
        }
        metrics.claims(counts)
    }

    /// The claims held now, for the status page.
    public var claims: [ClaimReport] {
        let now = clock.now
        return table.withLock { table in
            table.expire(now: now)
            return table.claims.map { digest, claim in
                ClaimReport(
                    digest: digest.description, fetcher: claim.fetcher, phase: claim.phase, followers: claim.followers.sorted(),
                    expiresInSeconds: Double((claim.expires - now).components.seconds))
            }.sorted { $0.digest < $1.digest }
        }
    }
}

/// How many claims a coordinator holds, by phase, and their followers.
struct ClaimCounts: Hashable, Sendable {
    var fetching = 0
    var completed = 0
    var followers = 0

    init(_ table: ClaimTable) {
        for claim in table.claims.values {
            if claim.phase == .fetching { fetching += 1 } else { completed += 1 }
            followers += claim.followers.count
        }
    }
}

/// One claim, as `/status.json` shows it.
public struct ClaimReport: Codable, Hashable, Sendable {
    public var digest: String
    public var fetcher: String
    public var phase: ClaimTable.Phase
    public var followers: [String]
    public var expiresInSeconds: Double
}

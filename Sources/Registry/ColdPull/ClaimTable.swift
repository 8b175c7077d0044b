import Catalog

/// What a coordinator knows about the blobs members are fetching from the
/// upstream: for each digest, which member fetches it (its containerd
/// writes it from the upstream) and who follows. A pure value type: every
/// call carries the time, nothing here does I/O, so the decisions are table
/// tests (`ClaimTableTests`).
///
/// Claims are soft state. A claim lives for `ttl` unless its fetcher renews
/// it (it does while its ingest grows); it ends when the fetcher releases
/// it (the ingest completed or failed), when the fetcher leaves the
/// membership, or when it expires. A coordinator that restarts, or a view
/// change that makes another member coordinator, loses nothing that
/// matters: fetchers renew at whichever member coordinates now, which
/// re-creates their claims there (`renew` adopts), and until then a member
/// announcing the fetch in its gossiped state is followed (`ask` with
/// `announced`). In the worst case two members fetch the same blob: one
/// extra upstream fetch, never a failed pull.
///
/// A completed claim is kept for `completedRetention`: the fetcher holds the
/// blob but does not advertise it until its containerd records the image,
/// and members that ask in between should take it from there rather than
/// from the upstream.
public struct ClaimTable: Sendable {
    public typealias Instant = ContinuousClock.Instant

    public struct Settings: Hashable, Sendable {
        /// How long a claim lives without being renewed.
        public var ttl: Duration
        /// How long a completed fetch is still pointed to.
        public var completedRetention: Duration
        /// Claims held at once; when full, askers fetch without a claim.
        public var capacity: Int

        public init(ttl: Duration = .seconds(10), completedRetention: Duration = .seconds(60), capacity: Int = 4096) {
            self.ttl = ttl
            self.completedRetention = completedRetention
            self.capacity = capacity
        }
    }

    public enum Phase: String, Hashable, Sendable, Codable {
        /// The fetcher's containerd is writing the blob.
        case fetching
        /// The fetcher holds the whole blob.
        case completed
    }

    public struct Claim: Hashable, Sendable {
        public var fetcher: String
        public var phase: Phase
        public var expires: Instant
        /// Members told to follow this fetcher.
        public var followers: Set<String>
    }

    /// The answer to a member asking about a blob no member holds.
    public enum Decision: Hashable, Sendable {
        /// Fetch it from the upstream (answer 404): you hold the claim now.
        case fetch
        /// Stream it from this member, which fetches (or holds) it.
        case follow(String)
        /// Answer 404 without a claim (the coordinator has cold pulls off).
        case none
    }

    /// The answer to a fetcher renewing its claim.
    public enum Renewal: Hashable, Sendable {
        case renewed
        /// There was no claim (a new coordinator): it is the caller's now.
        case adopted
        /// Another member fetches it; the caller's fetch is an extra one.
        case superseded(by: String)
    }

    public let settings: Settings
    public private(set) var claims: [Digest: Claim] = [:]

    public init(settings: Settings = Settings()) {
        self.settings = settings
    }

    /// `member` asks who fetches `digest`.
    /// - Parameters:
    ///   - unreachable: a fetcher the member could not reach: its claim
    ///     passes to the member.
    ///   - announced: a member that announces fetching `digest` in its
    ///     gossiped state (followed when there is no claim here).
    public mutating func ask(
        _ digest: Digest, by member: String, unreachable: String? = nil, announced: String? = nil,
        now: Instant
    ) -> Decision {
        expire(now: now)
        if var claim = claims[digest] {
            if claim.fetcher == member {
                // The fetcher's own containerd asks again (a retry with Range
                // after an upstream failure): it goes on fetching.
                claim.phase = .fetching
                claim.expires = now + settings.ttl
                claims[digest] = claim
                return .fetch
            }
            if claim.fetcher == unreachable {
                claims[digest] = nil
                return take(digest, by: member, now: now)
            }
            claim.followers.insert(member)
            claims[digest] = claim
            return .follow(claim.fetcher)
        }
        if let announced, announced != member, announced != unreachable, claims.count < settings.capacity {
            claims[digest] = Claim(fetcher: announced, phase: .fetching, expires: now + settings.ttl, followers: [member])
            return .follow(announced)
        }
        return take(digest, by: member, now: now)
    }

    private mutating func take(_ digest: Digest, by member: String, now: Instant) -> Decision {
        // Full: the member fetches without a claim (as without this feature).
        if claims.count < settings.capacity {
            claims[digest] = Claim(fetcher: member, phase: .fetching, expires: now + settings.ttl, followers: [])
        }
        return .fetch
    }

    /// The fetcher says its ingest is still growing.
    public mutating func renew(_ digest: Digest, by member: String, now: Instant) -> Renewal {
        expire(now: now)
        if var claim = claims[digest] {
            guard claim.fetcher == member else { return .superseded(by: claim.fetcher) }
            claim.phase = .fetching
            claim.expires = now + settings.ttl
            claims[digest] = claim
            return .renewed
        }
        guard claims.count < settings.capacity else { return .renewed }
        claims[digest] = Claim(fetcher: member, phase: .fetching, expires: now + settings.ttl, followers: [])
        return .adopted
    }

    /// The fetcher's ingest ended: `completed` keeps pointing to it for a
    /// while; a failure frees the claim for the next asker.
    public mutating func release(_ digest: Digest, by member: String, completed: Bool, now: Instant) {
        expire(now: now)
        guard var claim = claims[digest], claim.fetcher == member else { return }
        if completed {
            claim.phase = .completed
            claim.expires = now + settings.completedRetention
            claims[digest] = claim
        } else {
            claims[digest] = nil
        }
    }

    /// `member` left or died: its claims end.
    public mutating func remove(member: String) {
        claims = claims.filter { $0.value.fetcher != member }
    }

    /// Drops claims whose time is up.
    public mutating func expire(now: Instant) {
        guard claims.contains(where: { $0.value.expires <= now }) else { return }
        claims = claims.filter { $0.value.expires > now }
    }
}

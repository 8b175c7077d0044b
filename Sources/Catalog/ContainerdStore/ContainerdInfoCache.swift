/// Remembers, briefly, which blobs containerd said the namespace holds, so that
/// serving a popular layer does not cost a `Content.Info` call per request.
///
/// Only positive answers are kept: a blob that arrives must be served at once.
/// A kept answer may outlive the blob by up to the time to live (garbage
/// collection raises no event); the store also clears the cache on image events.
actor ContainerdInfoCache {
    private let ttl: Duration
    private let clock = ContinuousClock()
    private var sizes: [Digest: (size: Int64, expires: ContinuousClock.Instant)] = [:]

    init(ttl: Duration) {
        self.ttl = ttl
    }

    /// The cached size, if an answer younger than the time to live is kept.
    func size(of digest: Digest) -> Int64? {
        guard let entry = sizes[digest] else { return nil }
        if entry.expires < clock.now {
            sizes[digest] = nil
            return nil
        }
        return entry.size
    }

    func remember(_ digest: Digest, size: Int64) {
        if sizes.count > 10_000 { evictExpired() }
        sizes[digest] = (size, clock.now.advanced(by: ttl))
    }

    func removeAll() {
        sizes.removeAll(keepingCapacity: true)
    }

    private func evictExpired() {
        let now = clock.now
        sizes = sizes.filter { $0.value.expires >= now }
        if sizes.count > 10_000 { sizes.removeAll() }
    }
}

/// A change of this node's summary, as the gossip layer disseminates it.
public enum SummaryUpdate: Hashable, Sendable {
    /// A serialized `SummaryDelta`: entries were only added. Apply it with
    /// `SummaryDelta.apply(_:to:)` to the previous generation.
    case delta([UInt8])
    /// A serialized `BloomFilter` replacing the previous one: entries were
    /// removed, the geometry changed, or this is a subscriber's first value.
    case full([UInt8])

    /// The serialized payload, whichever kind it is.
    public var bytes: [UInt8] {
        switch self {
        case .delta(let bytes), .full(let bytes): bytes
        }
    }
}

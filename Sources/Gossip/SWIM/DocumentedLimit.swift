/// One row of the "Limits" table of `docs/configuration.md`, as the code
/// holds it: every bound on what a peer or client can make a node hold or
/// do is listed once (`SWIM.Limits.documented`, `HTTPServerLimits.documented`),
/// and a test checks the table against these values, so that a limit cannot
/// be added or changed without its documentation.
public struct DocumentedLimit: Sendable, Hashable, CustomStringConvertible {
    /// A value with its unit, compared exactly with the table's "default".
    public enum Value: Sendable, Hashable {
        case count(Int)
        case bytes(Int)
        case duration(Duration)
    }

    /// The table's key: the name of the limit in code (`SWIM.Limits.maximumMembers`).
    public let key: String
    public let value: Value
    /// The option that changes it (`--gossip-max-members`), nil if fixed.
    public let option: String?

    public init(_ key: String, _ value: Value, option: String? = nil) {
        self.key = key
        self.value = value
        self.option = option
    }

    public var description: String { "\(key) = \(value)\(option.map { " (\($0))" } ?? "")" }
}

extension SWIM.Limits {
    /// Every bound of the gossip layer, with its default.
    public static var documented: [DocumentedLimit] {
        let d = SWIM.Limits.default
        let streams = GossipConfiguration.StreamLimits()
        return [
            .init("SWIM.Limits.maximumMembers", .count(d.maximumMembers), option: "--gossip-max-members"),
            .init("SWIM.Limits.maximumPayloadSize", .bytes(d.maximumPayloadSize), option: "--gossip-max-payload-size"),
            .init("SWIM.Limits.maximumMetadataSize", .bytes(maximumMetadataSize)),
            .init("SWIM.Limits.maximumPacketSize", .bytes(maximumPacketSize)),
            .init("SWIM.Limits.maximumStreamMessageSize", .bytes(maximumStreamMessageSize)),
            .init("StreamChunk.maximumFrameSize", .bytes(StreamChunk.maximumFrameSize)),
            .init("SWIM.Limits.maximumIncarnation", .count(Int(maximumIncarnation))),
            .init("SWIM.Limits.maximumIncarnationStep", .count(Int(maximumIncarnationStep))),
            .init("SWIM.Limits.maximumGeneration", .count(Int(maximumGeneration))),
            .init("SWIM.MemberName.maximumLength", .bytes(SWIM.MemberName.maximumLength)),
            .init("StreamLimits.maximumInbound", .count(streams.maximumInbound)),
            .init("StreamLimits.maximumPerAddress", .count(streams.maximumPerAddress)),
            .init("StreamLimits.firstFrameTimeout", .duration(streams.firstFrameTimeout)),
            .init("GossipConfiguration.streamTimeout", .duration(GossipConfiguration.defaultStreamTimeout)),
            .init(
                "GossipConfiguration.replayWindowMilliseconds",
                .duration(.milliseconds(Int64(GossipConfiguration.defaultReplayWindowMilliseconds)))),
        ]
    }
}

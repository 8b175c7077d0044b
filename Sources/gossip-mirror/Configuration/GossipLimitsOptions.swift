import ArgumentParser
import Gossip

/// The gossip limits an operator may change (see `SWIM.Limits` for the
/// reasons behind each default, and the "Limits" table of
/// `docs/configuration.md`). Values that cannot work are refused at start.
struct GossipLimitsOptions: ParsableArguments {
    static let configurableOptions: [ConfigurationSources.Option] = [
        .init(name: "gossip-max-members"), .init(name: "gossip-max-payload-size"),
    ]

    private static let defaults = SWIM.Limits.default

    @Option(
        name: .customLong("gossip-max-members"),
        help: "Members this node knows at most (itself, dead and left ones included); news of more is dropped.")
    var maximumMembers = defaults.maximumMembers

    @Option(
        name: .customLong("gossip-max-payload-size"),
        help: "Largest catalog summary accepted from a member: bytes, or with KiB/MiB (e.g. 1MiB). Set it alike on every node.")
    var maximumPayloadSize = "1MiB"

    func validate() throws {
        guard let bytes = Self.byteCount(maximumPayloadSize) else {
            throw ValidationError("--gossip-max-payload-size must be a number of bytes, optionally with KiB or MiB, not \(maximumPayloadSize)")
        }
        if let problem = SWIM.Limits(maximumMembers: maximumMembers, maximumPayloadSize: bytes).problem() {
            throw ValidationError("--gossip-max-members / --gossip-max-payload-size: \(problem)")
        }
    }

    /// The limits, once `validate()` has passed.
    var limits: SWIM.Limits {
        SWIM.Limits(maximumMembers: maximumMembers, maximumPayloadSize: Self.byteCount(maximumPayloadSize) ?? 0)
    }

    /// `1048576`, `1024KiB`, `1MiB` (also `K`, `KB`, `M`, `MB`, all binary);
    /// nil for anything else, or for a count that does not fit.
    static func byteCount(_ text: String) -> Int? {
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, digits.count <= 12, let number = Int(digits) else { return nil }
        let unit = text.dropFirst(digits.count).trimmingPrefix(" ").lowercased()
        switch unit {
        case "", "b": return number
        case "k", "kb", "kib": return number << 10
        case "m", "mb", "mib": return number << 20
        default: return nil
        }
    }
}

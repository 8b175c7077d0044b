import ArgumentParser
import Registry

/// Cluster single flight for cold pulls (see `ColdPullSettings` for the
/// reasons behind each default, and `docs/configuration.md`).
struct ColdPullOptions: ParsableArguments {
    static let configurableOptions: [ConfigurationSources.Option] = [
        .init(name: "cold-pull", flag: true), .init(name: "cold-pull-claim-ttl"), .init(name: "cold-pull-stall-timeout"),
        .init(name: "cold-pull-ingest-wait"),
    ]

    private static let defaults = ColdPullSettings()

    @Flag(
        name: .customLong("cold-pull"), inversion: .prefixedNo,
        help: "Cluster single flight: a blob no member holds is fetched from the upstream by one member, the others stream it from there.")
    var enabled = defaults.enabled

    @Option(name: .customLong("cold-pull-claim-ttl"), help: "How long a fetch claim lives at its coordinator without a renewal (e.g. 10s).")
    var claimTTL = DurationArgument(defaults.claimTTL, "10s")

    @Option(
        name: .customLong("cold-pull-stall-timeout"),
        help: "How long a followed fetch may go without growing before the follower gives up on it (containerd then resumes elsewhere).")
    var stallTimeout = DurationArgument(defaults.stallTimeout, "30s")

    @Option(
        name: .customLong("cold-pull-ingest-wait"),
        help: "How long a fetcher waits for its containerd's download to appear when a follower asks for it.")
    var ingestWait = DurationArgument(defaults.ingestWait, "5s")

    func validate() throws {
        guard claimTTL.duration >= .seconds(1) else { throw ValidationError("--cold-pull-claim-ttl must be at least 1s") }
        guard stallTimeout.duration >= .seconds(1) else { throw ValidationError("--cold-pull-stall-timeout must be at least 1s") }
        guard ingestWait.duration >= .zero else { throw ValidationError("--cold-pull-ingest-wait must not be negative") }
    }

    var settings: ColdPullSettings {
        var settings = ColdPullSettings()
        settings.enabled = enabled
        settings.claimTTL = claimTTL.duration
        settings.stallTimeout = stallTimeout.duration
        settings.ingestWait = ingestWait.duration
        return settings
    }
}

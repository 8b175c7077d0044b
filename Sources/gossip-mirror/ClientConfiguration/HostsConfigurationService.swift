import Logging
import Registry
import ServiceLifecycle

/// Writes the `hosts.toml` files when the node starts and restores them when
/// it stops (graceful shutdown on SIGTERM/SIGINT, or cancellation of the
/// group). A crash or SIGKILL leaves them in place, which is safe: containerd
/// finds the mirror's port closed and goes on to the next host or the
/// upstream `server`; `gossip-mirror cleanup` (e.g. as systemd's
/// ExecStopPost) tidies up.
struct HostsConfigurationService: Service {
    let settings: HostsSettings
    let logger: Logger

    func run() async throws {
        let restoration: HostsRestoration
        do {
            restoration = try HostsTransaction.apply(settings)
        } catch {
            logger.error("cannot configure containerd", metadata: ["error": "\(error)"])
            throw error
        }
        let mirrors = settings.mirrors.map(\.url).joined(separator: ", ")
        for change in restoration.changes {
            logger.info("containerd hosts.toml: \(change.summary(.done))", metadata: ["mirrors": "\(mirrors)"])
            for note in change.notes { logger.notice("containerd hosts.toml: \(note)") }
        }
        // Returns on graceful shutdown, throws on cancellation: restore either way.
        try? await gracefulShutdown()
        for outcome in restoration.restore() where outcome.touchedOurFile {
            if outcome.failed {
                logger.error("containerd hosts.toml: \(outcome.summary(.done))")
            } else {
                logger.info("containerd hosts.toml: \(outcome.summary(.done))")
            }
        }
    }
}

import Gossip
import Logging
import ServiceLifecycle
import UnixSignals

/// Reloads the cluster keys on SIGHUP, for rotation without downtime:
/// install (add a key file, SIGHUP everywhere), use (make it the first file,
/// SIGHUP everywhere), remove (delete the old file, SIGHUP everywhere). A
/// reload that fails (unreadable or malformed key, no key left) changes
/// nothing and is logged.
struct KeyReloadService: Service {
    let node: GossipNode
    let logger: Logger
    let load: @Sendable () throws -> Keyring

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        await cancelWhenGracefulShutdown {
            for await _ in signals {
                do {
                    await node.replaceKeyring(try load())
                } catch {
                    logger.error("key reload failed; keeping the current keys", metadata: ["error": "\(error)"])
                }
            }
        }
    }
}

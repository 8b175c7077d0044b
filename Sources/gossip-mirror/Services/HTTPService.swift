import Registry
import ServiceLifecycle

/// Serves HTTP until graceful shutdown, then returns normally.
struct HTTPService: Service {
    let server: HTTPServer

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                try await server.run()
            }
        } catch is CancellationError {
            // Graceful shutdown cancels the server: that is a normal end.
        }
    }
}

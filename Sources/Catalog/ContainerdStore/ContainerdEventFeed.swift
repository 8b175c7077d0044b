import Logging
import SwiftProtobuf

/// Produces a store's `events()`: one `Events.Subscribe` stream for image events
/// of the namespace, a periodic re-list tick, and availability changes.
///
/// containerd 1.6 facts that shape it:
/// - one Subscribe stream receives every namespace's events, so the namespace
///   is part of the server-side filter;
/// - image events carry names, not digests, hence `.imagesChanged` (re-list);
/// - there is no content-create event, and garbage collection after an image
///   delete raises none, hence the periodic tick;
/// - a restart ends the stream with `unavailable` and replays nothing, hence
///   `.availability(false)`, retries with backoff, then `.availability(true)`
///   and `.imagesChanged` once subscribed again.
///
/// containerd sends no response headers on Subscribe until the first event, so
/// "subscribed" cannot be observed: availability is announced after a unary call
/// succeeds and the Subscribe call is made. An image changed in the moment
/// between the two is caught by the next tick.
struct ContainerdEventFeed: Sendable {
    let connection: ContainerdConnection
    let configuration: ContainerdConfiguration
    let logger: Logger
    /// Runs before each `.imagesChanged` is yielded (the store clears its caches).
    let onChange: @Sendable () async -> Void

    /// The server-side filter: image topics of our namespace only.
    var filters: [String] {
        ["topic~=\"^/images/\",namespace==\(connection.namespace)"]
    }

    /// Runs until cancelled, then finishes `continuation`.
    func run(_ continuation: AsyncStream<StoreEvent>.Continuation) async {
        let state = State()
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.follow(continuation, state) }
            group.addTask { await self.tick(continuation, state) }
            await group.waitForAll()
        }
        continuation.finish()
    }

    /// Connects, subscribes, and starts over whenever the stream ends.
    private func follow(_ continuation: AsyncStream<StoreEvent>.Continuation, _ state: State) async {
        var backoff = ReconnectBackoff(cap: configuration.maxReconnectDelay)
        let clock = ContinuousClock()
        while !Task.isCancelled {
            let detail: String
            do {
                detail = try await connectedDetail()
            } catch {
                if Task.isCancelled { break }
                await report(available: false, detail: "\(error)", continuation, state)
                try? await Task.sleep(for: backoff.nextDelay())
                continue
            }
            await report(available: true, detail: detail, continuation, state)
            await onChange()
            continuation.yield(.imagesChanged)

            let subscribed = clock.now
            var ending = "containerd closed the event stream"
            do {
                try await connection.subscribe(filters: filters) { envelope in
                    await self.received(envelope, continuation)
                }
            } catch {
                ending = "containerd event stream ended: \(error)"
            }
            if Task.isCancelled { break }
            await report(available: false, detail: ending, continuation, state)
            // A stream that lived a while was a real connection: start the delays over.
            if clock.now - subscribed > .seconds(5) { backoff.reset() }
            try? await Task.sleep(for: backoff.nextDelay())
        }
    }

    /// Yields `.imagesChanged` every `relistInterval` while containerd is reachable.
    private func tick(_ continuation: AsyncStream<StoreEvent>.Continuation, _ state: State) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: max(configuration.relistInterval, .milliseconds(100)))
            if Task.isCancelled { break }
            if await state.available == true {
                await onChange()
                continuation.yield(.imagesChanged)
            }
        }
    }

    /// Proves containerd answers, and says whether our namespace exists: a wrong
    /// `--containerd-namespace` otherwise looks exactly like a node without images.
    private func connectedDetail() async throws -> String {
        let names = try await connection.namespaceNames()
        let namespace = connection.namespace
        if names.contains(namespace) {
            return "connected to containerd at \(connection.socketPath), namespace \(namespace)"
        }
        let known = names.isEmpty ? "none" : names.sorted().joined(separator: ", ")
        let detail = "connected to containerd at \(connection.socketPath), but namespace '\(namespace)' does not exist"
            + " yet (containerd has: \(known)); check --containerd-namespace if no images ever appear"
        logger.warning("\(detail)")
        return detail
    }

    private func received(
        _ envelope: Containerd_Services_Events_V1_Envelope,
        _ continuation: AsyncStream<StoreEvent>.Continuation
    ) async {
        // The filter already selects our namespace; a stray event costs one re-list.
        logger.debug(
            "containerd image event",
            metadata: [
                "topic": "\(envelope.topic)", "namespace": "\(envelope.namespace)",
                "image": "\(Self.imageName(in: envelope.event) ?? "?")",
            ]
        )
        await onChange()
        continuation.yield(.imagesChanged)
    }

    /// The image named by an `ImageCreate`, `ImageUpdate` or `ImageDelete` payload.
    /// containerd's type URLs have no `type.googleapis.com/` prefix.
    static func imageName(in event: Google_Protobuf_Any) -> String? {
        let type = event.typeURL.split(separator: "/").last.map(String.init) ?? event.typeURL
        switch type {
        case "containerd.services.images.v1.ImageCreate":
            return (try? Containerd_Services_Images_V1_ImageCreate(serializedBytes: event.value))?.name
        case "containerd.services.images.v1.ImageUpdate":
            return (try? Containerd_Services_Images_V1_ImageUpdate(serializedBytes: event.value))?.name
        case "containerd.services.images.v1.ImageDelete":
            return (try? Containerd_Services_Images_V1_ImageDelete(serializedBytes: event.value))?.name
        default:
            return nil
        }
    }

    private func report(
        available: Bool,
        detail: String,
        _ continuation: AsyncStream<StoreEvent>.Continuation,
        _ state: State
    ) async {
        guard await state.set(available) else { return }
        if available {
            logger.info("containerd available", metadata: ["detail": "\(detail)"])
        } else {
            logger.warning("containerd unavailable", metadata: ["detail": "\(detail)"])
        }
        continuation.yield(.availability(available: available, detail: detail))
    }

    /// Whether containerd was last seen reachable; shared by the two loops.
    private actor State {
        private(set) var available: Bool?

        /// Records `value`; true when it is a change worth announcing.
        func set(_ value: Bool) -> Bool {
            defer { available = value }
            return available != value
        }
    }
}

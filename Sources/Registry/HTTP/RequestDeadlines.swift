import NIOCore
import NIOHTTP1

/// Closes a connection whose client is too slow to send its request, or
/// that stays idle too long between requests (see `HTTPServerLimits`).
///
/// Phases: a new connection must deliver a whole request within the header
/// timeout; while a response is being produced and written there is no
/// deadline (a large blob to a slow client takes as long as it takes); once
/// the response's last byte is written the connection is idle, and the idle
/// timeout runs until the first byte of the next request, which starts the
/// header timeout again. That first byte is seen by `FirstByteWatch`, in
/// front of the HTTP decoder, because the decoder reports nothing until a
/// whole head has arrived.
///
/// Lives in the channel's pipeline: every call is on its event loop.
final class RequestDeadlines: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let headerTimeout: TimeAmount
    private let idleTimeout: TimeAmount
    /// Requests read whole, and responses whose last byte is written: while
    /// they differ, a response is due and no deadline runs. Counted rather
    /// than flagged because a pipelined request may be delivered before the
    /// previous response's write has completed.
    private var requestsRead = 0
    private var responsesWritten = 0
    /// Whether a request has started arriving under the header deadline.
    private var reading = true
    private var timer: Scheduled<Void>?
    private var context: ChannelHandlerContext?

    init(limits: HTTPServerLimits) {
        headerTimeout = .nanoseconds(Self.nanoseconds(limits.headerTimeout))
        idleTimeout = .nanoseconds(Self.nanoseconds(limits.idleTimeout))
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : scaled.addingReportingOverflow(attoseconds / 1_000_000_000).partialValue
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        arm(headerTimeout)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        disarm()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        disarm()
        context.fireChannelInactive()
    }

    private var isIdle: Bool { !reading && requestsRead == responsesWritten }

    /// A byte arrived before the decoder: an idle connection starts a request.
    func bytesArrived() {
        guard isIdle else { return }
        reading = true
        arm(headerTimeout)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .end = unwrapInboundIn(data) {
            requestsRead += 1
            reading = false
            disarm()
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .end = unwrapOutboundIn(data) else {
            context.write(data, promise: promise)
            return
        }
        let written = promise ?? context.eventLoop.makePromise()
        written.futureResult.assumeIsolated().whenSuccess { [self] in
            responsesWritten += 1
            if isIdle { arm(idleTimeout) }
        }
        context.write(data, promise: written)
    }

    private func arm(_ timeout: TimeAmount) {
        disarm()
        guard let context else { return }
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
            guard requestsRead == responsesWritten else { return }  // a response is due: no deadline
            self.context?.close(promise: nil)
        }
    }

    private func disarm() {
        timer?.cancel()
        timer = nil
    }
}

/// Tells `RequestDeadlines` that bytes arrived, before the HTTP decoder
/// turns them into a request head.
final class FirstByteWatch: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let deadlines: RequestDeadlines

    init(_ deadlines: RequestDeadlines) {
        self.deadlines = deadlines
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        deadlines.bytesArrived()
        context.fireChannelRead(data)
    }
}

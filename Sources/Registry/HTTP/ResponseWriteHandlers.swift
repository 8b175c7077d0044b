#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOHTTP1
import NIOPosix

/// Closes the file behind a `FileRegion` body once it has been written.
///
/// `NIOAsyncChannelOutboundWriter.write` returns when a write is queued, not
/// when sendfile(2) has finished, so the handler that produced the region
/// cannot close the file itself; this handler attaches the close to the
/// write's own promise.
final class FileRegionCloser: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    #if os(Linux)
    /// TCP_CORK, nginx's `tcp_nopush`: while sendfile runs, the kernel sends
    /// only full-sized segments. Without it, a loopback GET of a large blob
    /// ran about 20 % slower (nginx with `tcp_nopush off` slowed the same way).
    static let cork = ChannelOptions.Types.SocketOption(level: .tcp, name: .init(rawValue: CInt(TCP_CORK)))
    #endif

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .body(.fileRegion(let region)) = unwrapOutboundIn(data) else {
            context.write(data, promise: promise)
            return
        }
        let channel = context.channel
        #if os(Linux)
        try? channel.syncOptions?.setOption(Self.cork, value: 1)
        #endif
        let written = promise ?? context.eventLoop.makePromise()
        written.futureResult.whenComplete { _ in
            try? region.fileHandle.close()
            #if os(Linux)
            // Uncorking sends the last partial segment at once.
            try? channel.syncOptions?.setOption(Self.cork, value: 0)
            #endif
        }
        context.write(data, promise: written)
    }
}

/// Reports, for each response, whether its `.end` part was written to the
/// socket (true) or failed (false, e.g. the connection closed). Writes
/// complete in order, so by then every body byte before it (a sendfile
/// region included) is written too. Only in the pipeline with the access log
/// on or observers: every response is then awaited, so the stream does not grow.
final class ResponseWrittenSignal: ChannelOutboundHandler, RemovableChannelHandler, Sendable {
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let signal: AsyncStream<Bool>.Continuation

    init(_ signal: AsyncStream<Bool>.Continuation) {
        self.signal = signal
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .end = unwrapOutboundIn(data) else {
            context.write(data, promise: promise)
            return
        }
        let written = promise ?? context.eventLoop.makePromise()
        let signal = self.signal
        written.futureResult.whenComplete { result in
            if case .success = result { signal.yield(true) } else { signal.yield(false) }
        }
        context.write(data, promise: written)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        signal.finish()
    }
}

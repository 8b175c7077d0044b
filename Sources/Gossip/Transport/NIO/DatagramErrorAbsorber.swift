import NIOCore

/// Keeps the gossip socket alive through per-datagram errors.
///
/// A send to one address can fail on its own — EPERM from a firewall rule,
/// ENETUNREACH or EHOSTUNREACH for a route that went away, ECONNREFUSED
/// reported for an earlier datagram. NIO fires such errors down the pipeline,
/// and `NIOAsyncChannel` would end its inbound stream on them, which would
/// stop the node. For UDP they concern one peer, not the socket: SWIM already
/// treats the silence as a failed probe, so the error is dropped here.
final class DatagramErrorAbsorber: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias InboundOut = AddressedEnvelope<ByteBuffer>

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Deliberately not forwarded: see the type's documentation.
    }
}

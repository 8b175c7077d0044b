/// Datagrams: sealed and sent, received and opened, decoded and handed to
/// the instance; and what the transport reports of its socket.
extension GossipNode: TransportReceiver {
    func sendDatagram(_ body: [UInt8], to endpoint: SWIM.Endpoint) {
        let sealed = security.seal(body, at: Self.wallClockMilliseconds)
        if let lost = transport.send(sealed, to: endpoint) {
            // One peer's problem (a firewall rule, no route) or a full send
            // buffer: the datagram is lost, as UDP may lose it anyway.
            counters.count(.sendFailed)
            logger.trace("gossip datagram not sent", metadata: ["to": "\(endpoint)", "why": "\(lost)"])
            return
        }
        counters.count(.datagramSent(bytes: sealed.count))
    }

    func receive(_ datagram: [UInt8], from source: SWIM.Endpoint) async {
        counters.count(.datagramReceived(bytes: datagram.count))
        let packet: SWIM.Packet
        do throws(Rejection) {
            let body = try security.open(datagram, at: Self.wallClockMilliseconds)
            do { packet = try WireCodec.decodePacket(body) } catch { throw Rejection.malformed("\(error)") }
        } catch {
            reject(error, from: "\(source)")
            return
        }
        await handle(.packet(packet, from: source))
    }

    func datagramSocketReopened() {
        counters.count(.socketReopened)
    }
}

import NIOCore
import NIOHTTP1
import NIOPosix

/// Writing a response: the head with its framing headers, then the body
/// (bytes, a sendfile region, or a stream), then the end.
extension HTTPServer {
    /// Writes `response`; `bytes` counts the body bytes handed to the channel.
    func write(
        _ response: HTTPResponse, for request: HTTPRequestHead, to outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>,
        bytes: inout Int64
    ) async throws {
        do {
            try await writeParts(response, for: request, to: outbound, bytes: &bytes)
        } catch {
            // A connection gone before the file region reached the pipeline
            // (the client left while the handler worked): the file is ours to close.
            if case .file(let handle, _, _) = response.body, handle.isOpen { try? handle.close() }
            throw error
        }
    }

    private func writeParts(
        _ response: HTTPResponse, for request: HTTPRequestHead, to outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>,
        bytes: inout Int64
    ) async throws {
        var headers = response.headers
        let suppressBody = request.method == .HEAD
        switch response.body {
        case .empty:
            if headers["Content-Length"].isEmpty { headers.replaceOrAdd(name: "Content-Length", value: "0") }
        case .bytes(let b):
            if headers["Content-Length"].isEmpty { headers.replaceOrAdd(name: "Content-Length", value: "\(b.readableBytes)") }
        case .file(_, _, let length):
            headers.replaceOrAdd(name: "Content-Length", value: "\(length)")
        case .stream(let length, _):
            if let length { headers.replaceOrAdd(name: "Content-Length", value: "\(length)") } else {
                headers.replaceOrAdd(name: "Transfer-Encoding", value: "chunked")
            }
        }
        if !request.isKeepAlive {
            headers.replaceOrAdd(name: "Connection", value: "close")
        } else if request.version.major == 1, request.version.minor == 0 {
            // An HTTP/1.0 client that asked for keep-alive keeps the connection
            // only if the answer says so (RFC 9112 appendix C.2.2); otherwise it
            // waits for the close that ends a 1.0 answer, and the connection,
            // kept open here, hangs until the idle timeout (`ab -k` did).
            headers.replaceOrAdd(name: "Connection", value: "keep-alive")
        }
        try await outbound.write(.head(HTTPResponseHead(version: request.version, status: response.status, headers: headers)))
        switch response.body {
        case .empty:
            break
        case .bytes(let b):
            if !suppressBody {
                try await outbound.write(.body(.byteBuffer(b)))
                bytes = Int64(b.readableBytes)
            }
        case .file(let handle, let offset, let length):
            if !suppressBody, length > 0 {
                // `FileRegionCloser` closes the handle once sendfile is done.
                let region = FileRegion(fileHandle: handle, readerIndex: Int(offset), endIndex: Int(offset + length))
                try await outbound.write(.body(.fileRegion(region)))
                bytes = length
            } else {
                try? handle.close()
            }
        case .stream(_, let chunks):
            if !suppressBody {
                for try await chunk in chunks {
                    try await outbound.write(.body(.byteBuffer(chunk)))
                    bytes += Int64(chunk.readableBytes)
                }
            }
        }
        try await outbound.write(.end(nil))
    }
}

import CCurl

/// One libcurl easy handle and what it needs while it runs: the header list,
/// the error buffer and the response head being parsed. Lives on the
/// transfer thread only (created, driven and destroyed there), hence not
/// Sendable; it reaches the consumer solely through its `TransferChannel`.
///
/// The C callbacks get this object as an unretained pointer through
/// `CURLOPT_WRITEDATA`, `CURLOPT_HEADERDATA` and `CURLOPT_PREREQDATA`; the
/// transfer thread's table keeps it alive for as long as the easy handle is
/// in the multi handle, which is the only time libcurl calls them.
final class CurlTransfer {
    let channel: TransferChannel
    let easy: Curl.Handle
    private let request: PeerRequest
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private let errorBuffer: UnsafeMutablePointer<CChar>
    private var headParser = ResponseHeadParser()
    private var headError: PeerFetchError?
    /// Set by `CURLOPT_PREREQFUNCTION`: a connection was made or reused, so a
    /// timeout after this is not a connect failure.
    private var connected = false
    /// Our own start time: earlier than libcurl's, so that when libcurl's
    /// total timeout fires, the elapsed time measured from here has passed it.
    private let startedAt = ContinuousClock.now
    /// Set when a delivery was accepted since the last `flush()`.
    private var unflushed = false

    init(request: PeerRequest, channel: TransferChannel) throws(PeerFetchError) {
        guard let easy = curl_easy_init() else { throw .transferFailed("curl_easy_init failed") }
        self.easy = easy
        self.request = request
        self.channel = channel
        self.errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
        for (name, value) in request.headers {
            guard let list = curl_slist_append(headerList, "\(name): \(value)") else {
                throw .transferFailed("curl_slist_append failed")
            }
            headerList = list
        }
        try configure()
    }

    deinit {
        curl_easy_cleanup(easy)
        curl_slist_free_all(headerList)
        errorBuffer.deallocate()
    }

    private func configure() throws(PeerFetchError) {
        let context = UnsafeRawPointer(Unmanaged.passUnretained(self).toOpaque())
        var codes: [CURLcode] = []
        codes.append(Curl.setopt(easy, CURLOPT_URL, request.url))
        // Only HTTP(S), also on redirects (which we do not follow anyway).
        codes.append(Curl.setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https"))
        codes.append(Curl.setopt(easy, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1))
        // No signals: required when libcurl runs on threads of a larger program.
        codes.append(Curl.setopt(easy, CURLOPT_NOSIGNAL, 1))
        if request.method == .head { codes.append(Curl.setopt(easy, CURLOPT_NOBODY, 1)) }
        codes.append(Curl.setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, request.connectTimeout.roundedUpMilliseconds))
        // Reuse a pooled connection only while the peer would still keep it
        // (its idle timeout is longer; see `PeerFetcher.maximumConnectionAge`).
        codes.append(Curl.setopt(easy, CURLOPT_MAXAGE_CONN, Int(PeerFetcher.maximumConnectionAge.components.seconds)))
        if let timeout = request.timeout {
            codes.append(Curl.setopt(easy, CURLOPT_TIMEOUT_MS, max(1, timeout.roundedUpMilliseconds)))
        }
        if request.lowSpeedLimit > 0 {
            codes.append(Curl.setopt(easy, CURLOPT_LOW_SPEED_LIMIT, request.lowSpeedLimit))
            codes.append(Curl.setopt(easy, CURLOPT_LOW_SPEED_TIME, Int(lowSpeedSeconds.components.seconds)))
        }
        if let range = request.range { codes.append(Curl.setopt(easy, CURLOPT_RANGE, range.description)) }
        if let headerList { codes.append(Curl.setopt(easy, CURLOPT_HTTPHEADER, UnsafeRawPointer(headerList))) }
        codes.append(Curl.setopt(easy, CURLOPT_BUFFERSIZE, channel.receiveBufferSize))
        codes.append(Curl.setopt(easy, CURLOPT_ERRORBUFFER, UnsafeRawPointer(errorBuffer)))
        codes.append(Curl.setopt(easy, CURLOPT_PRIVATE, context))

        codes.append(Curl.setopt(easy, CURLOPT_WRITEFUNCTION, unsafeBitCast(curlWriteCallback, to: UnsafeRawPointer.self)))
        codes.append(Curl.setopt(easy, CURLOPT_WRITEDATA, context))
        codes.append(Curl.setopt(easy, CURLOPT_HEADERFUNCTION, unsafeBitCast(curlHeaderCallback, to: UnsafeRawPointer.self)))
        codes.append(Curl.setopt(easy, CURLOPT_HEADERDATA, context))
        codes.append(Curl.setopt(easy, CURLOPT_PREREQFUNCTION, unsafeBitCast(curlPrereqCallback, to: UnsafeRawPointer.self)))
        codes.append(Curl.setopt(easy, CURLOPT_PREREQDATA, context))

        if let failed = codes.first(where: { $0 != CURLE_OK }) {
            // CURLE_URL_MALFORMAT and friends: the request, not the peer.
            throw .invalidRequest("curl_easy_setopt: \(String(cString: curl_easy_strerror(failed)))")
        }
    }

    /// `lowSpeedTime` in the whole seconds libcurl counts (rounded up, at least 1).
    private var lowSpeedSeconds: Duration {
        .seconds(max(1, (request.lowSpeedTime.roundedUpMilliseconds + 999) / 1000))
    }

    /// The transfer thread learns the easy handle's object back from
    /// `CURLINFO_PRIVATE` when libcurl reports it done.
    static func from(easy: Curl.Handle) -> CurlTransfer? {
        Curl.pointerInfo(easy, CURLINFO_PRIVATE).map { Unmanaged<CurlTransfer>.fromOpaque($0).takeUnretainedValue() }
    }

    /// Connections libcurl had to open for this transfer (0 when it reused one).
    var newConnections: Int { Curl.info(easy, CURLINFO_NUM_CONNECTS) }

    /// Maps libcurl's result code to the outcome the consumer sees.
    func outcome(for code: CURLcode) -> Result<Void, PeerFetchError> {
        if let headError { return .failure(headError) }
        if code == CURLE_OK {
            return headParser.isComplete ? .success(()) : .failure(.invalidResponse("no response head"))
        }
        let message = errorBuffer.pointee != 0 ? String(cString: errorBuffer) : String(cString: curl_easy_strerror(code))
        switch code {
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            return .failure(.connectFailed(message))
        case CURLE_OPERATION_TIMEDOUT:
            // libcurl uses one code for the connect timeout, the total timeout
            // and the low-speed abort; tell them apart by what had happened.
            // The low-speed abort needs at least the low-speed time to pass
            // (libcurl samples once a second); the total timeout fires at its
            // limit.
            if !connected { return .failure(.connectFailed(message)) }
            guard request.lowSpeedLimit > 0 else { return .failure(.timedOut) }
            let elapsed = ContinuousClock.now - startedAt
            if let timeout = request.timeout, elapsed >= timeout || elapsed < lowSpeedSeconds {
                return .failure(.timedOut)
            }
            return .failure(.stalled)
        case CURLE_WRITE_ERROR, CURLE_ABORTED_BY_CALLBACK:
            // Our callbacks refuse data only when the consumer is gone.
            return .failure(.cancelled)
        default:
            return .failure(.transferFailed(message))
        }
    }

    // MARK: Callback bodies (on the transfer thread, called by libcurl)

    /// Hands a partly filled chunk to a waiting consumer; the transfer
    /// thread calls this after each `curl_multi_perform` pass.
    func flushIfNeeded() {
        guard unflushed else { return }
        unflushed = false
        channel.flush()
    }

    fileprivate func write(_ bytes: UnsafeRawBufferPointer) -> Int {
        switch channel.offer(bytes) {
        case .accepted:
            unflushed = true
            return bytes.count
        case .pause: return Int(CURL_WRITEFUNC_PAUSE)
        case .abort: return 0
        }
    }

    fileprivate func header(_ line: UnsafeRawBufferPointer) -> Int {
        do {
            if let head = try headParser.consume(line) { channel.deliverHead(head) }
            return line.count
        } catch {
            headError = .invalidResponse("\(error)")
            return 0
        }
    }

    fileprivate func didConnect() {
        connected = true
    }
}

// C function pointers: they capture nothing and find their object through the
// context pointer libcurl passes back.

private let curlWriteCallback: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = {
    data, size, count, context in
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(context!).takeUnretainedValue()
    return transfer.write(UnsafeRawBufferPointer(start: data, count: size * count))
}

private let curlHeaderCallback: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = {
    data, size, count, context in
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(context!).takeUnretainedValue()
    return transfer.header(UnsafeRawBufferPointer(start: data, count: size * count))
}

private let curlPrereqCallback: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<CChar>?, UnsafeMutablePointer<CChar>?, Int32, Int32) -> Int32 = {
    context, _, _, _, _ in
    Unmanaged<CurlTransfer>.fromOpaque(context!).takeUnretainedValue().didConnect()
    return Int32(CURL_PREREQFUNC_OK)
}

extension Duration {
    /// Whole milliseconds, rounded up so a positive duration never becomes 0
    /// (which libcurl reads as "no limit").
    fileprivate var roundedUpMilliseconds: Int {
        let (seconds, attoseconds) = components
        let millis = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int(clamping: max(millis, 0))
    }
}

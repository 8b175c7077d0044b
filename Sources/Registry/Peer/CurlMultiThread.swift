import CCurl
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One dedicated OS thread driving a libcurl multi handle: every transfer of
/// a `PeerFetcher` runs here, off Swift's cooperative pool.
///
/// Why one multi handle on one thread rather than a blocking easy handle per
/// transfer: the multi handle owns the connection cache, so keep-alive
/// connections to a peer are reused by any later transfer without a share
/// handle and its locks; a paused transfer (backpressure) costs no thread;
/// and cancellation is prompt, because `curl_multi_wakeup` interrupts
/// `curl_multi_poll` at once instead of waiting for a progress callback.
/// Hashing happens on the consumer's side, so this thread only moves bytes.
///
/// Safety (`@unchecked Sendable`): `transfers` and every libcurl call on
/// `multi` and its easy handles happen on the loop thread only. Other threads
/// touch exactly two things: `inbox`, behind a `Mutex`; and
/// `curl_multi_wakeup(multi)`, which libcurl documents as callable from any
/// thread, made under that same lock and only while `inbox.running`, which
/// the loop clears (under the lock) before `curl_multi_cleanup`, so a wakeup
/// never races the cleanup.
final class CurlMultiThread: @unchecked Sendable {
    enum Command: Sendable {
        case start(PeerRequest, TransferChannel)
        case resume(TransferChannel)
        case cancel(TransferChannel)
        case shutdown
    }

    private struct Inbox {
        var commands: [Command] = []
        var running = true
    }

    private let multi: Curl.Handle
    private let inbox = Mutex(Inbox())
    private let counters: PeerFetcherCounters
    /// Loop thread only.
    private var transfers: [ObjectIdentifier: CurlTransfer] = [:]

    /// Starts the thread. `maxCachedConnections` bounds the idle keep-alive
    /// connections kept open (`CURLMOPT_MAXCONNECTS`).
    init(maxCachedConnections: Int, counters: PeerFetcherCounters) {
        Curl.globalInit
        guard let multi = curl_multi_init() else { fatalError("curl_multi_init failed") }
        self.multi = multi
        self.counters = counters
        Curl.setopt(multi, CURLMOPT_MAXCONNECTS, maxCachedConnections)
        startThread()
    }

    // MARK: Any thread

    func start(_ request: PeerRequest, _ channel: TransferChannel) { send(.start(request, channel)) }
    func resume(_ channel: TransferChannel) { send(.resume(channel)) }
    func cancel(_ channel: TransferChannel) { send(.cancel(channel)) }

    /// Aborts every transfer (their consumers see `.cancelled`), closes the
    /// cached connections and ends the thread.
    func shutdown() { send(.shutdown) }

    private func send(_ command: Command) {
        let accepted = inbox.withLock { inbox in
            guard inbox.running else { return false }
            inbox.commands.append(command)
            curl_multi_wakeup(multi)
            return true
        }
        if !accepted, case .start(_, let channel) = command {
            channel.finish(.failure(.cancelled))
        }
    }

    // MARK: Loop thread

    private func startThread() {
        let context = Unmanaged.passRetained(self).toOpaque()
        #if canImport(Darwin)
        var thread: pthread_t? = nil
        #else
        var thread = pthread_t()
        #endif
        let rc = pthread_create(
            &thread, nil,
            { context in
                Unmanaged<CurlMultiThread>.fromOpaque(context!).takeRetainedValue().run()
                return nil
            }, context)
        precondition(rc == 0, "pthread_create failed: \(rc)")
        #if canImport(Darwin)
        pthread_detach(thread!)
        #else
        pthread_detach(thread)
        #endif
    }

    private func run() {
        var running: Int32 = 0
        while true {
            let commands = inbox.withLock { inbox -> [Command] in
                defer { inbox.commands.removeAll(keepingCapacity: true) }
                return inbox.commands
            }
            for (index, command) in commands.enumerated() {
                if case .shutdown = command {
                    stop(unhandled: commands[(index + 1)...])
                    return
                }
                handle(command)
            }
            curl_multi_perform(multi, &running)
            for transfer in transfers.values { transfer.flushIfNeeded() }
            collectFinished()
            // Sleeps until socket activity, libcurl's next timer, or a wakeup.
            curl_multi_poll(multi, nil, 0, 1000, nil)
        }
    }

    private func handle(_ command: Command) {
        switch command {
        case .start(let request, let channel):
            guard !channel.isCancelled else {
                channel.finish(.failure(.cancelled))
                return
            }
            do {
                let transfer = try CurlTransfer(request: request, channel: channel)
                let code = curl_multi_add_handle(multi, transfer.easy)
                guard code == CURLM_OK else {
                    channel.finish(.failure(.transferFailed("curl_multi_add_handle: \(String(cString: curl_multi_strerror(code)))")))
                    return
                }
                transfers[ObjectIdentifier(channel)] = transfer
                counters.started()
            } catch {
                channel.finish(.failure(error))
            }
        case .resume(let channel):
            guard let transfer = transfers[ObjectIdentifier(channel)] else { return }
            // Clear the flag first: unpausing may call the write callback
            // right here, and that may pause again.
            channel.willResume()
            curl_easy_pause(transfer.easy, CURLPAUSE_RECV_CONT | CURLPAUSE_SEND_CONT)
        case .cancel(let channel):
            guard let transfer = transfers.removeValue(forKey: ObjectIdentifier(channel)) else { return }
            // Removing a transfer in progress closes its connection.
            curl_multi_remove_handle(multi, transfer.easy)
            counters.ended(newConnections: transfer.newConnections)
            channel.finish(.failure(.cancelled))
        case .shutdown:
            break
        }
    }

    private func collectFinished() {
        var left: Int32 = 0
        while let message = curl_multi_info_read(multi, &left) {
            guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle,
                let transfer = CurlTransfer.from(easy: easy)
            else { continue }
            let outcome = transfer.outcome(for: message.pointee.data.result)
            // `message` is invalid after this.
            curl_multi_remove_handle(multi, easy)
            transfers.removeValue(forKey: ObjectIdentifier(transfer.channel))
            counters.ended(newConnections: transfer.newConnections)
            transfer.channel.finish(outcome)
        }
    }

    private func stop(unhandled: ArraySlice<Command>) {
        let pending = inbox.withLock { inbox -> [Command] in
            inbox.running = false
            defer { inbox.commands.removeAll() }
            return inbox.commands
        }
        for case .start(_, let channel) in unhandled + pending { channel.finish(.failure(.cancelled)) }
        for transfer in transfers.values {
            curl_multi_remove_handle(multi, transfer.easy)
            counters.ended(newConnections: transfer.newConnections)
            transfer.channel.finish(.failure(.cancelled))
        }
        transfers.removeAll()
        curl_multi_cleanup(multi)
    }
}

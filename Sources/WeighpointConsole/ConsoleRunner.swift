import Foundation
import Glibc

/// Runs one console on its own thread: opens the transport, feeds the session, writes its
/// answers, and when a serial adapter is unplugged logs the technician out and waits for the
/// device to come back. Nothing here touches the weighing path: the session asks the unit through
/// its host, which answers without waiting on the console.
public final class ConsoleRunner: @unchecked Sendable {
    public enum Event: Sendable, CustomStringConvertible {
        case opened(String)
        case unavailable(ConsoleTransportError)
        case lost(ConsoleTransportError)
        case ended(String)

        public var description: String {
            switch self {
            case .opened(let d): "opened \(d)"
            case .unavailable(let e): "unavailable: \(e)"
            case .lost(let e): "lost: \(e)"
            case .ended(let d): "ended \(d)"
            }
        }
    }

    private let transport: any ConsoleTransport
    private let session: ConsoleSession
    private let onEvent: @Sendable (Event) -> Void
    private let lock = NSLock()
    private var running = false
    private let finished = DispatchSemaphore(value: 0)
    private let wake = DispatchSemaphore(value: 0)

    public init(transport: any ConsoleTransport, session: ConsoleSession, onEvent: @escaping @Sendable (Event) -> Void) {
        self.transport = transport
        self.session = session
        self.onEvent = onEvent
    }

    private var isRunning: Bool { lock.withLock { running } }

    /// Starts the console thread; `onEnd` runs on it when the console ends by itself (standard
    /// input closed), not when stopped.
    public func start(onEnd: @escaping @Sendable () -> Void = {}) {
        lock.withLock { running = true }
        let t = Thread { [self] in
            if loop() { onEnd() }
            finished.signal()
        }
        t.name = "console"
        t.start()
    }

    /// Stops the console and waits for its thread.
    public func stop() {
        let was = lock.withLock { () -> Bool in
            defer { running = false }
            return running
        }
        guard was else { return }
        wake.signal()
        finished.wait()
    }

    static func monotonic() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    /// True when the console ended by itself.
    private func loop() -> Bool {
        var backoff = 0.5
        var reported = false
        defer { transport.close() }
        while isRunning {
            do {
                try transport.open()
            } catch {
                // Say it once per outage, then keep trying quietly (an unplugged adapter at night).
                if !reported { onEvent(.unavailable(error)) }
                reported = true
                _ = wake.wait(timeout: .now() + backoff)
                backoff = min(backoff * 2, 5)
                continue
            }
            reported = false
            backoff = 0.5
            onEvent(.opened(transport.name))
            do {
                try transport.write(session.start(now: Self.monotonic()))
                while isRunning {
                    let bytes = try transport.read(timeoutMs: 100)
                    if !bytes.isEmpty { try transport.write(session.receive(bytes, now: Self.monotonic())) }
                    try transport.write(session.tick(now: Self.monotonic()))
                    if session.wantsToEnd && !transport.reopensAfterLoss {
                        session.disconnected(now: Self.monotonic())
                        onEvent(.ended(transport.name))
                        return true
                    }
                }
            } catch {
                session.disconnected(now: Self.monotonic())
                transport.close()
                guard transport.reopensAfterLoss else {
                    onEvent(.ended(transport.name))
                    return true
                }
                onEvent(.lost(error))
                _ = wake.wait(timeout: .now() + 0.5)
            }
        }
        session.disconnected(now: Self.monotonic())
        return false
    }
}

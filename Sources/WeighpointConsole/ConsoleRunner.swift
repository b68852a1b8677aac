import Foundation
import Glibc
import WeighpointSystem

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
    private var onEnd: @Sendable () -> Void = {}
    /// Made at the first start; holds its owner weakly, so a runner dropped while stopped is freed
    /// (a running thread keeps it until `stop`).
    private lazy var worker = WorkerThread(name: "console") { [weak self] w in
        guard let self, loop(w) else { return }
        lock.withLock { onEnd }()
    }

    public init(transport: any ConsoleTransport, session: ConsoleSession, onEvent: @escaping @Sendable (Event) -> Void) {
        self.transport = transport
        self.session = session
        self.onEvent = onEvent
    }

    /// Starts the console thread; `onEnd` runs on it when the console ends by itself (standard
    /// input closed), not when stopped.
    public func start(onEnd: @escaping @Sendable () -> Void = {}) {
        lock.withLock {
            self.onEnd = onEnd
            return worker
        }.start()
    }

    /// Stops the console and waits for its thread.
    public func stop() {
        lock.withLock { worker }.stop()
    }

    /// Seconds on the monotonic clock: the session's idle and lockout timers.
    static func monotonic() -> Double { Double(SystemMonotonicClock().microseconds()) / 1e6 }

    /// True when the console ended by itself.
    private func loop(_ worker: WorkerThread) -> Bool {
        var isRunning: Bool { worker.isRunning }
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
                worker.pause(milliseconds: Int(backoff * 1000))
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
                worker.pause(milliseconds: 500)
            }
        }
        session.disconnected(now: Self.monotonic())
        return false
    }
}

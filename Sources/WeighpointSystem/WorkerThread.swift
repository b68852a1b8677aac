import Foundation

/// A loop on a thread of its own (capture, replay, the WIM driver, the recogniser): started once,
/// asked to stop, and joined. The body runs until it returns; it checks `isRunning` and sleeps
/// with `pause`, which returns early when the worker is woken or stopped.
public final class WorkerThread: @unchecked Sendable {
    public let name: String
    private let body: @Sendable (WorkerThread) -> Void
    private let condition = NSCondition()
    private var running = false
    private var woken = false
    private var finished = true

    public init(name: String, _ body: @escaping @Sendable (WorkerThread) -> Void) {
        self.name = name
        self.body = body
    }

    /// Starts the thread; does nothing while it runs.
    public func start() {
        condition.lock()
        defer { condition.unlock() }
        guard finished else { return }
        running = true
        finished = false
        let t = Thread { [self] in
            body(self)
            condition.lock()
            running = false
            finished = true
            condition.broadcast()
            condition.unlock()
        }
        t.name = name
        t.start()
    }

    /// False once `stop` was called.
    public var isRunning: Bool {
        condition.lock()
        defer { condition.unlock() }
        return running
    }

    /// Sleeps up to `milliseconds`, waking early on `wake` or `stop`; returns `isRunning`.
    @discardableResult
    public func pause(milliseconds: Int) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        let until = Date(timeIntervalSinceNow: Double(milliseconds) / 1000)
        while running && !woken {
            if !condition.wait(until: until) { break }
        }
        woken = false
        return running
    }

    /// Ends the current `pause` early (work arrived).
    public func wake() {
        condition.lock()
        woken = true
        condition.broadcast()
        condition.unlock()
    }

    /// Asks the body to stop and waits until it has returned. Safe to call when never started.
    public func stop() {
        condition.lock()
        defer { condition.unlock() }
        running = false
        condition.broadcast()
        while !finished { condition.wait() }
    }
}

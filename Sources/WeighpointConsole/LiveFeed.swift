import Foundation
import WeighpointCore

/// Something the unit did that a technician may be watching.
public enum LiveEvent: Sendable {
    /// A weighing arrived from the controller (already corrected by the calibration in force).
    case weighed(Weighing)
    /// A weighing was decided; `record` is the record's sequence when one was written.
    case decided(Weighing, OverloadAssessment, plate: String?, record: Int64?)
}

/// Fan-out of live events to whoever watches (the console's `live` and `cal reference`).
/// Publishing never blocks and costs nothing without subscribers: each subscription holds at
/// most `capacity` events and drops the oldest when its reader falls behind.
public final class LiveFeed: @unchecked Sendable {
    private let lock = NSLock()
    private var subscriptions: [ObjectIdentifier: Subscription] = [:]
    public let capacity: Int

    public init(capacity: Int = 256) { self.capacity = capacity }

    public func publish(_ event: LiveEvent) {
        let subs = lock.withLock { Array(subscriptions.values) }
        for s in subs { s.push(event) }
    }

    public func subscribe() -> Subscription {
        let s = Subscription(feed: self, capacity: capacity)
        lock.withLock { subscriptions[ObjectIdentifier(s)] = s }
        return s
    }

    fileprivate func remove(_ s: Subscription) { _ = lock.withLock { subscriptions.removeValue(forKey: ObjectIdentifier(s)) } }

    /// One reader's queue. Guarded by its own lock.
    public final class Subscription: @unchecked Sendable {
        private weak var feed: LiveFeed?
        private let lock = NSLock()
        private var events: [LiveEvent] = []
        private let capacity: Int

        fileprivate init(feed: LiveFeed, capacity: Int) {
            self.feed = feed
            self.capacity = capacity
        }

        fileprivate func push(_ e: LiveEvent) {
            lock.withLock {
                if events.count >= capacity { events.removeFirst() }
                events.append(e)
            }
        }

        /// Everything queued since the last call, oldest first.
        public func take() -> [LiveEvent] {
            lock.withLock {
                let e = events
                events.removeAll()
                return e
            }
        }

        public func cancel() { feed?.remove(self) }
    }
}

import Foundation
import WeighpointCore

/// The recent frames of one camera: a fixed number of preallocated slots, overwritten oldest
/// first, and limited to a time window behind the newest frame. Capture never waits on readers:
/// a push takes the lock only to copy into a slot whose buffer keeps its capacity, so steady
/// capture allocates nothing per frame. Readers get copies.
public final class FrameRing: @unchecked Sendable {
    public let camera: String
    /// How far behind the newest frame frames are kept, µs.
    public let windowMicroseconds: Int64
    private let lock = NSLock()
    private var slots: [Slot]
    private var next = 0
    private var filled = 0
    private var counters = (pushed: 0, evicted: 0)

    struct Slot {
        var bytes: [UInt8] = []
        var time = Timestamp(microseconds: 0)
        var sequence: UInt32 = 0
        var format: PixelFormat = .mjpeg
        var width = 0
        var height = 0
    }

    /// `slots` frames at most; `window` of time behind the newest; `frameBytes` reserved per slot.
    public init(camera: String, slots: Int, windowMicroseconds: Int64, frameBytes: Int = 0) {
        self.camera = camera
        self.windowMicroseconds = windowMicroseconds
        self.slots = (0..<max(slots, 1)).map { _ in
            var s = Slot()
            s.bytes.reserveCapacity(frameBytes)
            return s
        }
    }

    /// Frames pushed, and frames overwritten before anyone could take them as evidence.
    public var statistics: (pushed: Int, evicted: Int) { lock.withLock { counters } }

    public func push(_ frame: CapturedFrame) {
        frame.bytes.withUnsafeBufferPointer { push(bytes: $0, time: frame.time, sequence: frame.sequence, format: frame.format, width: frame.width, height: frame.height) }
    }

    /// Copies a frame into the oldest slot.
    public func push(bytes: UnsafeBufferPointer<UInt8>, time: Timestamp, sequence: UInt32, format: PixelFormat, width: Int, height: Int) {
        lock.lock()
        defer { lock.unlock() }
        if filled == slots.count { counters.evicted += 1 } else { filled += 1 }
        slots[next].bytes.removeAll(keepingCapacity: true)
        slots[next].bytes.append(contentsOf: bytes)
        slots[next].time = time
        slots[next].sequence = sequence
        slots[next].format = format
        slots[next].width = width
        slots[next].height = height
        next = (next + 1) % slots.count
        counters.pushed += 1
    }

    /// Indices of the slots inside the time window, oldest first. Called with the lock held.
    private func liveIndices() -> [Int] {
        guard filled > 0 else { return [] }
        let newest = slots[(next - 1 + slots.count) % slots.count].time
        return (0..<filled).map { (next - filled + $0 + slots.count) % slots.count }
            .filter { newest.microseconds - slots[$0].time.microseconds <= windowMicroseconds }
    }

    private func frame(_ i: Int) -> CapturedFrame {
        let s = slots[i]
        return CapturedFrame(sequence: s.sequence, time: s.time, format: s.format, width: s.width, height: s.height, bytes: s.bytes)
    }

    /// Time of the newest frame.
    public var newestTime: Timestamp? {
        lock.withLock { filled > 0 ? slots[(next - 1 + slots.count) % slots.count].time : nil }
    }

    /// The frame nearest to `time` within `tolerance` µs, as a copy.
    public func nearest(to time: Timestamp, toleranceMicroseconds: Int64 = .max) -> CapturedFrame? {
        lock.withLock {
            let best = liveIndices().min { abs(slots[$0].time.microseconds(to: time)) < abs(slots[$1].time.microseconds(to: time)) }
            guard let best, abs(slots[best].time.microseconds(to: time)) <= toleranceMicroseconds else { return nil }
            return frame(best)
        }
    }

    /// Frames between two times, oldest first (pre/post window around an event).
    public func frames(from: Timestamp, to: Timestamp) -> [CapturedFrame] {
        lock.withLock { liveIndices().filter { slots[$0].time >= from && slots[$0].time <= to }.map(frame) }
    }

    /// Waits until the ring holds a frame at or after `time` (the post-window has arrived) or
    /// `timeoutMilliseconds` passed, then returns the frame nearest to `time`.
    public func evidence(at time: Timestamp, toleranceMicroseconds: Int64, timeoutMilliseconds: Int) async -> CapturedFrame? {
        let deadline = ContinuousClock.now + .milliseconds(timeoutMilliseconds)
        while ContinuousClock.now < deadline {
            if let newest = newestTime, newest >= time { break }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return nearest(to: time, toleranceMicroseconds: toleranceMicroseconds)
    }
}

/// A bounded hand-off from capture to a slower consumer (a recogniser): offering never waits;
/// when the consumer is behind, the frame is dropped and counted.
public final class FrameQueue: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [CapturedFrame] = []
    public let capacity: Int
    private var droppedCount = 0

    public init(capacity: Int) { self.capacity = capacity }

    /// False when the frame was dropped because the queue is full.
    @discardableResult
    public func offer(_ frame: CapturedFrame) -> Bool {
        lock.withLock {
            guard items.count < capacity else {
                droppedCount += 1
                return false
            }
            items.append(frame)
            return true
        }
    }

    public func take() -> CapturedFrame? { lock.withLock { items.isEmpty ? nil : items.removeFirst() } }
    public var dropped: Int { lock.withLock { droppedCount } }
}

import WeighpointImaging
import Foundation
import WeighpointCapture
import WeighpointCore
import WeighpointSystem

/// A camera that plays JPEG files from a directory (Images/) into a frame ring at a given rate,
/// stamped with the time of playing, for the demo and tests: the same ring, the same selection,
/// no device. Each frame gets a JPEG comment (COM segment) naming it a replay with its camera,
/// sequence and time, so a replayed picture can never pass for a camera's, and no two frames
/// have the same bytes (the store would otherwise keep one file for many records).
public final class ReplayCamera: @unchecked Sendable {
    public let ring: FrameRing
    private let frames: [[UInt8]]
    private let dimensions: [(Int, Int)]
    private let interval: Double
    private let lock = NSLock()
    /// Made at the first start; holds its owner weakly, so an owner dropped while stopped is freed
    /// (a running thread keeps its owner until `stop`).
    private lazy var worker = WorkerThread(name: "replay \(ring.camera)") { [weak self] w in self?.play(w) }
    /// Sequences to show at given times instead of the loop (a vehicle passing): the frames are
    /// played centred on the time, one per tick.
    private var cues: [(time: Timestamp, frames: [[UInt8]], dimensions: [(Int, Int)])] = []

    /// Loads every `.jpg` of `directory` (sorted by name); throws naming the directory when none.
    public init(directory: String, framesPerSecond: Double, ring: FrameRing) throws(CaptureError) {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".jpg") }.sorted()
        let files = names.compactMap { FileManager.default.contents(atPath: directory + "/" + $0).map(Array.init) }
        guard !files.isEmpty else { throw CaptureError(device: directory, operation: "replay camera", reason: "no .jpg files") }
        frames = files
        dimensions = files.map { JPEGEncoder.dimensions(of: $0) ?? (0, 0) }
        interval = 1 / max(framesPerSecond, 0.1)
        self.ring = ring
    }

    public func start() { lock.withLock { worker }.start() }

    private func play(_ worker: WorkerThread) {
        var i = 0
        var stamped: [UInt8] = []
        stamped.reserveCapacity((frames.map(\.count).max() ?? 0) + 256)
        while worker.isRunning {
            let now = SystemWallClock().now()
            var (jpeg, size) = (frames[i % frames.count], dimensions[i % frames.count])
            if let (f, d) = cuedFrame(at: now) { (jpeg, size) = (f, d) }
            Self.stamp(jpeg, comment: "weighpoint replay camera=\(ring.camera) seq=\(i) time=\(now.rfc3339(fractionDigits: 6))", into: &stamped)
            stamped.withUnsafeBufferPointer {
                ring.push(bytes: $0, time: now, sequence: UInt32(truncatingIfNeeded: i), format: .mjpeg, width: size.0, height: size.1)
            }
            i += 1
            worker.pause(milliseconds: Int(interval * 1000))
        }
    }

    /// Shows `frames` (JPEG) centred on `time`, one per tick, instead of the loop: a vehicle the
    /// demo or a test sends past the camera.
    public func cue(_ frames: [[UInt8]], at time: Timestamp) {
        let d = frames.map { JPEGEncoder.dimensions(of: $0) ?? (0, 0) }
        lock.withLock {
            cues.removeAll { $0.time.microseconds < time.microseconds - 60_000_000 }
            cues.append((time, frames, d))
        }
    }

    /// The JPEG files of a directory, sorted by name (a sequence to cue).
    public static func load(directory: String) throws(CaptureError) -> [[UInt8]] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".jpg") }.sorted()
        let files = names.compactMap { FileManager.default.contents(atPath: directory + "/" + $0).map(Array.init) }
        guard !files.isEmpty else { throw CaptureError(device: directory, operation: "replay camera", reason: "no .jpg files") }
        return files
    }

    private func cuedFrame(at now: Timestamp) -> ([UInt8], (Int, Int))? {
        lock.withLock {
            let us = Int64(interval * 1_000_000)
            for c in cues {
                let start = c.time.microseconds - Int64(c.frames.count) * us / 2
                let k = (now.microseconds - start) / us
                if k >= 0 && k < c.frames.count { return (c.frames[Int(k)], c.dimensions[Int(k)]) }
            }
            return nil
        }
    }

    /// `jpeg` with a COM segment carrying `comment` right after SOI, written into `out`.
    static func stamp(_ jpeg: [UInt8], comment: String, into out: inout [UInt8]) {
        out.removeAll(keepingCapacity: true)
        guard jpeg.count >= 2, jpeg[0] == 0xFF, jpeg[1] == 0xD8 else {
            out.append(contentsOf: jpeg)
            return
        }
        let text = Array(comment.utf8.prefix(65_000))
        let length = text.count + 2
        out.append(contentsOf: [0xFF, 0xD8, 0xFF, 0xFE, UInt8(length >> 8), UInt8(length & 0xFF)])
        out.append(contentsOf: text)
        out.append(contentsOf: jpeg[2...])
    }

    public func stop() {
        lock.withLock { worker }.stop()
    }
}

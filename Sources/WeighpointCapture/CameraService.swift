// WeighpointCapture owns the cameras: V4L2 capture through libv4l2, the camera service that
// reopens a lost device, frame rings and evidence-frame selection, and frames to JPEG. Pixels
// themselves are WeighpointImaging's. It may import Core, System and Imaging.
import Foundation
import WeighpointCore
import WeighpointSystem

/// Keeps one V4L2 camera capturing into its frame ring on a dedicated thread: on any device
/// error it tears down, reports, and reopens with backoff, so a camera that disappears degrades
/// the unit (its state says so) instead of stopping it.
public final class CameraService: @unchecked Sendable {
    public let device: String
    public let ring: FrameRing
    public let width: Int
    public let height: Int
    public let preferred: [PixelFormat]
    public let framesPerSecond: Int?
    private let lock = NSLock()
    private var stateText = "stopped"
    private var counts = (captured: 0, broken: 0, reopens: 0)
    /// Made at the first start; holds its owner weakly, so an owner dropped while stopped is freed
    /// (a running thread keeps its owner until `stop`).
    private lazy var worker = WorkerThread(name: "camera \(device)") { [weak self] w in self?.run(w) }
    private let onEvent: @Sendable (String) -> Void

    public init(device: String, ring: FrameRing, width: Int, height: Int, preferred: [PixelFormat] = PixelFormat.allCases, framesPerSecond: Int? = nil, onEvent: @escaping @Sendable (String) -> Void = { _ in }) {
        self.device = device
        self.ring = ring
        self.width = width
        self.height = height
        self.preferred = preferred
        self.framesPerSecond = framesPerSecond
        self.onEvent = onEvent
    }

    /// `capturing` or `down: <reason>`.
    public var state: String { lock.withLock { stateText } }
    public var statistics: (captured: Int, broken: Int, reopens: Int) { lock.withLock { counts } }

    public func start() { lock.withLock { worker }.start() }

    /// Stops capture and waits for the thread to have closed the device.
    public func stop() {
        lock.withLock { worker }.stop()
    }

    private func run(_ worker: WorkerThread) {
        var isRunning: Bool { worker.isRunning }
        var backoffMs = 100
        var first = true
        while isRunning {
            let cam = V4L2Camera(path: device)
            do {
                try cam.open()
                try cam.negotiate(width: width, height: height, preferred: preferred)
                var fps = ""
                if let framesPerSecond, let got = try cam.setFrameRate(framesPerSecond) { fps = " fps=\(got)" }
                try cam.start()
                lock.withLock {
                    stateText = "capturing \(cam.format.rawValue) \(cam.width)x\(cam.height)\(fps)"
                    if !first { counts.reopens += 1 }
                }
                onEvent("camera=\(device) state=capturing format=\(cam.format.rawValue) size=\(cam.width)x\(cam.height)\(fps)")
                first = false
                backoffMs = 100
                var brokenBefore = 0
                while isRunning {
                    let got = try cam.withNextFrame(timeoutMs: 500) { bytes, sequence, time in
                        ring.push(bytes: bytes, time: time, sequence: sequence, format: cam.format, width: cam.width, height: cam.height)
                    }
                    if got != nil { lock.withLock { counts.captured += 1 } }
                    if cam.brokenFrames != brokenBefore {
                        lock.withLock { counts.broken += cam.brokenFrames - brokenBefore }
                        brokenBefore = cam.brokenFrames
                    }
                }
                cam.close()
            } catch {
                cam.close()
                lock.withLock { stateText = "down: \(error)" }
                onEvent("camera=\(device) state=down error=\"\(error)\" retry_ms=\(backoffMs)")
                worker.pause(milliseconds: backoffMs)
                backoffMs = min(backoffMs * 2, 5000)
            }
        }
        lock.withLock { stateText = "stopped" }
    }
}

import Foundation
import Logging
import WeighpointCapture
import WeighpointCore

/// A camera feeding its frame ring: a V4L2 device, a replay of JPEG files, or in tests frames
/// pushed by hand.
public protocol FrameSource: AnyObject, Sendable {
    /// `capturing`, `replaying` or `down: <reason>`.
    var state: String { get }
    func start()
    func stop()
}

extension CameraService: FrameSource {}

extension ReplayCamera: FrameSource {
    public var state: String { "replaying" }
}

/// Makes the frame source of a configured camera, given the ring it is to fill.
public typealias FrameSourceFactory = @Sendable (StationConfig.CameraConfig, FrameRing, Logger) throws -> any FrameSource

/// The configured cameras: each one's ring, sized for its window, and its source once started.
final class UnitCameras: @unchecked Sendable {
    let configs: [StationConfig.CameraConfig]
    let rings: [String: FrameRing]
    private let factory: FrameSourceFactory
    private let log: Logger
    private let lock = NSLock()
    private var sources: [String: any FrameSource] = [:]

    /// The sources of `config`: a device is captured with V4L2, a replay directory played.
    static let configured: FrameSourceFactory = { c, ring, log in
        switch c.source {
        case .replay(let dir, let fps):
            return try ReplayCamera(directory: dir, framesPerSecond: fps, ring: ring)
        case .device(let path):
            return CameraService(device: path, ring: ring, width: c.width, height: c.height, preferred: c.formats, framesPerSecond: c.fps) { event in
                log.notice("camera", metadata: ["camera": "\(c.id)", "event": "\(event)"])
            }
        }
    }

    init(_ configs: [StationConfig.CameraConfig], factory: @escaping FrameSourceFactory, logger: Logger) {
        self.configs = configs
        self.factory = factory
        self.log = logger
        var rings: [String: FrameRing] = [:]
        for c in configs {
            let window = Int64((c.preWindowS + c.postWindowS) * 1_000_000)
            let slots = max(2, Int((c.preWindowS + c.postWindowS) * Double(c.fps)) + 2)
            let frameBytes: Int
            if case .device = c.source { frameBytes = c.width * c.height * (c.formats.first == .rgb24 ? 3 : 2) } else { frameBytes = 64 << 10 }
            rings[c.id] = FrameRing(camera: c.id, slots: slots, windowMicroseconds: window, frameBytes: frameBytes)
            // Raw 1080p frames in a 6 s window at 25 fps are 600 MB: say what the ring may hold.
            logger.info("frame ring", metadata: ["camera": "\(c.id)", "slots": "\(slots)", "reserved_mb": "\(slots * frameBytes >> 20)"])
        }
        self.rings = rings
    }

    func start() throws {
        for c in configs {
            let s = try factory(c, rings[c.id]!, log)
            lock.withLock { sources[c.id] = s }
            s.start()
        }
    }

    func stop() {
        for s in lock.withLock({ Array(sources.values) }) { s.stop() }
    }

    /// The camera's source once started.
    func source(_ id: String) -> (any FrameSource)? { lock.withLock { sources[id] } }

    /// `stopped` before start, else the source's state.
    func state(_ id: String) -> String { source(id)?.state ?? "stopped" }

    /// The configured cameras of a lane.
    func of(lane: Int) -> [StationConfig.CameraConfig] { configs.filter { $0.lane == lane } }
}

import Foundation
import Logging
import WeighpointCapture
import WeighpointCore

/// A camera feeding its frame ring: a V4L2 device in the unit; a replay of JPEG files
/// (weighpoint-dev) or frames pushed by hand (tests) from WeighpointTesting.
public protocol FrameSource: AnyObject, Sendable {
    /// `capturing`, `replaying` or `down: <reason>`.
    var state: String { get }
    func start()
    func stop()
}

extension CameraService: FrameSource {}

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

    /// The unit's own sources: every camera is a V4L2 device. A replay directory is a
    /// development source; `StationUnit` refuses it before this is reached (`replaySources`).
    static let devices: FrameSourceFactory = { c, ring, log in
        guard case .device(let path) = c.source else {
            throw CaptureError(device: c.id, operation: "open", reason: "replay sources are for development (weighpoint-dev unit)")
        }
        return CameraService(device: path, ring: ring, width: c.width, height: c.height, preferred: c.formats, framesPerSecond: c.fps) { event in
            log.notice("camera", metadata: ["camera": "\(c.id)", "event": "\(event)"])
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

/// The unit's camera factory (V4L2 devices only), for a development factory to fall back on.
public let deviceFrameSources: FrameSourceFactory = UnitCameras.devices

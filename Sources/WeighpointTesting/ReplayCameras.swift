import Logging
import WeighpointCapture
import WeighpointService

extension ReplayCamera: FrameSource {
    public var state: String { "replaying" }
}

/// The frame sources of a development station: `replay = DIR` cameras play their JPEG files,
/// `device = PATH` cameras are captured as the unit would. Only weighpoint-dev and tests pass
/// this to the unit; weighpointd refuses a replay camera at start-up.
public let replayOrDeviceFrameSources: FrameSourceFactory = { c, ring, log in
    if case .replay(let dir, let fps) = c.source {
        return try ReplayCamera(directory: dir, framesPerSecond: fps, ring: ring)
    }
    return try deviceFrameSources(c, ring, log)
}

import CV4L2
import Glibc
import WeighpointCore
import WeighpointSystem

/// A V4L2 capture failure: which device, which call, and the system's reason.
public struct CaptureError: Error, CustomStringConvertible, Sendable {
    public let device: String
    public let operation: String
    public let reason: String
    public var description: String { "\(device): \(operation): \(reason)" }

    public init(device: String, operation: String, reason: String) {
        self.device = device
        self.operation = operation
        self.reason = reason
    }
}

/// Pixel formats the unit takes, in order of preference (JPEG needs no encoding for evidence).
public enum PixelFormat: String, Sendable, CaseIterable {
    case mjpeg, yuyv, rgb24

    public var fourcc: UInt32 {
        switch self {
        case .mjpeg: WP_PIX_FMT_MJPEG
        case .yuyv: WP_PIX_FMT_YUYV
        case .rgb24: WP_PIX_FMT_RGB24
        }
    }

    init?(fourcc: UInt32) {
        guard let f = Self.allCases.first(where: { $0.fourcc == fourcc }) ?? (fourcc == WP_PIX_FMT_JPEG ? .mjpeg : nil) else { return nil }
        self = f
    }
}

/// Renders a fourcc code as its four characters.
public func fourccText(_ v: UInt32) -> String {
    String(decoding: [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24 & 0xFF)], as: UTF8.self)
}

/// One captured frame. `bytes` is a copy owned by the frame.
public struct CapturedFrame: Sendable {
    public var sequence: UInt32
    /// Kernel capture time (monotonic) mapped to UTC.
    public var time: Timestamp
    public var format: PixelFormat
    public var width: Int
    public var height: Int
    public var bytes: [UInt8]

    public init(sequence: UInt32, time: Timestamp, format: PixelFormat, width: Int, height: Int, bytes: [UInt8]) {
        self.sequence = sequence
        self.time = time
        self.format = format
        self.width = width
        self.height = height
        self.bytes = bytes
    }
}

/// A V4L2 capture device through libv4l2: open, negotiate, mmap streaming with poll and a
/// timeout, kernel timestamps mapped to UTC, broken JPEG frames returned to the driver and
/// counted (ustreamer's recipe, STYLE.md). One owner thread.
public final class V4L2Camera {
    public let path: String
    private var fd: Int32 = -1
    private var buffers: [(start: UnsafeMutableRawPointer, length: Int)] = []
    public private(set) var format: PixelFormat = .yuyv
    public private(set) var width = 0
    public private(set) var height = 0
    public private(set) var card = ""
    public private(set) var driver = ""
    /// MJPEG frames without FFD8 … FFD9, given back unseen.
    public private(set) var brokenFrames = 0

    public init(path: String) { self.path = path }
    deinit { close() }

    private func fail(_ op: String) -> CaptureError { CaptureError(device: path, operation: op, reason: String(cString: strerror(errno))) }

    /// Every `ioctl` goes through here: libv4l2's, with EINTR retried (SystemCall); the failure,
    /// if any, is returned for the caller to judge (end of an enumeration, EAGAIN, a refusal).
    private func call(_ request: UInt, _ arg: UnsafeMutableRawPointer, _ name: String) -> SystemError? {
        do {
            try SystemCall.retrying(name, path) { cv4l2_ioctl(fd, request, arg) }
            return nil
        } catch {
            return error
        }
    }

    /// An `ioctl` that must succeed.
    private func ioctl(_ request: UInt, _ arg: UnsafeMutableRawPointer, _ name: String) throws(CaptureError) {
        if let e = call(request, arg, name) { throw CaptureError(device: path, operation: name, reason: e.reason) }
    }

    /// Opens the device and checks it can capture by streaming.
    public func open() throws(CaptureError) {
        fd = cv4l2_open(path, O_RDWR | O_NONBLOCK)
        guard fd >= 0 else { throw fail("open") }
        var cap = v4l2_capability()
        try ioctl(UInt(WP_VIDIOC_QUERYCAP), &cap, "VIDIOC_QUERYCAP")
        card = withUnsafeBytes(of: cap.card) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        driver = withUnsafeBytes(of: cap.driver) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let caps = cap.capabilities & UInt32(V4L2_CAP_DEVICE_CAPS) != 0 ? cap.device_caps : cap.capabilities
        guard caps & UInt32(V4L2_CAP_VIDEO_CAPTURE) != 0, caps & UInt32(V4L2_CAP_STREAMING) != 0 else {
            throw CaptureError(device: path, operation: "capabilities", reason: "not a streaming capture device (\(driver), \(card))")
        }
    }

    /// Formats the device offers (fourcc text).
    public func formats() -> [String] {
        var out: [String] = []
        var desc = v4l2_fmtdesc()
        desc.type = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
        while call(UInt(WP_VIDIOC_ENUM_FMT), &desc, "VIDIOC_ENUM_FMT") == nil {
            out.append(fourccText(desc.pixelformat))
            desc.index += 1
        }
        return out
    }

    /// Sets the first of `preferred` the device takes at about `width`×`height`.
    public func negotiate(width w: Int, height h: Int, preferred: [PixelFormat] = PixelFormat.allCases) throws(CaptureError) {
        for p in preferred {
            var f = v4l2_format()
            f.type = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
            f.fmt.pix.width = UInt32(w)
            f.fmt.pix.height = UInt32(h)
            f.fmt.pix.pixelformat = p.fourcc
            f.fmt.pix.field = V4L2_FIELD_NONE.rawValue
            guard call(UInt(WP_VIDIOC_S_FMT), &f, "VIDIOC_S_FMT") == nil, let got = PixelFormat(fourcc: f.fmt.pix.pixelformat), got == p else { continue }
            format = got
            width = Int(f.fmt.pix.width)
            height = Int(f.fmt.pix.height)
            return
        }
        throw CaptureError(device: path, operation: "VIDIOC_S_FMT", reason: "none of \(preferred.map(\.rawValue)) accepted; device offers \(formats())")
    }

    /// Asks for `fps` frames per second (VIDIOC_S_PARM) and returns the rate the driver set,
    /// which may differ; nil when the device does not take a frame interval.
    @discardableResult
    public func setFrameRate(_ fps: Int) throws(CaptureError) -> Double? {
        var p = v4l2_streamparm()
        p.type = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
        guard call(UInt(WP_VIDIOC_G_PARM), &p, "VIDIOC_G_PARM") == nil,
            p.parm.capture.capability & UInt32(V4L2_CAP_TIMEPERFRAME) != 0
        else { return nil }
        p.parm.capture.timeperframe = v4l2_fract(numerator: 1, denominator: UInt32(max(fps, 1)))
        try ioctl(UInt(WP_VIDIOC_S_PARM), &p, "VIDIOC_S_PARM")
        let t = p.parm.capture.timeperframe
        return t.numerator == 0 ? nil : Double(t.denominator) / Double(t.numerator)
    }

    /// Requests and maps `count` buffers, queues them and starts streaming.
    public func start(buffers count: Int = 4) throws(CaptureError) {
        var req = v4l2_requestbuffers()
        req.count = UInt32(count)
        req.type = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
        req.memory = V4L2_MEMORY_MMAP.rawValue
        try ioctl(UInt(WP_VIDIOC_REQBUFS), &req, "VIDIOC_REQBUFS")
        for i in 0..<Int(req.count) {
            var b = v4l2_buffer()
            b.type = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
            b.memory = V4L2_MEMORY_MMAP.rawValue
            b.index = UInt32(i)
            try ioctl(UInt(WP_VIDIOC_QUERYBUF), &b, "VIDIOC_QUERYBUF")
            guard let p = v4l2_mmap(nil, Int(b.length), PROT_READ | PROT_WRITE, MAP_SHARED, fd, Int64(b.m.offset)), p != MAP_FAILED else { throw fail("mmap") }
            buffers.append((p, Int(b.length)))
            try ioctl(UInt(WP_VIDIOC_QBUF), &b, "VIDIOC_QBUF")
        }
        var type = Int32(V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue)
        try ioctl(UInt(WP_VIDIOC_STREAMON), &type, "VIDIOC_STREAMON")
    }

    /// Waits up to `timeoutMs` for a frame and returns a copy of it; nil on timeout or a broken
    /// frame. Allocates per frame: the capture loop uses `withNextFrame` instead.
    public func nextFrame(timeoutMs: Int32 = 1000) throws(CaptureError) -> CapturedFrame? {
        try withNextFrame(timeoutMs: timeoutMs) { bytes, sequence, time in
            CapturedFrame(sequence: sequence, time: time, format: format, width: width, height: height, bytes: Array(bytes))
        }
    }

    /// Waits up to `timeoutMs` for a frame. Dequeues until empty and keeps the newest, returning
    /// the rest to the driver at once, then lends the newest frame's mapped buffer to `body`
    /// (no copy, no allocation) and queues it back. Nil on timeout or a broken frame.
    public func withNextFrame<T>(timeoutMs: Int32 = 1000, _ body: (UnsafeBufferPointer<UInt8>, UInt32, Timestamp) -> T) throws(CaptureError) -> T? {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let r: Int32
        do { r = try SystemCall.retrying("poll", path) { poll(&p, 1, timeoutMs) } } catch { throw CaptureError(device: path, operation: "poll", reason: error.reason) }
        if r == 0 {
            // No frame in time: a device that went away (unplugged, driver unbound) may just stay
            // silent, so ask it something; ENODEV here starts the reopen.
            var cap = v4l2_capability()
            try ioctl(UInt(WP_VIDIOC_QUERYCAP), &cap, "VIDIOC_QUERYCAP")
            return nil
        }
        if p.revents & Int16(POLLERR | POLLHUP | POLLNVAL) != 0 && p.revents & Int16(POLLIN) == 0 {
            throw CaptureError(device: path, operation: "poll", reason: "device reported an error or hang-up (revents \(p.revents))")
        }
        var newest: v4l2_buffer?
        // Take every frame that is ready and keep the newest; ask poll (not a failing DQBUF,
        // which libv4l2 reports on stderr) whether another one is waiting.
        repeat {
            var b = v4l2_buffer()
            b.type = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
            b.memory = V4L2_MEMORY_MMAP.rawValue
            if let e = call(UInt(WP_VIDIOC_DQBUF), &b, "VIDIOC_DQBUF") {
                if e.code == EAGAIN { break }
                throw CaptureError(device: path, operation: "VIDIOC_DQBUF", reason: e.reason)
            }
            if var older = newest { try ioctl(UInt(WP_VIDIOC_QBUF), &older, "VIDIOC_QBUF") }
            newest = b
            p.revents = 0
        } while ((try? SystemCall.retrying("poll", path) { poll(&p, 1, 0) }) ?? 0) > 0
        guard var b = newest else { return nil }
        defer { _ = call(UInt(WP_VIDIOC_QBUF), &b, "VIDIOC_QBUF") }
        let start = buffers[Int(b.index)].start.assumingMemoryBound(to: UInt8.self)
        let used = Int(b.bytesused)
        if format == .mjpeg {
            let ok = used >= 4 && start[0] == 0xFF && start[1] == 0xD8 && start[used - 2] == 0xFF && start[used - 1] == 0xD9
            if !ok {
                brokenFrames += 1
                return nil
            }
        }
        return body(UnsafeBufferPointer(start: start, count: used), b.sequence, Self.utc(b.timestamp))
    }

    /// Maps a kernel monotonic buffer timestamp to UTC with the current realtime−monotonic offset.
    static func utc(_ tv: timeval) -> Timestamp {
        let offset = SystemWallClock().now().microseconds - SystemMonotonicClock().microseconds()
        return Timestamp(microseconds: Int64(tv.tv_sec) * 1_000_000 + Int64(tv.tv_usec) + offset)
    }

    /// Stops streaming, unmaps and closes.
    public func close() {
        guard fd >= 0 else { return }
        var type = Int32(V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue)
        _ = call(UInt(WP_VIDIOC_STREAMOFF), &type, "VIDIOC_STREAMOFF")
        for b in buffers { v4l2_munmap(b.start, b.length) }
        buffers = []
        v4l2_close(fd)
        fd = -1
    }
}

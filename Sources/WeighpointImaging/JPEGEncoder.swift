// WeighpointImaging owns pictures as pixels: JPEG encoding and decoding (libjpeg-turbo), the RGB
// canvas, text drawing (FreeType) and the composite evidence picture. It knows nothing of
// cameras or records and may import only its C libraries.
import CTurboJPEG

/// What went wrong with a picture: the thing (`jpeg`, a font path), the library call, the reason.
public struct ImagingError: Error, CustomStringConvertible, Sendable {
    public let what: String
    public let operation: String
    public let reason: String
    public var description: String { "\(what): \(operation): \(reason)" }

    public init(what: String, operation: String, reason: String) {
        self.what = what
        self.operation = operation
        self.reason = reason
    }
}

/// JPEG encoding of frames that are not JPEG already (YUYV, RGB24), through libjpeg-turbo's
/// TurboJPEG API. One handle, one owner thread.
public final class JPEGEncoder {
    private let handle: tjhandle
    public let quality: Int32

    public init(quality: Int = 85) throws(ImagingError) {
        guard let h = tjInitCompress() else { throw ImagingError(what: "jpeg", operation: "tjInitCompress", reason: "failed") }
        handle = h
        self.quality = Int32(min(max(quality, 1), 100))
    }

    deinit { tjDestroy(handle) }

    /// Encodes packed RGB (3 bytes a pixel).
    public func encode(rgb: [UInt8], width: Int, height: Int) throws(ImagingError) -> [UInt8] {
        guard rgb.count >= width * height * 3 else { throw ImagingError(what: "jpeg", operation: "encode", reason: "\(rgb.count) bytes for \(width)x\(height) RGB") }
        var out: UnsafeMutablePointer<UInt8>?
        var size: UInt = 0
        let rc = rgb.withUnsafeBufferPointer {
            tjCompress2(handle, $0.baseAddress, Int32(width), 0, Int32(height), Int32(TJPF_RGB.rawValue), &out, &size, Int32(TJSAMP_420.rawValue), quality, 0)
        }
        guard rc == 0, let out else { throw ImagingError(what: "jpeg", operation: "tjCompress2", reason: String(cString: tjGetErrorStr2(handle))) }
        defer { tjFree(out) }
        return Array(UnsafeBufferPointer(start: out, count: Int(size)))
    }

    /// Width and height of a JPEG, read from its header (for checks).
    public static func dimensions(of jpeg: [UInt8]) -> (width: Int, height: Int)? {
        guard let d = tjInitDecompress() else { return nil }
        defer { tjDestroy(d) }
        var w: Int32 = 0, h: Int32 = 0, sub: Int32 = 0, cs: Int32 = 0
        let rc = jpeg.withUnsafeBufferPointer { tjDecompressHeader3(d, $0.baseAddress, UInt($0.count), &w, &h, &sub, &cs) }
        return rc == 0 ? (Int(w), Int(h)) : nil
    }
}

/// YUYV (YUV 4:2:2, BT.601 limited range) to packed RGB.
public func yuyvToRGB(_ src: [UInt8], width: Int, height: Int) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: width * height * 3)
    func clamp(_ v: Int) -> UInt8 { UInt8(max(0, min(255, v))) }
    var o = 0
    var i = 0
    while i + 3 < min(src.count, width * height * 2) {
        let y0 = Int(src[i]) - 16, u = Int(src[i + 1]) - 128, y1 = Int(src[i + 2]) - 16, v = Int(src[i + 3]) - 128
        for y in [y0, y1] {
            let c = 298 * y
            out[o] = clamp((c + 409 * v + 128) >> 8)
            out[o + 1] = clamp((c - 100 * u - 208 * v + 128) >> 8)
            out[o + 2] = clamp((c + 516 * u + 128) >> 8)
            o += 3
        }
        i += 4
    }
    return out
}

import WeighpointImaging

extension JPEGEncoder {
    /// Encodes a frame in any capture format (JPEG frames pass through unchanged).
    public func encode(_ frame: CapturedFrame) throws(ImagingError) -> [UInt8] {
        switch frame.format {
        case .mjpeg: return frame.bytes
        case .rgb24: return try encode(rgb: frame.bytes, width: frame.width, height: frame.height)
        case .yuyv: return try encode(rgb: yuyvToRGB(frame.bytes, width: frame.width, height: frame.height), width: frame.width, height: frame.height)
        }
    }
}

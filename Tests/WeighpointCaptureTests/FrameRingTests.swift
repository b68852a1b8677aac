import WeighpointImaging
import Foundation
import Testing
import WeighpointCore
@testable import WeighpointCapture
import WeighpointTesting

func frame(_ seq: UInt32, at us: Int64, size: Int = 100) -> CapturedFrame {
    CapturedFrame(sequence: seq, time: Timestamp(microseconds: us), format: .mjpeg, width: 4, height: 4, bytes: [UInt8](repeating: UInt8(truncatingIfNeeded: seq), count: size))
}

@Suite struct FrameRingTests {
    @Test func evictsOldestAndCountsIt() {
        let ring = FrameRing(camera: "front-1", slots: 4, windowMicroseconds: 10_000_000, frameBytes: 100)
        for i in 0..<10 { ring.push(frame(UInt32(i), at: Int64(i) * 40_000)) }
        #expect(ring.statistics.pushed == 10)
        #expect(ring.statistics.evicted == 6)
        #expect(ring.frames(from: Timestamp(microseconds: 0), to: Timestamp(microseconds: 1_000_000)).map(\.sequence) == [6, 7, 8, 9])
    }

    @Test func keepsOnlyTheTimeWindowBehindTheNewestFrame() {
        let ring = FrameRing(camera: "c", slots: 100, windowMicroseconds: 1_000_000)
        for i in 0..<30 { ring.push(frame(UInt32(i), at: Int64(i) * 100_000)) }  // 0 … 2.9 s
        let kept = ring.frames(from: Timestamp(microseconds: 0), to: Timestamp(microseconds: 10_000_000)).map(\.sequence)
        #expect(kept.first == 19 && kept.last == 29, "1 s behind 2.9 s")
    }

    @Test func evidenceIsTheFrameNearestTheExpectedTime() {
        let ring = FrameRing(camera: "c", slots: 50, windowMicroseconds: 5_000_000)
        for i in 0..<25 { ring.push(frame(UInt32(i), at: 1_000_000 + Int64(i) * 40_000)) }  // 25 fps
        #expect(ring.nearest(to: Timestamp(microseconds: 1_500_000))?.sequence == 12)  // 1.48 s
        #expect(ring.nearest(to: Timestamp(microseconds: 1_519_000))?.sequence == 13)  // 1.52 s is 1 ms away
        #expect(ring.nearest(to: Timestamp(microseconds: 9_000_000), toleranceMicroseconds: 100_000) == nil, "nothing near")
        let f = ring.nearest(to: Timestamp(microseconds: 1_000_000))
        #expect(f?.bytes == [UInt8](repeating: 0, count: 100), "a copy of the frame's bytes")
    }

    @Test func evidenceWaitsForThePostWindow() async {
        let ring = FrameRing(camera: "c", slots: 50, windowMicroseconds: 5_000_000)
        for i in 0..<5 { ring.push(frame(UInt32(i), at: Int64(i) * 40_000)) }  // up to 0.16 s
        let late = Task { () -> UInt32? in await ring.evidence(at: Timestamp(microseconds: 300_000), toleranceMicroseconds: 50_000, timeoutMilliseconds: 5000)?.sequence }
        try? await Task.sleep(for: .milliseconds(50))
        for i in 5..<12 { ring.push(frame(UInt32(i), at: Int64(i) * 40_000)) }  // 0.2 … 0.44 s arrive later
        let picked = await late.value
        #expect(picked == 7 || picked == 8, "0.28 or 0.32 s, both 20 ms from 0.3 s")
        #expect(await ring.evidence(at: Timestamp(microseconds: 9_000_000), toleranceMicroseconds: 50_000, timeoutMilliseconds: 50) == nil)
    }

    @Test func aSlowConsumerLosesFramesNotTheCamera() {
        let q = FrameQueue(capacity: 3)
        for i in 0..<10 { q.offer(frame(UInt32(i), at: Int64(i))) }
        #expect(q.dropped == 7)
        #expect(q.take()?.sequence == 0)
        #expect(q.offer(frame(99, at: 99)))
    }
}

@Suite struct JPEGTests {
    @Test func encodesRGBAndYUYVToJPEGOfTheRightSize() throws {
        let enc = try JPEGEncoder(quality: 80)
        let w = 64, h = 48
        let rgb: [UInt8] = (0..<(w * h)).flatMap { i -> [UInt8] in [UInt8(i % w * 4), UInt8(i / w * 5), 128] }
        let jpeg = try enc.encode(rgb: rgb, width: w, height: h)
        #expect(jpeg.prefix(2) == [0xFF, 0xD8] && jpeg.suffix(2) == [0xFF, 0xD9])
        #expect(JPEGEncoder.dimensions(of: jpeg)! == (w, h))
        let yuyv = [UInt8](repeating: 128, count: w * h * 2)
        let f = CapturedFrame(sequence: 0, time: Timestamp(microseconds: 0), format: .yuyv, width: w, height: h, bytes: yuyv)
        #expect(JPEGEncoder.dimensions(of: try enc.encode(f))! == (w, h))
        #expect(throws: ImagingError.self) { try enc.encode(rgb: [1, 2, 3], width: w, height: h) }
    }

    @Test func yuyvGreyIsGrey() {
        let rgb = yuyvToRGB([126, 128, 126, 128], width: 2, height: 1)
        #expect(rgb.allSatisfy { abs(Int($0) - 128) <= 2 })
    }
}

/// The sample frames of Images/.
let sampleImages = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Images").standardized.path

/// Plays Images/ into a new ring until it holds `frames` frames (or 10 s passed).
func replay(camera: String, slots: Int, framesPerSecond: Double, until frames: Int) throws -> FrameRing {
    let ring = FrameRing(camera: camera, slots: slots, windowMicroseconds: 60_000_000)
    let cam = try ReplayCamera(directory: sampleImages, framesPerSecond: framesPerSecond, ring: ring)
    cam.start()
    let deadline = Date().addingTimeInterval(10)
    while ring.statistics.pushed < frames && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
    cam.stop()
    return ring
}

@Suite struct ReplayCameraTests {
    @Test func playsTheSampleFramesIntoTheRing() throws {
        let ring = try replay(camera: "replay", slots: 20, framesPerSecond: 50, until: 10)
        #expect(ring.statistics.pushed >= 10)
        let f = try #require(ring.nearest(to: ring.newestTime!))
        #expect(f.bytes.prefix(2) == [0xFF, 0xD8])
        #expect(f.width > 0 && f.height > 0)
        #expect(throws: CaptureError.self) { try ReplayCamera(directory: "/nonexistent", framesPerSecond: 1, ring: ring) }
    }

    @Test func everyReplayedFrameSaysItIsAReplayAndDiffersFromTheOthers() throws {
        let ring = try replay(camera: "front-9", slots: 30, framesPerSecond: 100, until: 14)
        let frames = ring.frames(from: Timestamp(microseconds: 0), to: ring.newestTime!)
        #expect(frames.count >= 14)  // more than the 6 sample files: files repeat, frames must not
        #expect(Set(frames.map(\.bytes)).count == frames.count)
        for f in frames {
            #expect(f.bytes.prefix(4) == [0xFF, 0xD8, 0xFF, 0xFE])
            let length = Int(f.bytes[4]) << 8 | Int(f.bytes[5])
            let comment = String(decoding: f.bytes[6..<(4 + length)], as: UTF8.self)
            #expect(comment.hasPrefix("weighpoint replay camera=front-9 seq=\(f.sequence) time="), "\(comment)")
            #expect(JPEGEncoder.dimensions(of: f.bytes).map { $0.width > 0 } == true)
        }
    }
}

@Suite struct EvidencePictureTests {
    @Test func theFontHasEveryCharacterTheBandUses() throws {
        let r = try TextRenderer()
        #expect(r.missingGlyphs(in: "时间北京站点车道方向设备车牌挂车车速轴数总重限值超限结论涉嫌无效称重人工复核许可通行未识别苏京粤沪浙皖鲁豫 ABC 0123 km/h %").isEmpty)
        #expect(!r.missingGlyphs(in: "\u{E000}").isEmpty)  // a private-use character is really missing
    }

    @Test func composesTilesAndADrawnInformationBand() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: sampleImages).filter { $0.hasSuffix(".jpg") }.sorted()
        let frame = try #require(FileManager.default.contents(atPath: sampleImages + "/" + names[0]).map { [UInt8]($0) })
        let lines = ["时间 2026-11-28 16:00:01.250 北京时间", "车牌 plate 苏E12345   总重 gross 52500 kg   结论 涉嫌超限"]
        let jpeg = try EvidencePicture.compose(
            tiles: [.init(label: "前 front", jpeg: frame), .init(label: "后 rear", jpeg: nil), .init(label: "侧 side", jpeg: frame)],
            lines: lines, renderer: try TextRenderer(), encoder: try JPEGEncoder(quality: 90), tileWidth: 320)
        let pic = try decodeJPEG(jpeg)
        // Two columns of 320, two rows of 240, and a band of two 32-pixel lines plus margins.
        #expect(pic.width == 640 && pic.height == 480 + 2 * 32 + 20)
        func pixel(_ x: Int, _ y: Int) -> (Int, Int, Int) {
            let i = (y * pic.width + x) * 3
            return (Int(pic.rgb[i]), Int(pic.rgb[i + 1]), Int(pic.rgb[i + 2]))
        }
        // Text was drawn in the band: bright pixels on black along the first line.
        var bright = 0
        for y in 480..<(480 + 40) { for x in 0..<640 where pixel(x, y).0 > 200 && pixel(x, y).1 > 200 { bright += 1 } }
        #expect(bright > 300, "only \(bright) bright pixels in the band")
        // The missing rear picture is a grey tile, not a copy of another frame.
        let g = pixel(480, 200)
        #expect(abs(g.0 - 60) < 12 && abs(g.1 - 60) < 12 && abs(g.2 - 60) < 12, "\(g)")
        // The front frame was scaled into its tile: its centre matches the frame's centre colour.
        let src = try decodeJPEG(frame)
        let si = ((src.height / 2) * src.width + src.width / 2) * 3
        let c = pixel(160, 120)
        #expect(abs(c.0 - Int(src.rgb[si])) < 24 && abs(c.1 - Int(src.rgb[si + 1])) < 24 && abs(c.2 - Int(src.rgb[si + 2])) < 24)
    }

    @Test func aFontThatIsNotThereIsAClearError() {
        #expect(throws: ImagingError.self) { try TextRenderer(fontPath: "/nonexistent/font.ttc") }
    }
}

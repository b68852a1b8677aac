import WeighpointImaging
import ArgumentParser
import Foundation
import WeighpointCommandLine
import WeighpointCapture
import WeighpointCore
import WeighpointJSON

extension CameraCommand {
    struct MakeSamples: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "make-samples",
            abstract: "Draw the synthetic sample frames of Images/ (a lorry passing, with a yellow plate) and encode them as JPEG.")

        @Option(help: "Output directory.") var out = "Images"
        @Option(help: "Frames.") var count = 6
        @Option(help: "Width.") var width = 320
        @Option(help: "Height.") var height = 240
        @Option(help: "JPEG quality.") var quality = 70

        func run() throws {
            let enc = try JPEGEncoder(quality: quality)
            for n in 0..<count {
                var rgb = [UInt8](repeating: 0, count: width * height * 3)
                func fill(_ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int, _ c: (UInt8, UInt8, UInt8)) {
                    for y in max(0, y0)..<min(height, y1) {
                        for x in max(0, x0)..<min(width, x1) {
                            let i = (y * width + x) * 3
                            (rgb[i], rgb[i + 1], rgb[i + 2]) = c
                        }
                    }
                }
                fill(0, 0, width, height / 3, (150, 180, 210))  // sky
                fill(0, height / 3, width, height, (90, 90, 95))  // road
                for x in stride(from: (n * 12) % 40, to: width, by: 40) { fill(x, height * 3 / 4, x + 20, height * 3 / 4 + 4, (230, 230, 230)) }
                let left = width / 6 + n * width / (4 * max(count, 1)), top = height / 4
                fill(left, top, left + width / 2, top + height / 2, (40, 90, 160))  // cab and box
                fill(left + width / 8, top + height / 2 - 6, left + width / 8 + 16, top + height / 2 + 10, (20, 20, 20))  // wheel
                fill(left + width * 3 / 8, top + height / 2 - 6, left + width * 3 / 8 + 16, top + height / 2 + 10, (20, 20, 20))
                let px = left + width / 6, py = top + height / 3
                fill(px, py, px + 60, py + 18, (240, 200, 20))  // yellow plate
                for k in 0..<7 { fill(px + 4 + k * 8, py + 4, px + 9 + k * 8, py + 14, (15, 15, 15)) }  // characters
                let jpeg = try enc.encode(rgb: rgb, width: width, height: height)
                try Data(jpeg).write(to: URL(fileURLWithPath: out + String(format: "/sample-%02d.jpg", n + 1)))
            }
            print("wrote \(count) frames to \(out)")
        }
    }
}

extension CameraCommand {
    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Frame ring cost per frame against a bare copy; with --device, capture N frames (CPU is measured by the caller).")

        @Option(help: "Capture this many frames from the device into a ring (for Scripts/capture-bench).") var frames = 0
        @Option(help: "Device path.") var device: String?
        @Flag(help: "With --device: dequeue and requeue only, no copy into the ring (the v4l2-ctl baseline's work).") var dequeueOnly = false
        @Option(help: "Width.") var width = 640
        @Option(help: "Height.") var height = 480

        func run() throws {
            if let device {
                let cam = V4L2Camera(path: device)
                let ring = FrameRing(camera: device, slots: 50, windowMicroseconds: 5_000_000, frameBytes: width * height * 2)
                try cam.open()
                try cam.negotiate(width: width, height: height, preferred: [.yuyv])
                try cam.start()
                var n = 0
                var failure: Error?
                // CPU of the streaming loop only; start-up and negotiation are left out.
                let cpu = threadCPU {
                    do {
                        while n < frames {
                            let got = try cam.withNextFrame(timeoutMs: 2000) { bytes, sequence, time in
                                if !dequeueOnly { ring.push(bytes: bytes, time: time, sequence: sequence, format: cam.format, width: cam.width, height: cam.height) }
                            }
                            if got != nil { n += 1 }
                        }
                    } catch { failure = error }
                }
                cam.close()
                if let failure { throw failure }
                print("captured=\(n) cpu_us_per_frame=\(format(cpu / Double(max(n, 1)) * 1e6, 1))")
                return
            }
            // Baseline: the same bytes copied into 50 preallocated buffers in turn, the memory
            // traffic a ring of 50 slots cannot avoid; the ring adds its lock and bookkeeping.
            let size = width * height * 2
            let slots = 50
            let src = [UInt8](repeating: 7, count: size)
            let ring = FrameRing(camera: "bench", slots: slots, windowMicroseconds: 5_000_000, frameBytes: size)
            var dst = (0..<slots).map { _ in [UInt8](repeating: 0, count: size) }
            let rounds = 3000
            var t0 = Double.infinity, t1 = Double.infinity
            for _ in 0..<3 {
                t0 = min(t0, threadCPU {
                    for i in 0..<rounds {
                        src.withUnsafeBufferPointer { ring.push(bytes: $0, time: Timestamp(microseconds: Int64(i) * 40_000), sequence: UInt32(i), format: .yuyv, width: width, height: height) }
                    }
                })
                t1 = min(t1, threadCPU {
                    for i in 0..<rounds {
                        dst[i % slots].withUnsafeMutableBufferPointer { d in src.withUnsafeBufferPointer { d.baseAddress!.update(from: $0.baseAddress!, count: size) } }
                    }
                })
            }
            print("ring push \(format(t0 / Double(rounds) * 1e6, 1)) µs CPU per \(width)x\(height) YUYV frame; bare copy into \(slots) buffers \(format(t1 / Double(rounds) * 1e6, 1)) µs; ratio \(format(t0 / t1, 2))×")
        }
    }
}

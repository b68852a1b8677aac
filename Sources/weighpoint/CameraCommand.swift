import ArgumentParser
import Foundation
import WeighpointCommandLine
import WeighpointCapture
import WeighpointCore
import WeighpointJSON

struct CameraCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "camera", abstract: "V4L2 cameras, for technicians.", subcommands: [List.self, Capture.self, Watch.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List V4L2 capture devices and their formats.")

        func run() throws {
            let devices = ((try? FileManager.default.contentsOfDirectory(atPath: "/dev")) ?? []).filter { $0.hasPrefix("video") }.sorted()
            if devices.isEmpty { print("no /dev/video* devices") }
            for d in devices {
                let cam = V4L2Camera(path: "/dev/" + d)
                do {
                    try cam.open()
                    print("/dev/\(d)\t\(cam.driver)\t\(cam.card)\tformats: \(cam.formats().joined(separator: " "))")
                } catch {
                    print("/dev/\(d)\t\(error)")
                }
                cam.close()
            }
        }
    }

    struct Capture: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Capture N frames to DIR (JPEG as .jpg, RGB24 as .ppm, YUYV raw), one JSON line per frame.")

        @Option(help: "Device path.") var device: String
        @Option(help: "Frames to capture.") var frames = 10
        @Option(help: "Output directory.") var out: String
        @Option(help: "Width.") var width = 640
        @Option(help: "Height.") var height = 480
        @Option(help: "Preferred formats, comma separated (mjpeg,yuyv,rgb24).") var format = "mjpeg,yuyv,rgb24"
        @Option(help: "Frames per second to ask the device for (VIDIOC_S_PARM); the rate it set goes to stderr.") var fps: Int?

        func run() throws {
            let preferred = try format.split(separator: ",").map { name -> PixelFormat in
                guard let f = PixelFormat(rawValue: String(name)) else { throw ValidationError("unknown format '\(name)'") }
                return f
            }
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            let cam = V4L2Camera(path: device)
            do {
                try cam.open()
                try cam.negotiate(width: width, height: height, preferred: preferred)
                if let fps {
                    let set = try cam.setFrameRate(fps)
                    printError("frame rate: asked \(fps), device set \(set.map { String($0) } ?? "none (no frame interval control)")")
                }
                try cam.start()
                var got = 0, timeouts = 0
                while got < frames {
                    guard let f = try cam.nextFrame(timeoutMs: 2000) else {
                        timeouts += 1
                        if timeouts > 5 { throw CaptureError(device: device, operation: "capture", reason: "no frame within 10 s") }
                        continue
                    }
                    got += 1
                    let name: String
                    var data = Data(f.bytes)
                    switch f.format {
                    case .mjpeg: name = String(format: "frame-%04d.jpg", got)
                    case .rgb24:
                        name = String(format: "frame-%04d.ppm", got)
                        data = Data("P6\n\(f.width) \(f.height)\n255\n".utf8) + data
                    case .yuyv: name = String(format: "frame-%04d.yuyv", got)
                    }
                    do {
                        try data.write(to: URL(fileURLWithPath: out + "/" + name))
                    } catch {
                        throw CaptureError(device: device, operation: "write \(out)/\(name)", reason: "\(error)")
                    }
                    let line: JSONObject = [
                        "n": .integer(got), "sequence": .integer(f.sequence), "time": .string(f.time.rfc3339(fractionDigits: 6)),
                        "format": .string(f.format.rawValue), "width": .integer(f.width), "height": .integer(f.height),
                        "bytes": .integer(f.bytes.count), "file": .string(name),
                    ]
                    print(JSONValue.object(line).text)
                }
                cam.close()
                if cam.brokenFrames > 0 { printError("\(cam.brokenFrames) broken JPEG frame(s) dropped") }
            } catch {
                printError("weighpoint camera capture: \(error)")
                throw ExitCode(1)
            }
        }
    }
}

extension CameraCommand {
    struct Watch: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Keep a camera capturing into a frame ring for a while, reopening it when it fails; print state changes and counts.")

        @Option(help: "Device path.") var device: String
        @Option(help: "Seconds to run.") var seconds = 10.0
        @Option(help: "Width.") var width = 640
        @Option(help: "Height.") var height = 480

        func run() throws {
            let ring = FrameRing(camera: device, slots: 50, windowMicroseconds: 5_000_000, frameBytes: width * height * 3)
            let service = CameraService(device: device, ring: ring, width: width, height: height, preferred: [.yuyv, .rgb24, .mjpeg]) { event in
                printError(event)
            }
            service.start()
            Thread.sleep(forTimeInterval: seconds)
            service.stop()
            let s = service.statistics
            let line: JSONObject = [
                "captured": .integer(s.captured), "broken": .integer(s.broken), "reopens": .integer(s.reopens),
                "ring_pushed": .integer(ring.statistics.pushed), "ring_evicted": .integer(ring.statistics.evicted),
            ]
            print(JSONValue.object(line).text)
        }
    }
}

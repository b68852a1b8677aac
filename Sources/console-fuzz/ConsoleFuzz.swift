import WeighpointCrypto
import Foundation
import WeighpointConsole
import WeighpointCore
import WeighpointTesting

/// One fuzz input as a noisy serial line into a console session: every byte is typed, except
/// 0xFE (a minute passes: idle logout, locks expire, views tick) and 0xFD (a weighing arrives,
/// the reference vehicle on lane 1). The technician is `t` with PIN `1`, hashed with one
/// iteration so the fuzzer can log in cheaply. Checks: no crash, no memory error (ASan), output
/// bounded by the input, and Ctrl-C Ctrl-C q Enter always brings a prompt back.
func fuzzOne(_ input: UnsafeRawBufferPointer) {
    let host = MemoryConsoleHost()
    var settings = ConsoleSettings(technicians: [Technician(name: "t", pin: PINHash(pin: "1", iterations: 1))])
    settings.statusBeforeLogin = input.first.map { $0 & 1 == 1 } ?? false
    settings.lockoutSeconds = 1
    let session = ConsoleSession(host: host, settings: settings)
    var now = 0.0
    _ = session.start(now: now)
    var burst: [UInt8] = []
    var seq: UInt64 = 0
    func send() {
        guard !burst.isEmpty else { return }
        let out = session.receive(burst, now: now)
        precondition(out.count <= 8192 + 256 * burst.count, "\(out.count) bytes out for \(burst.count) in")
        burst.removeAll()
    }
    for b in input {
        switch b {
        case 0xFE:
            send()
            now += 61
            _ = session.tick(now: now)
        case 0xFD:
            send()
            seq += 1
            let w = Weighing(seq: seq, lane: 1, time: Timestamp(microseconds: Int64(seq) * 1_000_000), speedKmh: 30 + Double(seq % 50), body: .combination,
                             driveAxles: 2, axles: [7000, 11500, 11500, 8500, 8500, 8500].map { Axle(kg: $0 + Int(seq % 7) * 100, tyres: .dual) }, groups: [1, 2, 3])
            host.feed.publish(.weighed(host.profile.apply(to: w, profileSHA256: host.sha)))
            _ = session.tick(now: now)
        default:
            burst.append(b)
        }
    }
    send()
    let back = String(decoding: session.receive([3, 3, 0x71, 0x0D], now: now), as: UTF8.self)
    precondition(back.hasSuffix("> ") || back.hasSuffix("PIN: ") || back.hasSuffix("login: "), "no prompt: \(back.debugDescription)")
}

#if FUZZING
// libFuzzer drives the process. SwiftPM links an executable's @main under its own name, so this
// main hands over to libFuzzer's driver instead of using libFuzzer's main.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    fuzzOne(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

@main
struct ConsoleFuzz {
    static func main() {
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        let rc = LLVMFuzzerRunDriver(&argc, &argv, fuzzerTestOneInput)
        exit(rc)
    }
}
#else

/// Without libFuzzer: replays the given inputs (a corpus, crash files) through the same checks.
@main
struct ConsoleFuzzReplay {
    static func main() {
        var n = 0
        for path in CommandLine.arguments.dropFirst() {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { continue }
            let files = isDir.boolValue ? ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).map { path + "/" + $0 } : [path]
            for f in files {
                guard let d = FileManager.default.contents(atPath: f) else { continue }
                d.withUnsafeBytes { fuzzOne($0) }
                n += 1
            }
        }
        print("console-fuzz: \(n) inputs replayed, no failure")
    }
}
#endif

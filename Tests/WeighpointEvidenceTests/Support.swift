import Foundation

struct ProcessResult {
    let status: Int32
    let stdout: String
    let stderr: String
}

/// Runs a program to completion and captures its output.
@discardableResult
func runProcess(_ path: String, _ args: [String]) throws -> ProcessResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = args
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return ProcessResult(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
}

func tempDir(_ name: String) throws -> URL {
    let d = FileManager.default.temporaryDirectory.appendingPathComponent("wp-\(name)-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
    return d
}

let openssl = "/usr/bin/openssl"

/// The stock command line's verification of `sig` over `body` with `pub` (PLATFORM-NOTES.md).
func opensslVerifies(_ alg: String, pub: String, body: String, sig: String, distid: String = "1234567812345678") throws -> Bool {
    let args: [String]
    switch alg {
    case "sm2": args = ["dgst", "-sm3", "-verify", pub, "-sigopt", "distid:\(distid)", "-signature", sig, body]
    case "p256": args = ["dgst", "-sha256", "-verify", pub, "-signature", sig, body]
    default: args = ["pkeyutl", "-verify", "-pubin", "-inkey", pub, "-rawin", "-in", body, "-sigfile", sig]
    }
    let r = try runProcess(openssl, args)
    return r.status == 0 && r.stdout.contains("Verified")
}
